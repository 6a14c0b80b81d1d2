// splitnet's error type: a stable code for programs, a one-line message for people, and a cause.

/** Stable error codes. Exit code 2 is used for every user-input error (scenario, flags, files). */
export type ErrorCode =
  | 'E_SCENARIO'
  | 'E_USAGE'
  | 'E_FILE'
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
}
