// The lockstep branch of `splitnet run` and the `splitnet partition` command its processes run: partitions placed as live places its processes.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { appendFileSync, readFileSync } from 'node:fs';
import { SplitnetError } from '@splitnet/model';
import type { Nanos } from '@splitnet/model';
import { parseControlSecret, ProcessesPlacement } from '@splitnet/live';
import type { ExitGuard, Placement } from '@splitnet/live';
import { runLockstep, runPartitionProcess } from '@splitnet/lockstep';
import type { LockstepOutcome } from '@splitnet/lockstep';
import type { CompiledScenario } from '@splitnet/scenario';
import { connectNats } from '@splitnet/transport/nats';
import { natsCredentials } from './actor-command.js';
import { describeFailure } from './failure.js';
import { createLogger } from './logging.js';

const cliMain = fileURLToPath(new URL('./main.js', import.meta.url));

/** The placements lockstep runs on today. */
export const LOCKSTEP_PLACEMENTS = ['processes', 'docker'] as const;

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
  return key === 'placement' || (LOCKSTEP_DOCKER_FLAGS as readonly string[]).includes(key) || NOT_FOR_LOCKSTEP.some(([k]) => k === key);
}

/**
 * The flags a lockstep run takes, checked before anything starts: one line naming the flag (exit 2). Its
 * partitions are placed as live's processes or containers; the live-only knobs of real time (TDF, lag) mean
 * nothing to it. `given`: whether a flag was on the command line (the docker flags have defaults).
 */
export function checkLockstepFlags(flags: LockstepFlags, given: (key: keyof LockstepFlags) => boolean): void {
  if (flags.placement !== undefined && !(LOCKSTEP_PLACEMENTS as readonly string[]).includes(flags.placement)) {
    throw new SplitnetError(
      'E_USAGE',
      `--placement ${flags.placement}: lockstep runs its partitions on placement ${LOCKSTEP_PLACEMENTS.join(' or ')} (one process or one container per partition: docs/lockstep.md#running-it)`,
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
        throw new SplitnetError('E_USAGE', `${flag}: only with --placement docker; this lockstep run's placement is processes, which would ignore it`);
      }
    }
  }
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
  readonly placement: 'processes' | 'docker';
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
        : new ProcessesPlacement({
            runId: o.runId,
            nats,
            logger,
            scenarioFile: o.resolvedFile,
            logsDir: logs,
            actorCommand: { program: process.execPath, args: [cliMain] },
            subcommand: 'partition',
            atExit: o.atExit,
          });
    return await runLockstep(s, {
      runId: o.runId,
      placement,
      logger,
      logsDir: logs,
      credentials: natsCredentials(),
      signal: o.signal,
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
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
  });
}

export interface PartitionFlags {
  run: string;
  nats: string;
  scenario: string;
  id: string[];
  log?: string;
}

/** `splitnet partition`: one partition of a lockstep run, as its controller starts it (the control secret in the environment). */
export async function partitionCommand(loadScenario: (file: string) => CompiledScenario, f: PartitionFlags, signal: AbortSignal): Promise<number> {
  const text = process.env['SPLITNET_CONTROL_SECRET'];
  const secret = text === undefined ? undefined : parseControlSecret(text);
  if (secret === undefined)
    throw new SplitnetError(
      'E_USAGE',
      `partition: SPLITNET_CONTROL_SECRET ${text === undefined ? 'is not set' : 'is not a control secret'}: a partition gets it from the controller that starts it (splitnet run --runtime lockstep)`,
    );
  if (f.id.length === 0) throw new SplitnetError('E_USAGE', 'partition: give the actors of the partition with --id (repeatable)');
  const name = f.id.join('+');
  const logger = createLogger({ name, ...(f.log ? { file: f.log } : {}), consoleLevel: 'warn' });
  try {
    const scenario = loadScenario(f.scenario);
    const transport = await connectNats({ servers: f.nats, name: `splitnet ${f.run} ${name}`, ...natsCredentials() });
    return await runPartitionProcess({ scenario, runId: f.run, ids: f.id, transport, logger, secret, signal });
  } catch (err) {
    logger.error('partition failed', { error: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    await logger.close();
  }
}
