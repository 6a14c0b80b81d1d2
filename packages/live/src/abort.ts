// An AbortSignal as a promise: how a live run's waits end early when the process that owns it is interrupted.

/** Resolves with the abort's reason (e.g. 'SIGINT') once `signal` aborts; never, without a signal. */
export function whenAborted(signal: AbortSignal | undefined): Promise<string> {
  if (signal === undefined) return new Promise<string>(() => {});
  if (signal.aborted) return Promise.resolve(String(signal.reason));
  return new Promise<string>((resolve) => signal.addEventListener('abort', () => resolve(String(signal.reason)), { once: true }));
}
