// HDR-style log-linear latency histogram over nanoseconds: O(1) allocation-free record, percentiles, merge, JSON.
import { SplitnetError } from './errors.js';
import type { Nanos } from './time.js';

/**
 * Layout (the same as HdrHistogram with 3 significant digits and a 1 ns unit):
 * - values 0 … 2047 ns have one bucket each (exact);
 * - every power-of-two band [2^k, 2^(k+1)) with k ≥ 11 is split into 1024 equal buckets of
 *   width 2^(k−10).
 * So a bucket's width is at most 1/1024 of any value in it: relative error ≤ 2^−10 ≈ 0.098 %,
 * i.e. better than 3 significant decimal digits everywhere.
 *
 * A bucket's index does not depend on the histogram's range, so histograms with different
 * ranges still merge and serialize compatibly (only the array length differs).
 */
const SUB_BUCKET_BITS = 10;
const SUB_BUCKET_HALF = 1 << SUB_BUCKET_BITS; // 1024 buckets per band
const EXACT_LIMIT = SUB_BUCKET_HALF << 1; // 2048: below this every ns has its own bucket
const TWO_POW_32 = 0x1_0000_0000;

/** 2^−k for k = 0 … 63: division by a power of two as an exact multiply, no Math.pow per record. */
const POW2_INV = new Float64Array(64);
for (let k = 0; k < 64; k++) POW2_INV[k] = 2 ** -k;

/** Buckets a new histogram holds before it first grows: every value up to 8 µs. */
const INITIAL_COUNTS = 4096;

/** Default range: one hour of emulated time, comfortably beyond any latency a run should see. */
export const HISTOGRAM_DEFAULT_HIGHEST_NS: Nanos = 3_600_000_000_000;

/** Sparse serialized form: only non-empty buckets, as [index, count] pairs in index order. */
export interface HistogramJson {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly sum: number;
  readonly buckets: readonly (readonly [number, number])[];
}

/** Index of the most significant set bit of a non-negative integer below 2^53. */
function msb(v: number): number {
  if (v < TWO_POW_32) return 31 - Math.clz32(v);
  return 63 - Math.clz32(Math.floor(v / TWO_POW_32));
}

/** The bucket a non-negative integer value falls in. */
function bucketIndex(v: number): number {
  if (v < EXACT_LIMIT) return v;
  const shift = msb(v) - SUB_BUCKET_BITS; // ≥ 1
  // v / 2^shift lies in [1024, 2048): the sub-bucket within the band, offset by the band.
  return (shift << SUB_BUCKET_BITS) + Math.floor(v * (POW2_INV[shift] ?? 0));
}

/** Lowest value a bucket covers. */
function bucketLow(index: number): number {
  if (index < EXACT_LIMIT) return index;
  const shift = (index >> SUB_BUCKET_BITS) - 1;
  return (SUB_BUCKET_HALF + (index & (SUB_BUCKET_HALF - 1))) * 2 ** shift;
}

/** Highest integer value a bucket covers (HdrHistogram's "highest equivalent value"). */
function bucketHighest(index: number): number {
  if (index < EXACT_LIMIT) return index;
  return bucketLow(index) + 2 ** ((index >> SUB_BUCKET_BITS) - 1) - 1;
}

/**
 * Latency histogram in ns. Values are floored to whole ns before bucketing (fractions come from
 * wire times such as 1230.4 ns); `min`, `max`, `sum` and `mean` keep the exact values.
 * Counts live in one preallocated Float64Array: exact integers up to 2^53, so a long run cannot
 * overflow them the way u32 counts could.
 *
 * Values above the range go into the last bucket, which percentiles treat as open-ended (they
 * report `max` for it): nothing is lost from count/min/max/mean, only resolution up there.
 */
export class LatencyHistogram {
  /**
   * The counts of buckets [0, counts.length): grown (doubled) up to the highest bucket recorded, never past the
   * range's `buckets`. Latencies sit in the low bands, so a histogram holds a few thousand buckets rather than the
   * hour-long range's 43,000 (344 kB per guest, allocated and merged at every final report).
   */
  private counts: Float64Array;
  /** Buckets in the range: the layout's size, which growing `counts` never changes. */
  private readonly buckets: number;
  private total = 0;
  private lowest = Infinity;
  private highest = -Infinity;
  private totalNs = 0;

  /** `highestTrackableNs`: the largest value recorded at full precision (default one hour). */
  constructor(highestTrackableNs: Nanos = HISTOGRAM_DEFAULT_HIGHEST_NS) {
    if (!(highestTrackableNs >= 1 && highestTrackableNs <= Number.MAX_SAFE_INTEGER)) {
      throw new SplitnetError('E_USAGE', `LatencyHistogram: expected a highest trackable value 1-2^53 ns, found ${String(highestTrackableNs)}`);
    }
    this.buckets = bucketIndex(Math.floor(highestTrackableNs)) + 1;
    this.counts = new Float64Array(Math.min(this.buckets, INITIAL_COUNTS));
  }

