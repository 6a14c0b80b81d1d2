// The FIFO of adopted batches: packets in order across batches, batches back to the pool only once emptied.
import test from 'ava';
import { BatchFifo, BatchPool, tcpColumnsOf, TCP_HAS_SEGMENT, type MutableBatch } from '../src/index.js';

/** A pool batch of n packets: flow = first + k, seq = 100 + first + k, len = 64 + k, emittedAt = 1000 · (first + k). */
function batchOf(pool: BatchPool, first: number, n: number): MutableBatch {
  const b = pool.take(n);
  for (let k = 0; k < n; k++) {
    b.flow[k] = first + k;
    b.seq[k] = 100 + first + k;
    b.len[k] = 64 + k;
    b.emittedAt[k] = 1000 * (first + k);
  }
  b.count = n;
  return b;
}

test('batch fifo - packets read in arrival order across the batches adopted, by accessor and by segment', (t) => {
  const pool = new BatchPool();
  const f = new BatchFifo(pool);
  f.adopt(batchOf(pool, 0, 3));
  f.adopt(pool.take(4)); // an empty batch holds nothing
  f.adopt(batchOf(pool, 3, 5));
  t.is(f.length, 8);
  t.is(f.segments, 2);
  t.deepEqual(
    Array.from({ length: 8 }, (_, k) => [f.flowAt(k), f.seqAt(k), f.atAt(k)]),
    Array.from({ length: 8 }, (_, k) => [k, 100 + k, 1000 * k]),
  );
  t.is(f.lenAt(3), 64); // the second batch's first packet
  t.is(f.lenAt(8), 0); // no such packet
  f.discard(2);
  t.is(f.headIndex, 2);
  t.is(f.segment(0).flow[f.headIndex], 2);
  t.is(f.flowAt(0), 2);
  t.is(f.flowAt(1), 3);
});

test('batch fifo - a batch goes back to the pool when its last packet is discarded, not before', (t) => {
  const pool = new BatchPool();
  const f = new BatchFifo(pool);
  const a = batchOf(pool, 0, 16);
  const b = batchOf(pool, 16, 16);
  f.adopt(a);
  f.adopt(b);
  f.discard(15);
  t.not(pool.take(16), a, 'a still holds a packet');
  f.discard(1);
  t.is(pool.take(16), a);
  f.discard(20); // more than it holds: everything
  t.is(f.length, 0);
  t.is(f.segments, 0);
  t.is(pool.take(16), b);
});

test('batch fifo - grows past its initial room and keeps the order', (t) => {
  const pool = new BatchPool();
  const f = new BatchFifo(pool);
  for (let i = 0; i < 40; i++) f.adopt(batchOf(pool, 2 * i, 2));
  f.discard(3);
  for (let i = 40; i < 50; i++) f.adopt(batchOf(pool, 2 * i, 2));
  t.is(f.length, 97);
  t.deepEqual(
    Array.from({ length: 97 }, (_, k) => f.flowAt(k)),
    Array.from({ length: 97 }, (_, k) => k + 3),
  );
  f.clear();
  t.is(f.length, 0);
});

test('batch fifo - a packet’s TCP header is read from its batch', (t) => {
  const pool = new BatchPool();
  const f = new BatchFifo(pool);
  const b = batchOf(pool, 0, 2);
  const cols = tcpColumnsOf(b);
  cols.seq[1] = 7;
  cols.payload[1] = 1448;
  cols.flags[1] = TCP_HAS_SEGMENT;
  f.adopt(b);
  t.is(f.tcpAt(0), undefined);
  t.deepEqual(f.tcpAt(1), { seq: 7, payload: 1448, ack: 0, window: 0, flags: TCP_HAS_SEGMENT });
});
