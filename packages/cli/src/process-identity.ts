// Who a process id is now: its start time and command line, so that a pid recorded earlier is only signalled while it still names the same process.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';

/** A process as recorded: its id, when it started (an opaque token: clock ticks since boot on Linux) and its command line. */
export interface ProcessIdentity {
  readonly pid: number;
  readonly start: string;
  readonly command: string;
}

/** The process with id `pid` as it is now, or undefined when there is none (or it cannot be read). */
export function identify(pid: number): ProcessIdentity | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return existsSync('/proc/self/stat') ? fromProc(pid) : fromPs(pid);
}

/** Linux: /proc/<pid>/stat field 22 (starttime) and /proc/<pid>/cmdline. */
function fromProc(pid: number): ProcessIdentity | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name in parentheses may hold spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = fields[19];
    if (start === undefined) return undefined;
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((a) => a !== '')
      .join(' ');
    return { pid, start, command };
  } catch {
    return undefined;
  }
}

/** Elsewhere (macOS, BSDs): ps's start time and command, as ps prints them. */
function fromPs(pid: number): ProcessIdentity | undefined {
  try {
    const out = execFileSync('ps', ['-o', 'lstart=', '-o', 'command=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    // lstart is a fixed-width date ("Sun Dec  6 15:20:26 2026"): 24 characters.
    const line = out.split('\n')[0]?.trimStart() ?? '';
    if (line.length < 25) return undefined;
    return { pid, start: line.slice(0, 24), command: line.slice(25).trim() };
  } catch {
    return undefined;
  }
}

/**
 * Whether `recorded` still runs as the same process: its pid exists with the same start time (a reused pid
 * has another) and the same program. The program is compared by name only: a child recorded between its
 * fork and its exec still showed its parent's arguments.
 */
export function stillRunning(recorded: ProcessIdentity): boolean {
  const now = identify(recorded.pid);
  return now !== undefined && now.start === recorded.start && program(now.command) === program(recorded.command);
}

function program(command: string): string {
  return basename(command.split(' ')[0] ?? '');
}
