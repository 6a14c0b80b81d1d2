// The live branch of `splitnet run`: pick the placement the scenario names, run the live run through it, keep its event log if it fails.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SplitnetError } from '@splitnet/model';
import type { Logger, Nanos } from '@splitnet/model';
import { ExternalPlacement, InProcessPlacement, ProcessesPlacement, runLive } from '@splitnet/live';
import type { ExitGuard, JoinRole, LiveOutcome, Placement, SnapshotFeed } from '@splitnet/live';
import type { RunEvent } from '@splitnet/results';
import type { CompiledScenario } from '@splitnet/scenario';
import { natsCredentials } from './actor-command.js';
import { describeFailure } from './failure.js';
import { createLogger } from './logging.js';
import { actorEntry } from './actor-entry.js';

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
    /** Per endpoint, the address its host publishes NATS on (empty: the defaults of the docker placement). */
    readonly advertise: readonly string[];
    readonly bindAll: boolean;
    readonly nodes: number;
    readonly strategy: 'spread' | 'pack';
  };
  /** The process's interrupt (the CLI's lifetime): the run stops, cleans up, and the command exits 130. */
  readonly signal: AbortSignal;
  /** Kills children and servers the run started if the process exits without stopping them. */
  readonly atExit: ExitGuard;
  readonly onProgress?: (done: Nanos, total: Nanos) => void;
  /** How long to wait for every actor process to be ready (ms; the budget's, from live.readyTimeout). */
  readonly readyTimeoutMs?: number;
  /** Where the run publishes its snapshots while it goes (--metrics-port). */
  readonly snapshots?: SnapshotFeed;
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

/** The placement the scenario names, configured from the flags and the environment. */
async function pickPlacement(s: CompiledScenario, o: LiveRunSetup, logger: Logger): Promise<Placement> {
  const logs = join(o.dir, 'logs');
  // SPLITNET_NATS_SERVER names the binary when it is not `nats-server` on PATH (or in /usr/sbin).
  const binary = process.env['SPLITNET_NATS_SERVER'];
  const nats = { runId: o.runId, given: s.live.nats, logFile: join(logs, 'nats-server.log'), ...(binary ? { binary } : {}), logger, atExit: o.atExit };
  const base = { runId: o.runId, nats, logger };
  switch (s.live.placement) {
    case 'inprocess':
      return new InProcessPlacement({
        ...base,
        scenario: s,
        credentials: natsCredentials(),
        loggerFor: (name) => createLogger({ name, file: join(logs, `${name}.log`), consoleLevel: 'silent' }),
      });
    case 'processes': {
      // SPLITNET_ACTOR_NODE_ARGS: extra Node.js flags for actor processes (e.g. `--cpu-prof` to profile them),
      // after ACTOR_NODE_ARGS (a later V8 flag wins).
      const nodeArgs = [...ACTOR_NODE_ARGS, ...(process.env['SPLITNET_ACTOR_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '')];
      return new ProcessesPlacement({
        ...base,
        scenarioFile: o.resolvedFile,
        logsDir: logs,
        actorCommand: { program: process.execPath, args: [...nodeArgs, actorEntry()] },
        atExit: o.atExit,
      });
    }
    case 'external':
      return new ExternalPlacement({ ...base, windowMs: o.joinWindowMs, ...(o.expect ? { atLeast: o.expect } : {}), ...(o.quiet ? {} : { notice: say }) });
    case 'docker': {
      // Loaded only for the docker placement: dockerode and its dependencies cost every actor process ~0.5 s of start-up CPU.
      const { DockerPlacement } = await import('@splitnet/docker');
      const d = o.docker;
      return new DockerPlacement({
        runId: o.runId,
        image: d.image,
        natsImage: d.natsImage,
        endpoints: d.endpoints,
        advertise: d.advertise,
        bindAll: d.bindAll,
        nodes: d.nodes,
        strategy: d.strategy,
        logger,
        onLog: (c, line) => appendFileSync(join(logs, `${c}.log`), line + '\n'),
      });
    }
  }
}

function say(line: string): void {
  process.stderr.write(`splitnet: ${line}\n`);
}

/** A failed run's event log (deaths, restarts, faults so far), beside the logs; '' if it cannot be written. */
function keepEventLog(dir: string, events: readonly RunEvent[]): string {
  try {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'events.jsonl');
    writeFileSync(file, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    return file;
  } catch {
    // The error being reported matters more than the event log.
    return '';
  }
}

/** The live branch of `splitnet run`: the placement the scenario names, the run through it, results as in sim. */
export async function runLiveCommand(s: CompiledScenario, o: LiveRunSetup): Promise<LiveOutcome> {
  const logs = join(o.dir, 'logs');
  const logger = createLogger({ name: 'controller', file: join(logs, 'controller.log'), consoleLevel: o.quiet ? 'error' : 'warn' });
  let eventLog = '';
  try {
    const placement = await pickPlacement(s, o, logger);
    return await runLive(s, {
      runId: o.runId,
      placement,
      logger,
      credentials: natsCredentials(),
      signal: o.signal,
      onFailure: (events) => (eventLog = keepEventLog(o.dir, events)),
      ...(o.quiet ? {} : { onNotice: say }),
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      ...(o.readyTimeoutMs !== undefined ? { readyTimeoutMs: o.readyTimeoutMs } : {}),
      ...(o.snapshots ? { snapshots: o.snapshots } : {}),
    });
  } catch (err) {
    throw failed(err, o, eventLog === '' ? '' : ` (what happened until then: ${eventLog}; logs in ${logs})`);
  } finally {
    await logger.close();
  }
}

/** The error a failed live run ends the command with: one line, saying where its event log and logs are. */
function failed(err: unknown, o: LiveRunSetup, where: string): SplitnetError {
  if (o.signal.aborted) {
    // An interrupted run that could be halted returned its results; this one stopped before it had any (its
    // set-up was interrupted, or its processes or the bus could not report: the event log says which).
    return new SplitnetError(
      'E_INTERRUPTED',
      `interrupted (${String(o.signal.reason)}): live run ${o.runId} stopped with no results to keep; its actors and anything its placement started are gone${where}`,
      { cause: err },
    );
  }
  if (err instanceof SplitnetError) return where === '' ? err : new SplitnetError(err.code, `${err.message}${where}`, { cause: err });
  // NATS, a socket, a Docker engine: one line with what to check; anything else is a bug (its stack is shown).
  const failure = describeFailure(err);
  return new SplitnetError(failure.code, `live run failed: ${failure.message}${where}`, { cause: err });
}
