// The vif's qdiscs on their own: pfifo_fast's tail drop, fq_codel's flow fairness, fattest-flow drop and CoDel.
import test from 'ava';
import { FqCodel, PfifoFast, XENVIF_QUEUE_LENGTH, type QueuedPacket } from '../src/qdisc.js';

const pkt = (flow: number, seq: number, at = 0, len = 1000): QueuedPacket => ({ flow, seq, len, emittedAt: at, enqueuedAt: at });
/** Hashes whose top 10 bits (fq_codel's bucket) differ: flow 0 → bucket 0, flow 1 → bucket 512. */
const HASH = [0x0000_0000, 0x8000_0000];

test('qdisc - pfifo_fast keeps tx_queue_len (32) packets in order and tail-drops the rest', (t) => {
  const q = new PfifoFast();
  for (let i = 0; i < 40; i++) q.enqueue(pkt(0, i));
  t.is(XENVIF_QUEUE_LENGTH, 32);
  t.is(q.length, 32);
  t.is(q.drops.overlimit, 8);
  const out: number[] = [];
  for (let p = q.dequeue(); p !== undefined; p = q.dequeue()) out.push(p.seq);
  t.deepEqual(
    out,
    Array.from({ length: 32 }, (_, i) => i),
  );
});

test('qdisc - fq_codel serves a second flow within one quantum of the first, not behind its whole backlog', (t) => {
  const q = new FqCodel();
  for (let i = 0; i < 10; i++) q.enqueue(pkt(0, i), HASH[0] as number);
  q.enqueue(pkt(1, 0), HASH[1] as number);
  q.enqueue(pkt(1, 1), HASH[1] as number);
  const order: string[] = [];
  for (let p = q.dequeue(0); p !== undefined; p = q.dequeue(0)) order.push(`${p.flow}:${p.seq}`);
  // Flow 0 spends its 1514-byte quantum on two 1000-byte packets, then flow 1 (also new) gets its turn.
  t.deepEqual(order.slice(0, 4), ['0:0', '0:1', '1:0', '1:1']);
  t.is(order.length, 12);
});

test('qdisc - fq_codel over its limit drops from the head of the fattest flow until half its bytes are gone', (t) => {
  const q = new FqCodel(10);
  q.enqueue(pkt(1, 0), HASH[1] as number);
  for (let i = 0; i < 10; i++) q.enqueue(pkt(0, i), HASH[0] as number);
  // The 11th packet: flow 0 holds 10,000 bytes; 5 packets (5,000 bytes) go from its head.
  t.is(q.drops.overlimit, 5);
  t.is(q.length, 6);
  const seqs: string[] = [];
  for (let p = q.dequeue(0); p !== undefined; p = q.dequeue(0)) seqs.push(`${p.flow}:${p.seq}`);
  t.deepEqual(seqs, ['1:0', '0:5', '0:6', '0:7', '0:8', '0:9']);
});

test("qdisc - fq_codel's CoDel drops only after the sojourn time stayed above 5 ms for 100 ms", (t) => {
  const q = new FqCodel();
  // A standing queue: 400 packets at t = 0, one dequeued per millisecond: every sojourn time exceeds 5 ms from the 6th on.
  for (let i = 0; i < 400; i++) q.enqueue(pkt(0, i), HASH[0] as number);
  let firstDropAt = -1;
  for (let ms = 0; ms < 300 && q.length > 0; ms++) {
    q.dequeue(ms * 1e6);
    if (firstDropAt < 0 && q.drops.congested > 0) firstDropAt = ms;
  }
  // Above target first seen at 5 ms; dropping may start once now > 5 ms + 100 ms.
  t.is(firstDropAt, 106);
  t.true(q.drops.congested >= 2, `${q.drops.congested}`);
});
