// A swept axis as numbers: rates in bit/s or packets/s, durations in µs, plain numbers as they are — the numeric column beside an axis's label column.
import { parseDuration, parseRate } from '@splitnet/scenario';

/** How an axis's values read as numbers, and the table column that holds them. */
export interface NumericAxis {
  /** The table column: `<path>_bps`, `<path>_pps` or `<path>_us` for values with units; the axis's own column for plain numbers. */
  readonly column: string;
  /** The numbers' unit: `bit/s`, `packets/s`, `µs`; absent for plain numbers (a count, a size in bytes: the unit the scenario field has). */
  readonly unit?: 'bit/s' | 'packets/s' | 'µs';
  /** One number per value of the axis, in order. */
  readonly numbers: readonly number[];
}

type Kind = { readonly suffix: string; readonly unit: NonNullable<NumericAxis['unit']>; readonly read: (v: unknown) => number | undefined };

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : v === 0 ? '0' : undefined);

/** The kinds of values with a unit, each read into its SI unit. */
const KINDS: readonly Kind[] = [
  {
    suffix: 'bps',
    unit: 'bit/s',
    read: (v) => {
      const r = typeof v === 'string' ? parseRate(v) : undefined;
      return r?.kind === 'bits' ? r.bitsPerSecond : undefined;
    },
  },
  {
    suffix: 'pps',
    unit: 'packets/s',
    read: (v) => {
      const r = typeof v === 'string' ? parseRate(v) : undefined;
      return r?.kind === 'packets' ? r.packetsPerSecond : undefined;
    },
  },
  {
    suffix: 'us',
    unit: 'µs',
    read: (v) => {
      const t = text(v);
      const ns = t === undefined ? undefined : parseDuration(t);
      return ns === undefined ? undefined : ns / 1000;
    },
  },
];

/**
 * The axis `path` as numbers, if every value is one: all plain numbers, or all rates of one kind, or
 * all durations. Otherwise (policy names, maps, a mix) undefined: the axis is categorical.
 */
export function numericAxis(path: string, values: readonly unknown[]): NumericAxis | undefined {
  if (values.length === 0) return undefined;
  if (values.every((v) => typeof v === 'number' && Number.isFinite(v))) return { column: path, numbers: values as number[] };
  for (const kind of KINDS) {
    const numbers = values.map(kind.read);
    if (numbers.every((n): n is number => n !== undefined && Number.isFinite(n))) return { column: `${path}_${kind.suffix}`, unit: kind.unit, numbers };
  }
  return undefined;
}