  /** Number of buckets (the layout is fixed; this only depends on the range). */
  get bucketCount(): number {
    return this.buckets;
  }

  /** Largest value a bucket of this histogram can hold at full precision. */
  get highestTrackableNs(): Nanos {
    return bucketHighest(this.buckets - 1);
  }

  get count(): number {
    return this.total;
  }

  /** Smallest recorded value, exact; 0 when empty. */
  get min(): Nanos {
    return this.total === 0 ? 0 : this.lowest;
  }

  /** Largest recorded value, exact; 0 when empty. */
  get max(): Nanos {
    return this.total === 0 ? 0 : this.highest;
  }

  /** Sum of the recorded values, exact (not bucket midpoints). */
  get sum(): Nanos {
    return this.totalNs;
  }

  /** Mean of the recorded values, exact; 0 when empty. */
  get mean(): Nanos {
    return this.total === 0 ? 0 : this.totalNs / this.total;
  }

  /** Record one value in ns. O(1), allocation-free. */
  record(ns: Nanos): void {
    // A negative or NaN latency means a bug upstream (time going backwards): fail loudly rather
    // than bury it in bucket 0.
    if (!(ns >= 0)) this.reject(ns, 1);
    const index = this.indexOf(ns);
    if (index >= this.counts.length) this.reach(index);
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.total += 1;
    this.totalNs += ns;
    if (ns < this.lowest) this.lowest = ns;
    if (ns > this.highest) this.highest = ns;
  }

  /** Record `n` occurrences of the same value (n a non-negative integer; 0 is a no-op). */
  recordN(ns: Nanos, n: number): void {
    if (!(ns >= 0) || !(n >= 0) || !Number.isInteger(n)) this.reject(ns, n);
    if (n === 0) return;
    const index = this.indexOf(ns);
    if (index >= this.counts.length) this.reach(index);
    this.counts[index] = (this.counts[index] ?? 0) + n;
    this.total += n;
    this.totalNs += ns * n;
    if (ns < this.lowest) this.lowest = ns;
    if (ns > this.highest) this.highest = ns;
  }

  /**
   * The value at percentile `p` (0–100), HdrHistogram-style: find the bucket holding the sample
   * of rank ceil(p/100 · count) and report the highest value equivalent to that bucket, clamped
   * into [min, max]. In `max`'s own bucket that is `max` itself, and p = 0 is `min`, so a
   * histogram of one repeated value reports that value exactly. Otherwise the result is at most
   * one bucket width (≤ 2^−10 of the value) above the true percentile and below it by less than
   * the 1 ns lost to flooring. 0 when empty. O(buckets between min and max): for reports, not
   * for the per-packet path.
   */
  percentile(p: number): Nanos {
    if (!(p >= 0 && p <= 100)) {
      throw new SplitnetError('E_USAGE', `LatencyHistogram.percentile: expected 0-100, found ${String(p)}`);
    }
    if (this.total === 0) return 0;
    if (p === 0) return this.lowest;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    const from = this.indexOf(this.lowest);
    const to = this.indexOf(this.highest);
    const counts = this.counts;
    if (p > 50) {
      // The same bucket found from the top: the lowest i whose count up to it reaches the rank, where the count up
      // to i is the total less the counts above i (whole numbers below 2^53: exact). A tail percentile, a run's p99,
      // lies near max, and a sample's report asks for one per TCP flow.
      let above = counts[to] ?? 0;
      let found = -1;
      for (let i = to - 1; i >= from; i--) {
        if (this.total - above < rank) break;
        found = i;
        above += counts[i] ?? 0;
      }
      if (found < 0) return this.highest;
      const v = bucketHighest(found);
      return v < this.lowest ? this.lowest : v;
    }
    let seen = 0;
    for (let i = from; i < to; i++) {
      seen += counts[i] ?? 0;
      if (seen >= rank) {
        const v = bucketHighest(i);
        return v < this.lowest ? this.lowest : v;
      }
    }
    // The rank lies in max's bucket (which is also the open-ended overflow bucket when values
    // went beyond the range): max is the tightest upper bound there.
    return this.highest;
  }

  /**
   * Add every sample of `other` into this histogram: the same as having recorded them here.
   * Buckets beyond this histogram's range fold into its last bucket, as recording would. (Only
   * values that overflowed a smaller `other` keep that histogram's coarser last bucket.)
   */
  merge(other: LatencyHistogram): void {
    if (other.total === 0) return;
    const from = other.indexOf(other.lowest);
    const to = other.indexOf(other.highest);
    const last = this.buckets - 1;
    this.reach(to > last ? last : to);
    for (let i = from; i <= to; i++) {
      const c = other.counts[i] ?? 0;
      if (c === 0) continue;
      const j = i > last ? last : i;
      this.counts[j] = (this.counts[j] ?? 0) + c;
    }
    this.total += other.total;
    this.totalNs += other.totalNs;
    if (other.lowest < this.lowest) this.lowest = other.lowest;
    if (other.highest > this.highest) this.highest = other.highest;
  }

