// The NIC on its own: frames on the wire, physical interrupt moderation, the NAPI handshake with the driver, ring-full drops.
import test from 'ava';
import { createCoalescer, RecordingEffects, US } from '@splitnet/model';
import type { Coalescer, GeneratorSpec, Nanos, PollMessage, PolicySpec } from '@splitnet/model';
import { NicActor } from '../src/nic-actor.js';
import type { NicConfig } from '../src/nic-actor.js';

// 1 Gbit/s of 1518-byte frames: one frame every 12,304 ns (1538 wire bytes), the first one (1.23 µs on a 10 Gbit/s wire) at 1,230.4 ns.
const FRAME_GAP = 12_304;
const FIRST = 1230.4;
/** Frames of `gen` that have arrived by time t. */
const arrivedBy = (t: Nanos): number => Math.floor((t - FIRST) / FRAME_GAP) + 1;
const gen: GeneratorSpec = {
  name: 'g',
  pps: 1e9 / (1538 * 8),
  pattern: { kind: 'constant' },
  size: { kind: 'fixed', bytes: 1518 },
  firstFlow: 0,
  flows: 1,
  start: 0,
  stop: 1e9,
};
// 64-byte frames at 10 Gbit/s line rate: 14.88 M frames/s.
const lineRate64: GeneratorSpec = { ...gen, pps: 1e10 / (84 * 8), size: { kind: 'fixed', bytes: 64 } };

function nic(policy: PolicySpec, ringSize = 512, extra: Partial<NicConfig> = {}): NicActor {
  return new NicActor({
    id: 'nic',
    backend: 1,
    queues: 1,
    ringSize,
    budget: 64,
    linkGbps: 10,
    generators: [gen],
    flowCount: 1,
    flowQueue: new Uint16Array([0]),
    policy,
    seed: 1,
    lookahead: 50_000,
    ...extra,
  });
}

/** The driver's cost of one batch of `frames`, in ns: what the back end's core would charge (IRQ handling folded in). */
type DriverCost = (frames: number) => Nanos;
const FAST_DRIVER: DriverCost = (k) => 2_000 + 150 * k;

/**
 * The driver's side of the NAPI handshake, played as the back end plays it: each batch is processed
 * on one core, in order, for `cost(frames)` ns, and then given back with a `poll` naming it.
 * `runTo` interleaves those answers with the NIC's own timers in time order (timers first at a tie).
 */
class Driver {
  /** When each batch (by issue time) was given back. */
  readonly doneAt = new Map<Nanos, Nanos>();
  private readonly answers: { at: Nanos; msg: PollMessage }[] = [];
  private seen = 0;
  private busyUntil = 0;

  constructor(
    private readonly n: NicActor,
    private readonly fx: RecordingEffects,
    private readonly cost: DriverCost = FAST_DRIVER,
  ) {}

  runTo(until: Nanos): this {
    const fx = this.fx;
    for (;;) {
      for (; this.seen < fx.sent.length; this.seen++) {
        const { msg, at } = fx.sent[this.seen] as (typeof fx.sent)[number];
        if (msg.kind !== 'dma') continue;
        this.busyUntil = Math.max(at, this.busyUntil) + this.cost(msg.batch.count);
        this.answers.push({ at: this.busyUntil, msg: { kind: 'poll', nicQueue: msg.nicQueue, issuedAt: msg.issuedAt } });
        this.doneAt.set(msg.issuedAt, this.busyUntil);
      }
      let ti = -1;
      fx.timers.forEach((x, i) => {
        if (ti < 0 || x.at < (fx.timers[ti] as { at: Nanos }).at) ti = i;
      });
      const timer = fx.timers[ti];
      const answer = this.answers[0];
      if (timer && timer.at <= until && (!answer || timer.at <= answer.at)) {
        fx.timers.splice(ti, 1);
        this.n.timer(timer.tag, timer.at, fx);
      } else if (answer && answer.at <= until) {
        this.answers.shift();
        this.n.receive(answer.msg, answer.at, fx);
      } else {
        return this;
      }
    }
  }
}

function runWithDriver(n: NicActor, fx: RecordingEffects, until: Nanos, cost?: DriverCost): Map<Nanos, Nanos> {
  return new Driver(n, fx, cost).runTo(until).doneAt;
}

test('nic - without moderation and with a fast driver every frame raises its own interrupt when it arrives', (t) => {
  const fx = new RecordingEffects();
  const n = nic({ kind: 'none' });
  n.start(0, fx);
  runWithDriver(n, fx, 1_000_000);
  const d = fx.of('dma');
  t.true(d.length >= 80 && d.length <= 82, `${d.length} interrupts in 1 ms`);
  t.true(d.every((x) => x.irq && x.batch.count === 1));
  // Each DMA leaves exactly when its frame's last bit arrived.
  t.true(d.every((x) => x.at === x.batch.emittedAt[0]));
});

