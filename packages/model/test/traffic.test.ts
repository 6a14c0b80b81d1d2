// Tests for the traffic source: generator patterns, sizes, flows, and line-rate serialization on the wire.
import test from 'ava';
import { POISSON_BACKLOG_GAPS, SEC, SplitnetError, TrafficSource, lineRatePps, requestedWireGbps, wireTimeNs } from '../src/index.js';
import type { GeneratorSpec } from '../src/index.js';

function gen(overrides: Partial<GeneratorSpec> = {}): GeneratorSpec {
  return {
    name: 'g',
    pps: 1_000_000,
    pattern: { kind: 'constant' },
    size: { kind: 'fixed', bytes: 1518 },
    firstFlow: 0,
    flows: 1,
    start: 0,
    stop: Infinity,
    ...overrides,
  };
}

/** Frames whose last bit arrives within (0, until]. */
function countUntil(src: TrafficSource, until: number): number {
  let n = 0;
  while (src.peek() <= until) {
    src.take();
    n++;
  }
  return n;
}

interface Frame {
  flow: number;
  len: number;
  seq: number;
  at: number;
  generator: number;
}

function frames(src: TrafficSource, max: number): Frame[] {
  const out: Frame[] = [];
  while (out.length < max && src.peek() < Infinity) {
    src.take();
    out.push({ flow: src.flow, len: src.len, seq: src.seq, at: src.at, generator: src.generator });
  }
  return out;
}

test('traffic - wire time and line rate of 10 GbE', (t) => {
  t.true(Math.abs(wireTimeNs(1518, 10) - 1230.4) < 1e-9);
  t.true(Math.abs(wireTimeNs(64, 10) - 67.2) < 1e-9);
  t.is(Math.round(lineRatePps(1518, 10)), 812_744);
  t.is(Math.floor(lineRatePps(64, 10)), 14_880_952);
  t.is(lineRatePps(1518, 1) * 10, lineRatePps(1518, 10));
});

test('traffic - 20 Gbit/s offered of 1518-byte frames on 10 GbE is cut to line rate', (t) => {
  const src = new TrafficSource([gen({ pps: 20e9 / (1518 * 8) })], 1, 10, 1);
  const n = countUntil(src, SEC);
  t.true(Math.abs(n - 812_744) <= 1, `${n} frames`);
  t.true(src.slipNs > 0); // the refused excess is visible
  t.true(src.deferredFrames > 0);
  t.true(src.wireBusyNs / SEC > 0.9999);
});

test('traffic - 64-byte frames at line rate: 14,880,952 per second', (t) => {
  const src = new TrafficSource([gen({ pps: 20_000_000, size: { kind: 'fixed', bytes: 64 } })], 1, 10, 1);
  const n = countUntil(src, SEC);
  t.true(Math.abs(n - 14_880_952) <= 1, `${n} frames`);
});

test('traffic - 1 Gbit/s offered constant 1518-byte frames are exactly periodic', (t) => {
  const src = new TrafficSource([gen({ pps: 1e9 / (1518 * 8) })], 1, 10, 1);
  let n = 0;
  let prev = NaN;
  let irregular = 0;
  while (src.peek() <= SEC) {
    src.take();
    if (n === 0)
      t.true(Math.abs(src.at - 1230.4) < 1e-9); // first bit at 0, last bit one wire time later
    else if (Math.abs(src.at - prev - 12_144) > 1e-6) irregular++;
    prev = src.at;
    n++;
  }
  t.true(Math.abs(n - 1e9 / (1518 * 8)) <= 1, `${n} frames`);
  t.is(irregular, 0);
  t.is(src.wireWaitNs, 0);
  t.is(src.slipNs, 0);
  t.is(src.emitted, n);
  t.is(src.emittedBytes, n * 1518);
});

test('traffic - Poisson mean rate within 1 % and exponential gaps', (t) => {
  const pps = 1_000_000;
  const src = new TrafficSource([gen({ pps, pattern: { kind: 'poisson' }, size: { kind: 'fixed', bytes: 64 } })], 1, 10, 3);
  let n = 0;
  let prev = 0;
  let sumGap = 0;
  let sumGap2 = 0;
  while (src.peek() <= SEC) {
    src.take();
    const gap = src.at - prev;
    sumGap += gap;
    sumGap2 += gap * gap;
    prev = src.at;
    n++;
  }
  t.true(Math.abs(n / pps - 1) < 0.01, `${n} frames`);
  const mean = sumGap / n;
  const cv = Math.sqrt(sumGap2 / n - mean * mean) / mean;
  t.true(Math.abs(cv - 1) < 0.05, `coefficient of variation ${cv}`); // exponential: sd = mean
});

