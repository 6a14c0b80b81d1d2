// The lockstep branch of `splitnet run` and the `splitnet partition` command its processes run: partitions placed as live places its processes.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { SplitnetError } from '@splitnet/model';
import type { Nanos } from '@splitnet/model';
import { parseControlSecret, ProcessesPlacement } from '@splitnet/live';
import type { ExitGuard } from '@splitnet/live';
import { runLockstep, runPartitionProcess } from '@splitnet/lockstep';
import type { LockstepOutcome } from '@splitnet/lockstep';
import type { CompiledScenario } from '@splitnet/scenario';
import { connectNats } from '@splitnet/transport/nats';
import { natsCredentials } from './actor-command.js';
import { describeFailure } from './failure.js';
import { createLogger } from './logging.js';

const cliMain = fileURLToPath(new URL('./main.js', import.meta.url));

/** The placements lockstep runs on today. */
export const LOCKSTEP_PLACEMENTS = ['processes'] as const;

/**
 * The flags a lockstep run takes, checked before anything starts: one line naming the flag (exit 2). Its
 * partitions are placed as live's processes; the live-only knobs of real time (TDF, lag) mean nothing to it.
 */
export function checkLockstepFlags(s: CompiledScenario, flags: { placement?: string; pcap: readonly string[] }): void {
  if (flags.placement !== undefined && !(LOCKSTEP_PLACEMENTS as readonly string[]).includes(flags.placement)) {
    throw new SplitnetError(
      'E_USAGE',
      `--placement ${flags.placement}: lockstep runs its partitions on placement ${LOCKSTEP_PLACEMENTS.join(', ')} only today (docker and several Docker nodes are not done yet: docs/lockstep.md#not-done-yet)`,
    );
  }
  if (flags.pcap.length > 0)
    throw new SplitnetError('E_USAGE', `--pcap ${flags.pcap.join(',')}: packet captures are written in sim only; lockstep does not take them yet`);
}

export interface LockstepRunSetup {
  readonly runId: string;
  readonly dir: string;
  readonly resolvedFile: string;
  readonly quiet: boolean;
  readonly signal: AbortSignal;
  readonly atExit: ExitGuard;
  readonly onProgress?: (done: Nanos, total: Nanos, note?: string) => void;
}

/** `splitnet run --runtime lockstep`: one process per partition on this machine, over a private nats-server. */
export async function runLockstepCommand(s: CompiledScenario, o: LockstepRunSetup): Promise<LockstepOutcome> {
  const logs = join(o.dir, 'logs');
  const logger = createLogger({ name: 'controller', file: join(logs, 'controller.log'), consoleLevel: o.quiet ? 'error' : 'warn' });
  const binary = process.env['SPLITNET_NATS_SERVER'];
  const nats = { runId: o.runId, given: s.live.nats, logFile: join(logs, 'nats-server.log'), ...(binary ? { binary } : {}), logger, atExit: o.atExit };
  try {
    const placement = new ProcessesPlacement({
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
