// Tests for the coalescing policies: hand-computed cases per policy and caller-loop properties.
import test from 'ava';
import type { ArrivalView, Coalescer, PolicySpec } from '../src/coalescing-types.js';
import { ITR_GRANULARITY, RATE_WINDOW, createCoalescer } from '../src/coalescing.js';
import { MS, SEC, US } from '../src/time.js';

/** The pending completions starting at `from`, `known` of them (the caller's view). */
class ArrayArrivals implements ArrivalView {
  constructor(
    private readonly times: ArrayLike<number>,
    private readonly from = 0,
    readonly known = times.length - from,
  ) {}
  arrivalAt(k: number): number {
    const t = this.times[this.from + k];
    if (t === undefined || k >= this.known) throw new Error(`arrival ${k} is not known`);
    return t;
  }
}

/** `n` arrivals `gap` ns apart, the first at `start`. */
function evenly(start: number, gap: number, n: number): ArrayArrivals {
  return new ArrayArrivals(Array.from({ length: n }, (_, k) => start + k * gap));
}

function near(a: number, b: number, tolerance: number): boolean {
  return Math.abs(a - b) <= tolerance;
}

const ITR_DEFAULTS: PolicySpec = {
  kind: 'adaptive-itr',
  lowestLatencyRate: 100_000,
  lowLatencyRate: 20_000,
  bulkRate: 8_000,
  lowestLatencyMaxBytesPerUs: 10,
  lowLatencyMaxBytesPerUs: 20,
};

/** ixgbe's smoothing step applied to intervals (ns). */
function smooth(target: number, old: number): number {
  return (10 * target * old) / (9 * target + old);
}

function itrRound(interval: number): number {
  return Math.round(interval / 256) * 256;
}

/**
 * Teach a rate estimator a steady `perSecond` packet rate: one report sets the reference, the
 * next covers 20 windows, so the estimate is the sample to within e^−20.
 */
function learnRate(c: Coalescer, perSecond: number): number {
  const span = 20 * RATE_WINDOW;
  c.onFire(0, 0, 0);
  c.onFire(span, (perSecond * span) / SEC, 0);
  return span;
}

interface Fire {
  readonly at: number;
  readonly first: number;
  readonly packets: number;
}

/**
 * The NIC caller loop: completions become known `lookahead` ns before they arrive; after every
 * change the caller asks fireAt, raises at max(answer, now), or re-asks when another completion
 * becomes known first. An interrupt announces every completion arrived by then.
 */
function simulateNic(c: Coalescer, times: Float64Array, bytesPerPacket: number, lookahead: number): Fire[] {
  const fires: Fire[] = [];
  const n = times.length;
  let s = 0;
  let known = 0;
  let now = 0;
  let lastFireAt = -Infinity;
  while (s < n) {
    while (s + known < n && times[s + known]! <= now + lookahead) known++;
    if (known === 0) {
      now = times[s]! - lookahead;
      continue;
    }
    const fireAt = Math.max(c.fireAt(new ArrayArrivals(times, s, known), lastFireAt, 256), now);
    const nextKnown = s + known < n ? times[s + known]! - lookahead : Infinity;
    if (nextKnown < fireAt) {
      now = Math.max(now, nextKnown);
      continue;
    }
    if (fireAt === Infinity) break;
    now = fireAt;
    let e = s;
    while (e < n && times[e]! <= now) e++;
    fires.push({ at: now, first: times[s]!, packets: e - s });
    c.onFire(now, e - s, (e - s) * bytesPerPacket);
    lastFireAt = now;
    known -= e - s;
    s = e;
  }
  return fires;
}

function periodicStream(period: number, duration: number): Float64Array {
  const n = Math.floor(duration / period);
  const times = new Float64Array(n);
  for (let k = 0; k < n; k++) times[k] = (k + 1) * period;
  return times;
}

