// Emulated CPU cores: busy-until timelines that serialize work items in emulated time.
import type { Nanos } from './time.js';

/**
 * One emulated core. Work submitted at `now` starts when the core is free and occupies it for its
 * cost; what the work produces becomes visible at its finish time. Utilization emerges from the
 * sum of costs, not from the host's speed.
 */
export class Core {
  busyUntil: Nanos = 0;
  /** Total busy time ever accounted on this core. */
  busyNs: Nanos = 0;
  constructor(readonly name: string) {}

  /** Run `cost` ns of work submitted at `now`; returns the finish time. (`_kind` names the work for readers.) */
  run(now: Nanos, cost: Nanos, _kind?: string): Nanos {
    const start = this.busyUntil > now ? this.busyUntil : now;
    const c = cost > 0 ? cost : 0;
    this.busyUntil = start + c;
    this.busyNs += c;
    return this.busyUntil;
  }

  /**
   * Busy time up to time `t` (≥ the time of the last submission). Work is submitted at the
   * current time and queued back to back, so whatever is scheduled past `t` is one contiguous
   * stretch ending at busyUntil: subtract it.
   */
  busyThrough(t: Nanos): Nanos {
    return this.busyUntil > t ? this.busyNs - (this.busyUntil - t) : this.busyNs;
  }
}
