// A deadline kept on top of timers that cannot be cancelled: stale firings are recognised and the timer re-armed.
import type { Nanos } from './time.js';

/** Whatever can ask the runtime for a timer (a TcpSenderOutput, a TcpReceiverOutput). */
export interface TimerPort {
  timer(at: Nanos): void;
}

/**
 * A model's one-shot timer (the RTO, the delayed ACK) over a runtime whose timers cannot be cancelled
 * (Effects.timer). Moving the deadline later asks for nothing: the earlier firing finds the deadline not due
 * and asks again for it; moving it earlier asks for a new firing. So a flow that restarts its RTO on every
 * ACK costs one timer event per RTO interval, not one per ACK.
 */
export class LazyTimer {
  private due: Nanos | undefined;
  /** The earliest firing asked for that has not come yet. */
  private asked: Nanos | undefined;

  /** When the timer is due, or undefined when it is stopped. */
  get deadline(): Nanos | undefined {
    return this.due;
  }

  /** Set the deadline to `at`, asking `port` for a firing unless one comes at or before it. */
  set(at: Nanos, port: TimerPort): void {
    this.due = at;
    if (this.asked !== undefined && this.asked <= at) return;
    this.asked = at;
    port.timer(at);
  }

  stop(): void {
    this.due = undefined;
  }

  /**
   * The firings asked for are gone (they were timers of an actor that died, and a successor now hosts the model):
   * ask `port` again for the deadline, if one is set, at `now` at the earliest (a deadline that passed meanwhile
   * fires at once).
   */
  rearm(now: Nanos, port: TimerPort): void {
    this.asked = undefined;
    if (this.due !== undefined) this.set(this.due > now ? this.due : now, port);
  }

  /**
   * A firing asked for through `port` comes at `now`: true when the deadline is due (the timer stops; the
   * caller acts), false when it is stale — stopped, or moved later, in which case `port` is asked again.
   */
  fire(now: Nanos, port: TimerPort): boolean {
    if (this.asked !== undefined && now >= this.asked) this.asked = undefined;
    if (this.due === undefined) return false;
    if (now < this.due) {
      this.set(this.due, port);
      return false;
    }
    this.due = undefined;
    return true;
  }
}