test('traffic - Poisson near line rate keeps its offered rate (bounded backlog)', (t) => {
  const pps = 0.9 * lineRatePps(1518, 10);
  const src = new TrafficSource([gen({ pps, pattern: { kind: 'poisson' } })], 1, 10, 4);
  const n = countUntil(src, SEC);
  t.true(Math.abs(n / pps - 1) < 0.01, `${n} frames of ${pps}`);
  t.true(src.wireWaitNs > 0); // frames did queue behind each other
});

test('traffic - Poisson above line rate saturates the wire without unbounded backlog', (t) => {
  const pps = 2 * lineRatePps(1518, 10);
  const src = new TrafficSource([gen({ pps, pattern: { kind: 'poisson' } })], 1, 10, 5);
  const n = countUntil(src, SEC);
  t.true(Math.abs(n - 812_744) <= 3, `${n} frames`);
  // Each frame waited at most the backlog bound plus one frame on the wire.
  t.true(src.wireWaitNs / n <= (POISSON_BACKLOG_GAPS * SEC) / pps + wireTimeNs(1518, 10));
});

test('traffic - on/off: bursts only in the on phase, duty cycle exact', (t) => {
  const on = 100_000;
  const off = 300_000;
  const wire = wireTimeNs(64, 10);
  const src = new TrafficSource([gen({ pps: 1_000_000, pattern: { kind: 'onoff', on, off }, size: { kind: 'fixed', bytes: 64 }, start: 50_000 })], 1, 10, 1);
  let n = 0;
  let outside = 0;
  while (src.peek() - wire < 50_000 + SEC) {
    src.take();
    const phase = (src.at - wire - 50_000) % (on + off);
    if (!(phase >= 0 && phase < on)) outside++;
    n++;
  }
  t.is(outside, 0);
  t.is(n, 2500 * 100); // 2500 cycles of 400 µs, 100 frames 1 µs apart in each 100 µs burst
});

test("traffic - a constant generator's phase puts its first frame at start + (phase mod gap), the rest one gap apart", (t) => {
  const wire = wireTimeNs(64, 10); // far below the 1 µs gap: no frame waits for the wire
  for (const [phase, first] of [
    [0, 5_000],
    [300, 5_300],
    [2_300, 5_300],
    [999.5, 5_999.5],
  ] as const) {
    const fs = frames(new TrafficSource([gen({ pps: 1_000_000, size: { kind: 'fixed', bytes: 64 }, start: 5_000, phase })], 1, 10, 1), 3);
    t.deepEqual(
      fs.map((f) => Math.round((f.at - wire) * 10) / 10),
      [first, first + 1_000, first + 2_000],
      `phase ${phase}`,
    );
  }
});

test('traffic - on/off phase: bursts begin at start + phase + k·(on + off); one under way at start sends only its rest', (t) => {
  const on = 100_000;
  const off = 300_000;
  const wire = wireTimeNs(64, 10);
  /** Desired starts of the first frames at 1 Mpps of 64-byte frames (wire time 67.2 ns, so never held up). */
  const starts = (phase: number, n: number) =>
    frames(new TrafficSource([gen({ pps: 1_000_000, pattern: { kind: 'onoff', on, off }, size: { kind: 'fixed', bytes: 64 }, phase })], 1, 10, 1), n).map((f) =>
      Math.round(f.at - wire),
    );
  // phase ≤ off: silent at start, the first burst begins at phase.
  const late = starts(150_000, 101);
  t.is(late[0], 150_000);
  t.is(late[99], 150_000 + 99_000);
  t.is(late[100], 150_000 + 400_000);
  // phase > off: the burst that began at phase − (on + off) = −50 µs is under way, 50 of its 100 µs are left.
  const mid = starts(350_000, 51);
  t.is(mid[0], 0);
  t.is(mid[49], 49_000);
  t.is(mid[50], 350_000);
  // A phase is taken modulo the cycle.
  t.deepEqual(starts(150_000 + 3 * 400_000, 101), late);
});

