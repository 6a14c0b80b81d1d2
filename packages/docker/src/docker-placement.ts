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
  private network: Docker.Network | null = null;
  private readonly containers: Docker.Container[] = [];

  constructor(private readonly o: DockerPlacementOptions) {
    this.docker = dockerFor(o.endpoint);
    this.labels = { [LABEL_MANAGED]: '1', [LABEL_RUN]: o.runId };
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
    this.network = await this.docker.createNetwork({ Name: this.name('net'), Labels: this.labels, CheckDuplicate: true });
    const nats = await this.docker.createContainer({
      name: this.name('nats'),
      Image: this.o.natsImage,
      Cmd: ['-p', '4222'],
      Labels: this.labels,
      ExposedPorts: { '4222/tcp': {} },
      HostConfig: { NetworkMode: this.name('net'), PortBindings: { '4222/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
      NetworkingConfig: { EndpointsConfig: { [this.name('net')]: { Aliases: ['nats'] } } },
    });
    this.containers.push(nats);
    await nats.start();
    const info = await nats.inspect();
    const port = info.NetworkSettings.Ports['4222/tcp']?.[0]?.HostPort;
    if (!port) throw new SplitnetError('E_INTERNAL', 'the NATS container published no port');
    this.o.logger.info('docker: network and NATS up', { network: this.name('net'), port });
    return { natsUrl: `nats://127.0.0.1:${port}`, actorNatsUrl: 'nats://nats:4222' };
  }

  /** Start one actor container that joins the run with `role`. */
  async launch(role: ActorRole, index: number, natsUrl: string): Promise<void> {
    const name = this.name(`${role}-${index}`);
    const c = await this.docker.createContainer({
      name,
      Image: this.o.image,
      Cmd: ['actor', '--run', this.o.runId, '--nats', natsUrl, '--role', role],
      Labels: { ...this.labels, 'splitnet.role': role },
      HostConfig: { NetworkMode: this.name('net'), Init: true },
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
