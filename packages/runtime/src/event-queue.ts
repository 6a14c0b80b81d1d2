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

/** A copy of `a` with room for `n` elements. */
function widerF64(a: Float64Array, n: number): Float64Array {
  const b = new Float64Array(n);
  b.set(a);
  return b;
}
function widerI32(a: Int32Array, n: number): Int32Array {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

/** Slots a new queue has room for before it first grows (it doubles when full). */
const INITIAL_SLOTS = 256;

/**
 * Events live in slots of typed columns recycled through a free list; the heap orders slot numbers. This keeps
 * the hot loop free of per-event allocation, and its loads and stores free of element-kind checks: a column of
 * doubles stays one whatever values it holds (times and origins pass 2^30 early in a run, and a JS array of small
 * integers would change its elements kind then, throwing away code optimised for another queue: the live code
 * warm-up's). Each slot also keeps the received packets and the sent frames its message carries, counted once when
 * it is queued (the runtime's accounting of packets on links would otherwise look at every message twice).
 */
export class EventQueue {
  protected time: Float64Array = new Float64Array(INITIAL_SLOTS);
  protected origin: Float64Array = new Float64Array(INITIAL_SLOTS); // packed (source, sequence): beyond small integers
  private target: Int32Array = new Int32Array(INITIAL_SLOTS);
  private tag: Float64Array = new Float64Array(INITIAL_SLOTS); // actors' tags carry generations that outgrow small integers too
  private carried: Float64Array = new Float64Array(INITIAL_SLOTS);
  private txCarried: Float64Array = new Float64Array(INITIAL_SLOTS);
  private msg: (Message | null)[] = new Array<Message | null>(INITIAL_SLOTS).fill(null);
  /** Slots in use or on the free list: slots [0, used) have been handed out at least once. */
  private used = 0;
  private free: Int32Array = new Int32Array(INITIAL_SLOTS);
  private freeCount = 0;
  private heap: Int32Array = new Int32Array(INITIAL_SLOTS);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /**
   * Schedule a message delivery (msg ≠ null) or a timer (msg = null, tag) for actor `target`; `origin` is
   * `originOf(source, the source's send sequence)`, the rest of its ordering key. `carried` and `txCarried`: the
   * message's `packetsIn` and `txPacketsIn`, read back with `slotCarried` and `slotTxCarried`.
   */
  push(time: Nanos, target: number, msg: Message | null, tag: number, origin: number, carried = 0, txCarried = 0): void {
    let slot: number;
    if (this.freeCount > 0) slot = this.free[--this.freeCount] as number;
    else {
      if (this.used === this.time.length) this.grow();
      slot = this.used++;
    }
    this.time[slot] = time;
    this.origin[slot] = origin;
    this.target[slot] = target;
    this.tag[slot] = tag;
    this.carried[slot] = carried;
    this.txCarried[slot] = txCarried;
    this.msg[slot] = msg;
    const h = this.heap;
    let i = this.count++;
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
    return this.count === 0 ? Infinity : (this.time[this.heap[0] as number] as number);
  }

  /** Remove the earliest event (the queue must not be empty); returns its slot (read with the accessors, then call `release`). */
  pop(): number {
    const h = this.heap;
    const top = h[0] as number;
    const n = --this.count;
    if (n > 0) {
      const last = h[n] as number;
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
  /** Received packets the slot's message carries (as pushed). */
  slotCarried(slot: number): number {
    return this.carried[slot] as number;
  }
  /** Frames a guest sent that the slot's message carries (as pushed). */
  slotTxCarried(slot: number): number {
    return this.txCarried[slot] as number;
  }

  release(slot: number): void {
    this.msg[slot] = null;
    this.free[this.freeCount++] = slot;
  }

  /** Visit every pending event's target and the packets it carries (for accounting of packets on links by destination). */
  forEachCarried(fn: (target: number, carried: number, txCarried: number) => void): void {
    for (let i = 0; i < this.count; i++) {
      const slot = this.heap[i] as number;
      if (this.msg[slot]) fn(this.target[slot] as number, this.carried[slot] as number, this.txCarried[slot] as number);
    }
  }

  /**
   * The earliest time among pending messages to `target` or carrying a guest's frames (txCarried > 0), each
   * separately (Infinity: none). Lockstep's promises (partition-engine.ts): a scan, once per window.
   */
  earliestTxAndFor(target: number): { readonly tx: Nanos; readonly target: Nanos } {
    let tx = Infinity;
    let at = Infinity;
    for (let i = 0; i < this.count; i++) {
      const slot = this.heap[i] as number;
      const t = this.time[slot] as number;
      if (t < tx && (this.txCarried[slot] as number) > 0) tx = t;
      if (t < at && this.target[slot] === target) at = t;
    }
    return { tx, target: at };
  }

  /** Visit every pending message (for accounting of packets on links). */
  forEachMessage(fn: (m: Message) => void): void {
    for (let i = 0; i < this.count; i++) {
      const m = this.msg[this.heap[i] as number];
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

  /** Double every column (slots keep their numbers). */
  private grow(): void {
    const cap = this.time.length * 2;
    this.time = widerF64(this.time, cap);
    this.origin = widerF64(this.origin, cap);
    this.target = widerI32(this.target, cap);
    this.tag = widerF64(this.tag, cap);
    this.carried = widerF64(this.carried, cap);
    this.txCarried = widerF64(this.txCarried, cap);
    this.free = widerI32(this.free, cap);
    this.heap = widerI32(this.heap, cap);
    for (let i = this.msg.length; i < cap; i++) this.msg.push(null);
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
