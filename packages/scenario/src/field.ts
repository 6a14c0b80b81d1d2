// Typed readers over plain YAML data: each checks one value at a path and throws a ScenarioIssue saying what was expected.
import { describeValue, listWords, ScenarioIssue, type Path, type PathSegment } from './issue.js';
import { didYouMean } from './suggest.js';
import { keysOf, type MapSpec } from './spec.js';
import { BIT_RATE_HINT, DURATION_HINT, parseDuration, parseRate, RATE_HINT, type Rate } from './units.js';

/** A value found (or not) at a path. `undefined` and YAML null both mean "not given": the default applies. */
export class Field {
  constructor(
    readonly value: unknown,
    readonly path: Path,
  ) {}

  get absent(): boolean {
    return this.value === undefined || this.value === null;
  }

  at(segment: PathSegment, value: unknown): Field {
    return new Field(value, [...this.path, segment]);
  }

  /** Throw `expected <what>, found <this value><note>`; `related` names settings a cross-field rule depends on. */
  expected(what: string, note = '', related: readonly Path[] = []): never {
    throw new ScenarioIssue(this.path, `expected ${what}, found ${describeValue(this.value)}${note}`, false, related);
  }

  /** Throw a message whose "found" part is not simply this value (`detail` should still read "expected …, found …"). */
  fail(detail: string, related: readonly Path[] = []): never {
    throw new ScenarioIssue(this.path, detail, false, related);
  }
}

/** A map whose keys have been checked against the allowed set. */
export class MapField {
  constructor(
    readonly field: Field,
    private readonly entries: Readonly<Record<string, unknown>>,
  ) {}

  get path(): Path {
    return this.field.path;
  }

  has(key: string): boolean {
    return Object.hasOwn(this.entries, key) && this.entries[key] !== null && this.entries[key] !== undefined;
  }

  get(key: string): Field {
    return this.field.at(key, Object.hasOwn(this.entries, key) ? this.entries[key] : undefined);
  }

  keys(): string[] {
    return Object.keys(this.entries);
  }
}

export function isPlainMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Read a map that may only hold `allowed` keys (a list, or the keys of a map's spec); an absent
 * value reads as an empty map (all defaults). Unknown keys are reported at the key, with the
 * allowed list and a suggestion.
 */
export function readMap(field: Field, keys: readonly string[] | MapSpec, what = 'a map'): MapField {
  const allowed = 'kind' in keys ? keysOf(keys) : keys;
  if (field.absent) return new MapField(field, {});
  if (!isPlainMap(field.value)) field.expected(what);
  for (const key of Object.keys(field.value)) {
    if (!allowed.includes(key)) {
      throw new ScenarioIssue(
        [...field.path, key],
        `unknown key ${JSON.stringify(key)} (expected one of: ${allowed.join(', ')}${didYouMean(key, allowed)})`,
        true,
      );
    }
  }
  return new MapField(field, field.value);
}

export interface IntRange {
  readonly min: number;
  readonly max: number;
  /** Appended to the message (`packets`); an IntSpec carries its own. */
  readonly unit?: string;
}

function rangeText(noun: string, { min, max }: IntRange, unit = ''): string {
  const u = unit === '' ? '' : ` ${unit}`;
  if (max >= Number.MAX_SAFE_INTEGER) return `${noun} ≥ ${min}${u}`;
  return `${noun} from ${min} to ${max}${u}`;
}

/** An integer within [min, max]. */
export function readInt(field: Field, fallback: number, range: IntRange, unit = range.unit ?? ''): number {
  if (field.absent) return fallback;
  const v = field.value;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < range.min || v > range.max) {
    field.expected(rangeText('an integer', range, unit));
  }
  return v;
}

/** A power of two within [min, max] (ring sizes, RETA sizes). */
export function readPowerOfTwo(field: Field, fallback: number, range: IntRange): number {
  if (field.absent) return fallback;
  const v = field.value;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < range.min || v > range.max || (v & (v - 1)) !== 0) {
    field.expected(`a power of two from ${range.min} to ${range.max}`);
  }
  return v;
}

