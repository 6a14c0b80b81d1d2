// Recycles packet batches between actors in one process so the hot path does not allocate typed arrays per batch.
import type { PacketBatch } from './messages.js';

/** A batch whose columns may be longer than `count` (its capacity); only [0, count) is meaningful. */
export interface MutableBatch extends PacketBatch {
  count: number;
}

const MAX_FREE_PER_CLASS = 4096;
/** Free batches by capacity class: class c holds capacity 2^c. */
const free: MutableBatch[][] = [];

function classOf(capacity: number): number {
  let c = 4;
  while (1 << c < capacity) c++;
  return c;
}

/**
 * A batch with room for at least `capacity` packets and count 0. Batches come from a pool; the
 * owner (the receiver of the message that carried it) may give it back with `releaseBatch` once it
 * has copied the packets out. Results never depend on whether a batch was recycled.
 */
export function takeBatch(capacity: number): MutableBatch {
  const c = classOf(capacity);
  const list = free[c];
  const b = list?.pop();
  if (b !== undefined) {
    b.count = 0;
    return b;
  }
  const cap = 1 << c;
  return {
    count: 0,
    flow: new Uint32Array(cap),
    seq: new Uint32Array(cap),
    len: new Uint16Array(cap),
    emittedAt: new Float64Array(cap),
  };
}

/** Give a batch back to the pool. The caller must hold the only reference to it. */
export function releaseBatch(b: PacketBatch): void {
  const cap = b.flow.length;
  if (cap < 16 || (cap & (cap - 1)) !== 0) return; // not a pool size (e.g. an exact-length batch a test built)
  const c = classOf(cap);
  let list = free[c];
  if (list === undefined) {
    list = [];
    free[c] = list;
  }
  if (list.length < MAX_FREE_PER_CLASS) list.push(b as MutableBatch);
}
