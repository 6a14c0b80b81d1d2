// Entry-point glue for live mode: the `actor` command and the live branch of `run` (processes, NATS server, signals).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { SplitnetError } from '@splitnet/model';
import type { Nanos } from '@splitnet/model';
import { randomBytes } from 'node:crypto';
import { JOIN_ROLES, awaitControllerGone, joinRun, registerExternalActors, rejoinRun, runActorProcess, runLive, systemWallClock } from '@splitnet/live';
import type { ActorHandle, JoinRole } from '@splitnet/live';
import type { RunResult } from '@splitnet/results';
import { compileScenarioText, formatResolvedYaml } from '@splitnet/scenario';
import type { Transport } from '@splitnet/transport';
import type { CompiledScenario } from '@splitnet/scenario';
import { connectNats } from '@splitnet/transport/nats';
import { startNatsServer } from '@splitnet/transport/nats-server';
import type { NatsServerHandle } from '@splitnet/transport/nats-server';
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
// Loaded only for the docker placement: dockerode and its dependencies cost every actor process ~0.5 s of start-up CPU.
import type { DockerPlacement } from '@splitnet/docker';
import { createLogger } from './logging.js';
import { describeFailure } from './failure.js';

const cliMain = fileURLToPath(new URL('./main.js', import.meta.url));

function signalled(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

export interface ActorFlags {
  run: string;
  nats: string;
  id: string[];
  log?: string;
  incarnation?: string;
  role?: string;
  scenario?: string;
  /** --role frontend: the queues this front end asks for (its vCPUs). */
  queues?: string;
}

/** The largest queue count a front end may ask for (splitnet's VMs have at most 64 queues). */
const MAX_ASKED_QUEUES = 64;

/** --queues: a whole number from 1 to 64, for a front end that joins a run. Checked before any I/O. */
function parseQueues(f: ActorFlags): number | undefined {
  if (f.queues === undefined) return undefined;
  if (f.role !== 'frontend') {
    throw new SplitnetError('E_USAGE', `--queues: only a front end joining a run asks for queues (give it with --role frontend${f.role !== undefined ? `, not --role ${f.role}` : ''})`);
  }
  const n = Number(f.queues);
  if (!/^\d+$/.test(f.queues) || n < 1 || n > MAX_ASKED_QUEUES) {
    throw new SplitnetError('E_USAGE', `--queues: expected a whole number from 1 to ${MAX_ASKED_QUEUES} (the queues this front end asks for, one per vCPU), found "${f.queues}"`);
  }
  return n;
}

/**
 * NATS credentials and the TLS trust anchor from the environment (SPLITNET_NATS_USER + SPLITNET_NATS_PASSWORD,
 * SPLITNET_NATS_CA): never from flags or the scenario, which end up in process lists and results files.
 */
function credentials(): { user?: string; pass?: string; caFile?: string } {
  const user = process.env['SPLITNET_NATS_USER'];
  const pass = process.env['SPLITNET_NATS_PASSWORD'];
  // SPLITNET_NATS_CA: the PEM file of a private CA that signed the NATS servers' certificates (implies TLS).
  const ca = process.env['SPLITNET_NATS_CA'];
  // Checked here: the client would report a missing file as an unreachable server, and be retried for a minute.
  if (ca && !existsSync(ca)) throw new SplitnetError('E_USAGE', `SPLITNET_NATS_CA: no such file "${ca}" (expected the PEM certificate of the CA that signed the NATS servers' certificates)`);
  return { ...(user ? { user, ...(pass !== undefined ? { pass } : {}) } : {}), ...(ca ? { caFile: ca } : {}) };
}

/** Connect (with the environment's credentials), retrying while the server is not up yet (containers start in any order). */
async function connectPatiently(url: string, name: string, waitMs: number, log: (msg: string) => void, given?: { user: string; pass: string }): Promise<Transport> {
  const until = Date.now() + waitMs;
  const secrets = given ?? credentials(); // outside the retry loop: a bad setting is not retried
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectNats({ servers: url, name, ...secrets });
    } catch (err) {
      if (err instanceof Error && /^TLS with NATS.*certificate/.test(err.message) && !process.env['SPLITNET_NATS_CA']) {
        throw new SplitnetError('E_USAGE', `${err.message.replace(/ \(for a private CA[^)]*\)$/, '')}: set SPLITNET_NATS_CA to the CA certificate file (PEM) that signed the server's certificate`, { cause: err });
      }
      // Wrong credentials or an untrusted certificate will not get better by waiting.
      if (Date.now() > until || /authori[sz]ation|permission|^TLS with/i.test(err instanceof Error ? err.message : String(err))) throw err;
      if (attempt === 1) log(`waiting for NATS at ${url}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/**
 * The supervisor's launch for the docker placement. Incarnation 0 is the container that joined with those
 * actors (it said which it is); a restart is a new container on the same node (DockerPlacement.relaunch),
 * expected by the join responder (`rejoins`) so that it gets the scenario.
 */
function dockerSupervisor(containers: DockerPlacement, joined: ReadonlyMap<string, string>, natsUrl: string, rejoins: Set<string>): (ids: readonly string[], incarnation: number) => ActorHandle {
  /** Per process name, the container of its latest incarnation. */
  const latest = new Map(joined);
  return (ids, incarnation) => {
    const name = ids.join('+');
    const last = latest.get(name);
    if (last === undefined) throw new SplitnetError('E_INTERNAL', `docker: the actor process ${name} did not say which container it runs in`);
    let c;
    if (incarnation === 0) {
      c = containers.container(last);
    } else {
      rejoins.add(`${name}#${incarnation}`);
      c = containers.relaunch(last, ids, incarnation, natsUrl);
      latest.set(name, c.name);
    }
    // Joined containers stay up until the controller is gone; the placement removes them after the run.
    return { name, pid: -1, container: c.name, lingers: true, exited: c.exited, kill: (sig) => c.signal(sig ?? 'SIGTERM') };
  };
}