/** Bursty arrivals: trains of back-to-back packets separated by random gaps (a fixed LCG seed). */
function burstyStream(duration: number): Float64Array {
  const times: number[] = [];
  let seed = 12345;
  const next = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 0x1_0000_0000;
  };
  let t = 0;
  while (t < duration) {
    const train = 1 + Math.floor(next() * 40);
    for (let k = 0; k < train; k++) times.push((t += 1230.4));
    t += next() * 200 * US;
  }
  return Float64Array.from(times);
}

test('coalescing - createCoalescer builds the policy the spec names', (t) => {
  const specs: PolicySpec[] = [
    { kind: 'none' },
    { kind: 'static', usecs: 50, frames: 32 },
    ITR_DEFAULTS,
    { kind: 'aic', minUsecs: 5, maxUsecs: 200, bufferFraction: 0.5 },
    { kind: 'vic', lowRate: 50_000, targetRate: 20_000, maxRatio: 16, maxUsecs: 100 },
  ];
  for (const spec of specs) t.is(createCoalescer(spec).kind, spec.kind);
});

test('none - fires at the first arrival, re-arms one ahead, never polls from a timer', (t) => {
  const c = createCoalescer({ kind: 'none' });
  t.is(c.fireAt(evenly(1_000, 1_000, 5), -Infinity, 256), 1_000);
  c.onFire(1_000, 5, 7_500);
  t.is(c.eventAhead(2_000, 256), 1);
  t.is(c.pollAfter(2_000), Infinity);
});

test('static - usecs 50 frames 32: ten arrivals fire 50 µs after the first', (t) => {
  const c = createCoalescer({ kind: 'static', usecs: 50, frames: 32 });
  t.is(c.fireAt(evenly(1_000, US, 10), -Infinity, 256), 1_000 + 50 * US);
});

test('static - usecs 50 frames 32: forty arrivals fire at the 32nd', (t) => {
  const c = createCoalescer({ kind: 'static', usecs: 50, frames: 32 });
  t.is(c.fireAt(evenly(1_000, US, 40), -Infinity, 256), 1_000 + 31 * US);
});

test('static - the time bound wins when the 32nd arrival comes after it', (t) => {
  const c = createCoalescer({ kind: 'static', usecs: 50, frames: 32 });
  t.is(c.fireAt(evenly(1_000, 2 * US, 40), -Infinity, 256), 1_000 + 50 * US);
});

test('static - frames only waits for the count, Infinity until it is known', (t) => {
  const c = createCoalescer({ kind: 'static', usecs: 0, frames: 8 });
  t.is(c.fireAt(evenly(500, US, 7), -Infinity, 256), Infinity);
  t.is(c.fireAt(evenly(500, US, 8), -Infinity, 256), 500 + 7 * US);
});

test('static - usecs only fires usecs after the first whatever the count', (t) => {
  const c = createCoalescer({ kind: 'static', usecs: 20, frames: 0 });
  t.is(c.fireAt(evenly(500, US, 1), -Infinity, 256), 500 + 20 * US);
  t.is(c.fireAt(evenly(500, 10, 1_000), -Infinity, 256), 500 + 20 * US);
});

test('static - usecs 0 with frames 0 or 1, and frames 1, mean no coalescing', (t) => {
  for (const spec of [
    { usecs: 0, frames: 0 },
    { usecs: 0, frames: 1 },
    { usecs: 50, frames: 1 },
  ]) {
    const c = createCoalescer({ kind: 'static', ...spec });
    t.is(c.fireAt(evenly(700, US, 3), -Infinity, 256), 700);
    t.is(c.eventAhead(0, 256), 1);
    t.is(c.pollAfter(0), Infinity);
  }
});

test('static - front end sets the event index frames ahead, clamped to the free slots', (t) => {
  const c = createCoalescer({ kind: 'static', usecs: 50, frames: 32 });
  t.is(c.eventAhead(0, 256), 32);
  t.is(c.eventAhead(0, 10), 10);
  t.is(c.eventAhead(0, 0), 1);
  t.is(c.pollAfter(0), 50 * US);
});

