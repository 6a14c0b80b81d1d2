// The rounding every results figure goes through: six significant digits.

/** Round to 6 significant digits: stable, readable figures in results files. */
export function sig(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  return Number(x.toPrecision(6));
}