/**
 * `splitnet actor`: host actors of a live run in this process. Either started by the controller
 * (`--id`, `--scenario`), or started elsewhere (`--role`): then it joins the run, and the controller
 * assigns its identity and sends the scenario.
 */
export async function actorCommand(loadScenario: (file: string) => CompiledScenario, f: ActorFlags): Promise<number> {
  let name = f.id.length > 0 ? f.id.join('+') : (f.role ?? 'actor');
  let logger = createLogger({ name, ...(f.log ? { file: f.log } : {}), consoleLevel: 'warn' });
  /** Connected before the run is set up (joining, rejoining): closed here if setting up fails, or the process would stay up. */
  let connected: Transport | undefined;
  try {
    const queues = parseQueues(f);
    const incarnation = Number(f.incarnation ?? '0');
    if (!Number.isInteger(incarnation) || incarnation < 0) throw new SplitnetError('E_USAGE', `--incarnation: expected a whole number ≥ 0, found "${f.incarnation}"`);
    // One listener for the whole life of the process: the run and, for a joined actor, the wait after it.
    const interrupted = signalled();
    let ids = f.id;
    let scenario: CompiledScenario;
    let transport: Transport;
    if (f.role !== undefined) {
      if (!JOIN_ROLES.includes(f.role as JoinRole)) throw new SplitnetError('E_USAGE', `--role: expected one of ${JOIN_ROLES.join(', ')}, found "${f.role}"`);
      if (f.id.length > 0 || f.scenario !== undefined) throw new SplitnetError('E_USAGE', '--role joins a run and gets its identity and scenario from the controller: give it without --id and --scenario');
      transport = connected = await connectPatiently(f.nats, `splitnet ${f.run} ${f.role}`, 60_000, (m) => logger.warn(m));
      const token = randomBytes(8).toString('hex');
      // SPLITNET_CONTAINER: set by the docker placement, so that the controller knows which container to signal or restart.
      const container = process.env['SPLITNET_CONTAINER'];
      const joined = await joinRun(transport, f.run, f.role as JoinRole, token, 180_000, { ...(queues !== undefined ? { queues } : {}), ...(container ? { container } : {}) });
      ids = joined.ids;
      scenario = compileScenarioText(joined.scenarioYaml, `<scenario of run ${f.run}>`);
      await logger.close();
      name = ids.join('+');
      logger = createLogger({ name, ...(f.log ? { file: f.log } : {}), consoleLevel: 'warn' });
      logger.info('joined', { role: f.role, ids });
    } else if (f.scenario === undefined && f.id.length > 0 && incarnation >= 1) {
      // A restart without the scenario file (a container the docker placement started again): ask the controller.
      transport = connected = await connectPatiently(f.nats, `splitnet ${f.run} ${name}`, 60_000, (m) => logger.warn(m));
      scenario = compileScenarioText((await rejoinRun(transport, f.run, f.id, incarnation, 60_000)).scenarioYaml, `<scenario of run ${f.run}>`);
      logger.info('rejoined', { ids, incarnation });
    } else {
      if (f.id.length === 0 || f.scenario === undefined) {
        throw new SplitnetError('E_USAGE', 'actor: give --id and --scenario (started by the controller), --id and --incarnation ≥ 1 (restarted by the controller, which sends the scenario), or --role (joining a run started elsewhere)');
      }
      scenario = loadScenario(f.scenario);
      transport = await connectNats({ servers: f.nats, name: `splitnet ${f.run} ${name}`, ...credentials() });
    }
    connected = undefined; // from here on, runActorProcess owns the connection
    transport.onStatus((st) => (st.kind === 'closed' ? logger.info : logger.warn)(`nats ${st.kind}`, { detail: st.detail }));
    // A joined actor (compose, other hosts) outlives the controller, so that `up --exit-code-from controller`
    // stops the deployment when the controller has printed its summary, not when the first actor is done.
    const linger = f.role !== undefined ? { beforeDrain: () => awaitControllerGone(transport, f.run, { timeoutMs: 120_000, graceMs: 3000, interrupted }) } : {};
    return await runActorProcess({ scenario, runId: f.run, ids, transport, clock: systemWallClock, logger, interrupted, incarnation, ...linger });
  } catch (err) {
    // Into the actor's own log too: the supervisor's message points there.
    logger.error('actor process failed', { error: err instanceof Error ? err.message : String(err) });
    await connected?.close().catch(() => {});
    throw err;
  } finally {
    await logger.close();
  }
}