test('nic - an interrupt stays masked until the driver gives its batch back: frames that arrive meanwhile wait for the next cycle', (t) => {
  const fx = new RecordingEffects();
  const n = nic({ kind: 'none' });
  n.start(0, fx);
  // The driver needs 30 µs per batch, while a frame arrives every 12.3 µs.
  const cost: DriverCost = () => 30 * US;
  const doneAt = runWithDriver(n, fx, 1_000_000, cost);
  const d = fx.of('dma');
  t.true(d.length > 10);
  for (let i = 1; i < d.length; i++) {
    const prev = d[i - 1] as (typeof d)[number];
    t.true((d[i]?.at ?? 0) >= (doneAt.get(prev.issuedAt) ?? Infinity), `batch ${i} left before batch ${i - 1} was given back`);
  }
  // Each poll completes short of the budget, so each cycle starts with one interrupt: fewer interrupts than frames.
  t.true(d.every((x) => x.irq));
  const frames = d.reduce((k, x) => k + x.batch.count, 0);
  t.true(d.length < frames / 2, `${d.length} interrupts for ${frames} frames`);
  t.is(n.queueStats()[0]?.irqs, d.length);
});

test('nic - a driver slower than the wire keeps NAPI polling: one interrupt, then only polled full batches; the excess is dropped nic-ring-full', (t) => {
  const fx = new RecordingEffects();
  const n = nic({ kind: 'none' }, 512, { generators: [lineRate64] });
  n.start(0, fx);
  // 500 ns + 150 ns per frame: 6.3 M frames/s, less than half of the 14.88 M arriving.
  runWithDriver(n, fx, 1_000_000, (k) => 500 + 150 * k);
  n.settle(1_000_000);
  const d = fx.of('dma');
  // A few interrupts while the first, short batches ramp up; after the first full batch, none.
  const irqs = d.filter((x) => x.irq);
  t.true(irqs.length <= 5 && irqs.every((x) => x.at < 10 * US), `${irqs.length} interrupts`);
  const polled = d.slice(irqs.length);
  t.true(polled.length > 50 && polled.every((x) => !x.irq && x.batch.count === 64), 'the poll never completes');
  t.is(n.queueStats()[0]?.polls, polled.length);
  t.true(n.drops() > 0.4 * n.emitted, `${n.drops()} of ${n.emitted} dropped`);
  const dmaFrames = d.reduce((k, x) => k + x.batch.count, 0);
  t.is(n.emitted, dmaFrames + n.drops() + n.heldPackets(), 'every frame that reached the NIC is accounted for');
});

test('nic - a descriptor is taken until the driver gives its batch back: a ring of 4 with one frame in the driver holds 3 more and drops the rest', (t) => {
  const fx = new RecordingEffects();
  const n = nic({ kind: 'none' }, 4);
  n.start(0, fx);
  // The first frame interrupts at once; the driver keeps its batch for 200 µs.
  const end = FIRST + 200 * US - 1;
  runWithDriver(n, fx, end, () => 200 * US);
  n.settle(end);
  t.is(fx.of('dma').length, 1);
  const arrived = arrivedBy(end);
  t.is(n.emitted, arrived);
  t.is(n.heldPackets(), 3);
  t.is(n.drops(), arrived - 1 - 3);
});

test('nic - a poll naming a batch the NIC is not waiting on (a duplicate, or one sent before a restart) changes nothing', (t) => {
  const fx = new RecordingEffects();
  const n = nic({ kind: 'none' });
  n.start(0, fx);
  fx.drain(n, FIRST);
  const [first] = fx.of('dma');
  if (!first) return t.fail('no interrupt at the first frame');
  // While the first batch is in the driver, a poll for some other batch does not unmask the queue.
  n.receive({ kind: 'poll', nicQueue: 0, issuedAt: first.issuedAt - 1 }, 3 * FRAME_GAP, fx);
  t.is(fx.of('dma').length, 1);
  // Its own poll does: the two frames that arrived meanwhile go at once, with an interrupt.
  n.receive({ kind: 'poll', nicQueue: 0, issuedAt: first.issuedAt }, 3 * FRAME_GAP, fx);
  t.deepEqual(
    fx.of('dma').map((x) => [x.irq, x.batch.count]),
    [
      [true, 1],
      [true, 2],
    ],
  );
  // The same poll again (a duplicate) changes nothing.
  n.receive({ kind: 'poll', nicQueue: 0, issuedAt: first.issuedAt }, 3 * FRAME_GAP, fx);
  t.is(fx.of('dma').length, 2);
  t.is(n.queueStats()[0]?.irqs, 2);
});