test('traffic - flows are used round-robin and each flow numbers its frames from 0', (t) => {
  const src = new TrafficSource(
    [gen({ pps: 1_000_000, firstFlow: 2, flows: 3 }), gen({ pps: 300_000, firstFlow: 0, flows: 2, pattern: { kind: 'poisson' } })],
    6,
    10,
    9,
  );
  const next = new Map<number, number>();
  const g0Flows: number[] = [];
  let badSeq = 0;
  for (const f of frames(src, 20_000)) {
    if (f.seq !== (next.get(f.flow) ?? 0)) badSeq++;
    next.set(f.flow, f.seq + 1);
    if (f.generator === 0) g0Flows.push(f.flow);
    else t.true(f.flow === 0 || f.flow === 1);
  }
  t.is(badSeq, 0);
  t.deepEqual(g0Flows.slice(0, 7), [2, 3, 4, 2, 3, 4, 2]);
  t.false(next.has(5));
});

test('traffic - arrivals are in order, one wire time apart at least', (t) => {
  const src = new TrafficSource(
    [
      gen({ pps: 500_000, pattern: { kind: 'poisson' }, size: { kind: 'uniform', min: 64, max: 1518 } }),
      gen({ pps: 400_000, size: { kind: 'choice', values: [64, 576, 1518], weights: [7, 4, 1] }, firstFlow: 1 }),
      gen({ pps: 2_000_000, pattern: { kind: 'onoff', on: 20_000, off: 80_000 }, firstFlow: 2 }),
    ],
    3,
    10,
    11,
  );
  let prev = 0;
  let bad = 0;
  for (const f of frames(src, 100_000)) {
    if (f.at - prev < wireTimeNs(f.len, 10) - 1e-6) bad++;
    prev = f.at;
  }
  t.is(bad, 0);
});

test('traffic - sizes: uniform covers [min, max], choice follows its weights', (t) => {
  const src = new TrafficSource(
    [
      gen({ pps: 100_000, size: { kind: 'uniform', min: 100, max: 104 } }),
      gen({ pps: 100_000, size: { kind: 'choice', values: [64, 9000, 1518], weights: [3, 0, 1] }, start: 1 }),
    ],
    1,
    10,
    2,
  );
  const uniform = new Map<number, number>();
  const choice = new Map<number, number>();
  for (const f of frames(src, 80_000)) {
    const m = f.generator === 0 ? uniform : choice;
    m.set(f.len, (m.get(f.len) ?? 0) + 1);
  }
  t.deepEqual(
    [...uniform.keys()].sort((a, b) => a - b),
    [100, 101, 102, 103, 104],
  );
  for (const c of uniform.values()) t.true(Math.abs(c / 40_000 - 0.2) < 0.02);
  t.false(choice.has(9000));
  t.true(Math.abs((choice.get(64) ?? 0) / 40_000 - 0.75) < 0.02);
});

test('traffic - generators start and stop on time, then the source runs dry', (t) => {
  const src = new TrafficSource([gen({ pps: 1_000_000, start: 5_000, stop: 15_000 })], 1, 10, 1);
  const fs = frames(src, 100);
  t.is(fs.length, 10); // desired starts 5, 6, … 14 µs
  t.true(Math.abs((fs[0]?.at ?? 0) - (5_000 + 1230.4)) < 1e-9);
  t.is(src.peek(), Infinity);
  t.throws(() => src.take(), { instanceOf: SplitnetError });
  t.is(new TrafficSource([], 0, 10, 1).peek(), Infinity);
});

test('traffic - equal desired starts go in generator order', (t) => {
  const src = new TrafficSource([gen({ firstFlow: 0 }), gen({ firstFlow: 1 })], 2, 10, 1);
  t.deepEqual(
    frames(src, 4).map((f) => f.generator),
    [0, 1, 0, 1],
  );
});

test('traffic - a constant sender keeps its rate beside a generator that overloads the wire', (t) => {
  const src = new TrafficSource([gen({ pps: 20e9 / (1518 * 8) }), gen({ pps: 1e9 / (1518 * 8), firstFlow: 1 })], 2, 10, 1);
  const perGen = [0, 0];
  while (src.peek() <= SEC) {
    src.take();
    perGen[src.generator] = (perGen[src.generator] ?? 0) + 1;
  }
  t.true(Math.abs((perGen[1] ?? 0) - 1e9 / (1518 * 8)) <= 1, `${perGen[1]}`);
  t.true(Math.abs((perGen[0] ?? 0) + (perGen[1] ?? 0) - 812_744) <= 1);
});

