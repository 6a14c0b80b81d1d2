// Frames on a cable: each one's arrival time at the far end, to count those still propagating at an instant.
import type { Nanos } from './time.js';

/**
 * The arrival times of frames that have left onto a cable, earliest first. They may be added out of order (a NIC
 * settles its TX queues one after another, each in order), so each is put in its place. Asked at non-decreasing
 * instants, as reports are: an arrival at or before the instant asked is forgotten.
 */
export class InTransit {
  private readonly arrivals: Nanos[] = [];
  private head = 0;

  add(arrive: Nanos): void {
    const a = this.arrivals;
    a.push(arrive);
    // Usually last already; otherwise moved back past the later ones (never before what was already forgotten).
    for (let k = a.length - 1; k > this.head && (a[k - 1] as Nanos) > arrive; k--) {
      a[k] = a[k - 1] as Nanos;
      a[k - 1] = arrive;
    }
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