test('static - front end with no count bound notifies only when the posted buffers run out', (t) => {
  const c = createCoalescer({ kind: 'static', usecs: 30, frames: 0 });
  t.is(c.eventAhead(0, 200), 200);
  t.is(c.pollAfter(0), 30 * US);
  const countOnly = createCoalescer({ kind: 'static', usecs: 0, frames: 16 });
  t.is(countOnly.eventAhead(0, 256), 16);
  t.is(countOnly.pollAfter(0), Infinity);
});

/** Arrival times like 1230.4 × k are not exact in binary; differences may be off by a few ulps. */
const FP_SLACK = 1e-6;

test('static - over steady and bursty streams usecs=U never exceeds 1e6/U interrupts per second', (t) => {
  const duration = 20 * MS;
  const streams: [string, Float64Array][] = [
    ['1500 B at 10G line rate', periodicStream(1230.4, duration)],
    ['every 300 ns', periodicStream(300, duration)],
    ['every 7 µs', periodicStream(7 * US, duration)],
    ['every 80 µs', periodicStream(80 * US, duration)],
    ['bursty', burstyStream(duration)],
  ];
  for (const usecs of [10, 50, 125]) {
    for (const [name, times] of streams) {
      const fires = simulateNic(createCoalescer({ kind: 'static', usecs, frames: 0 }), times, 1500, 2 * US);
      const span = times[times.length - 1]! + usecs * US;
      t.true(fires.length <= Math.floor((span / SEC) * (1e6 / usecs)) + 1, `${name}, usecs ${usecs}: ${fires.length} interrupts`);
      for (let k = 1; k < fires.length; k++) {
        t.true(fires[k]!.at - fires[k - 1]!.at >= usecs * US - FP_SLACK, `${name}, usecs ${usecs}: interrupts ${k - 1} and ${k} closer than ${usecs} µs`);
      }
      // Nothing waits longer than the bound, and every completion is announced exactly once.
      t.true(fires.every((f) => f.at - f.first <= usecs * US + FP_SLACK));
      t.is(
        fires.reduce((sum, f) => sum + f.packets, 0),
        times.length,
      );
    }
  }
});

test('static throttle - an idle source fires at its first completion, a busy one no sooner than usecs after the last interrupt', (t) => {
  const c = createCoalescer({ kind: 'static', usecs: 50, frames: 0, mode: 'throttle' });
  t.is(c.kind, 'static');
  t.is(c.fireAt(evenly(3_000, US, 100), -Infinity, 256), 3_000, 'no interrupt yet: at once');
  t.is(c.fireAt(evenly(3_000, US, 100), 0, 256), 50 * US, 'the gap since the last one bounds it');
  t.is(c.fireAt(evenly(80 * US, US, 1), 0, 256), 80 * US, 'quiet for longer than the gap: at once');
});

test('static throttle - over steady and bursty streams interrupts are at least usecs apart, and each completion waits at most usecs', (t) => {
  const duration = 20 * MS;
  const streams: [string, Float64Array][] = [
    ['1500 B at 10G line rate', periodicStream(1230.4, duration)],
    ['every 7 µs', periodicStream(7 * US, duration)],
    ['every 80 µs', periodicStream(80 * US, duration)],
    ['bursty', burstyStream(duration)],
  ];
  for (const [name, times] of streams) {
    const fires = simulateNic(createCoalescer({ kind: 'static', usecs: 50, frames: 0, mode: 'throttle' }), times, 1500, 2 * US);
    for (let k = 1; k < fires.length; k++) t.true(fires[k]!.at - fires[k - 1]!.at >= 50 * US - FP_SLACK, `${name}: interrupts ${k - 1} and ${k}`);
    t.true(
      fires.every((f) => f.at - f.first <= 50 * US + FP_SLACK),
      name,
    );
    t.is(
      fires.reduce((sum, f) => sum + f.packets, 0),
      times.length,
    );
  }
  // Completions further apart than the gap each interrupt the moment they arrive.
  const sparse = simulateNic(createCoalescer({ kind: 'static', usecs: 50, frames: 0, mode: 'throttle' }), periodicStream(80 * US, duration), 1500, 2 * US);
  t.true(sparse.every((f) => f.at === f.first && f.packets === 1));
});

