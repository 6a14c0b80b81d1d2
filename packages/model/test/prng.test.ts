// Tests for the seeded PRNG (xoshiro128**) and per-actor seed derivation.
import test from 'ava';
import { Prng, SplitnetError, deriveSeed } from '../src/index.js';

test('prng - xoshiro128** core matches the reference implementation from state (1, 2, 3, 4)', (t) => {
  // Reference values from the authors' C code (xoshiro128starstar.c) run with s = {1, 2, 3, 4}.
  const p = new Prng(0);
  for (const [field, value] of [
    ['s0', 1],
    ['s1', 2],
    ['s2', 3],
    ['s3', 4],
  ] as const)
    Reflect.set(p, field, value);
  const out = Array.from({ length: 6 }, () => p.nextU32());
  t.deepEqual(out, [11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
});

test('prng - a fixed seed gives fixed first outputs', (t) => {
  const p = new Prng(42);
  t.deepEqual(
    Array.from({ length: 4 }, () => p.nextU32()),
    [2239652894, 1968907866, 1432790869, 4050498535],
  );
  t.is(new Prng(42).next(), 0.5214598247173738);
});

test('prng - equal seeds give equal sequences, different seeds different ones', (t) => {
  const a = new Prng(7);
  const b = new Prng(7);
  const c = new Prng(8);
  const d = new Prng(7 + 2 ** 32); // the high word of a seed counts too
  const sa = Array.from({ length: 16 }, () => a.nextU32());
  t.deepEqual(
    Array.from({ length: 16 }, () => b.nextU32()),
    sa,
  );
  t.notDeepEqual(
    Array.from({ length: 16 }, () => c.nextU32()),
    sa,
  );
  t.notDeepEqual(
    Array.from({ length: 16 }, () => d.nextU32()),
    sa,
  );
});

test('prng - seed 0 and negative seeds work', (t) => {
  t.not(new Prng(0).nextU32(), new Prng(-1).nextU32());
  const zero = new Prng(0);
  t.true(Array.from({ length: 8 }, () => zero.nextU32()).some((x) => x !== 0));
});

test('prng - rejects seeds that are not safe integers', (t) => {
  for (const seed of [1.5, Number.NaN, Infinity, 2 ** 60]) {
    const e = t.throws(() => new Prng(seed), { instanceOf: SplitnetError });
    t.is(e?.code, 'E_USAGE');
  }
});

test('prng - next() lies in [0, 1) and averages one half', (t) => {
  const p = new Prng(1);
  let sum = 0;
  let lo = 1;
  let hi = 0;
  for (let i = 0; i < 100_000; i++) {
    const x = p.next();
    sum += x;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  t.true(lo >= 0 && hi < 1);
  t.true(Math.abs(sum / 100_000 - 0.5) < 0.005);
});

test('prng - below(n) stays in [0, n) and is roughly uniform', (t) => {
  const p = new Prng(2);
  const bins = new Array<number>(10).fill(0);
  let outside = 0;
  for (let i = 0; i < 100_000; i++) {
    const x = p.below(10);
    if (!Number.isInteger(x) || x < 0 || x >= 10) outside++;
    else bins[x] = (bins[x] ?? 0) + 1;
  }
  t.is(outside, 0);
  for (const b of bins) t.true(Math.abs(b - 10_000) < 500, `bin count ${b}`);
  t.is(p.below(1), 0);
  const big = p.below(2 ** 40);
  t.true(Number.isInteger(big) && big >= 0 && big < 2 ** 40);
});

test('prng - below rejects bounds that are not positive integers', (t) => {
  const p = new Prng(3);
  for (const n of [0, -1, 2.5, Number.NaN, Infinity]) t.throws(() => p.below(n), { instanceOf: SplitnetError });
});

test('prng - exponential has the requested mean and is always finite and positive', (t) => {
  const p = new Prng(7);
  const n = 100_000;
  let sum = 0;
  let min = Infinity;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const x = p.exponential(1000);
    sum += x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  t.true(Math.abs(sum / n - 1000) < 10, `mean ${sum / n}`); // 1 %, about 3 standard errors
  t.true(min > 0);
  t.true(Number.isFinite(max));
});

test('prng - deriveSeed is a fixed u32 per (seed, label)', (t) => {
  t.is(deriveSeed(42, 'gen:0'), 3549443001);
  t.is(deriveSeed(42, 'gen:1'), 1110295191);
  t.is(deriveSeed(42, 'gen:0'), deriveSeed(42, 'gen:0'));
  for (const s of [deriveSeed(0, ''), deriveSeed(2 ** 53 - 1, 'vm:7'), deriveSeed(-5, 'nic')]) {
    t.true(Number.isInteger(s) && s >= 0 && s < 2 ** 32);
  }
});

test('prng - deriveSeed differs across labels and run seeds', (t) => {
  const labels = ['nic', 'backend', 'gen:0', 'gen:1', 'gen:10', 'worker:1', 'worker:2', 'vm:1', 'vm:10', 'é'];
  const seeds = new Set(labels.map((l) => deriveSeed(1, l)));
  t.is(seeds.size, labels.length);
  t.not(deriveSeed(1, 'nic'), deriveSeed(2, 'nic'));
  t.not(deriveSeed(1, 'nic'), deriveSeed(1 + 2 ** 32, 'nic'));
  // Neighbouring labels must not give neighbouring seeds (the final mix spreads them).
  t.true(Math.abs(deriveSeed(1, 'gen:1') - deriveSeed(1, 'gen:2')) > 1000);
});
