// `splitnet cleanup`: kill what a live run on this machine left running (from the process record in its results directory), and remove what docker-placed runs left on Docker engines.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROCESS_RECORD } from './children.js';
import type { ProcessRecordLine } from './children.js';
import type { ProcessIdentity } from './process-identity.js';
import { stillRunning } from './process-identity.js';

export interface CleanupFlags {
  dockerHost: string[];
  run?: string;
  /** The run's results directory, when it is not results/<run-id> (run --out). */
  results?: string;
}

/** A recorded process that still runs as the same process (pid, start time and program checked). */
export type Leftover = ProcessIdentity & { readonly what: string };

/** The processes a run's record lists as started and not gone, that still run as the process recorded. */
export function leftovers(recordFile: string): Leftover[] {
  const started = new Map<number, Leftover>();
  for (const text of readFileSync(recordFile, 'utf8').split('\n')) {
    if (text.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      continue; // a line cut short by a crash
    }
    if (typeof parsed !== 'object' || parsed === null) continue;
    const line = parsed as ProcessRecordLine;
    if ('gone' in line) started.delete(line.pid);
    else if (typeof line.pid === 'number' && typeof line.start === 'string' && typeof line.command === 'string') started.set(line.pid, line);
  }
  // The record is the run's own, but a pid may have been given to another process since: only the same one is killed.
  return [...started.values()].filter((p) => stillRunning(p));
}

/** SIGKILL each leftover (the controller first: its own reaper then goes for the rest too); those that are gone meanwhile are skipped. */
export function killLeftovers(list: readonly Leftover[]): Leftover[] {
  const ordered = [...list].sort((a, b) => Number(b.what.startsWith('controller')) - Number(a.what.startsWith('controller')));
  const killed: Leftover[] = [];
  for (const p of ordered) {
    try {
      process.kill(p.pid, 'SIGKILL');
      killed.push(p);
    } catch {
      // gone meanwhile
    }
  }
  return killed;
}

/**
 * `splitnet cleanup`: with --run, first the processes the run's record (processes.jsonl in its results
 * directory) lists as still running; then containers and networks of docker-placed runs, by label. A run
 * that has a record ran on this machine: a Docker engine that does not answer is then no failure.
 * Returns what to print.
 */
export async function cleanupCommand(o: CleanupFlags): Promise<string[]> {
  const out: string[] = [];
  let processRun = false;
  if (o.run !== undefined) {
    const dir = o.results ?? join('results', o.run);
    const record = join(dir, PROCESS_RECORD);
    if (existsSync(record)) {
      processRun = true;
      const killed = killLeftovers(leftovers(record));
      out.push(
        killed.length === 0
          ? `splitnet: no process of run ${o.run} is left running (record: ${record})`
          : `splitnet: killed ${killed.length} process(es) of run ${o.run}: ${killed.map((p) => `${p.what} (pid ${p.pid})`).join(', ')}`,
      );
    } else {
      out.push(`splitnet: no process record of run ${o.run} at ${record} (a run written elsewhere with --out: give --results <dir>)`);
    }
  }
  // Loaded on demand: dockerode is heavy, and most commands (and every actor process) never need it.
  const { cleanupAll } = await import('@splitnet/docker');
  const label = o.run !== undefined ? `splitnet.run=${o.run}` : 'splitnet.managed';
  try {
    const n = await cleanupAll(o.dockerHost, o.run);
    out.push(`splitnet: removed ${n} container(s)/network(s) labelled ${label}`);
  } catch (err) {
    if (!processRun || o.dockerHost.length > 0) throw err;
    out.push(`splitnet: containers not checked: ${err instanceof Error ? err.message : String(err)}`);
  }
  return out;
}