export interface LiveRunSetup {
  readonly runId: string;
  readonly dir: string;
  readonly resolvedFile: string;
  readonly quiet: boolean;
  /** placement external: registration closes after this much quiet (ms). */
  readonly joinWindowMs: number;
  /** placement external: the least number of each role to wait for before the quiet window counts (--expect). */
  readonly expect?: Partial<Record<JoinRole, number>>;
  /** placement docker: the splitnet image, the NATS image, the Docker endpoints and how VMs go over the nodes. */
  readonly docker: {
    readonly image: string;
    readonly natsImage: string;
    /** Docker endpoints, one node each when several (none: the local engine). */
    readonly endpoints: readonly string[];
    /** Per endpoint, the address its host publishes NATS on (empty: the defaults of DockerPlacement). */
    readonly advertise: readonly string[];
    readonly bindAll: boolean;
    readonly nodes: number;
    readonly strategy: 'spread' | 'pack';
  };
  readonly onProgress?: (done: Nanos, total: Nanos) => void;
}

/**
 * Node.js flags of every actor process the controller spawns. `--min-semi-space-size=16`: V8's young
 * generation starts at its full 16 MiB instead of growing from 1 MiB over the first seconds of load.
 * Measured at TDF 1, 12 Gbit/s offered: with the small young generation each process scavenged far more
 * often at the start and promoted short-lived messages into the old generation (full collections at 1.5–2 s);
 * with it the start-up ramp was shorter and the window's throughput higher in 5 of 6 paired runs. The cost
 * is up to ~32 MiB more memory per actor process that a light load would not otherwise have used.
 */
const ACTOR_NODE_ARGS: readonly string[] = ['--min-semi-space-size=16'];