test('nic - static throttle (Intel EITR): an idle queue interrupts at its first frame, then never sooner than usecs after the last interrupt', (t) => {
  const fx = new RecordingEffects();
  const n = nic({ kind: 'static', usecs: 100, frames: 0, mode: 'throttle' });
  n.start(0, fx);
  runWithDriver(n, fx, 1_000_000);
  const d = fx.of('dma');
  t.is(d[0]?.at, FIRST, 'the first frame waits for nothing');
  t.is(d[0]?.batch.count, 1);
  for (let i = 1; i < d.length; i++) t.true((d[i]?.at ?? 0) - (d[i - 1]?.at ?? 0) >= 100 * US, `gap ${i}`);
  t.true(d.length >= 9 && d.length <= 11, `${d.length} interrupts in 1 ms`);
  // Under load each interrupt follows the previous one by exactly the interval: the frames wait at most that long.
  t.true(d.slice(1).every((x) => x.at - (x.batch.emittedAt[0] ?? 0) <= 100 * US));
});

test("nic - static timer (mlx5-style): each interrupt comes usecs after the first frame pending, so even an idle queue's first frame waits", (t) => {
  const fx = new RecordingEffects();
  const n = nic({ kind: 'static', usecs: 100, frames: 0, mode: 'timer' });
  n.start(0, fx);
  runWithDriver(n, fx, 1_000_000);
  const d = fx.of('dma');
  t.is(d[0]?.at, FIRST + 100 * US, 'the first frame waits the full usecs');
  t.true(d.length >= 9 && d.length <= 10, `${d.length} interrupts in 1 ms`);
  for (const x of d) {
    t.is(x.at, (x.batch.emittedAt[0] ?? 0) + 100 * US, 'fires usecs after the first frame pending');
    t.true(x.batch.count >= 8 && x.batch.count <= 9);
  }
});

/** A policy instance that records what the NIC tells it, and otherwise behaves as the real one. */
class RecordingPolicy implements Coalescer {
  readonly told: [Nanos, number, number][] = [];
  constructor(private readonly real: Coalescer) {}
  get kind() {
    return this.real.kind;
  }
  fireAt(...args: Parameters<Coalescer['fireAt']>): Nanos {
    return this.real.fireAt(...args);
  }
  onFire(now: Nanos, packets: number, bytes: number): void {
    this.told.push([now, packets, bytes]);
    this.real.onFire(now, packets, bytes);
  }
  eventAhead(now: Nanos, freeSlots: number): number {
    return this.real.eventAhead(now, freeSlots);
  }
  pollAfter(now: Nanos): Nanos {
    return this.real.pollAfter(now);
  }
}

test('nic - the moderation policy is told every frame and byte of a NAPI cycle, polled batches included, when the poll completes', (t) => {
  const policy: PolicySpec = {
    kind: 'adaptive-itr',
    lowestLatencyRate: 100_000,
    lowLatencyRate: 20_000,
    bulkRate: 8_000,
    lowestLatencyMaxBytesPerUs: 10,
    lowLatencyMaxBytesPerUs: 20,
  };
  const recorder = new RecordingPolicy(createCoalescer(policy));
  // 400 µs of line-rate 64-byte frames, then silence: the driver (6.3 M frames/s) polls through the burst.
  const burst: GeneratorSpec = { ...lineRate64, stop: 400_000 };
  const fx = new RecordingEffects();
  const n = nic(policy, 512, { generators: [burst], moderation: () => recorder });
  n.start(0, fx);
  const doneAt = runWithDriver(n, fx, 2_000_000, (k) => 500 + 150 * k);
  const d = fx.of('dma');
  // Cycles: each starts at an interrupt and ends with the first batch short of the budget.
  const cycles: [Nanos, number, number][] = [];
  let packets = 0;
  let bytes = 0;
  for (const x of d) {
    packets += x.batch.count;
    for (let i = 0; i < x.batch.count; i++) bytes += x.batch.len[i] ?? 0;
    if (x.batch.count < 64) {
      cycles.push([doneAt.get(x.issuedAt) ?? Number.NaN, packets, bytes]);
      packets = 0;
      bytes = 0;
    }
  }
  t.deepEqual(recorder.told, cycles);
  t.true(
    cycles.some(([, k]) => k > 64 * 10),
    'a cycle of many polled batches',
  );
  t.is(cycles.length, d.filter((x) => x.irq).length, 'one report per interrupt');
});

