// The docker placement: a labelled network, a NATS container and one container per actor process, found again and removed by label.
import Docker from 'dockerode';
import { SplitnetError } from '@splitnet/model';
import type { Logger } from '@splitnet/model';

/** Every resource splitnet creates carries these labels, so it can always be found and removed. */
export const LABEL_MANAGED = 'splitnet.managed';
export const LABEL_RUN = 'splitnet.run';

export type ActorRole = 'driver' | 'worker' | 'frontend';

export interface DockerPlacementOptions {
  readonly runId: string;
  /** The splitnet image (built from docker/Dockerfile); never pulled. */
  readonly image: string;
  /** The image that runs nats-server (its entrypoint takes nats-server's flags); never pulled. */
  readonly natsImage: string;
  /** Docker endpoint (DOCKER_HOST form: unix:///var/run/docker.sock, tcp://host:2375); default: the local engine. */
  readonly endpoint?: string;
  /**
   * Emulated nodes on the engine (default 1): each node is a network of its own with its own NATS
   * server; the servers form a NATS cluster (routes over a backbone network), as hosts of a real
   * multi-host deployment would.
   */
  readonly nodes?: number;
  readonly logger: Logger;
  /** A log line from a container (stdout and stderr, demultiplexed). */
  readonly onLog?: (container: string, line: string) => void;
}

export interface StartedPlacement {
  /** NATS URL for the controller on this host (a loopback port published by the NATS container). */
  readonly natsUrl: string;
  /** NATS URL for the actors, inside the run's network. */
  readonly actorNatsUrl: string;
}

function dockerFor(endpoint: string | undefined): Docker {
  if (!endpoint) return new Docker();
  if (endpoint.startsWith('unix://')) return new Docker({ socketPath: endpoint.slice('unix://'.length) });
  const m = /^tcp:\/\/([^:/]+):(\d+)$/.exec(endpoint);
  if (!m) throw new SplitnetError('E_USAGE', `--docker-host: expected unix:///path or tcp://host:port, found "${endpoint}"`);
  return new Docker({ host: m[1] as string, port: Number(m[2]) });
}

/**
 * Runs the actors of one live run as containers on one Docker engine: a network of its own, a NATS
 * server reachable inside it as `nats` (and from this host on a loopback port), and `splitnet actor
 * --role …` containers that join the run. `stop()` removes everything; `removeByLabel` finds what a
 * crashed controller left.
 */
export class DockerPlacement {
  private readonly docker: Docker;
  private readonly labels: Record<string, string>;
  private readonly containers: Docker.Container[] = [];
  private readonly nodes: number;

  constructor(private readonly o: DockerPlacementOptions) {
    this.docker = dockerFor(o.endpoint);
    this.labels = { [LABEL_MANAGED]: '1', [LABEL_RUN]: o.runId };
    this.nodes = o.nodes ?? 1;
    if (!Number.isInteger(this.nodes) || this.nodes < 1 || this.nodes > 16) {
      throw new SplitnetError('E_USAGE', `--docker-nodes: expected a whole number from 1 to 16, found ${String(o.nodes)}`);
    }
  }

  /** Node n's network; actors on it reach their node's NATS server as `nats`. */
  private net(node: number): string {
    return this.name(`node${node}`);
  }

  private name(what: string): string {
    return `splitnet-${this.o.runId}-${what}`.replace(/[^A-Za-z0-9_.-]/g, '-');
  }

  private async requireImage(ref: string, what: string): Promise<void> {
    try {
      await this.docker.getImage(ref).inspect();
    } catch {
      throw new SplitnetError('E_USAGE', `${what} image "${ref}" is not on this Docker engine: build it first (docker build -f docker/Dockerfile -t ${ref} . — see docker/README.md); splitnet never pulls`);
    }
  }

