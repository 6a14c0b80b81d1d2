// Tests for the HDR-style latency histogram: precision, percentiles, merge, JSON.
import test from 'ava';
import { LatencyHistogram, SplitnetError, histogramBuckets } from '../src/index.js';

const PRECISION = 2 ** -10; // documented bound on a bucket's width relative to its values

test('histogram - empty histogram reports zeros', (t) => {
  const h = new LatencyHistogram();
  t.is(h.count, 0);
  t.is(h.min, 0);
  t.is(h.max, 0);
  t.is(h.mean, 0);
  t.is(h.percentile(50), 0);
  t.deepEqual(h.toJSON(), { count: 0, min: 0, max: 0, sum: 0, buckets: [] });
});

test('histogram - small values are exact: 1..100 ns', (t) => {
  const h = new LatencyHistogram();
  for (let v = 1; v <= 100; v++) h.record(v);
  t.is(h.count, 100);
  t.is(h.min, 1);
  t.is(h.max, 100);
  t.is(h.mean, 50.5);
  t.is(h.percentile(0), 1);
  t.is(h.percentile(1), 1);
  t.is(h.percentile(50), 50);
  t.is(h.percentile(90), 90);
  t.is(h.percentile(99), 99);
  t.is(h.percentile(99.5), 100);
  t.is(h.percentile(100), 100);
});

test('histogram - percentiles of 1 µs..1 ms are within the stated precision', (t) => {
  const h = new LatencyHistogram();
  const values: number[] = [];
  for (let i = 1; i <= 1000; i++) values.push(i * 997); // not aligned to bucket edges
  for (const v of values) h.record(v);
  for (let p = 1; p <= 100; p += 0.5) {
    const exact = values[Math.ceil((p / 100) * values.length) - 1] ?? NaN;
    const got = h.percentile(p);
    t.true(got >= exact && got <= exact * (1 + PRECISION), `p${p}: ${got} vs ${exact}`);
  }
  t.is(h.percentile(100), 997_000);
  t.is(h.mean, 997 * 500.5);
});

test('histogram - one repeated value is reported exactly, fractions included', (t) => {
  const h = new LatencyHistogram();
  h.recordN(1230.4, 5);
  t.is(h.count, 5);
  for (const p of [0, 10, 50, 99.9, 100]) t.is(h.percentile(p), 1230.4);
  const big = new LatencyHistogram();
  big.record(123_456_789.5);
  t.is(big.percentile(50), 123_456_789.5);
});

test('histogram - bucket geometry: contiguous, relative width ≤ 2^-10 up to one hour', (t) => {
  const h = new LatencyHistogram();
  t.true(h.highestTrackableNs >= 3_600_000_000_000);
  let bad = 0;
  for (let i = 0; i < h.bucketCount - 1; i++) {
    const low = histogramBuckets.lowestOf(i);
    const high = histogramBuckets.highestOf(i);
    if (histogramBuckets.indexOf(low) !== i || histogramBuckets.indexOf(high) !== i) bad++;
    if (histogramBuckets.lowestOf(i + 1) !== high + 1) bad++;
    if (low >= 2048 && (high + 1 - low) / low > PRECISION) bad++;
    if (low < 2048 && high !== low) bad++;
  }
  t.is(bad, 0);
  t.is(histogramBuckets.indexOf(2047.9), 2047);
  t.is(histogramBuckets.indexOf(2 ** 40), histogramBuckets.indexOf(2 ** 40 + 2 ** 30 - 1));
  t.true(h.bucketCount < 40_000); // one preallocated array of ~270 KB
});

test('histogram - an hour-long latency keeps three significant digits', (t) => {
  const h = new LatencyHistogram();
  const hour = 3_600_000_000_000;
  h.record(1);
  h.record(hour - 12_345);
  const p = h.percentile(50);
  t.true(p >= 1 && p <= 1 * (1 + PRECISION));
  t.is(h.percentile(100), hour - 12_345);
});

test('histogram - values beyond the range land in the last bucket and report max', (t) => {
  const h = new LatencyHistogram(1_000_000);
  h.record(10);
  h.record(5_000_000);
  h.record(7_000_000);
  t.is(h.count, 3);
  t.is(h.max, 7_000_000);
  t.is(h.percentile(60), 7_000_000);
  t.is(h.percentile(30), 10);
});

test('histogram - recordN equals recording n times', (t) => {
  const a = new LatencyHistogram();
  const b = new LatencyHistogram();
  a.recordN(5000, 3);
  a.recordN(77, 0);
  for (let i = 0; i < 3; i++) b.record(5000);
  t.deepEqual(a.toJSON(), b.toJSON());
});

test('histogram - merge equals recording both', (t) => {
  const a = new LatencyHistogram();
  const b = new LatencyHistogram();
  const both = new LatencyHistogram();
  for (let i = 0; i < 500; i++) {
    const x = (i * 7919) % 100_003;
    const y = 1_000_000 + i * 13;
    a.record(x);
    b.record(y);
    both.record(x);
    both.record(y);
  }
  a.merge(b);
  t.deepEqual(a.toJSON(), both.toJSON());
  for (const p of [1, 25, 50, 75, 99, 100]) t.is(a.percentile(p), both.percentile(p));
  a.merge(new LatencyHistogram()); // merging an empty one changes nothing
  t.deepEqual(a.toJSON(), both.toJSON());
});