test('nic - a restarted NIC resumes the wire where it is: the frames before count as emitted, none is replayed, sequences go on', (t) => {
  // The NIC that ran from the start: the reference.
  const ref = new RecordingEffects();
  const a = nic({ kind: 'none' });
  a.start(0, ref);
  runWithDriver(a, ref, 2_000_000);
  a.settle(2_000_000);
  // A NIC restarted at 1 ms.
  const fx = new RecordingEffects();
  const b = nic({ kind: 'none' });
  const driver = new Driver(b, fx);
  b.reconnect(1_000_000, fx);
  t.is(b.emitted, ref.of('dma').filter((x) => (x.batch.emittedAt[0] ?? 0) <= 1_000_000).length, 'every frame that arrived by 1 ms');
  t.like(fx.events.find((e) => e.kind === 'nic-resumed')?.detail, { replayedFrames: b.emitted });
  t.is(fx.of('dma').length, 0, 'nothing from the past is sent');
  driver.runTo(2_000_000);
  b.settle(2_000_000);
  t.is(b.emitted, a.emitted, 'the same wire: the same frames by 2 ms');
  const after = ref.of('dma').filter((x) => (x.batch.emittedAt[0] ?? 0) > 1_000_000);
  t.deepEqual(
    fx.of('dma').map((x) => [x.batch.seq[0], x.batch.emittedAt[0]]),
    after.map((x) => [x.batch.seq[0], x.batch.emittedAt[0]]),
  );
});

test('nic - storm frames that arrived are told apart from the traffic source: emitted - stormArrived is the source frames that reached the NIC', (t) => {
  const fx = new RecordingEffects();
  const n = nic({ kind: 'none' }, 4096);
  const driver = new Driver(n, fx);
  n.start(0, fx);
  driver.runTo(100_000);
  const storm = { id: 's', action: 'ring-full-storm', phase: 'start', flows: [0], params: { packets: 50, size: 200 }, seed: 1 } as const;
  n.fault(storm, 100_000, fx);
  driver.runTo(1_000_000);
  n.settle(1_000_000);
  t.is(n.stormArrived, 50);
  t.is(n.stormArrivedBytes, 50 * 200);
  // The source alone: one frame every 12,304 ns from 0 to 1 ms.
  t.is(n.emitted - n.stormArrived, arrivedBy(1_000_000));
  // A second storm, settled in two steps, is counted exactly once.
  n.fault({ ...storm, id: 's2', params: { packets: 30, size: 1000 } }, 1_000_000, fx);
  n.settle(1_000_000);
  driver.runTo(2_000_000);
  n.settle(2_000_000);
  t.is(n.stormArrived, 80);
  t.is(n.stormArrivedBytes, 50 * 200 + 30 * 1000);
});

test("nic - a far end's frame sent after a report settled further (a live host samples on the wall clock) still arrives at its time: the NIC raises its interrupt then, not a timer a nanosecond at a time", (t) => {
  // One TCP_RR flow whose client is behind the wire, no open-loop traffic, no moderation.
  const n = nic({ kind: 'none' }, 512, {
    generators: [],
    closedLoop: [{ flow: 0, spec: { workload: 'rr', cc: 'cubic', rcvbuf: 131072, mss: 1448, requestBytes: 64, responseBytes: 64 }, start: 0, stop: 1e9 }],
  });
  const fx = new RecordingEffects();
  n.start(0, fx);
  const [start] = fx.timers.splice(0);
  if (start === undefined) return t.fail('the client arms its start');
  // The host reports at 10 µs before it has run the client's start at 0: arrivals settle to 10 µs.
  n.report(10_000);
  n.timer(start.tag, start.at, fx);
  // The request (130 bytes) arrives 123.2 ns later (its 150 bytes on the 10 Gbit/s wire), before the settled point;
  // the client's retransmission timer is armed too, a second ahead.
  const arm = fx.timers.splice(0).filter((x) => x.at < 10_000);
  t.deepEqual(
    arm.map((x) => x.at),
    [123.2],
  );
  const at = 123.2;
  n.timer((arm[0] as { tag: number }).tag, at, fx);
  const dma = fx.of('dma');
  t.is(dma.length, 1, 'the request is handed to the driver when it arrives');
  t.is(dma[0]?.at, at);
  t.deepEqual(
    fx.timers.filter((x) => x.at <= at + 1),
    [],
    'no timer a nanosecond ahead',
  );
  return undefined;
});