export interface NumberRange {
  readonly min: number;
  readonly max: number;
  /** True when `min` itself is not allowed (strictly positive quantities). */
  readonly minExclusive?: boolean;
  readonly unit?: string;
}

/** A finite number within the range. */
export function readNumber(field: Field, fallback: number, range: NumberRange, unit = range.unit ?? ''): number {
  if (field.absent) return fallback;
  const v = field.value;
  const exclusive = range.minExclusive === true;
  const low = exclusive ? `> ${range.min}` : `≥ ${range.min}`;
  const what =
    range.max === Infinity ? `a number ${low}` : exclusive ? `a number > ${range.min} and ≤ ${range.max}` : `a number from ${range.min} to ${range.max}`;
  const okLow = typeof v === 'number' && (range.minExclusive === true ? v > range.min : v >= range.min);
  if (typeof v !== 'number' || !Number.isFinite(v) || !okLow || v > range.max) {
    field.expected(unit === '' ? what : `${what} (${unit})`);
  }
  return v;
}

export function readString(field: Field, fallback: string): string {
  if (field.absent) return fallback;
  if (typeof field.value !== 'string') field.expected('a string');
  return field.value;
}

/** One of a fixed set of words; the message lists them and suggests the closest. */
export function readEnum<T extends string>(field: Field, fallback: T, allowed: readonly T[]): T {
  if (field.absent) return fallback;
  const v = field.value;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    const hint = typeof v === 'string' ? didYouMean(v, allowed) : '';
    field.expected(`one of ${listWords(allowed)}`, hint === '' ? '' : ` (${hint.slice(2)})`);
  }
  return v as T;
}

/** A duration string → ns, at least `min` ns. */
export function readDuration(field: Field, fallback: number, min = 0): number {
  if (field.absent) return fallback;
  const v = field.value;
  const ns = typeof v === 'string' || v === 0 ? parseDuration(String(v)) : undefined;
  if (ns === undefined) {
    const note = typeof v === 'number' ? ' (a bare number has no unit)' : '';
    field.expected(DURATION_HINT, note);
  }
  if (ns < min) field.expected(min === 1 ? `a positive duration such as 50ms` : `a duration ≥ ${min}ns`);
  return ns;
}

/** A positive traffic rate (bits or packets per second), at most 1 Tbit/s or 1 Gpps. */
export function readRate(field: Field): Rate {
  const v = field.value;
  const rate = typeof v === 'string' ? parseRate(v) : undefined;
  if (rate === undefined) field.expected(RATE_HINT, typeof v === 'number' ? ' (a bare number has no unit)' : '');
  const amount = rate.kind === 'bits' ? rate.bitsPerSecond : rate.packetsPerSecond;
  if (!(amount > 0)) field.expected('a positive rate such as 5Gbps or 1Mpps');
  if (rate.kind === 'bits' ? amount > 1e12 : amount > 1e9) field.expected('a rate up to 1Tbps or 1Gpps');
  return rate;
}

/** A positive bit rate in bits/s, at most 1 Tbit/s (link speeds). */
export function readBitRate(field: Field): number {
  const v = field.value;
  const rate = typeof v === 'string' ? parseRate(v) : undefined;
  if (rate === undefined || rate.kind !== 'bits') {
    field.expected(BIT_RATE_HINT, typeof v === 'number' ? ' (a bare number has no unit)' : '');
  }
  if (!(rate.bitsPerSecond > 0) || rate.bitsPerSecond > 1e12) field.expected('a bit rate above 0 and up to 1Tbps, such as 10Gbps');
  return rate.bitsPerSecond;
}

/** A list (absent → undefined, so callers pick their own default). */
export function readList(field: Field, what: string): readonly Field[] | undefined {
  if (field.absent) return undefined;
  if (!Array.isArray(field.value)) field.expected(what);
  return field.value.map((item, i) => field.at(i, item));
}
