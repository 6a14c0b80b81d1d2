// A binary min-heap of pending events in the ordering key (time, destination, source, source's send sequence).
import { SplitnetError } from '@splitnet/model';
import type { Message, Nanos } from '@splitnet/model';

/**
 * The ordering key of an event: time, then the destination actor, then the source actor, then the source's
 * send sequence (a counter per source over everything it schedules: messages and its own timers, whose
 * source is the actor itself). Every part is known where the event is created, whichever process holds the
 * destination, so any partitioning of the actors orders the events of one instant as `sim` does
 * (docs/lockstep.md#the-ordering-key). Source and sequence are packed into one double, `origin`.
 */
export const MAX_ACTORS = 1 << 13;
/** 2^40: a source's sequence stays below it (10^12 events scheduled by one actor). */
const SEQ_SPAN = 1099511627776;

/** The packed (source, sequence) part of an event's ordering key. */
export function originOf(source: number, seq: number): number {
  if (seq >= SEQ_SPAN) throw new SplitnetError('E_INTERNAL', `actor ${source} scheduled more than 2^40 events`);
  return source * SEQ_SPAN + seq;
}

/** The source actor of a packed origin. */
export function originSource(origin: number): number {
  return Math.floor(origin / SEQ_SPAN);
}

/** The source's send sequence of a packed origin. */
export function originSeq(origin: number): number {
  return origin % SEQ_SPAN;
}

/**
 * Events live in slot arrays recycled through a free list; the heap orders slot numbers. This keeps
 * the hot loop free of per-event object allocation.
 */
/**
 * An empty array of doubles. Event times pass 2^30 ns early in a run, and a fresh array of small
 * integers would change its elements kind then: code optimised for another queue (the code warm-up's)
 * would be thrown away at a run's first events ("wrong map", "not a Smi").
 */
function doubleArray(): number[] {
  const a = [0.5];
  a.pop();
  return a;
}

export class EventQueue {
  protected time: number[] = doubleArray();
  protected origin: number[] = doubleArray(); // packed (source, sequence): beyond small integers
  private target: number[] = [];
  private tag: number[] = doubleArray(); // actors' tags carry generations that outgrow small integers too
  private msg: (Message | null)[] = [];
  private free: number[] = [];
  private heap: number[] = [];

  get size(): number {
    return this.heap.length;
  }

  /**
   * Schedule a message delivery (msg ≠ null) or a timer (msg = null, tag) for actor `target`; `origin` is
   * `originOf(source, the source's send sequence)`, the rest of its ordering key.
   */
  push(time: Nanos, target: number, msg: Message | null, tag: number, origin: number): void {
    let slot: number;
    if (this.free.length > 0) {
      slot = this.free.pop() as number;
      this.time[slot] = time;
      this.origin[slot] = origin;
      this.target[slot] = target;
      this.tag[slot] = tag;
      this.msg[slot] = msg;
    } else {
      slot = this.time.length;
      this.time.push(time);
      this.origin.push(origin);
      this.target.push(target);
      this.tag.push(tag);
      this.msg.push(msg);
    }
    const h = this.heap;
    let i = h.length;
    h.push(slot);
    // sift up
    while (i > 0) {
      const p = (i - 1) >> 1;
      const ps = h[p] as number;
      if (!this.less(slot, ps)) break;
      h[i] = ps;
      i = p;
    }
    h[i] = slot;
  }

  /** Time of the earliest event, or Infinity. */
  peekTime(): Nanos {
    const s = this.heap[0];
    return s === undefined ? Infinity : (this.time[s] as number);
  }

  /** Remove the earliest event; returns its slot (read with the accessors, then call `release`). */
  pop(): number {
    const h = this.heap;
    const top = h[0] as number;
    const last = h.pop() as number;
    const n = h.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        let cs = h[l] as number;
        if (r < n) {
          const rs = h[r] as number;
          if (this.less(rs, cs)) {
            c = r;
            cs = rs;
          }
        }
        if (!this.less(cs, last)) break;
        h[i] = cs;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }

  /** The packed (source, sequence) of a slot's ordering key. */
  slotOrigin(slot: number): number {
    return this.origin[slot] as number;
  }

  slotTime(slot: number): Nanos {
    return this.time[slot] as number;
  }
  slotTarget(slot: number): number {
    return this.target[slot] as number;
  }
  slotTag(slot: number): number {
    return this.tag[slot] as number;
  }
  slotMsg(slot: number): Message | null {
    return this.msg[slot] as Message | null;
  }

  release(slot: number): void {
    this.msg[slot] = null;
    this.free.push(slot);
  }

  /** Visit every pending message (for accounting of packets on links). */
  forEachMessage(fn: (m: Message) => void): void {
    for (const s of this.heap) {
      const m = this.msg[s];
      if (m) fn(m);
    }
  }

  protected less(a: number, b: number): boolean {
    const ta = this.time[a] as number;
    const tb = this.time[b] as number;
    if (ta !== tb) return ta < tb;
    const da = this.target[a] as number;
    const db = this.target[b] as number;
    return da < db || (da === db && (this.origin[a] as number) < (this.origin[b] as number));
  }
}

/**
 * The live runtime's queue: events of one instant in the order they were queued (`origin` is then a counter of
 * the host's pushes). Live time is approximate — inputs run when the bus brings them — and its hosts keep the
 * order they had before the ordering key; the key is for runtimes that must reproduce sim's order.
 */
export class ArrivalOrderQueue extends EventQueue {
  protected override less(a: number, b: number): boolean {
    const ta = this.time[a] as number;
    const tb = this.time[b] as number;
    return ta < tb || (ta === tb && (this.origin[a] as number) < (this.origin[b] as number));
  }
}
