// The one place the CLI handles process signals and process exit: an interrupt asks the running command to stop through an AbortSignal.
import type { ExitGuard } from '@splitnet/live';
import { Children } from './children.js';
import { classifyFailure, interruptedExitCode } from './failure.js';

/** How long a command may take to stop after the first interrupt before the process ends anyway (a Docker engine may not answer). */
const STOP_GRACE_MS = 30_000;

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

const ignore = (): void => {};

/**
 * The process's lifetime, owned by the entry point (libraries install no process-wide hooks):
 * - SIGINT / SIGTERM: a command that can stop cleanly (it asked for `interruptSignal()`) gets the signal as
 *   an abort and stops — a live run stops its actors and removes its containers, a sweep keeps the runs it
 *   finished; it exits 130. A second signal, a command that cannot stop, or one that has not stopped after
 *   STOP_GRACE_MS, ends the process at once: the children registered with `atExit` are killed and the
 *   process dies of the signal.
 * - exit: children registered with `atExit` (a private nats-server, actor processes) that are still
 *   running are killed, whatever ended the process (a crash included).
 * - an unhandled rejection: printed as any error is (one line unless it is a bug), exit 1.
 */
export class ProcessLifetime {
  private readonly abort = new AbortController();
  private readonly kills = new Set<() => void>();
  private interruptible = false;
  /** Children registered with a pid: a reaper kills them if this process dies without its hooks (SIGKILL). */
  readonly children = new Children();

  /**
   * `ignoreInterrupt`: a process a controller started (an actor or partition process; SPLITNET_IGNORE_SIGINT=1)
   * shares the controller's terminal process group, so a Ctrl-C reaches it too; the controller coordinates the
   * stop, so such a process ignores SIGINT and ends when told (over the bus) or by SIGTERM.
   */
  install(opts: { ignoreInterrupt?: boolean } = {}): void {
    for (const s of SIGNALS) process.on(s, s === 'SIGINT' && opts.ignoreInterrupt === true ? ignore : this.onSignal);
    process.on('exit', () => this.killAll());
    process.on('unhandledRejection', (err) => {
      const failure = classifyFailure(err);
      process.stderr.write(`${failure.text}\n`);
      process.exit(failure.exitCode);
    });
  }

  /** The running command stops what it does when this aborts (its reason: the signal's name). */
  interruptSignal(): AbortSignal {
    this.interruptible = true;
    return this.abort.signal;
  }

  /**
   * The exit code of a command that stopped because it was interrupted: 128 + the signal's number, as a
   * shell reports a process killed by it (130 for SIGINT, 143 for SIGTERM).
   */
  interruptExitCode(): number {
    return interruptedExitCode(this.abort.signal.reason);
  }

  /**
   * Register a last-resort kill of a child process, run if this process exits while it still runs; with
   * `child`, the reaper also kills it should this process die without running any hook; returns its removal.
   */
  readonly atExit: ExitGuard = (kill, child) => {
    this.kills.add(kill);
    if (child !== undefined) this.children.watch(child.pid, child.what);
    return () => {
      this.kills.delete(kill);
      if (child !== undefined) this.children.forget(child.pid);
    };
  };

  /**
   * The command is done with `code`: if anything still holds the process open after `graceMs` (a client
   * reconnecting to a server that is gone, say), exit anyway, so that a command never hangs at its end.
   */
  leaveWithin(graceMs: number): void {
    setTimeout(() => process.exit(), graceMs).unref();
  }

  private killAll(): void {
    for (const kill of this.kills) {
      try {
        kill();
      } catch {
        // exiting anyway: the next child matters more
      }
    }
    this.kills.clear();
  }

  private readonly onSignal = (signal: NodeJS.Signals): void => {
    if (!this.interruptible || this.abort.signal.aborted) return this.dieOf(signal);
    this.abort.abort(signal);
    setTimeout(() => this.dieOf(signal), STOP_GRACE_MS).unref();
  };

  /** End the process now, as the signal would have without a handler (its children killed first). */
  private dieOf(signal: NodeJS.Signals): void {
    this.killAll();
    for (const s of SIGNALS) process.removeListener(s, this.onSignal);
    process.kill(process.pid, signal);
  }
}
