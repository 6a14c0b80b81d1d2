// A growable columnar FIFO of packet descriptors: the queues inside actors (NIC rings, backlogs, guest rings).
import { tcpColumnsOf, type BatchPool } from './batch-pool.js';
import type { PacketBatch } from './messages.js';
import { allocTcpColumns, copyTcpEntry, setTcpEntry, tcpEntry, type TcpColumns, type TcpHeader } from './tcp-columns.js';
import type { Nanos } from './time.js';

/** Exchange entries a and b of one column. */
function swapAt(c: { [i: number]: number }, a: number, b: number): void {
  const x = c[a] as number;
  c[a] = c[b] as number;
  c[b] = x;
}

/**
 * Packets kept column by column in power-of-two ring buffers so that pushing and popping never
 * allocates per packet; the buffers double when full (amortised, bounded by the owner's limits).
 */
export class PacketFifo {
  private flow: Uint32Array;
  private seq: Uint32Array;
  private len: Uint16Array;
  private at: Float64Array;
  /** TCP header fields, made when the first frame carrying a segment is pushed (most FIFOs never hold one). */
  private tcp: TcpColumns | undefined = undefined;
  private mask: number;
  private head = 0;
  private tail = 0;

  constructor(initialCapacity = 64) {
    let cap = 16;
    while (cap < initialCapacity) cap *= 2;
    this.flow = new Uint32Array(cap);
    this.seq = new Uint32Array(cap);
    this.len = new Uint16Array(cap);
    this.at = new Float64Array(cap);
    this.mask = cap - 1;
  }

  get length(): number {
    return this.tail - this.head;
  }

  push(flow: number, seq: number, len: number, at: Nanos): void {
    if (this.tail - this.head > this.mask) this.grow();
    const i = this.tail & this.mask;
    this.flow[i] = flow;
    this.seq[i] = seq;
    this.len[i] = len;
    this.at[i] = at;
    if (this.tcp !== undefined) this.tcp.flags[i] = 0;
    this.tail++;
  }

  /** Append a packet with the TCP header of entry `i` of `tcp` (absent: none). */
  pushWithTcp(flow: number, seq: number, len: number, at: Nanos, tcp: TcpColumns | undefined, i: number): void {
    this.push(flow, seq, len, at);
    if (tcp === undefined) return;
    if (this.tcp === undefined) this.tcp = allocTcpColumns(this.mask + 1);
    copyTcpEntry(tcp, i, this.tcp, (this.tail - 1) & this.mask);
  }

  /** Append a packet carrying the TCP header `h`. */
  pushHeader(flow: number, seq: number, len: number, at: Nanos, h: TcpHeader): void {
    this.push(flow, seq, len, at);
    if (this.tcp === undefined) this.tcp = allocTcpColumns(this.mask + 1);
    setTcpEntry(this.tcp, (this.tail - 1) & this.mask, h);
  }

  /**
   * Add a frame carrying `h` in `at` order: appended, then moved back past the frames due after it (equal times
   * keep their order). For a FIFO of future arrivals into which frames of another source are generated ahead.
   */
  insertHeaderByTime(flow: number, seq: number, len: number, at: Nanos, h: TcpHeader): void {
    this.pushHeader(flow, seq, len, at, h);
    for (let k = this.length - 1; k > 0 && this.atAt(k - 1) > at; k--) this.swap(k - 1, k);
  }

  /** Add packet `i` of `tcp`'s batch (its TCP header when it has one) in `at` order, like insertHeaderByTime. */
  insertByTime(flow: number, seq: number, len: number, at: Nanos, tcp: TcpColumns | undefined, i: number): void {
    this.pushWithTcp(flow, seq, len, at, tcp, i);
    for (let k = this.length - 1; k > 0 && this.atAt(k - 1) > at; k--) this.swap(k - 1, k);
  }