test('static throttle - has no front-end placement (the scenario rejects it there)', (t) => {
  const c = createCoalescer({ kind: 'static', usecs: 50, frames: 0, mode: 'throttle' });
  t.throws(() => c.eventAhead(0, 256), { message: /no front-end placement/ });
  t.throws(() => c.pollAfter(0), { message: /no front-end placement/ });
});

test('static timer - mode timer is the ethtool timer the mode-less spec always meant', (t) => {
  for (const spec of [
    { usecs: 50, frames: 32 },
    { usecs: 20, frames: 0 },
    { usecs: 0, frames: 8 },
  ]) {
    const timer = createCoalescer({ kind: 'static', ...spec, mode: 'timer' });
    const plain = createCoalescer({ kind: 'static', ...spec });
    for (const arrivals of [evenly(1_000, US, 10), evenly(1_000, US, 40), evenly(500, 10, 1_000)]) {
      t.is(timer.fireAt(arrivals, 0, 256), plain.fireAt(arrivals, 0, 256));
    }
    t.is(timer.eventAhead(0, 256), plain.eventAhead(0, 256));
    t.is(timer.pollAfter(0), plain.pollAfter(0));
  }
});

test('adaptive-itr - starts at 20K ints/s, programmed in 256 ns steps', (t) => {
  const c = createCoalescer(ITR_DEFAULTS);
  t.is(c.pollAfter(0), itrRound(SEC / 20_000));
  t.is(c.pollAfter(0), 49_920);
});

test('adaptive-itr - fires no sooner than one interval after the last interrupt', (t) => {
  const c = createCoalescer(ITR_DEFAULTS);
  t.is(c.fireAt(evenly(3_000, 100, 4), -Infinity, 256), 3_000);
  t.is(c.fireAt(evenly(3_000, 100, 4), 0, 256), 49_920);
  t.is(c.fireAt(evenly(90_000, 100, 4), 0, 256), 90_000);
});

test('adaptive-itr - heavy bytes move towards bulk by the smoothing formula', (t) => {
  const c = createCoalescer(ITR_DEFAULTS);
  // The first interrupt spans the current interval (49.92 µs): 150000 B is ~3000 B/µs, bulk.
  c.onFire(0, 100, 150_000);
  const s1 = smooth(SEC / 8_000, SEC / 20_000);
  t.true(near(s1, 53_191.489, 0.001));
  t.is(c.pollAfter(0), itrRound(s1));
  t.is(c.pollAfter(0), 53_248);
  // In rates the smoothing is 0.9 old + 0.1 target.
  t.true(near(SEC / s1, 0.9 * 20_000 + 0.1 * 8_000, 1e-6));
  c.onFire(100 * US, 100, 150_000);
  const s2 = smooth(SEC / 8_000, s1);
  t.true(near(SEC / s2, 0.9 * (SEC / s1) + 0.1 * 8_000, 1e-6));
  t.is(c.pollAfter(0), itrRound(s2));
});

test('adaptive-itr - light bytes move towards lowest latency by the smoothing formula', (t) => {
  const c = createCoalescer(ITR_DEFAULTS);
  c.onFire(0, 1, 60);
  const s1 = smooth(SEC / 100_000, SEC / 20_000);
  t.true(near(SEC / s1, 28_000, 1e-6));
  t.is(c.pollAfter(0), itrRound(s1));
  t.is(c.pollAfter(0), 35_840);
});

test('adaptive-itr - between the thresholds it stays at the low-latency rate', (t) => {
  const c = createCoalescer(ITR_DEFAULTS);
  c.onFire(0, 1, 60);
  c.onFire(100 * US, 10, 1_500); // 15 B/µs: low latency, back towards 20K
  t.is(c.pollAfter(0), itrRound(smooth(SEC / 20_000, smooth(SEC / 100_000, SEC / 20_000))));
});

