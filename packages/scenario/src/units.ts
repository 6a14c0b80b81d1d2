// Durations and rates as people write them in scenarios ("50ms", "10Gbps", "1.5Mpps"), parsed and formatted exactly.
import { MS, NS, SEC, US, type Nanos } from '@splitnet/model';

const NUMBER = String.raw`(\d+(?:\.\d*)?|\.\d+)`;

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ns: NS,
  us: US,
  µs: US, // U+00B5 micro sign, what most keyboards produce
  μs: US, // U+03BC Greek mu, what some editors substitute
  ms: MS,
  s: SEC,
};

/**
 * Decimals each unit may carry and still name a whole number of nanoseconds (trailing zeros
 * aside): emulated time has 1 ns resolution in scenarios, so that a resolved scenario reproduces
 * the same schedule. Deciding this on the digits, not on the float product, makes the parser and
 * the JSON Schema's pattern (durationPattern) accept exactly the same strings.
 */
const DURATION_DECIMALS: Readonly<Record<string, number>> = { ns: 0, us: 3, µs: 3, μs: 3, ms: 6, s: 9 };

/** A number with at most `d` significant decimals, then any zeros. */
function wholeNumberWith(d: number): string {
  return d === 0 ? String.raw`\d+(?:\.0*)?|\.0+` : String.raw`\d+(?:\.\d{0,${d}}0*)?|\.\d{1,${d}}0*`;
}

/** Lookahead: some digit 1-9 before the end, i.e. the number is not zero (units hold no digits). */
const NON_ZERO = '(?=[^1-9]*[1-9])';

/**
 * The regular expression (ECMAScript source, anchored) of a duration string: `50ms`, `1.5 us`.
 * `positive` leaves out zero in every unit; otherwise a bare `0` is a duration too.
 */
export function durationPattern(positive: boolean): string {
  const units = Object.keys(DURATION_UNITS).map((u) => String.raw`(?:${wholeNumberWith(DURATION_DECIMALS[u] as number)})\s*${u}`);
  const body = String.raw`\s*(?:${units.join('|')})\s*`;
  return positive ? `^${NON_ZERO}${body}$` : String.raw`^(?:${body}|\s*0\s*)$`;
}

const DURATION_RE = new RegExp(String.raw`^\s*${NUMBER}\s*(${Object.keys(DURATION_UNITS).join('|')})\s*$`);
const WHOLE_NS_RE = new RegExp(durationPattern(false), 'u');

/** What a duration looks like, for "expected …" messages. */
export const DURATION_HINT = 'a duration with a unit (ns, us, ms, s) such as 50ms';

/**
 * "50ms" → 50_000_000. Returns undefined for anything that is not a non-negative number followed
 * by a unit, or that is not a whole number of nanoseconds (see DURATION_DECIMALS). A bare 0 is
 * accepted: it is the same in every unit.
 */
export function parseDuration(text: string): Nanos | undefined {
  if (text.trim() === '0') return 0;
  const m = DURATION_RE.exec(text);
  if (m === null || !WHOLE_NS_RE.test(text)) return undefined;
  const scale = DURATION_UNITS[m[2] as string] as number;
  // At most as many decimals as the unit has digits below it: the product is a whole number up to float rounding.
  const ns = Math.round(Number(m[1]) * scale);
  return Number.isSafeInteger(ns) ? ns : undefined;
}

/**
 * 50_000_000 → "50ms"; 1_234_567 → "1234.567us". Picks the largest unit that shows the value with
 * at most three decimals, so `parseDuration(formatDuration(t)) === t` for whole nanoseconds.
 */
export function formatDuration(ns: Nanos): string {
  if (ns === 0) return '0ms';
  const units: readonly [string, number][] = [
    ['s', SEC],
    ['ms', MS],
    ['us', US],
  ];
  for (const [unit, scale] of units) {
    if (Math.abs(ns) < scale) continue;
    const text = shortDecimal(ns / scale, 3);
    if (text !== undefined && parseDuration(`${text}${unit}`) === ns) return `${text}${unit}`;
  }
  return `${ns}ns`;
}

