// The scenario language as data: each value's kind, range, unit, default and meaning, which the readers check against and json-schema.ts turns into a JSON Schema.
import type { Nanos } from '@splitnet/model';

/**
 * Why a table rather than hand-written readers plus a hand-written schema: the readers take their
 * key lists, ranges, enums and static defaults from these nodes, and the JSON Schema is generated
 * from the same nodes, so an editor's completion and checks cannot drift from `splitnet validate`.
 * Rules between settings (warm-up < duration, VM indexes < vms.count, …) stay in the readers: a
 * JSON Schema cannot express them, and the schema says so in its $comment.
 */
export type Spec = IntSpec | NumberSpec | StringSpec | EnumSpec | BooleanSpec | DurationSpec | RateSpec | ListSpec | MapSpec | TaggedSpec | OneOfSpec;

interface Documented {
  /** One line shown when an editor hovers the key. */
  readonly description?: string;
}

export interface IntSpec extends Documented {
  readonly kind: 'int';
  readonly min: number;
  readonly max: number;
  /** Appended to "expected an integer from … to …" messages (`packets`). */
  readonly unit?: string;
  readonly powerOfTwo?: boolean;
  readonly default?: number;
}

export interface NumberSpec extends Documented {
  readonly kind: 'number';
  readonly min: number;
  readonly max: number;
  /** True when `min` itself is not allowed (strictly positive quantities). */
  readonly minExclusive?: boolean;
  readonly unit?: string;
  readonly default?: number;
}

export interface StringSpec extends Documented {
  readonly kind: 'string';
  readonly nonEmpty?: boolean;
  /** An ECMAScript regular expression the whole string matches (anchored with ^…$). */
  readonly pattern?: string;
  /** What a string that does not match was expected to be, as the reader's message says it ("a …"). */
  readonly patternMessage?: string;
  /** Values an editor offers; others are allowed too (profile names beside paths). Read when a schema is made (they may be files). */
  readonly suggestions?: () => readonly string[];
  readonly default?: string;
}

export interface EnumSpec<T extends string | number = string | number> extends Documented {
  readonly kind: 'enum';
  readonly values: readonly T[];
  readonly default?: T;
}

export interface BooleanSpec extends Documented {
  readonly kind: 'boolean';
  readonly default?: boolean;
}

/** A duration string such as `50ms` (or a bare 0 when `min` is 0). */
export interface DurationSpec extends Documented {
  readonly kind: 'duration';
  /** Least value in ns: 0, or 1 for "a positive duration". */
  readonly min: Nanos;
  readonly max?: Nanos;
  readonly default?: Nanos;
}

/** A rate string: bits per second (`10Gbps`) or, unless `bitsOnly`, frames per second (`1.5Mpps`). */
export interface RateSpec extends Documented {
  readonly kind: 'rate';
  readonly bitsOnly: boolean;
  /** Default in bits per second. */
  readonly default?: number;
}

export interface ListSpec extends Documented {
  readonly kind: 'list';
  readonly items: Spec;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly unique?: boolean;
}

export type Keys = Readonly<Record<string, Spec>>;

/** A map with a fixed set of keys; any other key is an error. */
export interface MapSpec<K extends Keys = Keys> extends Documented {
  readonly kind: 'map';
  readonly keys: K;
  readonly required?: readonly string[];
  /** At least this many keys (a map that only means something with one of its keys). */
  readonly minKeys?: number;
}

/**
 * A map whose `tag` key picks which other keys it may hold (a policy's parameters, a fault
 * action's parameters). Each variant lists every key it allows besides the tag.
 */
export interface TaggedSpec extends Documented {
  readonly kind: 'tagged';
  readonly tag: string;
  readonly tagDescription: string;
  readonly variants: Readonly<Record<string, MapSpec>>;
  /** Keys every variant requires besides the tag. */
  readonly required?: readonly string[];
  /** Exactly one of these keys must be given (a fault's `at` or `after`). */
  readonly exactlyOne?: readonly string[];
}

/** One of several forms (a frame size or a distribution; a policy name or a policy map). */
export interface OneOfSpec extends Documented {
  readonly kind: 'oneOf';
  readonly variants: readonly Spec[];
  /** The default as written in YAML, for editors. */
  readonly default?: unknown;
}

/** The value that leaves a choice to the run seed (traffic's `srcPort` and `phase`, the front end's Toeplitz key): also their default. */
export const SEEDED = 'seeded';

// Constructors: `const` type parameters keep literal defaults and key names, so a reader that
// writes `SPEC.keys.nicQueues.default` gets a number, and a misspelt key does not compile.

type Body<S extends { kind: string }> = Omit<S, 'kind'>;

/** The constructor of one kind of node: its fields as written, plus the kind. */
function node<K extends Spec['kind']>(kind: K) {
  return <const S extends Body<Extract<Spec, { kind: K }>>>(s: S): S & { readonly kind: K } => ({ kind, ...s });
}

export const int = node('int');
export const number = node('number');
export const string = node('string');
export const words = node('enum');
export const boolean = node('boolean');
export const duration = node('duration');
export const rate = node('rate');
export const list = node('list');
export const tagged = node('tagged');
export const oneOf = node('oneOf');

export function map<const K extends Keys, const S extends Omit<Body<MapSpec<K>>, 'keys'>>(keys: K, s: S = {} as S): MapSpec<K> & S {
  return { kind: 'map', keys, ...s };
}

/** The key names of a map, in the order messages list them. */
export function keysOf(spec: MapSpec): string[] {
  return Object.keys(spec.keys);
}
