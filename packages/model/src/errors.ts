// splitnet's error type: a stable code for programs, a one-line message for people, and a cause.

/**
 * Stable error codes, by what the user should do about them (docs/cli.md, "Exit codes"):
 * - E_SCENARIO, E_USAGE, E_FILE: bad input; fix the scenario, flag or path the message names (exit 2).
 * - Operational failures: something outside splitnet failed; the message says what to check (exit 1, no
 *   stack trace). E_NATS_UNREACHABLE: no NATS server answered at the URL; E_JOIN_TIMEOUT: actor processes
 *   did not join or become ready in time; E_ACTOR_DIED: an actor process died and was not (or could no
 *   more be) restarted; E_HEARTBEAT_LOST: an actor process went silent; E_OPERATIONAL: anything else
 *   (a disk full, a Docker engine, a timeout).
 * - E_INTERRUPTED: the user interrupted the command (Ctrl-C, SIGTERM): exit 130.
 * - E_INVARIANT, E_INTERNAL: a bug in splitnet (exit 1; the CLI shows the stack trace).
 */
export type ErrorCode =
  | 'E_SCENARIO'
  | 'E_USAGE'
  | 'E_FILE'
  | 'E_OPERATIONAL'
  | 'E_NATS_UNREACHABLE'
  | 'E_JOIN_TIMEOUT'
  | 'E_ACTOR_DIED'
  | 'E_HEARTBEAT_LOST'
  | 'E_INTERRUPTED'
  | 'E_INVARIANT'
  | 'E_INTERNAL';

/** The codes of operational failures (see ErrorCode). */
export const OPERATIONAL_CODES: ReadonlySet<ErrorCode> = new Set(['E_OPERATIONAL', 'E_NATS_UNREACHABLE', 'E_JOIN_TIMEOUT', 'E_ACTOR_DIED', 'E_HEARTBEAT_LOST']);

export class SplitnetError extends Error {
  override readonly name = 'SplitnetError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** True for errors caused by what the user gave us (exit code 2, no stack trace). */
  get isUserError(): boolean {
    return this.code === 'E_SCENARIO' || this.code === 'E_USAGE' || this.code === 'E_FILE';
  }

  /** True for failures outside splitnet that the message explains (exit code 1, no stack trace). */
  get isOperational(): boolean {
    return OPERATIONAL_CODES.has(this.code);
  }

  /** True when the user interrupted the command (exit code 130, no stack trace). */
  get isInterruption(): boolean {
    return this.code === 'E_INTERRUPTED';
  }
}