test('traffic - a held-up constant sender does not burst to catch up', (t) => {
  // Generator 0 (1 Mpps of 64 B) is held up by a 50 µs blast of jumbo frames from generator 1.
  const src = new TrafficSource(
    [
      gen({ pps: 1_000_000, size: { kind: 'fixed', bytes: 64 } }),
      gen({ pps: 10_000_000, size: { kind: 'fixed', bytes: 9000 }, start: 10_000, stop: 60_000, firstFlow: 1 }),
    ],
    2,
    10,
    1,
  );
  const g0 = frames(src, 200).filter((f) => f.generator === 0);
  // At most one frame is sent early: no three consecutive frames ever fit within one 1 µs gap.
  let bursts = 0;
  let closePairs = 0;
  for (let i = 2; i < g0.length; i++) {
    if ((g0[i]?.at ?? 0) - (g0[i - 2]?.at ?? 0) < 1000 - 1e-6) bursts++;
  }
  for (let i = 1; i < g0.length; i++) {
    if ((g0[i]?.at ?? 0) - (g0[i - 1]?.at ?? 0) < 1000 - 1e-6) closePairs++;
  }
  t.is(bursts, 0);
  t.true(closePairs >= 1); // the held-up frame's successor goes right behind it: the one frame of catch-up
  t.true(src.slipNs > 0);
});

test('traffic - the same seed gives the same frames; another seed other frames', (t) => {
  const specs = [
    gen({ pps: 700_000, pattern: { kind: 'poisson' }, size: { kind: 'uniform', min: 64, max: 1518 }, flows: 4 }),
    gen({ pps: 300_000, pattern: { kind: 'poisson' }, firstFlow: 4 }),
  ];
  const a = frames(new TrafficSource(specs, 5, 10, 77), 5000);
  t.deepEqual(frames(new TrafficSource(specs, 5, 10, 77), 5000), a);
  t.notDeepEqual(frames(new TrafficSource(specs, 5, 10, 78), 5000), a);
});

test("traffic - adding a generator does not change another generator's random draws", (t) => {
  const first = gen({ pps: 200_000, pattern: { kind: 'poisson' }, size: { kind: 'uniform', min: 64, max: 1518 } });
  const alone = frames(new TrafficSource([first], 2, 10, 5), 3000).map((f) => f.len);
  const shared = frames(new TrafficSource([first, gen({ pps: 300_000, firstFlow: 1 })], 2, 10, 5), 9000)
    .filter((f) => f.generator === 0)
    .map((f) => f.len)
    .slice(0, 3000);
  t.deepEqual(shared, alone);
});

test('traffic - rejects impossible generators', (t) => {
  const bad: Partial<GeneratorSpec>[] = [
    { pps: 0 },
    { pps: Number.NaN },
    { start: 10, stop: 5 },
    { firstFlow: 1, flows: 1 }, // flow 1 does not exist in a 1-flow table
    { flows: 0 },
    { size: { kind: 'fixed', bytes: 63 } },
    { size: { kind: 'uniform', min: 1000, max: 500 } },
    { size: { kind: 'choice', values: [64], weights: [0] } },
    { size: { kind: 'choice', values: [64, 128], weights: [1] } },
    { pattern: { kind: 'onoff', on: 0, off: 10 } },
    { phase: -1 },
    { phase: Infinity },
    { pattern: { kind: 'poisson' }, phase: 5 }, // memoryless: no grid to shift
  ];
  for (const b of bad) {
    const e = t.throws(() => new TrafficSource([gen(b)], 1, 10, 1), { instanceOf: SplitnetError });
    t.is(e?.code, 'E_USAGE');
  }
  t.throws(() => new TrafficSource([gen()], 1, 0, 1), { instanceOf: SplitnetError });
});

test('traffic - requestedWireGbps is the largest sum of wire rates of generators running together', (t) => {
  const tenGbE = lineRatePps(1518, 10);
  // One generator at 10 GbE line rate asks exactly 10 Gbit/s of the wire (preamble and gap included).
  t.true(Math.abs(requestedWireGbps([gen({ pps: tenGbE })]) - 10) < 1e-9);
  // Two at 6 Gbit/s overlapping from 1 ms: 12; one after the other: 6.
  const six = lineRatePps(1518, 6);
  t.true(Math.abs(requestedWireGbps([gen({ pps: six }), gen({ pps: six, start: 1e6 })]) - 12) < 1e-9);
  t.true(Math.abs(requestedWireGbps([gen({ pps: six, stop: 1e6 }), gen({ pps: six, start: 1e6 })]) - 6) < 1e-9);
  // The mean frame of a size mix: 64 and 1518 bytes, equally likely, at 1 Mpps: (791 + 20) × 8 bits per frame.
  const mix = gen({ pps: 1e6, size: { kind: 'choice', values: [64, 1518], weights: [1, 1] } });
  t.true(Math.abs(requestedWireGbps([mix]) - 6.488) < 1e-9);
  t.is(requestedWireGbps([]), 0);
});
