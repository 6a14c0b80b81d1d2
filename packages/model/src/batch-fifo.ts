// A FIFO of packet batches kept as they came (no copy): responses in a guest RX ring waiting for NAPI to consume them.
import type { BatchPool } from './batch-pool.js';
import type { PacketBatch } from './messages.js';
import { tcpEntry, type TcpHeader } from './tcp-columns.js';
import type { Nanos } from './time.js';

const EMPTY: PacketBatch = { count: 0, flow: new Uint32Array(0), seq: new Uint32Array(0), len: new Uint16Array(0), emittedAt: new Float64Array(0) };

/**
 * Packets held in the batches that brought them, oldest first: a receiver that takes a batch over (`adopt`) instead
 * of copying its packets into a PacketFifo saves one copy per packet; a batch goes back to the pool once every packet
 * in it has been discarded. Readers that walk the packets in order use `segments`/`segment`/`headIndex` (one batch
 * at a time, no per-packet search); the per-packet accessors find the batch first (for the odd reader, not for
 * loops).
 */
export class BatchFifo {
  /** The batches, in a power-of-two ring: [first, first + count). */
  private ring: (PacketBatch | null)[] = new Array<PacketBatch | null>(16).fill(null);
  private mask = 15;
  private first = 0;
  private count = 0;
  /** Packets of the first batch already taken. */
  private head = 0;
  private total = 0;

  constructor(private readonly pool: BatchPool) {}

  /** Packets held. */
  get length(): number {
    return this.total;
  }

  /** Take batch b over: its packets join the tail; the FIFO owns it from now on (the caller must not release it). */
  adopt(b: PacketBatch): void {
    if (b.count === 0) {
      this.pool.release(b);
      return;
    }
    if (this.count > this.mask) this.grow();
    this.ring[(this.first + this.count) & this.mask] = b;
    this.count++;
    this.total += b.count;
  }

  /** Batches holding packets: segment(0) is the oldest, its first packet at `headIndex`. */
  get segments(): number {
    return this.count;
  }
  segment(i: number): PacketBatch {
    return this.ring[(this.first + i) & this.mask] as PacketBatch;
  }
  /** Index in segment(0) of the oldest packet. */
  get headIndex(): number {
    return this.head;
  }

  /** Drop the n oldest packets; batches emptied go back to the pool. */
  discard(n: number): void {
    let left = n < this.total ? n : this.total;
    this.total -= left;
    while (left > 0) {
      const i = this.first & this.mask;
      const b = this.ring[i] as PacketBatch;
      const rest = b.count - this.head;
      if (left < rest) {
        this.head += left;
        return;
      }
      left -= rest;
      this.ring[i] = null;
      this.first = (this.first + 1) & this.mask;
      this.count--;
      this.head = 0;
      this.pool.release(b);
    }
  }

  /** Drop every packet. */
  clear(): void {
    this.discard(this.total);
  }

  /** Field accessors for the k-th packet from the head (0 = oldest; 0 when there is no such packet). */
  flowAt(k: number): number {
    return this.locate(k) ? (this.found.flow[this.foundAt] as number) : 0;
  }
  seqAt(k: number): number {
    return this.locate(k) ? (this.found.seq[this.foundAt] as number) : 0;
  }
  lenAt(k: number): number {
    return this.locate(k) ? (this.found.len[this.foundAt] as number) : 0;
  }
  atAt(k: number): Nanos {
    return this.locate(k) ? (this.found.emittedAt[this.foundAt] as number) : 0;
  }
  /** The TCP header of the k-th packet from the head, or undefined when it carries no segment. */
  tcpAt(k: number): TcpHeader | undefined {
    return this.locate(k) ? tcpEntry(this.found.tcp, this.foundAt) : undefined;
  }

  /** locate's answer: the batch and the index in it. */
  private found: PacketBatch = EMPTY;
  private foundAt = 0;

  /** Find the k-th packet from the head (false: none). */
  private locate(k: number): boolean {
    if (!(k >= 0 && k < this.total)) return false;
    let j = k + this.head;
    for (let s = 0; ; s++) {
      const b = this.segment(s);
      if (j < b.count) {
        this.found = b;
        this.foundAt = j;
        return true;
      }
      j -= b.count;
    }
  }

  private grow(): void {
    const cap = (this.mask + 1) * 2;
    const ring = new Array<PacketBatch | null>(cap).fill(null);
    for (let s = 0; s < this.count; s++) ring[s] = this.segment(s);
    this.ring = ring;
    this.mask = cap - 1;
    this.first = 0;
  }
}