test('adaptive-itr - settles at bulk under heavy load and at lowest latency under light', (t) => {
  const c = createCoalescer(ITR_DEFAULTS);
  let now = 0;
  for (let k = 0; k < 200; k++) c.onFire((now += 200 * US), 160, 240_000);
  t.is(c.pollAfter(now), itrRound(SEC / 8_000));
  t.is(c.pollAfter(now), 124_928);
  for (let k = 0; k < 200; k++) c.onFire((now += MS), 1, 64);
  t.is(c.pollAfter(now), itrRound(SEC / 100_000));
  t.is(c.pollAfter(now), 9_984);
});

test('adaptive-itr - the interval is always a multiple of 256 ns', (t) => {
  const c = createCoalescer(ITR_DEFAULTS);
  let now = 0;
  for (let k = 0; k < 300; k++) {
    const heavy = Math.floor(k / 25) % 2 === 0;
    c.onFire((now += 37 * US + k), heavy ? 50 : 1, heavy ? 75_000 : 64);
    t.is(c.pollAfter(now) % ITR_GRANULARITY, 0);
    t.true(c.pollAfter(now) > 0);
  }
});

test('adaptive-itr - empty and same-instant interrupts leave the state alone', (t) => {
  const c = createCoalescer(ITR_DEFAULTS);
  c.onFire(0, 0, 0);
  t.is(c.pollAfter(0), 49_920);
  c.onFire(10 * US, 1, 60); // the first real sample spans one interval: light
  const light = c.pollAfter(0);
  c.onFire(10 * US, 100, 150_000); // same instant: no time has passed to divide by
  t.is(c.pollAfter(0), light);
  t.true(Number.isFinite(light));
});

test('adaptive-itr - a steady 10G stream of 1500 B frames settles near 8K interrupts/s', (t) => {
  const times = periodicStream(1230.4, 60 * MS);
  const fires = simulateNic(createCoalescer(ITR_DEFAULTS), times, 1500, 2 * US);
  const lastWindow = fires.filter((f) => f.at > 40 * MS).length;
  // 20 ms at one interrupt per 124.928 µs is 160.
  t.true(lastWindow >= 155 && lastWindow <= 161, `${lastWindow} interrupts in the last 20 ms`);
});

test('adaptive-itr - front end lets one interval of packets accumulate', (t) => {
  const c = createCoalescer(ITR_DEFAULTS);
  const now = learnRate(c, 1_000_000); // 1 packet/µs, no bytes: light
  const interval = c.pollAfter(now);
  t.is(c.eventAhead(now, 256), Math.floor(interval / US));
  t.is(c.eventAhead(now, 4), 4);
  t.is(createCoalescer(ITR_DEFAULTS).eventAhead(0, 256), 1);
});

const AIC: PolicySpec = { kind: 'aic', minUsecs: 5, maxUsecs: 200, bufferFraction: 0.5 };

test('aic - with no rate known yet the latency bound applies', (t) => {
  const c = createCoalescer(AIC);
  t.is(c.fireAt(evenly(1_000, US, 3), -Infinity, 256), 1_000 + 200 * US);
  t.is(c.eventAhead(0, 256), 1);
  t.is(c.pollAfter(0), 200 * US);
});

test('aic - the delay shrinks as the free slots shrink', (t) => {
  const c = createCoalescer(AIC);
  const now = learnRate(c, 1_000_000); // 1 packet/µs
  const first = now + 1;
  const delayFor = (free: number): number => c.fireAt(evenly(first, US, 2), now, free) - first;
  t.true(near(delayFor(256), 128 * US, 1)); // 0.5 × 256 slots ÷ 1 packet/µs
  t.true(near(delayFor(64), 32 * US, 1));
  t.true(near(delayFor(16), 8 * US, 1));
  t.is(delayFor(4), 5 * US); // 2 µs, held at the 5 µs floor
  t.is(delayFor(0), 5 * US);
  t.is(delayFor(1_000), 200 * US); // 500 µs, held at the 200 µs bound
});

