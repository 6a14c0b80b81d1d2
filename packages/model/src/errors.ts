// splitnet's error type: a stable code for programs, a one-line message for people, and a cause.

/**
 * Stable error codes, by what the user should do about them (docs/cli.md, "Exit codes"):
 * - E_SCENARIO, E_USAGE, E_FILE: bad input; fix the scenario, flag or path the message names (exit 2).
 * - E_OPERATIONAL: something outside splitnet failed (a server unreachable, a process died, a timeout);
 *   the message says what to check (exit 1, no stack trace).
 * - E_INVARIANT, E_INTERNAL: a bug in splitnet (exit 1; the CLI shows the stack trace).
 */
export type ErrorCode =
  | 'E_SCENARIO'
  | 'E_USAGE'
  | 'E_FILE'
  | 'E_OPERATIONAL'
  | 'E_INVARIANT'
  | 'E_INTERNAL';

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
    return this.code === 'E_OPERATIONAL';
  }
}
