// The NIC's transmit side: frames leave at line rate in the order they were posted, a full TX queue drops, TX-completion interrupts under moderation.
import test from 'ava';
import { RecordingEffects, takeBatch } from '@splitnet/model';
import type { PacketBatch, PolicySpec } from '@splitnet/model';
import { NicActor } from '../src/nic-actor.js';

/** One 1518-byte frame takes (1518 + 20) × 8 / 10 = 1230.4 ns of a 10 Gbit/s wire. */
const WIRE_1518 = 1230.4;
const DMA = 1000;

function frames(n: number, len = 1518): PacketBatch {
  const b = takeBatch(n);
  for (let i = 0; i < n; i++) {
    b.flow[i] = 0;
    b.seq[i] = i;
    b.len[i] = len;
    b.emittedAt[i] = 0;
  }
  b.count = n;
  return b;
}

function nic(policy: PolicySpec = { kind: 'none' }, ringSize = 512, queueLen = 1000): NicActor {
  return new NicActor({
    id: 'nic',
    backend: 1,
    queues: 2,
    ringSize,
    budget: 64,
    linkGbps: 10,
    generators: [],
    flowCount: 1,
    flowQueue: new Uint16Array([0]),
    policy,
    seed: 1,
    lookahead: 50_000,
    tx: { queues: 2, ringSize, queueLen, dma: DMA },
  });
}

test('nic tx - frames leave one after another at line rate, after the DMA, whatever TX queue posted them', (t) => {
  const fx = new RecordingEffects();
  const n = nic();
  n.receive({ kind: 'txpost', nicQueue: 0, batch: frames(2) }, 0, fx);
  n.receive({ kind: 'txpost', nicQueue: 1, batch: frames(1) }, 0, fx);
  t.is(n.report(DMA + 3 * WIRE_1518 - 1).tx?.onWire, 2, 'two frames are out just before the third one ends');
  const r = n.report(DMA + 3 * WIRE_1518);
  t.is(r.tx?.onWire, 3);
  t.is(r.tx?.onWireBytes, 3 * 1518);
  t.is(r.tx?.held, 0);
});

test('nic tx - beyond the descriptors and the qdisc a frame is dropped (nic-tx-queue-full)', (t) => {
  const fx = new RecordingEffects();
  const n = nic({ kind: 'none' }, 4, 2);
  n.receive({ kind: 'txpost', nicQueue: 0, batch: frames(10) }, 0, fx);
  const r = n.report(0);
  t.is(r.tx?.held, 6);
  t.is(r.tx?.drops?.['nic-tx-queue-full'], 4);
});

test('nic tx - without moderation a TX-completion interrupt hands each sent frame to the driver once it has left', (t) => {
  const fx = new RecordingEffects();
  const n = nic();
  n.receive({ kind: 'txpost', nicQueue: 0, batch: frames(1) }, 0, fx);
  fx.drain(n);
  const done = fx.of('txdone');
  t.is(done.length, 1);
  t.is(done[0]?.batch.count, 1);
  t.is(done[0]?.at, DMA + WIRE_1518);
  t.is(n.report(DMA + WIRE_1518).tx?.irqs, 1);
});

test('nic tx - a static 50 µs interrupt timer gathers the completions of a burst into one interrupt', (t) => {
  const fx = new RecordingEffects();
  const n = nic({ kind: 'static', usecs: 50, frames: 0 });
  n.receive({ kind: 'txpost', nicQueue: 0, batch: frames(20) }, 0, fx);
  fx.drain(n);
  const done = fx.of('txdone');
  t.is(done.length, 1, '20 frames leave within 25 µs: one interrupt 50 µs after the first completion');
  t.is(done[0]?.batch.count, 20);
  t.is(done[0]?.at, DMA + WIRE_1518 + 50_000);
});

test('nic tx - a link going down flushes the frames not yet gone to the driver (link-down), and drops what is posted while it is down', (t) => {
  const fx = new RecordingEffects();
  const n = nic();
  const flap = { id: 'f0', action: 'link-flap', params: {}, seed: 1 } as const;
  n.receive({ kind: 'txpost', nicQueue: 0, batch: frames(5) }, 0, fx);
  // Two frames have left by DMA + 2 wire times; the third is on the wire when the link goes down.
  const down = DMA + 2.5 * WIRE_1518;
  n.fault({ ...flap, phase: 'start' }, down, fx);
  let r = n.report(down);
  t.is(r.tx?.onWire, 2);
  t.is(r.tx?.held, 0);
  t.is(r.tx?.drops?.['link-down'], 3);
  // The flushed frames (seq 2, 3, 4) go to the driver at once, as a completion, so that their slots are returned.
  const handed = fx.sent.flatMap((s) => (s.msg.kind === 'txdone' && s.at === down ? [Array.from(s.msg.batch.seq.subarray(0, s.msg.batch.count))] : []));
  t.true(
    handed.some((seqs) => seqs.join() === '2,3,4'),
    JSON.stringify(handed),
  );
  n.receive({ kind: 'txpost', nicQueue: 1, batch: frames(4) }, down + 10, fx);
  r = n.report(down + 100_000);
  t.is(r.tx?.drops?.['link-down'], 7);
  t.is(r.tx?.onWire, 2);
  // Back up: a frame posted then leaves after its DMA and one wire time, nothing ahead of it.
  const up = down + 200_000;
  n.fault({ ...flap, phase: 'end' }, up, fx);
  n.receive({ kind: 'txpost', nicQueue: 0, batch: frames(1) }, up, fx);
  t.is(n.report(up + DMA + WIRE_1518 - 1).tx?.onWire, 2);
  t.is(n.report(up + DMA + WIRE_1518).tx?.onWire, 3);
});