test('aic - a stale high rate decays after an idle gap', (t) => {
  const c = createCoalescer(AIC);
  const now = learnRate(c, 1_000_000);
  const first = now + 5 * RATE_WINDOW;
  t.is(c.fireAt(evenly(first, US, 1), now, 256), first + 200 * US);
});

test('aic - front end expects rate × delay packets and polls after the delay', (t) => {
  const c = createCoalescer(AIC);
  const now = learnRate(c, 1_000_000);
  // While the delay is buffer-bound, rate × delay is just bufferFraction × freeSlots.
  t.is(c.eventAhead(now, 256), 128);
  t.true(near(c.pollAfter(now), 128 * US, 1));
  t.is(c.eventAhead(now, 64), 32);
  t.true(near(c.pollAfter(now), 32 * US, 1));
  // Clamped delays bound the count: 5 µs floor × 1 packet/µs, 200 µs bound × 1 packet/µs.
  t.is(c.eventAhead(now, 4), 4);
  const bounded = c.eventAhead(now, 1_000); // 200 less the e^−20 residue of the estimate
  t.true(bounded === 199 || bounded === 200, `${bounded}`);
});

test('aic - the rate estimate ignores same-instant reports and survives a zero-packet poll', (t) => {
  const c = createCoalescer(AIC);
  const now = learnRate(c, 1_000_000);
  c.onFire(now, 50, 0); // no time passed: folded into the next sample
  c.onFire(now + 10 * US, 10, 0); // 60 packets over 10 µs weighs in by 1 − e^−0.01
  c.onFire(now + 20 * US, 0, 0);
  const d = c.fireAt(evenly(now + 20 * US, US, 1), now, 256) - (now + 20 * US);
  t.true(Number.isFinite(d) && d >= 5 * US && d <= 200 * US);
});

const VIC: PolicySpec = { kind: 'vic', lowRate: 50_000, targetRate: 20_000, maxRatio: 16, maxUsecs: 100 };

test('vic - every completion interrupts at start and below lowRate', (t) => {
  const fresh = createCoalescer(VIC);
  t.is(fresh.fireAt(evenly(1_000, US, 20), -Infinity, 256), 1_000);
  t.is(fresh.eventAhead(0, 256), 1);
  t.is(fresh.pollAfter(0), Infinity);
  const slow = createCoalescer(VIC);
  const now = learnRate(slow, 20_000);
  t.is(slow.fireAt(evenly(now + 1, US, 20), now, 256), now + 1);
  t.is(slow.eventAhead(now, 256), 1);
});

test('vic - above lowRate one interrupt per rate ÷ targetRate completions', (t) => {
  const c = createCoalescer(VIC);
  const now = learnRate(c, 200_000); // ratio 10
  const first = now + US;
  t.is(c.fireAt(evenly(first, US, 12), now, 256), first + 9 * US);
  t.is(c.eventAhead(now, 256), 10);
  t.is(c.eventAhead(now, 6), 6);
  t.is(c.pollAfter(now), 100 * US);
});

test('vic - the timer backstop fires when the ratio is not reached in time', (t) => {
  const c = createCoalescer(VIC);
  const now = learnRate(c, 200_000);
  const first = now + US;
  t.is(c.fireAt(evenly(first, US, 5), now, 256), first + 100 * US);
  t.is(c.fireAt(evenly(first, 20 * US, 12), now, 256), first + 100 * US);
});

test('vic - the ratio is capped at maxRatio', (t) => {
  const c = createCoalescer(VIC);
  const now = learnRate(c, 2_000_000); // 100 completions per target interrupt, capped at 16
  const first = now + 1;
  t.is(c.fireAt(evenly(first, 100, 40), now, 256), first + 15 * 100);
  t.is(c.eventAhead(now, 256), 16);
});
