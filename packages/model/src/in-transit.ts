// Frames on a cable: each one's arrival time at the far end, to count those still propagating at an instant.
import type { Nanos } from './time.js';

/**
 * The arrival times of frames that have left onto a cable, oldest first (a cable is a FIFO: arrivals come in the
 * order the frames left). Asked at non-decreasing instants, as reports are: an arrival at or before the instant
 * asked is forgotten.
 */
export class InTransit {
  private readonly arrivals: Nanos[] = [];
  private head = 0;

  add(arrive: Nanos): void {
    this.arrivals.push(arrive);
  }

  /** Frames whose arrival is after `t` (still on the cable at t). */
  at(t: Nanos): number {
    const a = this.arrivals;
    while (this.head < a.length && (a[this.head] as Nanos) <= t) this.head++;
    // Compact now and then, so the array does not grow with the run.
    if (this.head > 1024 && this.head * 2 > a.length) {
      a.splice(0, this.head);
      this.head = 0;
    }
    return a.length - this.head;
  }
}