  /** Exchange the k-th and j-th packets from the head, TCP fields included. */
  private swap(k: number, j: number): void {
    const a = (this.head + k) & this.mask;
    const b = (this.head + j) & this.mask;
    swapAt(this.flow, a, b);
    swapAt(this.seq, a, b);
    swapAt(this.len, a, b);
    swapAt(this.at, a, b);
    const tcp = this.tcp;
    if (tcp === undefined) return;
    swapAt(tcp.seq, a, b);
    swapAt(tcp.payload, a, b);
    swapAt(tcp.ack, a, b);
    swapAt(tcp.window, a, b);
    swapAt(tcp.flags, a, b);
  }

  /** Append the k-th packet from the head of another FIFO, with its TCP header if it has one. */
  pushFrom(src: PacketFifo, k: number): void {
    this.pushWithTcp(src.flowAt(k), src.seqAt(k), src.lenAt(k), src.atAt(k), src.tcp, (src.head + k) & src.mask);
  }

  /**
   * Append packets [from, to) of a batch (room made once, the columns read once: a batch is the hot path's unit).
   * Frames with TCP headers take the per-packet way, which copies them.
   */
  pushBatch(b: PacketBatch, from = 0, to = b.count): void {
    const n = to - from;
    if (n <= 0) return;
    const tcp = b.tcp;
    if (tcp !== undefined || this.tcp !== undefined) {
      for (let k = from; k < to; k++) this.pushWithTcp(b.flow[k] ?? 0, b.seq[k] ?? 0, b.len[k] ?? 0, b.emittedAt[k] ?? 0, tcp, k);
      return;
    }
    while (this.tail - this.head + n > this.mask + 1) this.grow();
    const { flow, seq, len, emittedAt } = b;
    const dFlow = this.flow;
    const dSeq = this.seq;
    const dLen = this.len;
    const dAt = this.at;
    const m = this.mask;
    let t = this.tail;
    for (let k = from; k < to; k++, t++) {
      const i = t & m;
      dFlow[i] = flow[k] ?? 0;
      dSeq[i] = seq[k] ?? 0;
      dLen[i] = len[k] ?? 0;
      dAt[i] = emittedAt[k] ?? 0;
    }
    this.tail = t;
  }

  /** Append the n oldest packets of `src` (which keeps them: the caller discards them there), TCP headers included. */
  pushOldest(src: PacketFifo, n: number): void {
    if (n <= 0) return;
    if (src.tcp !== undefined || this.tcp !== undefined) {
      for (let k = 0; k < n; k++) this.pushFrom(src, k);
      return;
    }
    while (this.tail - this.head + n > this.mask + 1) this.grow();
    const sm = src.mask;
    const dm = this.mask;
    let s = src.head;
    let t = this.tail;
    for (let k = 0; k < n; k++, s++, t++) {
      const i = s & sm;
      const j = t & dm;
      this.flow[j] = src.flow[i] as number;
      this.seq[j] = src.seq[i] as number;
      this.len[j] = src.len[i] as number;
      this.at[j] = src.at[i] as number;
    }
    this.tail = t;
  }

  /** The TCP header of the k-th packet from the head, or undefined when it carries no segment. */
  tcpAt(k: number): TcpHeader | undefined {
    return this.tcp === undefined ? undefined : tcpEntry(this.tcp, (this.head + k) & this.mask);
  }

  /**
   * Where the k-th packet's TCP fields are: entry `tcpIndex(k)` of `tcpColumns` (undefined: no packet pushed so far
   * carried a segment). For readers that take the fields as they are, without a header object per packet.
   */
  get tcpColumns(): TcpColumns | undefined {
    return this.tcp;
  }
  tcpIndex(k: number): number {
    return (this.head + k) & this.mask;
  }

  /** Field accessors for the k-th packet from the head (0 = oldest). */
  flowAt(k: number): number {
    return this.flow[(this.head + k) & this.mask] ?? 0;
  }
  seqAt(k: number): number {
    return this.seq[(this.head + k) & this.mask] ?? 0;
  }
  lenAt(k: number): number {
    return this.len[(this.head + k) & this.mask] ?? 0;
  }
  atAt(k: number): Nanos {
    return this.at[(this.head + k) & this.mask] ?? 0;
  }

