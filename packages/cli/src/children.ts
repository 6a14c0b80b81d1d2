// The child processes a splitnet command started: told to a reaper that kills them if the command dies without stopping them, and recorded in the run's results directory for `splitnet cleanup --run`.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ProcessIdentity } from './process-identity.js';
import { identify } from './process-identity.js';

// From dist/src and from dist/bundle (the actor processes' bundled entry, actor-entry.ts) alike.
const reaperScript = fileURLToPath(new URL('../src/reaper.js', import.meta.url));

/** The record's name in a results directory. */
export const PROCESS_RECORD = 'processes.jsonl';

/** One line of a run's process record: a process started (what it is, as identified then), or one that is gone. */
export type ProcessRecordLine = (ProcessIdentity & { readonly what: string; readonly at: string }) | { readonly pid: number; readonly gone: string };

/**
 * The children of this process. `watch` a child as soon as it runs: the reaper (reaper.ts), started on the
 * first one, then holds its pid and start time; `forget` it once it has exited. With `recordIn`, every
 * child (and this process itself) is also appended to a record file, which outlives a crash.
 */
export class Children {
  private reaper: ChildProcess | undefined;
  private record: string | undefined;

  /** Append this process and every child from now on to `file` (the run's processes.jsonl). */
  recordIn(file: string, what: string): void {
    this.record = file;
    this.append(identify(process.pid), what);
  }

  watch(pid: number, what: string): void {
    const who = identify(pid);
    if (who === undefined) return; // already gone
    this.tell(`+ ${pid} ${who.start}\n`);
    this.append(who, what);
  }

  forget(pid: number): void {
    this.tell(`- ${pid}\n`);
    if (this.record !== undefined) this.write({ pid, gone: new Date().toISOString() });
  }

  private append(who: ProcessIdentity | undefined, what: string): void {
    if (this.record !== undefined && who !== undefined) this.write({ ...who, what, at: new Date().toISOString() });
  }

  private write(line: ProcessRecordLine): void {
    try {
      appendFileSync(this.record as string, JSON.stringify(line) + '\n');
    } catch {
      // The record helps a later cleanup; a run does not fail for want of it.
    }
  }

  private tell(line: string): void {
    const reaper = (this.reaper ??= this.startReaper());
    reaper.stdin?.write(line);
  }

  /**
   * The reaper in a session of its own (a Ctrl-C or a closed terminal reaches this command, not it),
   * holding the only read end of a pipe whose write end only this process has. Unreferenced: it never
   * keeps this process alive.
   */
  private startReaper(): ChildProcess {
    const reaper = spawn(process.execPath, [reaperScript], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    reaper.on('error', () => {}); // no reaper: the exit hooks still kill the children on an orderly exit
    reaper.stdin?.on('error', () => {});
    reaper.unref();
    (reaper.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return reaper;
  }
}
