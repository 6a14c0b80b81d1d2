// Fault actions on the containers of a docker-placed live run: pause / unpause and network disconnect / reconnect of an emulated node's actors.
import type Docker from 'dockerode';
import { dockerFor, LABEL_RUN, nodeNetwork } from './docker-containers.js';
import { PauseHolds } from './pause-holds.js';

/*
 * Exercised end to end by test/e2e/faults-docker.test.ts. Containers are found by the labels
 * DockerContainers sets (splitnet.run, splitnet.node, and splitnet.role on actor containers — NATS
 * containers have no role and are left alone), and a node's network by DockerContainers' `nodeNetwork`.
 *
 * A network partition must end like a real one: the cable comes back and the hosts keep their
 * addresses, so open TCP connections (each actor's to its NATS server) resume once TCP retransmits.
 * Docker hands a reconnected container the lowest free address of the network (and, before Docker 25,
 * a MAC derived from it), not necessarily its old one; reconnecting containers in the order of their
 * old addresses gives each its own back. A container that got another address anyway is named in the
 * result: its connection is dead and its client only finds out from its own ping timeout.
 */

export class DockerFaults {
  /** One client per engine: with several engines node n is engine n; otherwise every node is on the one engine. */
  private readonly engines: readonly Docker[];
  /** Address on the node's network of each container cut from it, by container id, until it is reconnected. */
  private readonly cut = new Map<string, { readonly name: string; readonly ip: string }>();
  /**
   * The node faults under way, per node: each waits for the one before it on the same node. Docker calls are slow on
   * a loaded machine (a pause of a node's containers can take longer than the fault lasts); without the queue an
   * unpause could look at the holds before its pause has taken them, thaw nothing, and leave the node frozen for good.
   */
  private readonly queue = new Map<number, Promise<unknown>>();

  /**
   * `pauses`: shared with the placement (DockerContainers.pauses), so that a node pause and a pause of one
   * of its actors overlap without a failed `docker pause` or an early unpause.
   */
  constructor(private readonly runId: string, endpoints: readonly string[] = [], private readonly pauses = new PauseHolds()) {
    this.engines = endpoints.length === 0 ? [dockerFor(undefined)] : endpoints.map((e) => dockerFor(e));
  }

  /** The engine that runs node `node`'s containers. */
  private dockerOf(node: number): Docker {
    return (this.engines.length > 1 ? this.engines[node] : this.engines[0]) ?? (this.engines[0] as Docker);
  }

  /** The actor containers of emulated node `node` (NATS containers excluded). */
  private async actorsOn(node: number): Promise<Docker.ContainerInfo[]> {
    const list = await this.dockerOf(node).listContainers({ all: false, filters: { label: [`${LABEL_RUN}=${this.runId}`, `splitnet.node=${node}`] } });
    return list.filter((c) => c.Labels['splitnet.role'] !== undefined);
  }

  private names(cs: readonly Docker.ContainerInfo[]): string {
    return cs.map((c) => (c.Names[0] ?? c.Id).replace(/^\//, '')).join(', ') || 'no actor container';
  }

  /** `op` on node `node` once the node's earlier faults are done (see `queue`). */
  private inOrder(node: number, op: () => Promise<string>): Promise<string> {
    const next = (this.queue.get(node) ?? Promise.resolve()).then(op, op);
    this.queue.set(node, next.catch(() => undefined));
    return next;
  }

  /** `docker pause` every actor container of the node (one another fault holds paused already stays so); returns what was done. */
  pauseNode(node: number): Promise<string> {
    return this.inOrder(node, () => this.pauseNow(node));
  }

  /** `docker unpause` the node's actor containers, except one another fault still holds paused. */
  unpauseNode(node: number): Promise<string> {
    return this.inOrder(node, () => this.unpauseNow(node));
  }

  /** `docker network disconnect` the node's actor containers from the node's network (they lose their NATS server). */
  disconnectNode(node: number): Promise<string> {
    return this.inOrder(node, () => this.disconnectNow(node));
  }

  /** `docker network connect` the containers `disconnectNode` cut, each to get its old address back. */
  reconnectNode(node: number): Promise<string> {
    return this.inOrder(node, () => this.reconnectNow(node));
  }

  private async pauseNow(node: number): Promise<string> {
    const cs = await this.actorsOn(node);
    const by = `node:${node}`;
    const already: Docker.ContainerInfo[] = [];
    for (const c of cs) {
      if (this.pauses.hold(this.names([c]), by)) await this.dockerOf(node).getContainer(c.Id).pause();
      else already.push(c);
    }
    return `docker pause: ${this.names(cs.filter((c) => !already.includes(c)))}${already.length > 0 ? `; already paused by another fault: ${this.names(already)}` : ''}`;
  }

  private async unpauseNow(node: number): Promise<string> {
    const cs = await this.actorsOn(node);
    const by = `node:${node}`;
    const thawed: Docker.ContainerInfo[] = [];
    const held: Docker.ContainerInfo[] = [];
    for (const c of cs) {
      const name = this.names([c]);
      if (this.pauses.release(name, by)) {
        await this.dockerOf(node).getContainer(c.Id).unpause();
        thawed.push(c);
      } else if (this.pauses.othersHolding(name, by).length > 0) held.push(c);
      // else: not paused by this fault (a container started on the node since): left alone
    }
    return `docker unpause: ${this.names(thawed)}${held.length > 0 ? `; still paused by another fault: ${this.names(held)}` : ''}`;
  }

  private async disconnectNow(node: number): Promise<string> {
    const cs = await this.actorsOn(node);
    const name = nodeNetwork(this.runId, node);
    const net = this.dockerOf(node).getNetwork(name);
    for (const c of cs) {
      const ip = c.NetworkSettings.Networks[name]?.IPAddress ?? '';
      this.cut.set(c.Id, { name: this.names([c]), ip });
      await net.disconnect({ Container: c.Id, Force: true });
    }
    return `docker network disconnect ${name}: ${this.names(cs)}`;
  }

  private async reconnectNow(node: number): Promise<string> {
    const cs = await this.actorsOn(node);
    const name = nodeNetwork(this.runId, node);
    const net = this.dockerOf(node).getNetwork(name);
    const key = (ip: string) => ip.split('.').reduce((n, b) => n * 256 + Number(b), 0);
    const order = cs.map((c) => ({ c, old: this.cut.get(c.Id) })).sort((a, b) => key(a.old?.ip ?? '255.255.255.255') - key(b.old?.ip ?? '255.255.255.255'));
    const moved: string[] = [];
    for (const { c, old } of order) {
      await net.connect({ Container: c.Id });
      this.cut.delete(c.Id);
      const now = (await this.dockerOf(node).getContainer(c.Id).inspect()).NetworkSettings.Networks[name]?.IPAddress ?? '';
      if (old && old.ip !== '' && now !== old.ip) moved.push(`${old.name} ${old.ip} -> ${now}`);
    }
    const line = `docker network connect ${name}: ${this.names(order.map((x) => x.c))}`;
    return moved.length === 0 ? line : `${line}; new address (its open connections are dead): ${moved.join(', ')}`;
  }
}