test('histogram - merge into a smaller range folds into its last bucket like record would', (t) => {
  const small = new LatencyHistogram(10_000);
  const viaRecord = new LatencyHistogram(10_000);
  const big = new LatencyHistogram();
  big.record(5);
  big.record(1e9);
  small.merge(big);
  viaRecord.record(5);
  viaRecord.record(1e9);
  t.deepEqual(small.toJSON(), viaRecord.toJSON());
});

test('histogram - JSON round trip keeps every bucket and statistic', (t) => {
  const h = new LatencyHistogram();
  for (let i = 0; i < 1000; i++) h.record(100 + i * i * 3.7);
  const j = JSON.parse(JSON.stringify(h)) as ReturnType<LatencyHistogram['toJSON']>;
  t.deepEqual(j.buckets.slice(0, 2), [
    [100, 1],
    [103, 1],
  ]);
  const back = LatencyHistogram.fromJSON(j);
  t.deepEqual(back.toJSON(), h.toJSON());
  t.is(back.count, h.count);
  t.is(back.mean, h.mean);
  for (const p of [0, 50, 99, 99.99, 100]) t.is(back.percentile(p), h.percentile(p));
  t.deepEqual(LatencyHistogram.fromJSON(new LatencyHistogram().toJSON()).toJSON(), new LatencyHistogram().toJSON());
});

test('histogram - fromJSON rejects inconsistent input', (t) => {
  const good = {
    count: 2,
    min: 1,
    max: 2,
    sum: 3,
    buckets: [
      [1, 1],
      [2, 1],
    ] as [number, number][],
  };
  t.is(LatencyHistogram.fromJSON(good).count, 2);
  t.throws(() => LatencyHistogram.fromJSON({ ...good, count: 3 }), { instanceOf: SplitnetError });
  t.throws(
    () =>
      LatencyHistogram.fromJSON({
        ...good,
        buckets: [
          [2, 1],
          [1, 1],
        ],
      }),
    { instanceOf: SplitnetError },
  );
  t.throws(
    () =>
      LatencyHistogram.fromJSON({
        ...good,
        buckets: [
          [1, 1.5],
          [2, 0.5],
        ],
      }),
    { instanceOf: SplitnetError },
  );
  t.throws(() => LatencyHistogram.fromJSON({ ...good, min: 5 }), { instanceOf: SplitnetError });
});

test('histogram - reset forgets everything', (t) => {
  const h = new LatencyHistogram();
  h.record(3);
  h.record(3e6);
  h.reset();
  t.deepEqual(h.toJSON(), new LatencyHistogram().toJSON());
  h.record(42);
  t.is(h.percentile(100), 42);
  t.is(h.min, 42);
});

test('histogram - rejects negative and NaN values and bad counts', (t) => {
  const h = new LatencyHistogram();
  t.throws(() => h.record(-1), { instanceOf: SplitnetError });
  t.throws(() => h.record(Number.NaN), { instanceOf: SplitnetError });
  t.throws(() => h.recordN(5, 1.5), { instanceOf: SplitnetError });
  t.throws(() => h.recordN(5, -1), { instanceOf: SplitnetError });
  t.throws(() => h.percentile(101), { instanceOf: SplitnetError });
  t.is(h.count, 0);
});

test('histogram - valueBuckets lists non-empty buckets in value order, each holding its values', (t) => {
  const h = new LatencyHistogram();
  t.deepEqual(h.valueBuckets(), []);
  const values = [5, 5, 3000, 3001, 1_000_000, 7];
  for (const v of values) h.record(v);
  const b = h.valueBuckets();
  t.is(
    b.reduce((n, [, , c]) => n + c, 0),
    values.length,
  );
  for (let i = 1; i < b.length; i++) t.true((b[i]?.[0] ?? 0) > (b[i - 1]?.[1] ?? 0), 'increasing, disjoint');
  for (const v of values)
    t.true(
      b.some(([lo, hi]) => v >= lo && v <= hi),
      `${v} falls in a listed bucket`,
    );
  t.deepEqual(b[0], [5, 5, 2]);
});

test('histogram - every percentile is the rank-th sample value rounded up to its bucket, whichever end the search starts from', (t) => {
  // Skewed samples (most near 10 µs, a tail to 5 ms): a percentile above 50 is searched from the top, one below from the bottom.
  const h = new LatencyHistogram();
  const values: number[] = [];
  let x = 12345;
  for (let i = 0; i < 5000; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const v = i % 97 === 0 ? 10_000 + (x % 5_000_000) : 10_000 + (x % 3_000);
    values.push(v);
    h.record(v);
  }
  values.sort((a, b) => a - b);
  const probe = new LatencyHistogram();
  for (const p of [1, 10, 49.9, 50, 50.1, 75, 90, 99, 99.9, 99.99]) {
    const rank = Math.max(1, Math.ceil((p / 100) * values.length));
    const v = values[rank - 1] as number;
    // The rank-th value's bucket's highest value (the histogram of that value alone reports it at p 100 … unless it is max).
    probe.reset();
    probe.record(v);
    probe.record(Number.MAX_SAFE_INTEGER / 4);
    const highest = probe.percentile(50);
    const expected = v === values[values.length - 1] ? v : Math.min(highest, values[values.length - 1] as number);
    t.is(h.percentile(p), expected, `p${p}`);
  }
});