  /** Forget every sample (keeps the buffer; clears only the span that was used). */
  reset(): void {
    if (this.total !== 0) this.counts.fill(0, this.indexOf(this.lowest), this.indexOf(this.highest) + 1);
    this.total = 0;
    this.totalNs = 0;
    this.lowest = Infinity;
    this.highest = -Infinity;
  }

  /**
   * The non-empty buckets in value order as `[lowest ns, highest ns, count]`: the histogram in
   * plain units, for results files and plots (no knowledge of the bucket layout needed).
   */
  valueBuckets(): [number, number, number][] {
    const out: [number, number, number][] = [];
    if (this.total === 0) return out;
    const to = this.indexOf(this.highest);
    for (let i = this.indexOf(this.lowest); i <= to; i++) {
      const c = this.counts[i] ?? 0;
      if (c !== 0) out.push([bucketLow(i), bucketHighest(i), c]);
    }
    return out;
  }

  toJSON(): HistogramJson {
    const buckets: [number, number][] = [];
    if (this.total !== 0) {
      const to = this.indexOf(this.highest);
      for (let i = this.indexOf(this.lowest); i <= to; i++) {
        const c = this.counts[i] ?? 0;
        if (c !== 0) buckets.push([i, c]);
      }
    }
    return { count: this.total, min: this.min, max: this.max, sum: this.totalNs, buckets };
  }

  /**
   * Rebuild a histogram from `toJSON()` output (which may have crossed the wire, so it is checked:
   * indices increasing, counts positive integers adding up to `count`). The range grows to hold
   * the highest bucket if it exceeds the default.
   */
  static fromJSON(j: HistogramJson): LatencyHistogram {
    const bad = (what: string): SplitnetError => new SplitnetError('E_USAGE', `LatencyHistogram.fromJSON: ${what}`);
    if (!Array.isArray(j.buckets)) throw bad('expected `buckets` to be an array');
    let topIndex = -1;
    let total = 0;
    for (const pair of j.buckets) {
      const [index, c] = pair;
      if (!Number.isInteger(index) || index <= topIndex) {
        throw bad(`expected increasing integer bucket indices, found ${String(index)} after ${topIndex}`);
      }
      if (!Number.isInteger(c) || c <= 0) throw bad(`expected a positive integer count, found ${String(c)}`);
      topIndex = index;
      total += c;
    }
    if (total !== j.count) throw bad(`bucket counts add up to ${total}, but count is ${String(j.count)}`);
    if (total !== 0 && !(j.min >= 0 && j.max >= j.min && Number.isFinite(j.sum))) {
      throw bad(`expected 0 ≤ min ≤ max and a finite sum, found min ${String(j.min)}, max ${String(j.max)}, sum ${String(j.sum)}`);
    }
    const highest = topIndex < 0 ? HISTOGRAM_DEFAULT_HIGHEST_NS : Math.max(HISTOGRAM_DEFAULT_HIGHEST_NS, bucketHighest(topIndex));
    const h = new LatencyHistogram(highest);
    if (topIndex >= 0) h.reach(topIndex);
    for (const [index, c] of j.buckets) h.counts[index] = c;
    if (total !== 0) {
      h.total = total;
      h.totalNs = j.sum;
      h.lowest = j.min;
      h.highest = j.max;
    }
    return h;
  }

  /** The bucket a recorded value goes to: floored, and clamped into the last bucket. */
  private indexOf(ns: number): number {
    const last = this.buckets - 1;
    const index = ns >= Number.MAX_SAFE_INTEGER ? last : bucketIndex(Math.floor(ns));
    return index > last ? last : index;
  }

  /** Grow `counts` to hold bucket `index` (< buckets): doubled, so that a run grows it a few times at most. */
  private reach(index: number): void {
    if (index < this.counts.length) return;
    let n = this.counts.length;
    while (n <= index) n *= 2;
    const wider = new Float64Array(Math.min(n, this.buckets));
    wider.set(this.counts);
    this.counts = wider;
  }

  private reject(ns: number, n: number): never {
    throw new SplitnetError('E_USAGE', `LatencyHistogram: expected a value ≥ 0 ns and an integer count ≥ 0, found ${String(ns)} × ${String(n)}`);
  }
}

/** Bucket geometry, exported for tests and for reports that draw the histogram. */
export const histogramBuckets = {
  indexOf: (ns: Nanos): number => bucketIndex(Math.floor(ns)),
  lowestOf: bucketLow,
  highestOf: bucketHighest,
} as const;
