// The lockstep branch of `splitnet run` and the `splitnet partition` command its processes run: partitions placed as live places its processes.
import { join } from 'node:path';
import { appendFileSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { SplitnetError } from '@splitnet/model';
import type { Nanos } from '@splitnet/model';
import { awaitControllerGone, connectPatiently, ExternalPlacement, joinRun, parseControlSecret, ProcessesPlacement } from '@splitnet/live';
import type { ControlSecret, ExitGuard, Placement } from '@splitnet/live';
import { DIRECT_ENV, partitionsValue, runLockstep, runPartitionProcess } from '@splitnet/lockstep';
import type { LockstepOutcome, PartitionBy } from '@splitnet/lockstep';
import { compileScenarioText } from '@splitnet/scenario';
import type { CompiledScenario, ScenarioValue } from '@splitnet/scenario';
import type { Transport } from '@splitnet/transport';
import { connectNats } from '@splitnet/transport/nats';
import { natsCredentials } from './actor-command.js';
import { describeFailure } from './failure.js';
import { createLogger } from './logging.js';
import { actorEntry } from './actor-entry.js';

/** The placements lockstep runs on today: partitions it launches (processes, docker) or that join (external: compose). */
export const LOCKSTEP_PLACEMENTS = ['processes', 'docker', 'external'] as const;

/** The docker placement's flags a lockstep run takes (with --placement docker), and those it does not take yet. */
const LOCKSTEP_DOCKER_FLAGS = ['image', 'natsImage', 'dockerNodes'] as const;
const NOT_FOR_LOCKSTEP = [
  ['dockerHost', '--docker-host'],
  ['dockerAdvertise', '--docker-advertise'],
  ['dockerBindAll', '--docker-bind-all'],
  ['pack', '--pack'],
] as const;

export interface LockstepFlags {
  placement?: string;
  nats?: string;
  expect: readonly string[];
  joinWindow?: string;
  pcap: readonly string[];
  image: string;
  natsImage: string;
  dockerNodes: string;
  dockerHost: readonly string[];
  dockerAdvertise: readonly string[];
  dockerBindAll?: boolean;
  pack?: boolean;
}

/** The flags of a lockstep run that checkLockstepFlags checks itself (the run's scoped-flag check leaves them out). */
export function isLockstepFlag(key: string): boolean {
  return (
    key === 'placement' ||
    key === 'nats' ||
    key === 'expect' ||
    key === 'joinWindow' ||
    (LOCKSTEP_DOCKER_FLAGS as readonly string[]).includes(key) ||
    NOT_FOR_LOCKSTEP.some(([k]) => k === key)
  );
}

/**
 * The flags a lockstep run takes, checked before anything starts: one line naming the flag (exit 2). Its
 * partitions are placed as live's processes or containers; the live-only knobs of real time (TDF, lag) mean
 * nothing to it. `given`: whether a flag was on the command line (the docker flags have defaults). `s`: the
 * scenario as loaded, which says how the run is partitioned (per host, or per Xen domain), so what
 * `--expect partition=N` sizes.
 */
export function checkLockstepFlags(flags: LockstepFlags, given: (key: keyof LockstepFlags) => boolean, s: CompiledScenario): ScenarioValue | undefined {
  if (flags.placement !== undefined && !(LOCKSTEP_PLACEMENTS as readonly string[]).includes(flags.placement)) {
    throw new SplitnetError(
      'E_USAGE',
      `--placement ${flags.placement}: lockstep runs its partitions on placement ${LOCKSTEP_PLACEMENTS.join(', ')} (one process or one container per partition, or partitions that join: docs/lockstep.md#running-it)`,
    );
  }
  if (given('joinWindow'))
    throw new SplitnetError('E_USAGE', `--join-window: a lockstep run takes exactly its partitions as they join (--expect partition=<n>); drop --join-window`);
  const external = flags.placement === 'external';
  // Partitions that join log in with the partition join login of a server of yours (deploy/nats.conf); a private
  // server's would be random, and nobody could hand it to them.
  if (external && !given('nats'))
    throw new SplitnetError(
      'E_USAGE',
      '--placement external: the partitions of a lockstep run join over a NATS server of yours, with its partition join login: give --nats <url> (compose: deploy/docker-compose.yml)',
    );
  for (const [key, flag] of [
    ['nats', '--nats'],
    ['expect', '--expect'],
  ] as const) {
    if (given(key) && !external)
      throw new SplitnetError(
        'E_USAGE',
        `${flag}: only for partitions that join (--placement external); this lockstep run launches its own, which would ignore it`,
      );
  }
  if (flags.pcap.length > 0)
    throw new SplitnetError('E_USAGE', `--pcap ${flags.pcap.join(',')}: packet captures are written in sim only; lockstep does not take them yet`);
  for (const [key, flag] of NOT_FOR_LOCKSTEP) {
    if (given(key))
      throw new SplitnetError(
        'E_USAGE',
        `${flag}: lockstep's docker placement runs on this machine's engine only today (--docker-nodes emulates nodes there); drop ${flag}`,
      );
  }
  if (flags.placement !== 'docker') {
    for (const key of LOCKSTEP_DOCKER_FLAGS) {
      if (given(key)) {
        const flag = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
        throw new SplitnetError(
          'E_USAGE',
          `${flag}: only with --placement docker; this lockstep run's placement is ${flags.placement ?? 'processes'}, which would ignore it`,
        );
      }
    }
  }
  return partitionsWanted(flags.expect, s);
}

/** The placement of a lockstep run from --placement (checked by checkLockstepFlags; default processes). */
export function lockstepPlacement(flag: string | undefined): LockstepRunSetup['placement'] {
  return flag === 'docker' || flag === 'external' ? flag : 'processes';
}

/**
 * `--expect partition=<n>` (one, at most): the scenario sized to n partitions, as the containers that join are
 * counted. A multi-host scenario whose hosts differ (a list of hosts, some with settings of their own) is not
 * sized: `hosts: n` would make them all copies of the top level, so n must be its number of hosts.
 */
function partitionsWanted(expect: readonly string[], s: CompiledScenario): ScenarioValue | undefined {
  if (expect.length === 0) return undefined;
  const m = expect.length === 1 ? /^partition=(\d+)$/.exec(expect[0] as string) : null;
  if (m === null)
    throw new SplitnetError(
      'E_USAGE',
      `--expect ${expect.join(' --expect ')}: a lockstep run expects its partitions only: give --expect partition=<n> once (n ≥ 2)`,
    );
  const n = Number(m[1]);
  const by: PartitionBy = s.cluster === undefined ? 'domain' : 'host';
  const v = partitionsValue(n, by);
  if (by === 'host') {
    const hosts = Array.isArray(s.resolved['hosts']) ? (s.resolved['hosts'] as unknown[]) : [];
    // A host none of whose guests sends resolves without the transmit path's sections (tx, costs.tx): those are compared among the hosts that have them.
    const split = (h: unknown): { rest: string; tx?: string } => {
      const { tx, costs, ...rest } = h as Record<string, unknown>;
      const { tx: costsTx, ...ownCosts } = (costs ?? {}) as Record<string, unknown>;
      const sending = tx === undefined && costsTx === undefined ? {} : { tx: JSON.stringify([tx, costsTx]) };
      return { rest: JSON.stringify({ ...rest, costs: ownCosts }), ...sending };
    };
    const parts = hosts.map(split);
    const txs = new Set(parts.flatMap((p) => (p.tx === undefined ? [] : [p.tx])));
    const alike = txs.size <= 1 && parts.every((p) => p.rest === parts[0]?.rest);
    if (n === hosts.length) return undefined;
    if (!alike)
      throw new SplitnetError(
        'E_USAGE',
        `--expect partition=${n}: this scenario's ${hosts.length} hosts are not all alike (hosts: a list, some with settings of their own), so it is not sized to ${n}: expect partition=${hosts.length} (one partition per host)`,
      );
  }
  return { label: v.label, path: v.path, value: v.value };
}

export interface LockstepRunSetup {
  readonly runId: string;
  readonly dir: string;
  readonly resolvedFile: string;
  readonly quiet: boolean;
  readonly signal: AbortSignal;
  readonly atExit: ExitGuard;
  readonly onProgress?: (done: Nanos, total: Nanos, note?: string) => void;
  /** Where the partitions run, and with the docker placement its images and emulated nodes. */
  readonly placement: 'processes' | 'docker' | 'external';
  readonly docker: { readonly image: string; readonly natsImage: string; readonly nodes: number };
}

/** `splitnet run --runtime lockstep`: one process per partition on this machine, over a private nats-server. */
export async function runLockstepCommand(s: CompiledScenario, o: LockstepRunSetup): Promise<LockstepOutcome> {
  const logs = join(o.dir, 'logs');
  const logger = createLogger({ name: 'controller', file: join(logs, 'controller.log'), consoleLevel: o.quiet ? 'error' : 'warn' });
  const binary = process.env['SPLITNET_NATS_SERVER'];
  const nats = { runId: o.runId, given: s.live.nats, logFile: join(logs, 'nats-server.log'), ...(binary ? { binary } : {}), logger, atExit: o.atExit };
  try {
    const placement: Placement =
      o.placement === 'docker'
        ? await dockerPlacement(o, logger, logs)
        : o.placement === 'external'
          ? new ExternalPlacement({ runId: o.runId, nats, logger, windowMs: 0 })
          : new ProcessesPlacement({
              runId: o.runId,
              nats,
              logger,
              scenarioFile: o.resolvedFile,
              logsDir: logs,
              // SPLITNET_ACTOR_NODE_ARGS: extra Node.js flags for the partition processes, as for live's actors (e.g. `--cpu-prof`).
              actorCommand: {
                program: process.execPath,
                args: [...(process.env['SPLITNET_ACTOR_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== ''), actorEntry()],
              },
              subcommand: 'partition',
              atExit: o.atExit,
              // Partitions of this machine: frames and promises on direct loopback links, not through the server
              // (docs/lockstep.md#direct-links); SPLITNET_LOCKSTEP_DIRECT=0 keeps them on the bus.
              env: { [DIRECT_ENV]: process.env[DIRECT_ENV] ?? '1' },
            });
    return await runLockstep(s, {
      runId: o.runId,
      placement,
      logger,
      logsDir: logs,
      credentials: natsCredentials(),
      signal: o.signal,
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      ...(o.quiet ? {} : { notice: (line: string) => process.stderr.write(`splitnet: ${line}\n`) }),
    });
  } catch (err) {
    if (err instanceof SplitnetError) throw err;
    const failure = describeFailure(err);
    throw new SplitnetError(failure.code, `lockstep run failed: ${failure.message} (logs in ${logs})`, { cause: err });
  } finally {
    await logger.close();
  }
}

/** One container per partition on this engine, over its emulated nodes; each partition's log in logs/<partition>.log. */
async function dockerPlacement(o: LockstepRunSetup, logger: ReturnType<typeof createLogger>, logs: string): Promise<Placement> {
  // Loaded only for the docker placement, as live loads it (dockerode's start-up cost).
  const { DockerPartitionPlacement } = await import('@splitnet/docker');
  return new DockerPartitionPlacement({
    runId: o.runId,
    image: o.docker.image,
    natsImage: o.docker.natsImage,
    nodes: o.docker.nodes,
    logger,
    scenarioText: readFileSync(o.resolvedFile, 'utf8'),
    onLog: (partition, line) => appendFileSync(join(logs, `${partition}.log`), line + '\n'),
    // Partitions that reach each other on the run's Docker networks: direct links between them, on their container's
    // addresses; a pair that cannot connect stays on the bus (docs/lockstep.md#direct-links). SPLITNET_LOCKSTEP_DIRECT=0: all on the bus.
    env: [`${DIRECT_ENV}=${process.env[DIRECT_ENV] === '0' ? '0' : 'network'}`],
  });
}

export interface PartitionFlags {
  run: string;
  nats: string;
  scenario?: string;
  id: string[];
  log?: string;
  /** Join a run started elsewhere (compose): the controller assigns the partition and sends the scenario. */
  join?: boolean;
}

/** Which partition this process runs, the run's scenario, its control secret and its connection to the run. */
interface PartitionHosting {
  readonly ids: readonly string[];
  readonly scenario: CompiledScenario;
  readonly secret: ControlSecret;
  readonly transport: Transport;
}

/**
 * --join: ask the run's controller for a partition with the partition join login (the environment's); it answers
 * with the partition's actors, the run's scenario and, sealed to this process, its control secret and (where the
 * server has a user per process) its own NATS login, with which it connects again.
 */
async function joinAsPartition(f: PartitionFlags): Promise<PartitionHosting> {
  if (f.id.length > 0 || f.scenario !== undefined)
    throw new SplitnetError('E_USAGE', 'partition --join gets its actors and scenario from the controller: give it without --id and --scenario');
  // Containers start in any order: NATS may not be listening yet.
  const first = await connectPatiently(f.nats, `splitnet ${f.run} partition`, { waitMs: 60_000, credentials: natsCredentials() });
  let joined: Awaited<ReturnType<typeof joinRun>>;
  try {
    // The container it runs in (compose sets the hostname to the container's id): named if it dies.
    joined = await joinRun(first, f.run, 'partition', 300_000, { container: process.env['SPLITNET_CONTAINER'] ?? hostname() });
  } finally {
    await first.close().catch(() => {});
  }
  const login = joined.access.login;
  const name = joined.ids.join('+');
  const transport = await connectNats({
    servers: f.nats,
    name: `splitnet ${f.run} ${name}`,
    ...(login ? { user: login.user, pass: login.pass, inboxPrefix: login.inboxPrefix } : natsCredentials()),
  });
  return { ids: joined.ids, scenario: compileScenarioText(joined.scenarioYaml, `<scenario of run ${f.run}>`), secret: joined.access.secret, transport };
}

/** `splitnet partition`: one partition of a lockstep run, as its controller starts it (the control secret in the environment). */
export async function partitionCommand(loadScenario: (file: string) => CompiledScenario, f: PartitionFlags, signal: AbortSignal): Promise<number> {
  if (f.join === true) {
    const h = await joinAsPartition(f);
    const logger = createLogger({ name: h.ids.join('+'), ...(f.log ? { file: f.log } : {}), consoleLevel: 'info' });
    try {
      logger.info('joined', { run: f.run, partition: h.ids.join('+') });
      // Outlives the controller, so that `up --exit-code-from controller` ends when the controller has printed its table.
      const beforeDrain = () => awaitControllerGone(h.transport, f.run, { timeoutMs: 120_000, graceMs: 3000, signal });
      return await runPartitionProcess({
        scenario: h.scenario,
        runId: f.run,
        ids: h.ids,
        transport: h.transport,
        logger,
        secret: h.secret,
        signal,
        beforeDrain,
      });
    } catch (err) {
      logger.error('partition failed', { error: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      await logger.close();
    }
  }
  const text = process.env['SPLITNET_CONTROL_SECRET'];
  const secret = text === undefined ? undefined : parseControlSecret(text);
  if (secret === undefined)
    throw new SplitnetError(
      'E_USAGE',
      `partition: SPLITNET_CONTROL_SECRET ${text === undefined ? 'is not set' : 'is not a control secret'}: a partition gets it from the controller that starts it (splitnet run --runtime lockstep), or joins one with --join`,
    );
  if (f.id.length === 0) throw new SplitnetError('E_USAGE', 'partition: give the actors of the partition with --id (repeatable), or --join');
  if (f.scenario === undefined) throw new SplitnetError('E_USAGE', 'partition: give the resolved scenario of the run with --scenario, or --join');
  const name = f.id.join('+');
  const scenarioFile = f.scenario;
  const logger = createLogger({ name, ...(f.log ? { file: f.log } : {}), consoleLevel: 'warn' });
  try {
    const scenario = loadScenario(scenarioFile);
    const transport = await connectNats({ servers: f.nats, name: `splitnet ${f.run} ${name}`, ...natsCredentials() });
    return await runPartitionProcess({ scenario, runId: f.run, ids: f.id, transport, logger, secret, signal });
  } catch (err) {
    logger.error('partition failed', { error: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    await logger.close();
  }
}
