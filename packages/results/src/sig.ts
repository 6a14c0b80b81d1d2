// The rounding every results figure goes through: six significant digits.

/** 10^0 … 10^22: every one an exact double (5^22 < 2^53). */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/**
 * How far from a rounding tie (…x.5) or from a decade's edge the scaled value must be for the arithmetic to decide the
 * rounding: the scaling is one correctly rounded multiply or divide, so the scaled value (below 10^6) is off by at most
 * 10^6 · 2^−53 ≈ 1.1e−10.
 */
const MARGIN = 1e-7;

/**
 * Round to 6 significant digits: stable, readable figures in results files. The value is exactly
 * `Number(x.toPrecision(6))` (the decimal rounded half up, read back as the nearest double); a results file is made
 * of thousands of these, and toPrecision's decimal conversion took a few µs each (half of a sample's cost in sim).
 * So: scale |x| by a power of ten into [10^5, 10^6), round to an integer n, and scale back with one correctly rounded
 * division or multiplication, which gives the double nearest n · 10^−k as parsing the decimal does. Where the scaled
 * value lies too near a tie or a decade's edge for the arithmetic to be sure, or the power is beyond the exact ones,
 * toPrecision decides.
 */
export function sig(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const ax = x < 0 ? -x : x;
  let k = 5 - Math.floor(Math.log10(ax));
  let m = scale(ax, k);
  if (m < 1e5) m = scale(ax, ++k);
  else if (m >= 1e6) m = scale(ax, --k);
  const f = m - Math.floor(m);
  if (!(k >= -22 && k <= 22 && m - 1e5 > MARGIN && 1e6 - m > MARGIN && Math.abs(f - 0.5) > MARGIN)) return Number(x.toPrecision(6));
  const n = f > 0.5 ? Math.floor(m) + 1 : Math.floor(m);
  const r = k >= 0 ? n / (POW10[k] as number) : n * (POW10[-k] as number);
  return x < 0 ? -r : r;
}

/** ax · 10^k, one correctly rounded operation for |k| ≤ 22 (NaN beyond: the caller falls back). */
function scale(ax: number, k: number): number {
  if (k >= 0) return k <= 22 ? ax * (POW10[k] as number) : Number.NaN;
  return k >= -22 ? ax / (POW10[-k] as number) : Number.NaN;
}
