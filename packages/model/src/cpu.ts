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
  /** Where the stretch of back-to-back work that ends at busyUntil began. */
  private stretchStart: Nanos = 0;
  constructor(readonly name: string) {}

  /**
   * Run `cost` ns of work submitted at `now` (or that may not start before `now`: a vCPU that must first be
   * woken); returns the finish time. (`_kind` names the work for readers.)
   */
  run(now: Nanos, cost: Nanos, _kind?: string): Nanos {
    let start = this.busyUntil;
    if (now > start) {
      start = now;
      this.stretchStart = now;
    }
    const c = cost > 0 ? cost : 0;
    this.busyUntil = start + c;
    this.busyNs += c;
    return this.busyUntil;
  }

  /**
   * Busy time up to time `t` (≥ the time of the last submission). Work is queued back to back, so
   * whatever is scheduled past `t` lies in the one stretch ending at busyUntil, which may begin after
   * `t` (work that waits for a wake-up): subtract that part.
   */
  busyThrough(t: Nanos): Nanos {
    if (this.busyUntil <= t) return this.busyNs;
    return this.busyNs - (this.busyUntil - (this.stretchStart > t ? this.stretchStart : t));
  }
}
