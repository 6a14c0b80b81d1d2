// The docker placement's containers: per node a labelled network and a NATS container, one container per actor process; found again and removed by label.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { homedir, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { SplitnetError } from '@splitnet/model';
import type { Logger } from '@splitnet/model';
import { busUsers, formatControlSecret, randomPassword } from '@splitnet/live';
import type { BusUsers, NatsLogin, ProcessAccess } from '@splitnet/live';
import { renderAuthorization } from '@splitnet/transport';
import { bridgeAddress, type BridgeInspect } from './bridge-address.js';
import { PauseHolds } from './pause-holds.js';
import { tarOf } from './tar-file.js';

/** Where the run's NATS configuration goes in each NATS container (the root: it exists in any image). */
const NATS_CONF = 'splitnet-nats.conf';

/** Every resource splitnet creates carries these labels, so it can always be found and removed. */
export const LABEL_MANAGED = 'splitnet.managed';
export const LABEL_RUN = 'splitnet.run';

export type ActorRole = 'driver' | 'worker' | 'frontend';

/** An actor container as a supervisor sees it: when it ends, and how to signal it. */
export interface ContainerProcess {
  readonly name: string;
  /** Resolves with the container's exit code (null if it could not be started or watched). */
  readonly exited: Promise<number | null>;
  signal(sig: 'SIGKILL' | 'SIGTERM' | 'SIGSTOP' | 'SIGCONT' | NodeJS.Signals): void;
}

export interface DockerContainersOptions {
  readonly runId: string;
  /** The splitnet image (built from docker/Dockerfile); never pulled. */
  readonly image: string;
  /** The image that runs nats-server (its entrypoint takes nats-server's flags); never pulled. */
  readonly natsImage: string;
  /**
   * Docker endpoints (DOCKER_HOST form: unix:///var/run/docker.sock, tcp://host:2375); default: the local
   * engine. With several, each engine is one node of the run (the same endpoint given twice is two nodes).
   */
  readonly endpoints?: readonly string[];
  /**
   * Emulated nodes on the one engine (default 1): each node is a network of its own with its own NATS
   * server; the servers form a NATS cluster (routes over a backbone network), as hosts of a real
   * multi-host deployment would. Not with several endpoints (there every engine is a node).
   */
  readonly nodes?: number;
  /**
   * Per endpoint (same order), the address of that engine's host that the other engines and the controller
   * reach: its NATS server publishes its client and route ports there. Default: the host of a tcp:// URL;
   * for an engine on this machine, 127.0.0.1 when it is the only engine, else this host's address on its default
   * bridge network (reachable from containers of every engine on this machine, not from outside it; see bridgeAddress).
   */
  readonly advertise?: readonly string[];
  /** Publish the NATS ports on every interface (0.0.0.0) instead of the advertised address only. */
  readonly bindAll?: boolean;
  readonly logger: Logger;
  /** A log line from a container (stdout and stderr, demultiplexed). */
  readonly onLog?: (container: string, line: string) => void;
}

export interface StartedContainers {
  /** NATS URL for the controller on this host (node 0's server, through a port it publishes). */
  readonly natsUrl: string;
  /** NATS URL for the actors, inside their node's network. */
  readonly actorNatsUrl: string;
  /** The controller's NATS login on the run's servers (a user per process: see DockerContainers.users). */
  readonly login: NatsLogin;
  /** The login of the process hosting these actor ids. */
  readonly processLogin: (ids: readonly string[]) => NatsLogin;
}

/** An endpoint as given, or the default engine (DOCKER_HOST, else the local socket) when none is. */
function describe(endpoint: string | undefined): string {
  return endpoint ?? 'the local Docker engine';
}