/** A traffic rate: either bits on the wire per second, or frames per second. */
export type Rate = { readonly kind: 'bits'; readonly bitsPerSecond: number } | { readonly kind: 'packets'; readonly packetsPerSecond: number };

const BIT_UNITS: Readonly<Record<string, number>> = {
  bps: 1,
  kbps: 1e3,
  Kbps: 1e3,
  Mbps: 1e6,
  Gbps: 1e9,
  Tbps: 1e12,
};
const PACKET_UNITS: Readonly<Record<string, number>> = {
  pps: 1,
  kpps: 1e3,
  Kpps: 1e3,
  Mpps: 1e6,
  Gpps: 1e9,
};
const RATE_RE = new RegExp(String.raw`^\s*(-?)${NUMBER}\s*([A-Za-z]+)\s*$`);

/**
 * The regular expression (ECMAScript source, anchored) of a positive rate string with a known
 * unit: bit rates only (`10Gbps`), or bit and packet rates (`1.5Mpps`). Built from the unit
 * tables parseRate reads, so the JSON Schema accepts the units the parser does.
 */
export function ratePattern(bitsOnly: boolean): string {
  const units = [...Object.keys(BIT_UNITS), ...(bitsOnly ? [] : Object.keys(PACKET_UNITS))];
  return String.raw`^${NON_ZERO}\s*(?:${NUMBER})\s*(?:${units.join('|')})\s*$`;
}

/** What a rate looks like, for "expected …" messages. */
export const RATE_HINT = 'a rate such as 10Gbps, 500Mbps or 1.5Mpps';
export const BIT_RATE_HINT = 'a bit rate such as 10Gbps or 500Mbps';

/**
 * "10Gbps" → bits/s, "1.5Mpps" → frames/s. Returns undefined when the text is not a number with
 * a known unit. Zero and negative numbers are parsed (with their sign) so that the caller can say
 * "expected a positive rate" rather than "not a rate".
 */
export function parseRate(text: string): Rate | undefined {
  const m = RATE_RE.exec(text);
  if (m === null) return undefined;
  const value = (m[1] === '-' ? -1 : 1) * Number(m[2]);
  const unit = m[3] as string;
  const bits = BIT_UNITS[unit];
  if (bits !== undefined) return { kind: 'bits', bitsPerSecond: value * bits };
  const packets = PACKET_UNITS[unit];
  if (packets !== undefined) return { kind: 'packets', packetsPerSecond: value * packets };
  return undefined;
}

/** 1e10 bits → "10Gbps"; 1.5e6 packets → "1.5Mpps". Round-trips through `parseRate`. */
export function formatRate(rate: Rate): string {
  return rate.kind === 'bits'
    ? formatScaled(
        rate.bitsPerSecond,
        [
          ['Tbps', 1e12],
          ['Gbps', 1e9],
          ['Mbps', 1e6],
          ['Kbps', 1e3],
        ],
        'bps',
      )
    : formatScaled(
        rate.packetsPerSecond,
        [
          ['Gpps', 1e9],
          ['Mpps', 1e6],
          ['Kpps', 1e3],
        ],
        'pps',
      );
}

function formatScaled(value: number, units: readonly [string, number][], base: string): string {
  for (const [unit, scale] of units) {
    if (Math.abs(value) < scale) continue;
    const text = shortDecimal(value / scale, 6);
    if (text === undefined) continue;
    const back = parseRate(`${text}${unit}`);
    const parsed = back === undefined ? Number.NaN : back.kind === 'bits' ? back.bitsPerSecond : back.packetsPerSecond;
    if (parsed === value) return `${text}${unit}`;
  }
  return `${String(value)}${base}`;
}

/** `x` written with at most `maxDecimals` decimals and no exponent, or undefined if that loses digits. */
function shortDecimal(x: number, maxDecimals: number): string | undefined {
  const text = String(x);
  if (text.includes('e')) return undefined;
  const dot = text.indexOf('.');
  if (dot >= 0 && text.length - dot - 1 > maxDecimals) return undefined;
  return text;
}
