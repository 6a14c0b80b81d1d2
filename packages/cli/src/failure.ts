// What the CLI prints and exits with for an error: bad input (2, one line), an operational failure (1, one line with what to check), an interruption (130), or a bug (1, the stack).
import { constants } from 'node:os';
import { SplitnetError } from '@splitnet/model';
import type { ErrorCode } from '@splitnet/model';
import { TransportError } from '@splitnet/transport';

/** The exit codes splitnet documents (docs/cli.md, `splitnet --help`). */
export const EXIT = {
  ok: 0,
  /** The run or command failed: the accounting invariant, an operational failure, or a bug in splitnet. */
  failed: 1,
  /** Bad input: a flag, a scenario or a path the message names. */
  badInput: 2,
  /** A live run completed but is invalid (lag above live.maxLag). */
  invalidLiveRun: 3,
  /** A live run completed but is tainted: its bus carried forged, refused or unexplained traffic (results are written). */
  taintedLiveRun: 4,
  /** Interrupted by Ctrl-C (SIGINT); SIGTERM gives 143 (interruptedExitCode). */
  interrupted: 130,
} as const;

/** The exit code of a command interrupted by `signal` (an abort reason such as 'SIGTERM'): 128 + its number, as a shell reports it; 130 (SIGINT) when it names none. */
export function interruptedExitCode(signal: unknown): number {
  const n = typeof signal === 'string' ? (constants.signals as Record<string, number | undefined>)[signal] : undefined;
  return 128 + (n ?? constants.signals.SIGINT);
}

export type FailureKind = 'bad-input' | 'operational' | 'interrupted' | 'internal';

export interface Failure {
  readonly kind: FailureKind;
  readonly exitCode: number;
  /** What stderr shows: one line, except that a bug also shows its stack. */
  readonly text: string;
}

/** A Node.js system error (fs, sockets): it has an errno code such as ENOSPC and the call that failed. */
function systemError(err: unknown): (Error & { code: string; syscall: string; path?: string; address?: string }) | undefined {
  if (!(err instanceof Error)) return undefined;
  const e = err as Error & { code?: unknown; syscall?: unknown };
  return typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code) && typeof e.syscall === 'string' ? (e as Error & { code: string; syscall: string }) : undefined;
}

/** What to check, per errno code of a system call that failed. */
const SYSTEM_ADVICE: Readonly<Record<string, string>> = {
  ENOSPC: 'free some space on that device',
  EDQUOT: 'the disk quota is used up',
  EACCES: 'check the permissions',
  EPERM: 'check the permissions',
  EROFS: 'that file system is read-only',
  ECONNREFUSED: 'is the server running there?',
  ENOENT: 'does it exist?',
  EHOSTUNREACH: 'is the host reachable?',
  ETIMEDOUT: 'is the host reachable?',
};

/** What to check when the message bus failed, per TransportError code. */
function transportAdvice(err: TransportError): string {
  switch (err.code) {
    case 'E_CONNECT':
      return 'check that the NATS server runs and that the URL (--nats) is right';
    case 'E_SERVER':
      return 'see the nats-server log named above, or give a running server with --nats';
    case 'E_TIMEOUT':
    case 'E_NO_RESPONDERS':
      return "is the other side (the run's controller or actors) still running?";
    case 'E_CLOSED':
      return 'the connection to NATS closed; is the server still running?';
  }
}

function bugText(err: unknown): string {
  const stack = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
  const cause = err instanceof Error && err.cause instanceof Error && err.cause.stack !== undefined ? `\ncaused by: ${err.cause.stack}` : '';
  return `splitnet: internal error (a bug in splitnet; please report it with the command and this output):\n${stack}${cause}`;
}

/** What an error is: its kind, the SplitnetError code that says so, and (unless it is a bug) its one-line message with what to check. */
export interface FailureDescription {
  readonly kind: FailureKind;
  readonly code: ErrorCode;
  readonly message: string;
}

/** The kind of an error and, unless it is a bug, its one-line message (with what to check). Told apart by type and code, never by message text. */
export function describeFailure(err: unknown): FailureDescription {
  if (err instanceof SplitnetError) {
    const kind = err.isUserError ? 'bad-input' : err.isOperational ? 'operational' : err.isInterruption ? 'interrupted' : 'internal';
    return { kind, code: err.code, message: err.message };
  }
  if (err instanceof TransportError) {
    return {
      kind: 'operational',
      code: err.code === 'E_CONNECT' ? 'E_NATS_UNREACHABLE' : 'E_OPERATIONAL',
      message: `${err.message} (${transportAdvice(err)})`,
    };
  }
  const sys = systemError(err);
  if (sys !== undefined) {
    const advice = SYSTEM_ADVICE[sys.code];
    return { kind: 'operational', code: 'E_OPERATIONAL', message: `${sys.message}${advice !== undefined ? ` (${advice})` : ''}` };
  }
  // A Docker engine's answer (dockerode): an HTTP status and the engine's reason.
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  if (err instanceof Error && typeof status === 'number') {
    return { kind: 'operational', code: 'E_OPERATIONAL', message: `the Docker engine answered: ${err.message.replace(/\s+/g, ' ').trim()}` };
  }
  return { kind: 'internal', code: 'E_INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

/** What the CLI prints and exits with for an error that ended a command. */
export function classifyFailure(err: unknown): Failure {
  const { kind, message } = describeFailure(err);
  switch (kind) {
    case 'bad-input':
      return { kind, exitCode: EXIT.badInput, text: `splitnet: error: ${message}` };
    case 'operational':
      return { kind, exitCode: EXIT.failed, text: `splitnet: error: ${message}` };
    case 'interrupted':
      return { kind, exitCode: EXIT.interrupted, text: `splitnet: ${message}` };
    case 'internal':
      return { kind, exitCode: EXIT.failed, text: bugText(err) };
  }
}
