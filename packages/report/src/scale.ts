// Axis arithmetic: "nice" tick values (1, 2, 5 × 10ⁿ), linear scales, and number formats for ticks and tooltips.

export interface Ticks {
  readonly lo: number;
  readonly hi: number;
  readonly step: number;
  readonly values: readonly number[];
}

/** Round away binary noise (0.1 + 0.2) so tick values print as people write them. */
function clean(v: number): number {
  return Number(v.toPrecision(12));
}

/**
 * Ticks covering [min, max] with about `target` intervals, each a step of 1, 2 or 5 × 10ⁿ; the
 * ends are widened to whole steps. A zero-width range is widened first so an axis always has extent.
 */
export function niceTicks(min: number, max: number, target = 5): Ticks {
  if (!Number.isFinite(min) || !Number.isFinite(max)) throw new RangeError(`niceTicks: expected finite bounds, found ${min}, ${max}`);
  let a = Math.min(min, max);
  let b = Math.max(min, max);
  if (a === b) {
    if (a === 0) b = 1;
    else if (a > 0) a = 0;
    else b = 0;
  }
  const rough = (b - a) / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(rough));
  const norm = rough / mag;
  const step = clean((norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag);
  const lo = clean(Math.floor(a / step + 1e-9) * step);
  const hi = clean(Math.ceil(b / step - 1e-9) * step);
  const values: number[] = [];
  const n = Math.round((hi - lo) / step);
  for (let i = 0; i <= n; i++) values.push(clean(lo + i * step));
  return { lo, hi, step, values };
}

/** A linear map from the domain [d0, d1] onto the range [r0, r1] (pixels). */
export function linear(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

const SUFFIXES: readonly (readonly [number, string])[] = [
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/** The true minus sign reads better than a hyphen in figures. */
function sign(s: string): string {
  return s.startsWith('-') ? `−${s.slice(1)}` : s;
}

/**
 * Labels for a set of ticks: one SI suffix for the whole axis (chosen by its largest magnitude,
 * only from 10 000 up so that 1500 stays 1500), and just enough decimals to tell the steps apart.
 */
export function tickFormatter(ticks: Ticks): (v: number) => string {
  const top = Math.max(Math.abs(ticks.lo), Math.abs(ticks.hi));
  const [div, suffix] = top >= 1e4 ? (SUFFIXES.find(([d]) => top >= d) ?? [1, '']) : [1, ''];
  const decimals = Math.max(0, -Math.floor(Math.log10(ticks.step / div) + 1e-9));
  return (v) => sign(v === 0 ? '0' : `${(v / div).toFixed(Math.min(decimals, 6))}${suffix}`);
}

/**
 * The formats formatValue uses, by the most fraction digits (0–6), made once: `toLocaleString` with options builds a
 * new formatter on every call, which made a figure of a few thousand points take seconds (every point has a tooltip).
 */
const FORMATS: readonly Intl.NumberFormat[] = Array.from(
  { length: 7 },
  (_, digits) => new Intl.NumberFormat('en-US', { minimumFractionDigits: 0, maximumFractionDigits: digits }),
);

/** A value for people (tooltips, tables): 4 significant digits, thousands separated, no exponent. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const r = Number(v.toPrecision(4));
  const abs = Math.abs(r);
  const digits = abs >= 1000 ? 0 : Math.min(6, 3 - Math.floor(Math.log10(abs)));
  return sign((FORMATS[Math.max(0, digits)] as Intl.NumberFormat).format(r));
}
