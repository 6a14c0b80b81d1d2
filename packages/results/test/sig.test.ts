// Unit tests of sig, the six-significant-digit rounding of every results figure: it must be exactly what toPrecision(6) gives.
import test from 'ava';
import { sig } from '../src/sig.js';

/** What sig stands for: the decimal toPrecision(6) writes, read back. */
const reference = (x: number): number => (!Number.isFinite(x) || x === 0 ? x : Number(x.toPrecision(6)));

/** A seeded stream of doubles in [0, 1) (xorshift32), so that a failure names a value that comes back. */
function uniform(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

test('sig - equals Number(x.toPrecision(6)) on values spread over 40 decades, both signs', (t) => {
  const r = uniform(26);
  const bad: number[] = [];
  for (let i = 0; i < 200_000; i++) {
    const x = (r() < 0.5 ? -1 : 1) * r() * 10 ** (r() * 40 - 20);
    if (!Object.is(sig(x), reference(x))) bad.push(x);
  }
  t.deepEqual(bad, []);
});

test('sig - equals toPrecision at ties, decade edges and their neighbours, where arithmetic alone could round the other way', (t) => {
  const bad: number[] = [];
  const check = (x: number): void => {
    if (!Object.is(sig(x), reference(x))) bad.push(x);
  };
  for (let e = -25; e <= 25; e++) {
    for (const d of [100000, 100001, 123456, 500000, 999999, 999999.5, 99999.5, 99999.95, 123456.5, 654321.5]) {
      const v = d * 10 ** e;
      check(v);
      check(v * (1 + 2 ** -52));
      check(v * (1 - 2 ** -52));
    }
  }
  for (const x of [0, -0, 1, -1, 0.5, 1.5, 2.5, 5e-324, Number.MAX_VALUE, 1e21, 1e22, 1e23, 1234565, 12345650, 0.1 + 0.2, 1230.4, NaN, Infinity, -Infinity]) check(x);
  t.deepEqual(bad, []);
});

test('sig - rates as the time series makes them (counts over a sample interval, bytes to Gbit/s)', (t) => {
  const bad: number[] = [];
  for (let n = 0; n < 100_000; n += 7) {
    for (const x of [n / 0.01, n / 0.003, (n * 1518 * 8) / 0.01 / 1e9, n / 1e6, n * 1230.4, 1 / (n + 1)]) if (!Object.is(sig(x), reference(x))) bad.push(x);
  }
  t.deepEqual(bad, []);
});