/** The live branch of `splitnet run`: private NATS server unless given, one process per actor, results as in sim. */
export async function runLiveCommand(s0: CompiledScenario, o: LiveRunSetup): Promise<{ result: RunResult; scenario: CompiledScenario }> {
  let s = s0;
  const logs = join(o.dir, 'logs');
  const logger = createLogger({ name: 'controller', file: join(logs, 'controller.log'), consoleLevel: o.quiet ? 'error' : 'warn' });
  let server: NatsServerHandle | null = null;
  let containers: DockerPlacement | null = null;
  const children = new Set<ActorHandle>();
  // A run that fails still leaves its event log (deaths, restarts, faults so far) beside the logs.
  let eventLog = '';
  const onFailure = (events: readonly unknown[]): void => {
    try {
      mkdirSync(o.dir, { recursive: true });
      const file = join(o.dir, 'events.jsonl');
      writeFileSync(file, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
      eventLog = file;
    } catch {
      // The error being reported matters more than the event log.
    }
  };
  const onSignal = () => {
    for (const c of children) c.kill('SIGTERM');
    void server?.stop();
    // Actors started elsewhere are not ours to stop: abort the run (exit 130) unless it ends by itself now.
    // Containers are ours: exit once they are gone from every engine (bounded: an engine may not answer).
    const removing = containers?.stop();
    setTimeout(() => process.exit(130), removing ? 30_000 : 2000).unref();
    void removing?.then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // SPLITNET_NATS_SERVER names the binary when it is not `nats-server` on PATH (or in /usr/sbin).
  const binary = process.env['SPLITNET_NATS_SERVER'];
  const privateServer = { logFile: join(logs, 'nats-server.log'), ...(binary ? { binary } : {}) };
  try {
    let url = s.live.nats;
    let actorUrl = '';
    let login: { user: string; pass: string } | undefined;
    if (s.live.placement === 'docker') {
      const { DockerPlacement } = await import('@splitnet/docker');
      containers = new DockerPlacement({
        runId: o.runId,
        image: o.docker.image,
        natsImage: o.docker.natsImage,
        endpoints: o.docker.endpoints,
        advertise: o.docker.advertise,
        bindAll: o.docker.bindAll,
        nodes: o.docker.nodes,
        logger,
        onLog: (c, line) => appendFileSync(join(logs, `${c}.log`), line + '\n'),
      });
      const started = await containers.start();
      url = started.natsUrl;
      actorUrl = started.actorNatsUrl;
      login = started.login; // the placement's own servers: its per-run login, if they require one
    } else if (url === '') {
      server = await startNatsServer(privateServer);
      url = server.url;
      logger.info('started a private nats-server', { url, pid: server.pid });
    }
    const transport = await connectPatiently(url, `splitnet ${o.runId} controller`, 30_000, (m) => logger.warn(m), login);
    transport.onStatus((st) => (st.kind === 'closed' ? logger.info : logger.warn)(`nats ${st.kind}`, { detail: st.detail }));
    const launch = (ids: readonly string[], incarnation: number): ActorHandle => {
      const name = ids.join('+');
      if (s.live.placement === 'inprocess') {
        const exited = (async () => {
          const t = await connectNats({ servers: url, name: `splitnet ${o.runId} ${name}`, ...credentials() });
          const alog = createLogger({ name, file: join(logs, `${name}.log`), consoleLevel: 'silent' });
          try {
            return await runActorProcess({ scenario: s, runId: o.runId, ids, transport: t, clock: systemWallClock, logger: alog, incarnation });
          } finally {
            await alog.close();
          }
        })();
        return { name, pid: process.pid, exited, kill: () => {} };
      }
      const args = [cliMain, 'actor', '--run', o.runId, '--nats', url, '--scenario', o.resolvedFile, '--log', join(logs, `${name}.log`), '--incarnation', String(incarnation)];
      for (const id of ids) args.push('--id', id);
      // SPLITNET_ACTOR_NODE_ARGS: extra Node.js flags for actor processes (e.g. `--cpu-prof` to profile them),
      // after ACTOR_NODE_ARGS (a later V8 flag wins). Their stdout goes to our stderr: `--json` keeps stdout clean.
      const nodeArgs = [...ACTOR_NODE_ARGS, ...(process.env['SPLITNET_ACTOR_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '')];
      const child = spawn(process.execPath, [...nodeArgs, ...args], { stdio: ['ignore', 2, 'inherit'] });
      const handle: ActorHandle = {
        name,
        pid: child.pid ?? -1,
        exited: new Promise((resolve) => {
          child.once('exit', (code) => {
            children.delete(handle);
            resolve(code);
          });
          child.once('error', (err) => {
            logger.error('cannot start actor process', { actor: name, err: String(err) });
            resolve(null);
          });
        }),
        kill: (sig) => child.kill(sig ?? 'SIGTERM'),
      };
      children.add(handle);
      return handle;
    };
    try {
      if (s.live.placement === 'external' || s.live.placement === 'docker') {
        if (containers) {
          // One container per actor process, over the nodes (emulated, or one per engine): spread interleaves
          // them, pack fills node 0 first; they join like any external actor (the driver lives on node 0).
          const n = containers.nodeCount;
          const place = (i: number, total: number) => (o.docker.strategy === 'spread' ? i % n : Math.floor((i * n) / total));
          await containers.launch('driver', 0, actorUrl, 0);
          // One process per Xen domain: the driver's container runs the vRSS workers too.
          if (s.live.processes === 'per-actor') for (let k = 0; k < s.topology.workers; k++) await containers.launch('worker', k, actorUrl, place(k, s.topology.workers));
          for (let v = 0; v < s.topology.vms.length; v++) await containers.launch('frontend', v, actorUrl, place(v, s.topology.vms.length));
        } else if (!o.quiet) {
          const roles = s.live.processes === 'per-domain' ? 'driver|frontend; per-domain: the driver hosts the workers' : 'driver|worker|frontend';
          process.stderr.write(`splitnet: run ${o.runId}: waiting for actors to join at ${url} (splitnet actor --run ${o.runId} --nats <url> --role ${roles})\n`);
        }
        const base = formatResolvedYaml(s);
        // Restarts the supervisor is making now (docker placement): the restarted container asks for the scenario.
        const rejoins = new Set<string>();
        const reg = await registerExternalActors({
          runId: o.runId,
          transport,
          logger,
          windowMs: o.joinWindowMs,
          ...(containers ? { expect: { workers: s.topology.workers, frontends: s.topology.vms.length } } : {}),
          ...(o.expect ? { atLeast: o.expect } : {}),
          timeoutMs: 300_000,
          rejoinable: (name, incarnation) => rejoins.delete(`${name}#${incarnation}`),
          processes: s.live.processes,
          base: s,
          compile: (vmQueues, workers) => {
            // One integer when every VM has the same count, so a run without negotiation resolves as before.
            const queues = vmQueues.every((q) => q === vmQueues[0]) ? vmQueues[0] : [...vmQueues];
            const joined = 'the actors that joined';
            const scenario = compileScenarioText(base, s.source, {
              values: [
                { label: `${joined} (${vmQueues.length} front ends)`, path: ['topology', 'vms', 'count'], value: vmQueues.length },
                { label: `${joined} (${workers} workers)`, path: ['topology', 'workers'], value: workers },
                { label: `${joined} (queues negotiated per VM: ${vmQueues.join(', ')})`, path: ['topology', 'vms', 'queues'], value: queues },
              ],
            });
            return { scenario, yaml: formatResolvedYaml(scenario) };
          },
        });
        s = reg.scenario;
        if (!o.quiet) {
          const asked = reg.negotiated.some((n) => n.requested !== null)
            ? `; queues per VM ${reg.negotiated.map((n) => n.granted).join(', ')} (asked ${reg.negotiated.map((n) => n.requested ?? '-').join(', ')}; back-end max ${reg.negotiated[0]?.max ?? '?'})`
            : '';
          process.stderr.write(`splitnet: run ${o.runId}: ${s.topology.vms.length} VMs and ${s.topology.workers} workers joined${asked}\n`);
        }
        // Node faults (docker pause, network disconnect) act on the containers (test/e2e/faults-docker.test.ts).
        const nodes = containers ? new (await import('@splitnet/docker')).DockerFaults(o.runId, o.docker.endpoints, containers.pauses) : undefined;
        // The docker placement's containers are ours: the supervisor watches their exit, signals them (a kill or
        // pause of one actor) and starts a dead one again on its node, as it does child processes.
        const supervise = containers ? dockerSupervisor(containers, reg.containers, actorUrl, rejoins) : undefined;
        const result = await runLive(s, {
          runId: o.runId,
          transport,
          clock: systemWallClock,
          logger,
          earlierEvents: reg.events,
          onFailure,
          ...(supervise ? { launch: supervise, watchHeartbeats: true } : {}),
          ...(nodes ? { nodes } : {}),
          // The nats-restart fault stops and starts the placement's NATS containers (their ports stay the same).
          ...(containers ? { nats: { ...containers.natsServers(), how: { kill: 'docker kill of the run\'s NATS containers', restart: 'docker start of the run\'s NATS containers (same names and ports)' } } } : {}),
          ...(o.onProgress ? { onProgress: o.onProgress } : {}),
        });
        return { result, scenario: s };
      }
      // The nats-restart fault kills this private server and starts it again on the same port.
      const own = server;
      const nats = own === null ? undefined : {
        kill: () => void server?.kill('SIGKILL'),
        restart: async () => {
          server = await startNatsServer({ ...privateServer, port: own.port });
        },
      };
      const result = await runLive(s, { runId: o.runId, transport, clock: systemWallClock, logger, launch, onFailure, ...(nats ? { nats } : {}), ...(o.onProgress ? { onProgress: o.onProgress } : {}) });
      return { result, scenario: s };
    } finally {
      await transport.drain();
    }
  } catch (err) {
    const where = eventLog !== '' ? ` (what happened until then: ${eventLog}; logs in ${logs})` : '';
    if (err instanceof SplitnetError) throw where === '' ? err : new SplitnetError(err.code, `${err.message}${where}`, { cause: err });
    // NATS, a socket, a Docker engine: one line with what to check; anything else is a bug (its stack is shown).
    const failure = describeFailure(err);
    throw new SplitnetError(failure.kind === 'operational' ? 'E_OPERATIONAL' : 'E_INTERNAL', `live run failed: ${failure.message}${where}`, { cause: err });
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    for (const c of children) c.kill('SIGKILL');
    await server?.stop();
    await containers?.stop();
    await logger.close();
  }
}
