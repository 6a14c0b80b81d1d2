// TCP header columns beside packet descriptors: they follow their frames through FIFOs, batches and copies, and frames without one stay without.
import test from 'ava';
import { BatchPool, copyPacket, PacketFifo, takeBatch, TCP_HAS_ACK, TCP_HAS_SEGMENT, tcpColumnsOf, tcpEntry, type TcpHeader } from '../src/index.js';

const header = (i: number): TcpHeader => ({ seq: 2 ** 40 + i * 1448, payload: 1448, ack: i, window: 65_536 - i, flags: TCP_HAS_SEGMENT | TCP_HAS_ACK });

test('tcp columns - a FIFO keeps each frame’s header through growth and hands it on in the batch it shifts out', (t) => {
  const f = new PacketFifo(16);
  for (let i = 0; i < 100; i++) {
    if (i % 3 === 0) f.pushHeader(i, i, 1518, i, header(i));
    else f.push(i, i, 1518, i); // open-loop frames beside them
  }
  t.deepEqual(f.tcpAt(3), header(3));
  t.is(f.tcpAt(4), undefined);
  f.discard(10);
  const b = f.shiftBatch(50, new BatchPool());
  for (let k = 0; k < 50; k++) {
    const i = k + 10;
    t.deepEqual(tcpEntry(b.tcp, k), i % 3 === 0 ? header(i) : undefined, `frame ${i}`);
  }
  t.deepEqual(f.tcpAt(0), header(60));
});

test('tcp columns - a plain push over a slot that held a header leaves the new frame without one', (t) => {
  const f = new PacketFifo(16);
  f.pushHeader(0, 0, 100, 0, header(0));
  f.discard(1);
  for (let i = 0; i < 16; i++) f.push(i, i, 100, i); // wraps onto the slot the header used
  for (let k = 0; k < 16; k++) t.is(f.tcpAt(k), undefined, `frame ${k}`);
});

test('tcp columns - copyPacket carries a header, clears one in the destination for a frame without, and a pooled batch comes back without columns', (t) => {
  const src = takeBatch(4);
  src.count = 2;
  tcpColumnsOf(src);
  const h = header(7);
  const cols = tcpColumnsOf(src);
  cols.seq[0] = h.seq;
  cols.payload[0] = h.payload;
  cols.ack[0] = h.ack;
  cols.window[0] = h.window;
  cols.flags[0] = h.flags;
  const dst = takeBatch(4);
  copyPacket(src, 0, dst, 0);
  copyPacket(src, 1, dst, 1);
  t.deepEqual(tcpEntry(dst.tcp, 0), h);
  t.is(tcpEntry(dst.tcp, 1), undefined);
  const pool = new BatchPool();
  const b = pool.take(16);
  tcpColumnsOf(b).flags[0] = TCP_HAS_SEGMENT;
  pool.release(b);
  t.is(pool.take(16).tcp, undefined);
});

test('tcp columns - a frame inserted by time goes before the later frames with its header, equal times keeping their order', (t) => {
  const f = new PacketFifo(16);
  for (let i = 0; i < 20; i++) f.push(i, i, 1518, i * 10);
  f.insertHeaderByTime(99, 0, 70, 55, header(1));
  f.insertHeaderByTime(98, 0, 70, 60, header(2));
  const order = Array.from({ length: f.length }, (_, k) => [f.flowAt(k), f.atAt(k)]);
  t.deepEqual(order.slice(5, 9), [
    [5, 50],
    [99, 55],
    [6, 60],
    [98, 60],
  ]);
  t.deepEqual(f.tcpAt(6), header(1));
  t.deepEqual(f.tcpAt(8), header(2));
  t.is(f.tcpAt(7), undefined);
  for (let k = 1; k < f.length; k++) t.true(f.atAt(k - 1) <= f.atAt(k));
});

test('tcp columns - a pooled batch that carries segments again reuses its former columns with every entry cleared', (t) => {
  const pool = new BatchPool();
  const b = pool.take(16);
  const cols = tcpColumnsOf(b);
  for (let k = 0; k < 16; k++) {
    const h = header(k);
    cols.seq[k] = h.seq;
    cols.payload[k] = h.payload;
    cols.ack[k] = h.ack;
    cols.window[k] = h.window;
    cols.flags[k] = h.flags;
  }
  pool.release(b);
  const again = pool.take(16);
  t.is(again, b);
  t.is(again.tcp, undefined);
  const reused = tcpColumnsOf(again);
  t.is(reused, cols);
  for (const col of [reused.seq, reused.payload, reused.ack, reused.window, reused.flags]) t.deepEqual([...col], new Array<number>(16).fill(0));
});

test('tcp columns - pushOldest and pushBatch copy headers as pushFrom does frame by frame, across wrap and growth, and clear them for frames without', (t) => {
  const src = new PacketFifo(16);
  src.push(900, 0, 60, 0); // the head moves off 0, so the copies wrap
  src.discard(1);
  for (let i = 0; i < 40; i++) {
    if (i % 4 === 1) src.push(i, i, 60, i);
    else src.pushHeader(i, i, 1518, i, header(i));
  }
  const oneByOne = new PacketFifo(16);
  const batched = new PacketFifo(16);
  for (const f of [oneByOne, batched]) {
    f.pushHeader(0, 0, 100, 0, header(99)); // an old header in a slot the copies wrap onto
    for (let i = 0; i < 5; i++) f.push(i, i, 100, i);
    f.discard(6);
  }
  for (let k = 0; k < 40; k++) oneByOne.pushFrom(src, k);
  batched.pushOldest(src, 40);
  const plain = new PacketFifo(16); // a FIFO with no TCP columns yet takes a batch that has them
  const b = src.shiftBatch(40, new BatchPool());
  plain.pushBatch(b, 3, 30);
  t.is(batched.length, 40);
  for (let k = 0; k < 40; k++) {
    t.deepEqual(batched.tcpAt(k), oneByOne.tcpAt(k), `pushOldest frame ${k}`);
    t.deepEqual(batched.tcpAt(k), k % 4 === 1 ? undefined : header(k), `frame ${k}`);
    t.is(batched.flowAt(k), k);
  }
  for (let k = 0; k < 27; k++) t.deepEqual(plain.tcpAt(k), tcpEntry(b.tcp, k + 3), `pushBatch frame ${k}`);
  const open = new PacketFifo(16); // a batch without columns into a FIFO with them: no header on its frames
  open.pushHeader(0, 0, 100, 0, header(0));
  const none = takeBatch(4);
  none.count = 4;
  open.pushBatch(none);
  for (let k = 1; k < 5; k++) t.is(open.tcpAt(k), undefined, `open-loop frame ${k}`);
});
