// The docker placement, behind the live run's Placement port: NATS and one container per actor process on one or several Docker engines.
import { SplitnetError } from '@splitnet/model';
import type { ActorHandle, NatsAccess, NatsServerControl, Placement, ProcessAccess, ProcessGroup, RegistrationPolicy } from '@splitnet/live';
import type { CompiledScenario } from '@splitnet/scenario';
import { DockerContainers } from './docker-containers.js';
import type { DockerContainersOptions } from './docker-containers.js';
import { DockerFaults } from './docker-faults.js';

export interface DockerPlacementOptions extends DockerContainersOptions {
  /** How VMs go over the nodes: spread interleaves them, pack fills node 0 first (default spread). */
  readonly strategy?: 'spread' | 'pack';
}

/**
 * The run's containers join it like externally started actors (registration closes once every process
 * of the scenario has joined; each says which container it runs in); the supervisor watches their exit,
 * signals them (a kill or pause of one actor: docker kill / pause) and starts a dead one again on its
 * node. Node faults act on a node's containers, the nats-restart fault on the run's NATS containers.
 */
export class DockerPlacement implements Placement {
  readonly kind = 'docker' as const;
  /** A container on a remote engine may go silent without its exit reaching the controller. */
  readonly watchHeartbeats = true;
  readonly registration: RegistrationPolicy = { expectEveryProcess: true, windowMs: 2000, timeoutMs: 300_000 };
  readonly nats: NatsServerControl;
  private readonly containers: DockerContainers;
  private faults: DockerFaults | undefined;
  /** NATS as the actor containers reach it (inside their node's network). */
  private actorNatsUrl = '';
  /** Per process name, the container of its latest incarnation. */
  private readonly latest = new Map<string, string>();

  constructor(private readonly o: DockerPlacementOptions) {
    this.containers = new DockerContainers(o);
    // The nats-restart fault stops and starts the placement's NATS containers (their ports stay the same).
    this.nats = { ...this.containers.natsServers(), how: { kill: "docker kill of the run's NATS containers", restart: "docker start of the run's NATS containers (same names and ports)" } };
  }

  /** Nodes (one per engine, or emulated on one engine). */
  get nodeCount(): number {
    return this.containers.nodeCount;
  }

  get nodes(): DockerFaults | undefined {
    return this.faults;
  }

  /** Networks and NATS servers, whose users are the controller, the roles' join logins and a user per process of `groups`. */
  async start(groups: readonly ProcessGroup[]): Promise<NatsAccess> {
    const started = await this.containers.start(groups.map((g) => g.ids));
    this.actorNatsUrl = started.actorNatsUrl;
    // Node faults (docker pause, network disconnect) act on the containers (test/e2e/faults-docker.test.ts).
    this.faults = new DockerFaults(this.o.runId, this.o.endpoints ?? [], this.containers.pauses);
    // The placement's own servers: the controller's login, and each process's (handed out at join, or to a restart).
    return { url: started.natsUrl, login: started.login, processLogin: started.processLogin };
  }

  /**
   * One container per actor process, over the nodes (emulated, or one per engine): spread interleaves them,
   * pack fills node 0 first; they join like any external actor (the driver lives on node 0). One process
   * per Xen domain: the driver's container runs the vRSS workers too.
   */
  async invite(s: CompiledScenario): Promise<void> {
    const n = this.containers.nodeCount;
    const place = (i: number, total: number) => (this.o.strategy === 'pack' ? Math.floor((i * n) / total) : i % n);
    await this.containers.launch('driver', 0, this.actorNatsUrl, 0);
    if (s.live.processes === 'per-actor') for (let k = 0; k < s.topology.workers; k++) await this.containers.launch('worker', k, this.actorNatsUrl, place(k, s.topology.workers));
    for (let v = 0; v < s.topology.vms.length; v++) await this.containers.launch('frontend', v, this.actorNatsUrl, place(v, s.topology.vms.length));
  }

  /**
   * Incarnation 0 is the container that joined with those actors (it said which it is); a restart is a new
   * container on the same node, which asks the controller for the scenario (a rejoin). Joined containers
   * stay up until the controller is gone; stop removes them.
   */
  readonly launch = (group: ProcessGroup, incarnation: number, access: ProcessAccess): ActorHandle => {
    const last = this.latest.get(group.name) ?? group.container;
    if (last === undefined) throw new SplitnetError('E_INTERNAL', `docker: the actor process ${group.name} did not say which container it runs in`);
    let c;
    if (incarnation === 0) {
      c = this.containers.container(last);
    } else {
      c = this.containers.relaunch(last, group.ids, incarnation, this.actorNatsUrl, access);
    }
    this.latest.set(group.name, c.name);
    return { name: group.name, pid: -1, container: c.name, lingers: true, exited: c.exited, kill: (sig) => c.signal(sig ?? 'SIGTERM') };
  };

  /** Remove every container and network of the run, on every engine. */
  stop(): Promise<void> {
    return this.containers.stop();
  }
}