/** A dockerode client for one engine endpoint (`unix:///…` or `tcp://host:port`; none: the local engine). */
export function dockerFor(endpoint: string | undefined, flag = '--docker-host'): Docker {
  if (!endpoint) return new Docker();
  if (endpoint.startsWith('unix://')) return new Docker({ socketPath: endpoint.slice('unix://'.length) });
  const tcp = parseTcp(endpoint);
  if (!tcp) throw new SplitnetError('E_USAGE', `${flag}: expected unix:///path or tcp://host:port, found "${endpoint}"`);
  // DOCKER_TLS_VERIFY / DOCKER_CERT_PATH as the docker CLI reads them: a remote engine must require client certificates.
  if (process.env['DOCKER_TLS_VERIFY'] === '1' || process.env['DOCKER_CERT_PATH']) {
    const dir = process.env['DOCKER_CERT_PATH'] ?? join(homedir(), '.docker');
    const read = (f: string): Buffer => {
      try {
        return readFileSync(join(dir, f));
      } catch {
        throw new SplitnetError('E_USAGE', `${flag} ${endpoint}: TLS asked for (DOCKER_TLS_VERIFY/DOCKER_CERT_PATH) but ${join(dir, f)} cannot be read`);
      }
    };
    return new Docker({ host: tcp.host, port: tcp.port, protocol: 'https', ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') });
  }
  return new Docker({ host: tcp.host, port: tcp.port });
}

function parseTcp(endpoint: string): { host: string; port: number } | null {
  const m = /^tcp:\/\/(\[[0-9A-Fa-f:.]+\]|[^:/[\]]+):(\d+)\/?$/.exec(endpoint);
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
}

/** Whether ports bound to `address` are reachable from this machine only. */
function isLoopback(address: string): boolean {
  return address === '::1' || address === 'localhost' || /^127\./.test(address);
}

/** Whether an endpoint reaches an engine on this machine (its socket, or a loopback port). */
function isLocal(endpoint: string | undefined): boolean {
  if (!endpoint || endpoint.startsWith('unix://')) return true;
  const host = parseTcp(endpoint)?.host ?? '';
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** The name of run `runId`'s Docker object `what` (a container or network), in the characters Docker accepts. */
function runObjectName(runId: string, what: string): string {
  return `splitnet-${runId}-${what}`.replace(/[^A-Za-z0-9_.-]/g, '-');
}

/** Node n's network in run `runId`; actors on it reach their node's NATS server as `nats`. */
export function nodeNetwork(runId: string, node: number): string {
  return runObjectName(runId, `node${node}`);
}

/** A run's node: its engine, and the network its actors share with its NATS server. */
interface Node {
  readonly docker: Docker;
  readonly endpoint: string | undefined;
  readonly index: number;
}

/**
 * Runs the actors of one live run as containers on one or several Docker engines: per node a network of
 * its own, a NATS server reachable inside it as `nats`, and `splitnet actor --role …` containers that join
 * the run; several servers form a NATS cluster. `stop()` removes everything on every engine;
 * `cleanupAll` finds what a crashed controller left.
 */
export class DockerContainers {
  private readonly labels: Record<string, string>;
  private readonly nodeList: Node[];
  /** Several engines (each one node), as opposed to nodes emulated on one engine. */
  private readonly multiEngine: boolean;
  /**
   * The run's NATS users, made up per run and put into every NATS container as its configuration file: the
   * controller, each role's join login (what an actor container starts with: it may only ask to join), and a
   * user per process of the scenario, allowed only its own subjects (the controller hands it out at join,
   * sealed to the joiner). Servers route to each other as `route` when their ports are published beyond
   * loopback (several engines, a remote one).
   */
  private users: BusUsers | undefined;
  private readonly routePass = randomBytes(18).toString('base64url');
  private auth = false;

  private routeAuth(): string {
    return this.auth ? `route:${this.routePass}@` : '';
  }

  private logins(): Pick<StartedContainers, 'login' | 'processLogin'> {
    const u = this.users as BusUsers;
    return { login: u.controller, processLogin: u.loginOf };
  }

  /** Put the run's NATS configuration into a NATS container before it starts. */
  private async configure(c: Docker.Container): Promise<void> {
    const text = `# The NATS of splitnet run ${this.o.runId}, written by its controller (docs/security.md).\n${renderAuthorization((this.users as BusUsers).users)}`;
    await c.putArchive(tarOf(NATS_CONF, text), { path: '/' });
  }

  constructor(private readonly o: DockerContainersOptions) {
    this.labels = { [LABEL_MANAGED]: '1', [LABEL_RUN]: o.runId };
    const endpoints: (string | undefined)[] = o.endpoints && o.endpoints.length > 0 ? [...o.endpoints] : [undefined];
    this.multiEngine = endpoints.length > 1;
    const nodes = o.nodes ?? 1;
    if (!Number.isInteger(nodes) || nodes < 1 || nodes > 16) {
      throw new SplitnetError('E_USAGE', `--docker-nodes: expected a whole number from 1 to 16, found ${String(o.nodes)}`);
    }
    if (this.multiEngine && nodes > 1) {
      throw new SplitnetError('E_USAGE', `--docker-nodes ${nodes} emulates nodes on one engine; with ${endpoints.length} --docker-host engines each engine is one node: give one or the other`);
    }
    if (endpoints.length > 16) throw new SplitnetError('E_USAGE', `--docker-host: at most 16 engines, found ${endpoints.length}`);
    if (o.advertise && o.advertise.length > 0 && o.advertise.length !== endpoints.length) {
      throw new SplitnetError('E_USAGE', `--docker-advertise: give one address per --docker-host, in the same order (${endpoints.length} engine(s), ${o.advertise.length} address(es))`);
    }
    // One dockerode client per engine node, even for an endpoint given twice (each is driven as a host of
    // its own); emulated nodes share their engine's client.
    const one = this.multiEngine ? null : dockerFor(endpoints[0]);
    this.nodeList = this.multiEngine
      ? endpoints.map((e, index) => ({ docker: dockerFor(e), endpoint: e, index }))
      : Array.from({ length: nodes }, (_, index) => ({ docker: one as Docker, endpoint: endpoints[0], index }));
  }

  private net(node: number): string {
    return nodeNetwork(this.o.runId, node);
  }

  private name(what: string): string {
    return runObjectName(this.o.runId, what);
  }

  private async requireImage(node: Node, ref: string, what: string): Promise<void> {
    try {
      await node.docker.getImage(ref).inspect();
    } catch {
      const where = this.multiEngine ? `the Docker engine ${describe(node.endpoint)}` : 'this Docker engine';
      throw new SplitnetError('E_USAGE', `${what} image "${ref}" is not on ${where}: build it first (docker build -f docker/Dockerfile -t ${ref} . — see docker/README.md); splitnet never pulls`);
    }
  }

  /**
   * Where node i's NATS server publishes its ports: the address others dial (`advertise`) and the host
   * address the ports are bound to (`bind`, an IP literal).
   */
  private async addressOf(node: Node): Promise<{ advertise: string; bind: string }> {
    const given = this.o.advertise?.[node.index];
    let advertise: string;
    if (given !== undefined && given !== '') advertise = given;
    else if (!isLocal(node.endpoint)) advertise = parseTcp(node.endpoint ?? '')?.host ?? '';
    else if (!this.multiEngine) advertise = '127.0.0.1';
    else {
      const remote = this.nodeList.find((n) => !isLocal(n.endpoint));
      if (remote) {
        throw new SplitnetError('E_USAGE', `--docker-advertise: the engine ${describe(node.endpoint)} is on this machine but ${remote.endpoint ?? ''} is not; give, for every --docker-host in order, an address of its host that the others reach`);
      }
      // Every engine is on this machine: this host's address on the default bridge is one that the
      // containers of every engine here reach (loopback would be each container's own), and outsiders do not.
      const bridge = (await node.docker.getNetwork('bridge').inspect().catch(() => null)) as BridgeInspect | null;
      const address = bridgeAddress(bridge, networkInterfaces());
      if (address === undefined) throw new SplitnetError('E_USAGE', `--docker-advertise: the engine ${describe(node.endpoint)} has no default bridge network with an IPv4 subnet to take an address from; give one address per --docker-host`);
      advertise = address;
    }
    if (this.o.bindAll) return { advertise, bind: '0.0.0.0' };
    if (isIP(advertise) !== 0) return { advertise, bind: advertise };
    try {
      const { address } = await lookup(advertise, { family: 4 });
      return { advertise: address, bind: address };
    } catch (err) {
      throw new SplitnetError('E_USAGE', `--docker-advertise: cannot resolve "${advertise}" (the address of ${describe(node.endpoint)}): ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Start the networks and NATS servers, whose users are the controller, the roles' join logins and the processes `processes` (their actor ids). */
  async start(processes: readonly (readonly string[])[]): Promise<StartedContainers> {
    this.users = busUsers(this.o.runId, randomPassword(), processes, () => randomPassword());
    // Every engine answers and has both images before anything is created anywhere.
    const seen = new Set<Docker>();
    for (const node of this.nodeList) {
      if (seen.has(node.docker)) continue;
      seen.add(node.docker);
      try {
        await node.docker.ping();
      } catch (err) {
        throw new SplitnetError('E_USAGE', `no Docker engine answers${node.endpoint ? ` at ${node.endpoint}` : ''}: ${err instanceof Error ? err.message : String(err)}`);
      }
      await this.requireImage(node, this.o.image, 'splitnet');
      await this.requireImage(node, this.o.natsImage, 'NATS');
    }
    return this.multiEngine ? this.startEngines() : this.startEmulated();
  }

  /** Nodes emulated on one engine: a network per node, the NATS servers routed over a backbone network. */
  private async startEmulated(): Promise<StartedContainers> {
    const nodes = this.nodeList.length;
    const docker = (this.nodeList[0] as Node).docker;
    const { advertise, bind } = await this.addressOf(this.nodeList[0] as Node);
    this.auth = !isLoopback(bind);
    for (let n = 0; n < nodes; n++) await docker.createNetwork({ Name: this.net(n), Labels: this.labels, CheckDuplicate: true });
    const backbone = this.name('backbone');
    if (nodes > 1) await docker.createNetwork({ Name: backbone, Labels: this.labels, CheckDuplicate: true });
    let port = '';
    for (let n = 0; n < nodes; n++) {
      // Node n's NATS server; with several nodes they form a cluster whose routes run over the backbone.
      // `--no_advertise`: clients are not told the other servers' addresses (on other nodes' networks, which
      // they cannot reach), so a client that lost its server (nats-restart) reconnects to its own node's.
      const cluster = nodes > 1
        ? ['--cluster_name', 'splitnet', '--cluster', `nats://${this.routeAuth()}0.0.0.0:6222`, '--routes', `nats://${this.routeAuth()}${this.name('nats0')}:6222`, '--no_advertise=true']
        : [];
      // Node 0's client port is published for the controller, at a port chosen here (see startNats).
      const { container: nats, clientPort } = await this.startNats(docker, n, bind, n === 0, (clientPort) => ({
        name: this.name(`nats${n}`),
        Image: this.o.natsImage,
        Cmd: ['-c', `/${NATS_CONF}`, '-p', '4222', ...cluster],
        Labels: { ...this.labels, 'splitnet.node': String(n) },
        ExposedPorts: { '4222/tcp': {} },
        HostConfig: { NetworkMode: this.net(n), ...(clientPort > 0 ? { PortBindings: { '4222/tcp': [{ HostIp: bind, HostPort: String(clientPort) }] } } : {}) },
        NetworkingConfig: { EndpointsConfig: { [this.net(n)]: { Aliases: ['nats'] } } },
      }), async (c) => {
        await this.configure(c);
        if (nodes > 1) await docker.getNetwork(backbone).connect({ Container: c.id, EndpointConfig: { Aliases: [this.name(`nats${n}`)] } });
      });
      if (n === 0) port = String(clientPort);
      this.natsContainers.push(nats);
    }
    this.o.logger.info('docker: networks and NATS up', { nodes, port });
    return { natsUrl: `nats://${urlHost(advertise)}:${port}`, actorNatsUrl: 'nats://nats:4222', ...this.logins() };
  }

  /**
   * One node per engine. Engines share no network, so each NATS server publishes its client and route
   * ports on its host's address. Node n routes to every node started before it, so the cluster is a full
   * mesh without relying on gossip (NATS forwards a message over one route only); each advertises its own
   * published route port all the same, for servers that learn of it by gossip.
   */
  private async startEngines(): Promise<StartedContainers> {
    const seeds: string[] = [];
    let natsUrl = '';
    // Every node's address first: a missing or unresolvable one stops the run before anything is created.
    const addresses: { advertise: string; bind: string }[] = [];
    for (const node of this.nodeList) addresses.push(await this.addressOf(node));
    this.auth = addresses.some((a) => !isLoopback(a.bind));
    for (const node of this.nodeList) {
      const { advertise, bind } = addresses[node.index] as { advertise: string; bind: string };
      await node.docker.createNetwork({ Name: this.net(node.index), Labels: this.labels, CheckDuplicate: true });
      // The route port is published as itself (host port = container port) so that the server can advertise
      // it before it starts; an ephemeral port is known only after.
      const { container: started, clientPort, routePort } = await this.startNats(node.docker, node.index, bind, true, (clientPort, routePort) => ({
        name: this.name(`nats${node.index}`),
        Image: this.o.natsImage,
        Cmd: [
          '-c', `/${NATS_CONF}`, '-p', '4222',
          '--cluster_name', 'splitnet', '--cluster', `nats://${this.routeAuth()}0.0.0.0:${routePort}`,
          '--cluster_advertise', `${urlHost(advertise)}:${routePort}`, '--no_advertise=true',
          ...(seeds.length > 0 ? ['--routes', seeds.join(',')] : []),
        ],
        Labels: { ...this.labels, 'splitnet.node': String(node.index) },
        ExposedPorts: { '4222/tcp': {}, [`${routePort}/tcp`]: {} },
        HostConfig: {
          NetworkMode: this.net(node.index),
          PortBindings: { '4222/tcp': [{ HostIp: bind, HostPort: String(clientPort) }], [`${routePort}/tcp`]: [{ HostIp: bind, HostPort: String(routePort) }] },
        },
        NetworkingConfig: { EndpointsConfig: { [this.net(node.index)]: { Aliases: ['nats'] } } },
      }), (c) => this.configure(c));
      this.natsContainers.push(started);
      seeds.push(`nats://${this.routeAuth()}${urlHost(advertise)}:${routePort}`);
      if (node.index === 0) natsUrl = `nats://${urlHost(advertise)}:${clientPort}`;
      this.o.logger.info('docker: node up', { node: node.index, engine: describe(node.endpoint), advertise, routePort });
    }
    return { natsUrl, actorNatsUrl: 'nats://nats:4222', ...this.logins() };
  }

  /** The run's NATS containers, node 0's first (the nats-restart fault acts on them). */
  private readonly natsContainers: Docker.Container[] = [];

  /**
   * Create and start node `node`'s NATS container from `spec(clientPort, routePort)`: ports in 20000–59999
   * chosen here, retried with others while the host has them taken. Published ports are chosen, not left
   * to Docker, because Docker gives an ephemeral port again on every start: a server stopped and started
   * (the nats-restart fault) would come back where its clients no longer look. `publish` false: no client
   * port (clientPort 0). `then` runs between create and start (attach it to another network).
   */
  private async startNats(
    docker: Docker,
    node: number,
    bind: string,
    publish: boolean,
    spec: (clientPort: number, routePort: number) => Docker.ContainerCreateOptions,
    then?: (c: Docker.Container) => Promise<void>,
  ): Promise<{ container: Docker.Container; clientPort: number; routePort: number }> {
    for (let attempt = 1; ; attempt++) {
      const clientPort = publish ? 20000 + Math.floor(Math.random() * 40000) : 0;
      let routePort = 20000 + Math.floor(Math.random() * 40000);
      if (routePort === clientPort) routePort = clientPort + 1;
      const c = await docker.createContainer(spec(clientPort, routePort));
      try {
        await then?.(c);
        await c.start();
      } catch (err) {
        await c.remove({ force: true }).catch(() => {});
        const msg = err instanceof Error ? err.message : String(err);
        if (/already allocated|address already in use/i.test(msg) && attempt < 5) continue;
        const hint = /assign requested address/i.test(msg) ? ` (${bind} is not an address of that host: give --docker-advertise, or --docker-bind-all behind NAT)` : '';
        throw new SplitnetError('E_USAGE', `the NATS server of node ${node} cannot start${publish ? ` with its ports published on ${bind}` : ''}${this.multiEngine ? ` at ${describe(this.nodeList[node]?.endpoint)}` : ''}: ${msg}${hint}`);
      }
      await requireRunning(c);
      return { container: c, clientPort, routePort };
    }
  }

  /**
   * The run's NATS servers for the nats-restart fault: `kill` is `docker kill` of every one (their clients
   * see the connection drop); `restart` is `docker start` of the same containers, which come back with their
   * names, networks and published ports (chosen by startNats), so every client reconnects where it was.
   */
  natsServers(): { kill(): Promise<void>; restart(): Promise<void> } {
    let killing: Promise<unknown> = Promise.resolve();
    return {
      kill: async () => {
        killing = Promise.all(this.natsContainers.map((c) => c.kill()));
        await killing;
      },
      restart: async () => {
        await killing.catch(() => {});
        await Promise.all(this.natsContainers.map(async (c) => {
          await c.start();
          await requireRunning(c);
        }));
      },
    };
  }

  /** Start one actor container on node `node` that joins the run with `role`, logged in with the role's join login. */
  async launch(role: ActorRole, index: number, natsUrl: string, node = 0): Promise<void> {
    const target = this.nodeList[node % this.nodeList.length] as Node;
    const join = (this.users as BusUsers).joins.get(role) as NatsLogin;
    await this.startActor(target, role, this.name(`${role}-${index}`), ['--role', role], natsUrl, [`SPLITNET_NATS_USER=${join.user}`, `SPLITNET_NATS_PASSWORD=${join.pass}`]);
  }

  /**
   * Create and start an actor container. Its name is in its environment (SPLITNET_CONTAINER): the actor
   * tells the controller when it joins, so that faults and the supervisor can act on the right container.
   * Secrets (`secrets`: its login, a restart's control secret) go in the environment, never the command line.
   */
  private async startActor(
    target: Node,
    role: ActorRole,
    name: string,
    args: readonly string[],
    natsUrl: string,
    secrets: readonly string[],
    command: 'actor' | 'partition' = 'actor',
    file?: { readonly dir: string; readonly name: string; readonly text: string },
  ): Promise<Docker.Container> {
    const env = [`SPLITNET_CONTAINER=${name}`, ...secrets];
    const c = await target.docker.createContainer({
      name,
      Image: this.o.image,
      // The JSON log on stdout (`docker logs`, and the run's logs/<container>.log through `follow`).
      Cmd: [command, '--run', this.o.runId, '--nats', natsUrl, '--log', '/dev/stdout', ...args],
      Env: env,
      Labels: { ...this.labels, 'splitnet.role': role, 'splitnet.node': String(target.index) },
      HostConfig: { NetworkMode: this.net(target.index), Init: true },
    });
    if (file !== undefined) await c.putArchive(tarOf(file.name, file.text), { path: file.dir });
    await c.start();
    this.actorContainers.set(name, { node: target, role });
    if (this.o.onLog) void this.follow(target.docker, c, name);
    return c;
  }

  /** Which faults hold which actor container paused; give it to DockerFaults too. */
  readonly pauses = new PauseHolds();

  /** The actor containers this placement started, by name: their node (engine) and role. */
  private readonly actorContainers = new Map<string, { readonly node: Node; readonly role: ActorRole }>();

  /**
   * An actor container as the controller's supervisor holds it: its exit (`docker wait`) and signals
   * (SIGKILL and SIGTERM as `docker kill`; SIGSTOP and SIGCONT as `docker pause` and `unpause`, which
   * freeze every process of the container, as SIGSTOP does one process).
   */
  container(name: string): ContainerProcess {
    const known = this.actorContainers.get(name);
    if (!known) throw new SplitnetError('E_INTERNAL', `docker: no actor container ${name} in run ${this.o.runId}`);
    return this.handleOf(name, Promise.resolve(known.node.docker.getContainer(name)));
  }

  /**
   * Start an actor container again after its predecessor `dead` exited: on the same node, with the same
   * role, hosting `ids` as restart number `incarnation`, logged in as its process and holding its new control
   * secret (`access`); it gets the run's scenario from the controller (`splitnet actor --id … --incarnation n`,
   * no --scenario). Named after its predecessor (`…-r<n>`).
   */
  relaunch(dead: string, ids: readonly string[], incarnation: number, natsUrl: string, access: ProcessAccess): ContainerProcess {
    const known = this.actorContainers.get(dead);
    if (!known) throw new SplitnetError('E_INTERNAL', `docker: no actor container ${dead} in run ${this.o.runId} to start again`);
    const base = dead.replace(/-r\d+$/, '');
    const name = `${base}-r${incarnation}`;
    const args = ['--incarnation', String(incarnation), ...ids.flatMap((id) => ['--id', id])];
    const login = access.login ?? (this.users as BusUsers).loginOf(ids);
    const secrets = [`SPLITNET_CONTROL_SECRET=${formatControlSecret(access.secret)}`, `SPLITNET_NATS_USER=${login.user}`, `SPLITNET_NATS_PASSWORD=${login.pass}`];
    return this.handleOf(name, this.startActor(known.node, known.role, name, args, natsUrl, secrets));
  }

  /**
   * Start a lockstep partition's container on node `node` (`splitnet partition`, hosting the actors `ids`): the
   * run's resolved scenario put into it before it starts (/tmp/splitnet-scenario.yaml), logged in as its process,
   * its control secret in its environment (`access`). `role`: the driver domain's, or a guest's.
   */
  launchPartition(
    node: number,
    role: ActorRole,
    ids: readonly string[],
    natsUrl: string,
    access: ProcessAccess,
    scenarioText: string,
    env: readonly string[] = [],
  ): ContainerProcess {
    const target = this.nodeList[node % this.nodeList.length] as Node;
    const name = this.name(`partition-${ids.join('+')}`);
    const login = access.login ?? (this.users as BusUsers).loginOf(ids);
    const secrets = [`SPLITNET_CONTROL_SECRET=${formatControlSecret(access.secret)}`, `SPLITNET_NATS_USER=${login.user}`, `SPLITNET_NATS_PASSWORD=${login.pass}`, ...env];
    const args = ['--scenario', '/tmp/splitnet-scenario.yaml', ...ids.flatMap((id) => ['--id', id])];
    const file = { dir: '/tmp', name: 'splitnet-scenario.yaml', text: scenarioText };
    return this.handleOf(name, this.startActor(target, role, name, args, natsUrl, secrets, 'partition', file));
  }

  private handleOf(name: string, started: Promise<Docker.Container>): ContainerProcess {
    const log = this.o.logger;
    const exited = started.then(
      async (c) => {
        // `docker wait` is one long request: if it breaks (a remote engine's connection dropped), ask the
        // engine whether the container still runs before taking it for dead, or a live actor would get a twin.
        for (let failures = 0; ; ) {
          try {
            const r = (await c.wait()) as { StatusCode?: number };
            return typeof r.StatusCode === 'number' ? r.StatusCode : null;
          } catch (err) {
            try {
              const info = await c.inspect();
              if (!info.State.Running) return info.State.ExitCode;
              failures = 0;
            } catch {
              if (++failures >= 3) {
                log.warn('docker: lost track of an actor container (taken for dead)', { container: name, error: String(err) });
                return null;
              }
            }
            await new Promise((r) => setTimeout(r, 1000));
          }
        }
      },
      (err: unknown) => {
        log.error('docker: cannot start an actor container', { container: name, error: err instanceof Error ? err.message : String(err) });
        return null;
      },
    ).then((code) => {
      // Gone (or taken for dead): pause holds on it end with it; its successor is a new container.
      this.pauses.forget(name);
      return code;
    });
    const act = (what: string, op: (c: Docker.Container) => Promise<unknown>) => {
      void started.then(op).catch((err: unknown) => log.warn(`docker: ${what} failed`, { container: name, error: err instanceof Error ? err.message : String(err) }));
    };
    return {
      name,
      exited,
      signal: (sig) => {
        // A pause of the actor may overlap one of its node (see PauseHolds): Docker acts on the first hold and the last release.
        if (sig === 'SIGSTOP') {
          if (this.pauses.hold(name, 'actor')) act('pause', (c) => c.pause());
          else log.info('docker: container already paused by a node fault; held for the actor too', { container: name });
        } else if (sig === 'SIGCONT') {
          if (this.pauses.release(name, 'actor')) act('unpause', (c) => c.unpause());
          else if (this.pauses.held(name)) log.info('docker: container stays paused: another fault holds it', { container: name, by: this.pauses.othersHolding(name, 'actor') });
          // Not paused: e.g. the container the pause froze was killed meanwhile and this is its successor, which started running.
          else log.info('docker: container not paused, nothing to unpause', { container: name });
        } else act(`kill ${sig}`, (c) => c.kill({ signal: sig }));
      },
    };
  }

  private async follow(docker: Docker, c: Docker.Container, name: string): Promise<void> {
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
      docker.modem.demuxStream(stream, sink as unknown as NodeJS.WritableStream, sink as unknown as NodeJS.WritableStream);
    } catch {
      // logs are a convenience; the run does not depend on them
    }
  }

  get nodeCount(): number {
    return this.nodeList.length;
  }

  /** Remove every container and network of this run, on every engine. */
  async stop(): Promise<void> {
    const engines = this.nodeList.filter((n, i, all) => all.findIndex((m) => m.docker === n.docker) === i);
    const r = await removeEverywhere(engines.map((n) => n.docker), `${LABEL_RUN}=${this.o.runId}`);
    const failed = r.failed.map((f) => `${describe(engines[f.index]?.endpoint)}: ${f.error}`);
    if (failed.length > 0) this.o.logger.error('docker: cleanup failed (run `splitnet cleanup` with the same --docker-host flags)', { failed });
  }
}

/** Throws, saying why (a bad flag, a bad image: its last log lines), if a NATS container just started is not running. */
async function requireRunning(c: Docker.Container): Promise<void> {
  const info = await c.inspect();
  if (info.State.Running) return;
  const logs = await c.logs({ stdout: true, stderr: true, tail: 5 }).catch(() => Buffer.from(''));
  // eslint-disable-next-line no-control-regex -- strips the control bytes of the engine's log stream framing
  throw new SplitnetError('E_OPERATIONAL', `the NATS container ${info.Name} exited (${info.State.Status}, code ${info.State.ExitCode}): ${logs.toString().replace(/[\x00-\x08]/g, '').trim()}`);
}

/** An address as the host part of a URL (IPv6 in brackets). */
function urlHost(address: string): string {
  return isIP(address) === 6 ? `[${address}]` : address;
}

/** Remove containers (forced) and networks carrying `label` (`key=value` or `key`). Returns how many. */
export async function removeByLabel(docker: Docker, label: string): Promise<number> {
  const r = await removeEverywhere([docker], label);
  if (r.failed[0]) throw new Error(r.failed[0].error);
  return r.removed;
}

/**
 * Remove what carries `label` from every engine: first the containers on all of them, then the networks —
 * two engines may be one engine reached twice, and a network goes only once no container is attached.
 * Engines are worked on in parallel (a Ctrl-C leaves little time); one that fails spares none of the others.
 */
async function removeEverywhere(engines: readonly Docker[], label: string): Promise<{ removed: number; failed: { index: number; error: string }[] }> {
  let removed = 0;
  const failed = new Map<number, string>();
  const phase = async (work: (docker: Docker) => Promise<void>) => {
    const results = await Promise.allSettled(engines.map((d, i) => (failed.has(i) ? Promise.resolve() : work(d))));
    results.forEach((r, i) => {
      if (r.status === 'rejected') failed.set(i, r.reason instanceof Error ? r.reason.message : String(r.reason));
    });
  };
  await phase(async (docker) => {
    for (const c of await docker.listContainers({ all: true, filters: { label: [label] } })) {
      try {
        await docker.getContainer(c.Id).remove({ force: true });
        removed++;
      } catch {
        // already gone (or removed through another endpoint of the same engine)
      }
    }
  });
  await phase(async (docker) => {
    for (const net of await docker.listNetworks({ filters: { label: [label] } })) {
      try {
        await docker.getNetwork(net.Id).remove();
        removed++;
      } catch {
        // in use or gone
      }
    }
  });
  return { removed, failed: [...failed].map(([index, error]) => ({ index, error })) };
}

/**
 * `splitnet cleanup`: remove whatever any splitnet run (or the run `runId`) left on these engines (e.g.
 * after a crash); the default engine when none is given. One engine that fails is reported after the others.
 */
export async function cleanupAll(endpoints: readonly string[] = [], runId?: string): Promise<number> {
  const list: (string | undefined)[] = endpoints.length > 0 ? [...new Set(endpoints)] : [undefined];
  const dockers = list.map((e) => dockerFor(e)); // every URL checked before any engine is touched
  const r = await removeEverywhere(dockers, runId !== undefined ? `${LABEL_RUN}=${runId}` : `${LABEL_MANAGED}=1`);
  if (r.failed.length > 0) {
    const what = r.failed.map((f) => `${describe(list[f.index])}: ${f.error}`).join('; ');
    throw new SplitnetError('E_USAGE', `cleanup: removed ${r.removed} resource(s), but could not clean ${what}`);
  }
  return r.removed;
}
