// Recycles packet batches between the actors of one runtime or live host, so the hot path does not allocate typed arrays per batch.
import type { PacketBatch } from './messages.js';
import { allocTcpColumns, clearTcpColumns, copyTcpEntry, type TcpColumns } from './tcp-columns.js';

/** A batch whose columns may be longer than `count` (its capacity); only [0, count) is meaningful. */
export interface MutableBatch extends PacketBatch {
  count: number;
  tcp?: TcpColumns | undefined;
  /**
   * The TCP columns the batch carried before it went back to its pool, kept for the next time it carries segments:
   * allocating five typed arrays per batch was a third of a bulk-TCP run's CPU, and its garbage another seventh.
   */
  spareTcp?: TcpColumns | undefined;
}

/** The batch's TCP columns, made (entries cleared) when it has none yet: call before writing entry j of a frame that carries a segment. */
export function tcpColumnsOf(b: MutableBatch): TcpColumns {
  if (b.tcp === undefined) {
    const spare = b.spareTcp;
    if (spare === undefined) b.tcp = allocTcpColumns(b.flow.length);
    else {
      clearTcpColumns(spare);
      b.spareTcp = undefined;
      b.tcp = spare;
    }
  }
  return b.tcp;
}

/** Copy packet i of `src` into entry j of `dst` (descriptor and, when either has them, TCP fields). */
export function copyPacket(src: PacketBatch, i: number, dst: MutableBatch, j: number): void {
  dst.flow[j] = src.flow[i] as number;
  dst.seq[j] = src.seq[i] as number;
  dst.len[j] = src.len[i] as number;
  dst.emittedAt[j] = src.emittedAt[i] as number;
  if (src.tcp !== undefined) copyTcpEntry(src.tcp, i, tcpColumnsOf(dst), j);
  else if (dst.tcp !== undefined) dst.tcp.flags[j] = 0;
}

const MAX_FREE_PER_CLASS = 4096;

function classOf(capacity: number): number {
  let c = 4;
  while (1 << c < capacity) c++;
  return c;
}

/** A new batch of capacity class c (capacity 2^c), count 0. */
function allocate(c: number): MutableBatch {
  const cap = 1 << c;
  return {
    count: 0,
    flow: new Uint32Array(cap),
    seq: new Uint32Array(cap),
    len: new Uint16Array(cap),
    emittedAt: new Float64Array(cap),
    tcp: undefined, // set here so that every batch has one shape, with TCP columns or without
    spareTcp: undefined,
  };
}

/**
 * Free batches by capacity class (class c holds capacity 2^c). One pool serves the actors that pass
 * batches to each other in memory: every actor of a sim run (the actor graph's pool, which the runtime
 * shares), or the actors, decoders and send path of one live host. Results never depend on whether a
 * batch was recycled.
 */
export class BatchPool {
  private readonly free: MutableBatch[][] = [];

  /**
   * A batch with room for at least `capacity` packets and count 0. The owner (the receiver of the
   * message that carried it) may give it back with `release` once it has copied the packets out.
   */
  take(capacity: number): MutableBatch {
    const c = classOf(capacity);
    const b = this.free[c]?.pop();
    if (b === undefined) return allocate(c);
    b.count = 0;
    if (b.tcp !== undefined) b.spareTcp = b.tcp; // same capacity class: reused by tcpColumnsOf
    b.tcp = undefined; // a fresh batch carries no segments
    return b;
  }

  /** Give a batch back. The caller must hold the only reference to it. */
  release(b: PacketBatch): void {
    const cap = b.flow.length;
    if (cap < 16 || (cap & (cap - 1)) !== 0) return; // not a pool size (e.g. an exact-length batch a test built)
    const c = classOf(cap);
    let list = this.free[c];
    if (list === undefined) {
      list = [];
      this.free[c] = list;
    }
    if (list.length < MAX_FREE_PER_CLASS) list.push(b as MutableBatch);
  }
}

/** A new batch with room for at least `capacity` packets, from no pool (tests and tools that build messages by hand). */
export function takeBatch(capacity: number): MutableBatch {
  return allocate(classOf(capacity));
}