  async start(): Promise<StartedPlacement> {
    try {
      await this.docker.ping();
    } catch (err) {
      throw new SplitnetError('E_USAGE', `no Docker engine answers${this.o.endpoint ? ` at ${this.o.endpoint}` : ''}: ${err instanceof Error ? err.message : String(err)}`);
    }
    await this.requireImage(this.o.image, 'splitnet');
    await this.requireImage(this.o.natsImage, 'NATS');
    for (let n = 0; n < this.nodes; n++) await this.docker.createNetwork({ Name: this.net(n), Labels: this.labels, CheckDuplicate: true });
    const backbone = this.name('backbone');
    if (this.nodes > 1) await this.docker.createNetwork({ Name: backbone, Labels: this.labels, CheckDuplicate: true });
    let port = '';
    for (let n = 0; n < this.nodes; n++) {
      // Node n's NATS server; with several nodes they form a cluster whose routes run over the backbone.
      const cluster = this.nodes > 1 ? ['--cluster_name', 'splitnet', '--cluster', 'nats://0.0.0.0:6222', '--routes', `nats://${this.name('nats0')}:6222`] : [];
      const nats = await this.docker.createContainer({
        name: this.name(`nats${n}`),
        Image: this.o.natsImage,
        Cmd: ['-p', '4222', ...cluster],
        Labels: { ...this.labels, 'splitnet.node': String(n) },
        ExposedPorts: { '4222/tcp': {} },
        HostConfig: { NetworkMode: this.net(n), ...(n === 0 ? { PortBindings: { '4222/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } } : {}) },
        NetworkingConfig: { EndpointsConfig: { [this.net(n)]: { Aliases: ['nats'] } } },
      });
      this.containers.push(nats);
      if (this.nodes > 1) await this.docker.getNetwork(backbone).connect({ Container: nats.id, EndpointConfig: { Aliases: [this.name(`nats${n}`)] } });
      await nats.start();
      if (n === 0) {
        const info = await nats.inspect();
        port = info.NetworkSettings.Ports['4222/tcp']?.[0]?.HostPort ?? '';
      }
    }
    if (!port) throw new SplitnetError('E_INTERNAL', 'the NATS container published no port');
    this.o.logger.info('docker: networks and NATS up', { nodes: this.nodes, port });
    return { natsUrl: `nats://127.0.0.1:${port}`, actorNatsUrl: 'nats://nats:4222' };
  }

  /** Start one actor container on emulated node `node` that joins the run with `role`. */
  async launch(role: ActorRole, index: number, natsUrl: string, node = 0): Promise<void> {
    const name = this.name(`${role}-${index}`);
    const c = await this.docker.createContainer({
      name,
      Image: this.o.image,
      Cmd: ['actor', '--run', this.o.runId, '--nats', natsUrl, '--role', role],
      Labels: { ...this.labels, 'splitnet.role': role, 'splitnet.node': String(node) },
      HostConfig: { NetworkMode: this.net(node % this.nodes), Init: true },
    });
    this.containers.push(c);
    await c.start();
    if (this.o.onLog) void this.follow(c, name);
  }

  private async follow(c: Docker.Container, name: string): Promise<void> {
    try {
      const stream = await c.logs({ follow: true, stdout: true, stderr: true });
      let buf = '';
      const sink = {
        write: (chunk: Buffer) => {
          buf += chunk.toString();
          let i: number;
          while ((i = buf.indexOf('\n')) >= 0) {
            this.o.onLog?.(name, buf.slice(0, i));
            buf = buf.slice(i + 1);
          }
          return true;
        },
      };
      this.docker.modem.demuxStream(stream, sink as unknown as NodeJS.WritableStream, sink as unknown as NodeJS.WritableStream);
    } catch {
      // logs are a convenience; the run does not depend on them
    }
  }

  get nodeCount(): number {
    return this.nodes;
  }

  /** Remove every container and the network of this run. */
  async stop(): Promise<void> {
    await removeByLabel(this.docker, `${LABEL_RUN}=${this.o.runId}`);
  }
}

/** Remove containers (forced) and networks carrying `label` (`key=value` or `key`). Returns how many. */
export async function removeByLabel(docker: Docker, label: string): Promise<number> {
  let n = 0;
  const containers = await docker.listContainers({ all: true, filters: { label: [label] } });
  for (const c of containers) {
    try {
      await docker.getContainer(c.Id).remove({ force: true });
      n++;
    } catch {
      // already gone
    }
  }
  const networks = await docker.listNetworks({ filters: { label: [label] } });
  for (const net of networks) {
    try {
      await docker.getNetwork(net.Id).remove();
      n++;
    } catch {
      // in use or gone
    }
  }
  return n;
}

/** `splitnet cleanup`: remove whatever any splitnet run left on this engine (e.g. after a crash). */
export async function cleanupAll(endpoint?: string): Promise<number> {
  return removeByLabel(dockerFor(endpoint), `${LABEL_MANAGED}=1`);
}