  /** Drop the newest packets, keeping the `keep` oldest. */
  truncate(keep: number): void {
    if (keep < this.length) this.tail = this.head + Math.max(keep, 0);
  }

  /** Drop the n oldest packets. */
  discard(n: number): void {
    this.head += Math.min(n, this.length);
    this.normalize();
  }

  /** The bytes of the packets the last `shiftBatch` removed. */
  shiftedBytes = 0;

  /** Remove the n oldest packets into a batch from `pool` (their bytes then in `shiftedBytes`). */
  shiftBatch(n: number, pool: BatchPool): PacketBatch {
    const count = Math.min(n, this.length);
    const b = pool.take(count);
    const { flow, seq, len, emittedAt } = b;
    const m = this.mask;
    let h = this.head;
    let bytes = 0;
    for (let k = 0; k < count; k++, h++) {
      const i = h & m;
      flow[k] = this.flow[i] as number;
      seq[k] = this.seq[i] as number;
      const l = this.len[i] as number;
      len[k] = l;
      bytes += l;
      emittedAt[k] = this.at[i] as number;
    }
    this.shiftedBytes = bytes;
    const tcp = this.tcp;
    if (tcp !== undefined) {
      const cols = tcpColumnsOf(b);
      for (let k = 0, hh = this.head; k < count; k++, hh++) copyTcpEntry(tcp, hh & m, cols, k);
    }
    b.count = count;
    this.head = h;
    this.normalize();
    return b;
  }

  /**
   * How many packets at the head have `at` ≤ t (a FIFO in `at` order: the arrivals by t), counted in one pass with
   * their bytes, which `arrivedBytes` holds afterwards.
   */
  arrivedBy(t: Nanos): number {
    const m = this.mask;
    const at = this.at;
    const len = this.len;
    let h = this.head;
    let bytes = 0;
    while (h < this.tail) {
      const i = h & m;
      if ((at[i] as number) > t) break;
      bytes += len[i] as number;
      h++;
    }
    this.arrivedBytes = bytes;
    return h - this.head;
  }
  /** The bytes of the packets the last `arrivedBy` counted. */
  arrivedBytes = 0;

  /** Sum of lengths of the n oldest packets. */
  bytesOf(n: number): number {
    let s = 0;
    const m = this.mask;
    const end = this.head + Math.min(n, this.length);
    for (let h = this.head; h < end; h++) s += this.len[h & m] ?? 0;
    return s;
  }

  clear(): void {
    this.head = 0;
    this.tail = 0;
  }

  private normalize(): void {
    // Keep indices small so they never lose integer precision in very long runs.
    if (this.head === this.tail) {
      this.head = 0;
      this.tail = 0;
    } else if (this.head > 0x40000000) {
      const cap = this.mask + 1;
      const base = this.head - (this.head % cap);
      this.head -= base;
      this.tail -= base;
    }
  }

  private grow(): void {
    const oldCap = this.mask + 1;
    const cap = oldCap * 2;
    const flow = new Uint32Array(cap);
    const seq = new Uint32Array(cap);
    const len = new Uint16Array(cap);
    const at = new Float64Array(cap);
    const tcp = this.tcp === undefined ? undefined : allocTcpColumns(cap);
    const n = this.length;
    for (let k = 0; k < n; k++) {
      const i = (this.head + k) & this.mask;
      flow[k] = this.flow[i] ?? 0;
      seq[k] = this.seq[i] ?? 0;
      len[k] = this.len[i] ?? 0;
      at[k] = this.at[i] ?? 0;
      if (tcp !== undefined) copyTcpEntry(this.tcp, i, tcp, k);
    }
    this.tcp = tcp;
    this.flow = flow;
    this.seq = seq;
    this.len = len;
    this.at = at;
    this.mask = cap - 1;
    this.head = 0;
    this.tail = n;
  }
}
