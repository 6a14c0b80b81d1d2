// The NIC on its own: frames on the wire, physical interrupt moderation, the NAPI handshake, ring-full drops.
import test from 'ava';
import { RecordingEffects } from '@splitnet/model';
import type { GeneratorSpec, Nanos, PolicySpec } from '@splitnet/model';
import { NicActor } from '../src/nic-actor.js';


// 1 Gbit/s of 1518-byte frames: one frame every 12,304 ns (1538 wire bytes).
const gen: GeneratorSpec = { name: 'g', pps: 1e9 / (1538 * 8), pattern: { kind: 'constant' }, size: { kind: 'fixed', bytes: 1518 }, firstFlow: 0, flows: 1, start: 0, stop: 1e9 };

function nic(policy: PolicySpec, ringSize = 512): NicActor {
  return new NicActor({ id: 'nic', backend: 1, queues: 1, ringSize, budget: 64, linkGbps: 10, generators: [gen], flowCount: 1, flowQueue: new Uint16Array([0]), policy, seed: 1, lookahead: 50_000 });
}

test('nic - without moderation every frame raises an interrupt when it arrives', (t) => {
  const fx = new RecordingEffects();
  const n = nic({ kind: 'none' });
  n.start(0, fx);
  fx.drain(n, 1_000_000);
  const d = fx.of('dma');
  t.true(d.length >= 80 && d.length <= 82, `${d.length} interrupts in 1 ms`);
  t.true(d.every((x) => x.irq && x.batch.count === 1));
  // Each DMA leaves exactly when its frame's last bit arrived.
  t.true(d.every((x) => x.at === x.batch.emittedAt[0]));
});

test('nic - static rx-usecs coalescing gathers frames for U µs after the first one', (t) => {
  const fx = new RecordingEffects();
  const n = nic({ kind: 'static', usecs: 100, frames: 0 });
  n.start(0, fx);
  fx.drain(n, 1_000_000);
  const d = fx.of('dma');
  t.true(d.length >= 9 && d.length <= 10, `${d.length} interrupts in 1 ms`);
  for (const x of d) {
    t.true(x.at - (x.batch.emittedAt[0] ?? 0) <= 100_000 + 1, 'fires within usecs of the first frame');
    t.true(x.batch.count >= 8 && x.batch.count <= 9);
  }
});

test('nic - a full-budget batch keeps the driver polling; frames beyond the ring are dropped and counted', (t) => {
  const fx = new RecordingEffects();
  const n = nic({ kind: 'static', usecs: 2000, frames: 0 }, 100);
  n.start(0, fx);
  fx.drain(n, 2_100_000);
  n.settle(2_100_000);
  const [first] = fx.of('dma');
  t.is(first?.batch.count, 64, 'the interrupt batch is capped at the NAPI budget');
  t.true(n.drops() > 0, 'the ring of 100 overflowed during 2 ms of 81 frames/ms');
  const held = n.heldPackets();
  // The driver polls again: it gets the rest of the ring, and the poll re-enables the interrupt.
  n.receive({ kind: 'poll', nicQueue: 0 }, 2_100_000, fx);
  const second = fx.of('dma')[1];
  t.is(second?.irq, false);
  t.is(second?.batch.count, Math.min(64, held));
  const dmaFrames = fx.of('dma').reduce((k, x) => k + x.batch.count, 0);
  t.is(n.emitted, dmaFrames + n.drops() + n.heldPackets(), 'every frame that reached the NIC is accounted for');
});

test('nic - a restarted NIC resumes the wire where it is: the frames before count as emitted, none is replayed, sequences go on', (t) => {
  // The NIC that ran from the start: the reference.
  const ref = new RecordingEffects();
  const a = nic({ kind: 'none' });
  a.start(0, ref);
  ref.drain(a, 2_000_000);
  a.settle(2_000_000);
  // A NIC restarted at 1 ms.
  const fx = new RecordingEffects();
  const b = nic({ kind: 'none' });
  b.reconnect(1_000_000, fx);
  t.is(b.emitted, ref.of('dma').filter((x) => (x.batch.emittedAt[0] ?? 0) <= 1_000_000).length, 'every frame that arrived by 1 ms');
  t.like(fx.events.find((e) => e.kind === 'nic-resumed')?.detail, { replayedFrames: b.emitted });
  t.is(fx.of('dma').length, 0, 'nothing from the past is sent');
  fx.drain(b, 2_000_000);
  b.settle(2_000_000);
  t.is(b.emitted, a.emitted, 'the same wire: the same frames by 2 ms');
  const after = ref.of('dma').filter((x) => (x.batch.emittedAt[0] ?? 0) > 1_000_000);
  t.deepEqual(fx.of('dma').map((x) => [x.batch.seq[0], x.batch.emittedAt[0]]), after.map((x) => [x.batch.seq[0], x.batch.emittedAt[0]]));
});

test('nic - storm frames that arrived are told apart from the traffic source: emitted - stormArrived is the source frames that reached the NIC', (t) => {
  const fx = new RecordingEffects();
  const n = nic({ kind: 'none' }, 4096);
  n.start(0, fx);
  fx.drain(n, 100_000);
  const storm = { id: 's', action: 'ring-full-storm', phase: 'start', flows: [0], params: { packets: 50, size: 200 }, seed: 1 } as const;
  n.fault(storm, 100_000, fx);
  fx.drain(n, 1_000_000);
  n.settle(1_000_000);
  t.is(n.stormArrived, 50);
  t.is(n.stormArrivedBytes, 50 * 200);
  // The source alone: one frame every 12,304 ns from 0 to 1 ms.
  t.is(n.emitted - n.stormArrived, Math.floor(1_000_000 / 12_304) + 1);
  // A second storm, settled in two steps, is counted exactly once.
  n.fault({ ...storm, id: 's2', params: { packets: 30, size: 1000 } }, 1_000_000, fx);
  n.settle(1_000_000);
  fx.drain(n, 2_000_000);
  n.settle(2_000_000);
  t.is(n.stormArrived, 80);
  t.is(n.stormArrivedBytes, 50 * 200 + 30 * 1000);
});
