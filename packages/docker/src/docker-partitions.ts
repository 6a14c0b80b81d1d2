// The docker placement of a lockstep run: NATS per node as for a live run, and one container per partition (`splitnet partition`), started by the controller.
import type { ActorHandle, NatsAccess, Placement, ProcessAccess, ProcessGroup } from '@splitnet/live';
import { DockerContainers } from './docker-containers.js';
import type { DockerContainersOptions } from './docker-containers.js';

export interface DockerPartitionsOptions extends Omit<DockerContainersOptions, 'onLog'> {
  /** The run's resolved scenario (scenario.resolved.yaml), put into every partition's container. */
  readonly scenarioText: string;
  /** A log line of a partition's container, by the partition's name. */
  readonly onLog?: (partition: string, line: string) => void;
  /** More of each partition container's environment (`NAME=value`), e.g. whether it makes direct links to its neighbours. */
  readonly env?: readonly string[];
}

/**
 * Lockstep's partitions in containers, on one engine, over one network and NATS server per emulated node (the
 * servers clustered, as for a live run's docker placement: docker-containers.ts). The controller launches each
 * partition (no registration: it knows them all), the k-th of the plan on node k mod the nodes: per Xen domain the
 * driver domain's on node 0 and guest v's on node (v + 1) mod the nodes, so that with two nodes the driver and the
 * first guest talk across nodes; per host (a multi-host scenario) host i's on node i mod the nodes, so that with two
 * nodes host 0's partition, which runs the switch, reaches every odd host across nodes. A partition is never
 * restarted: one that dies ends the run.
 */
export class DockerPartitionPlacement implements Placement {
  readonly kind = 'docker' as const;
  readonly watchHeartbeats = false;
  private readonly containers: DockerContainers;
  private actorNatsUrl = '';
  /** Container name → partition name, for the logs. */
  private readonly partitionOf = new Map<string, string>();
  /** Partitions launched so far (the driver domain's first, as the plan lists them). */
  private launched = 0;

  constructor(private readonly o: DockerPartitionsOptions) {
    this.containers = new DockerContainers({
      ...o,
      onLog: (container, line) => o.onLog?.(this.partitionOf.get(container) ?? container, line),
    });
  }

  get nodeCount(): number {
    return this.containers.nodeCount;
  }

  /** Networks and NATS servers, with a NATS user per partition. */
  async start(groups: readonly ProcessGroup[]): Promise<NatsAccess> {
    const started = await this.containers.start(groups.map((g) => g.ids));
    this.actorNatsUrl = started.actorNatsUrl;
    return { url: started.natsUrl, login: started.login, processLogin: started.processLogin };
  }

  readonly launch = (group: ProcessGroup, _incarnation: number, access: ProcessAccess): ActorHandle => {
    const k = this.launched++;
    const node = k % this.containers.nodeCount;
    // Its container's role label: a host's partition holds its driver domain (and its guests), as the first of one host's does.
    const perHost = /^h[0-9]+\./.test(group.ids[0] ?? '');
    const c = this.containers.launchPartition(node, k === 0 || perHost ? 'driver' : 'frontend', group.ids, this.actorNatsUrl, access, this.o.scenarioText, this.o.env);
    this.partitionOf.set(c.name, group.name);
    return { name: group.name, pid: -1, container: c.name, exited: c.exited, kill: (sig) => c.signal(sig ?? 'SIGTERM') };
  };

  /** Remove every container and network of the run. */
  stop(): Promise<void> {
    return this.containers.stop();
  }
}
