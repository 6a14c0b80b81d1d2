// A binary min-heap of pending events ordered by (time, insertion sequence): deterministic ties.
import type { Message, Nanos } from '@splitnet/model';

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
  private time: number[] = doubleArray();
  private seq: number[] = [];
  private target: number[] = [];
  private tag: number[] = doubleArray(); // actors' tags carry generations that outgrow small integers too
  private msg: (Message | null)[] = [];
  private free: number[] = [];
  private heap: number[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Schedule a message delivery (msg ≠ null) or a timer (msg = null, tag) for actor `target`. */
  push(time: Nanos, target: number, msg: Message | null, tag: number): void {
    let slot: number;
    if (this.free.length > 0) {
      slot = this.free.pop() as number;
      this.time[slot] = time;
      this.seq[slot] = this.nextSeq++;
      this.target[slot] = target;
      this.tag[slot] = tag;
      this.msg[slot] = msg;
    } else {
      slot = this.time.length;
      this.time.push(time);
      this.seq.push(this.nextSeq++);
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

  /** Insertion sequence of a slot (events pushed later have larger numbers). */
  slotSeq(slot: number): number {
    return this.seq[slot] as number;
  }

  /** The sequence number the next push will get. */
  get nextSequence(): number {
    return this.nextSeq;
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

  private less(a: number, b: number): boolean {
    const ta = this.time[a] as number;
    const tb = this.time[b] as number;
    return ta < tb || (ta === tb && (this.seq[a] as number) < (this.seq[b] as number));
  }
}
