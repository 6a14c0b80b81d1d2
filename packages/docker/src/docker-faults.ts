// Fault actions on the containers of a docker-placed live run: pause / unpause and network disconnect / reconnect of an emulated node's actors.
import Docker from 'dockerode';
import { SplitnetError } from '@splitnet/model';
import { LABEL_RUN } from './docker-placement.js';

/*
 * UNTESTED by the fault-injection work (the Docker engine was another engineer's at the time): the
 * calls are dockerode's documented container.pause/unpause and network.disconnect/connect, but no
 * test has run them. Containers are found by the labels DockerPlacement sets (splitnet.run,
 * splitnet.node, and splitnet.role on actor containers — NATS containers have no role and are left
 * alone), and a node's network by DockerPlacement's naming rule, repeated here.
 */

function dockerAt(endpoint: string | undefined): Docker {
  if (!endpoint) return new Docker();
  if (endpoint.startsWith('unix://')) return new Docker({ socketPath: endpoint.slice('unix://'.length) });
  const m = /^tcp:\/\/([^:/]+):(\d+)$/.exec(endpoint);
  if (!m) throw new SplitnetError('E_USAGE', `--docker-host: expected unix:///path or tcp://host:port, found "${endpoint}"`);
  return new Docker({ host: m[1] as string, port: Number(m[2]) });
}

export class DockerFaults {
  private readonly docker: Docker;

  constructor(private readonly runId: string, endpoint?: string) {
    this.docker = dockerAt(endpoint);
  }

  /** DockerPlacement's name for node n's network. */
  private network(node: number): string {
    return `splitnet-${this.runId}-node${node}`.replace(/[^A-Za-z0-9_.-]/g, '-');
  }

  /** The actor containers of emulated node `node` (NATS containers excluded). */
  private async actorsOn(node: number): Promise<Docker.ContainerInfo[]> {
    const list = await this.docker.listContainers({ all: false, filters: { label: [`${LABEL_RUN}=${this.runId}`, `splitnet.node=${node}`] } });
    return list.filter((c) => c.Labels['splitnet.role'] !== undefined);
  }

  private names(cs: readonly Docker.ContainerInfo[]): string {
    return cs.map((c) => (c.Names[0] ?? c.Id).replace(/^\//, '')).join(', ') || 'no actor container';
  }

  /** `docker pause` every actor container of the node; returns what was done. */
  async pauseNode(node: number): Promise<string> {
    const cs = await this.actorsOn(node);
    for (const c of cs) await this.docker.getContainer(c.Id).pause();
    return `docker pause: ${this.names(cs)}`;
  }

  async unpauseNode(node: number): Promise<string> {
    const cs = await this.actorsOn(node);
    for (const c of cs) await this.docker.getContainer(c.Id).unpause();
    return `docker unpause: ${this.names(cs)}`;
  }

  /** `docker network disconnect` the node's actor containers from the node's network (they lose their NATS server). */
  async disconnectNode(node: number): Promise<string> {
    const cs = await this.actorsOn(node);
    const net = this.docker.getNetwork(this.network(node));
    for (const c of cs) await net.disconnect({ Container: c.Id, Force: true });
    return `docker network disconnect ${this.network(node)}: ${this.names(cs)}`;
  }

  async reconnectNode(node: number): Promise<string> {
    const cs = await this.actorsOn(node);
    const net = this.docker.getNetwork(this.network(node));
    for (const c of cs) await net.connect({ Container: c.Id });
    return `docker network connect ${this.network(node)}: ${this.names(cs)}`;
  }
}
