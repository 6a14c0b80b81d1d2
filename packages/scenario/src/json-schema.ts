// Turns the scenario language's spec into a JSON Schema (draft-07) that editors (yaml-language-server) complete and check scenario files with.
import { SCENARIO_SPEC } from './scenario-spec.js';
import type { MapSpec, Spec, TaggedSpec } from './spec.js';
import { BIT_RATE_HINT, DURATION_HINT, durationPattern, formatDuration, formatRate, RATE_HINT, ratePattern } from './units.js';

type Json = { [key: string]: unknown };

/**
 * Draft-07 because every yaml-language-server release validates it (the VS Code YAML extension's
 * among them); 2019-09 and 2020-12 came only in recent releases, and nothing here needs them.
 * `patternErrorMessage` and `errorMessage` are yaml-language-server's (and VS Code's) own keywords
 * for a readable message; other validators ignore them.
 */
const DRAFT = 'http://json-schema.org/draft-07/schema#';

/** The scenario language as a JSON Schema. */
export function scenarioJsonSchema(): Json {
  return {
    $schema: DRAFT,
    $comment:
      'Generated from packages/scenario (scenario-spec.ts) by `splitnet schema`; do not edit. It checks every value on its own (keys, types, ranges, units, forms); rules between settings (warmup < duration, VM indexes < topology.vms.count, workers and queues per vrss mode, …) are checked by `splitnet validate`.',
    title: 'splitnet scenario',
    ...toSchema(SCENARIO_SPEC),
    definitions: DEFINITIONS,
  };
}

/** The schema as the text `splitnet schema` prints and docs/scenario.schema.json holds. */
export function formatScenarioSchema(): string {
  return `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
}

/** Unit strings, written once and referred to: their patterns are long and used in many places. */
const DEFINITIONS = {
  duration: {
    description: 'A duration with a unit (ns, us, µs, ms, s) in whole nanoseconds, such as 50ms or 1.5us; or 0.',
    anyOf: [
      { type: 'string', pattern: durationPattern(false), patternErrorMessage: `expected ${DURATION_HINT}` },
      { type: 'integer', const: 0 },
    ],
  },
  positiveDuration: {
    description: 'A positive duration with a unit (ns, us, µs, ms, s) in whole nanoseconds, such as 50ms.',
    type: 'string',
    pattern: durationPattern(true),
    patternErrorMessage: 'expected a positive duration with a unit (ns, us, ms, s) such as 50ms',
  },
  rate: {
    description: 'A positive rate: bits per second (bps, Kbps, Mbps, Gbps, Tbps) or frames per second (pps, Kpps, Mpps, Gpps), such as 10Gbps or 1.5Mpps.',
    type: 'string',
    pattern: ratePattern(false),
    patternErrorMessage: `expected ${RATE_HINT}`,
  },
  bitRate: {
    description: 'A positive bit rate (bps, Kbps, Mbps, Gbps, Tbps), such as 10Gbps.',
    type: 'string',
    pattern: ratePattern(true),
    patternErrorMessage: `expected ${BIT_RATE_HINT}`,
  },
} as const;

function ref(name: keyof typeof DEFINITIONS): Json {
  return { $ref: `#/definitions/${name}` };
}

function toSchema(spec: Spec): Json {
  return { ...annotations(spec), ...shape(spec) };
}

/** Description and default (as a scenario writes it: durations and rates as strings). */
function annotations(spec: Spec): Json {
  const dflt = defaultOf(spec);
  return { ...(spec.description !== undefined ? { description: spec.description } : {}), ...(dflt !== undefined ? { default: dflt } : {}) };
}

function defaultOf(spec: Spec): unknown {
  if (spec.kind === 'list' || spec.kind === 'map' || spec.kind === 'tagged' || spec.default === undefined) return undefined;
  if (spec.kind === 'duration') return formatDuration(spec.default);
  if (spec.kind === 'rate') return formatRate({ kind: 'bits', bitsPerSecond: spec.default });
  return spec.default;
}

/** The checking part of a spec's schema (no description, no default). */
function shape(spec: Spec): Json {
  switch (spec.kind) {
    case 'int':
      // Powers of two as a list, so that an editor offers them.
      if (spec.powerOfTwo === true) return { type: 'integer', enum: powersOfTwo(spec.min, spec.max) };
      return { type: 'integer', minimum: spec.min, maximum: spec.max };
    case 'number':
      return {
        type: 'number',
        ...(spec.minExclusive === true ? { exclusiveMinimum: spec.min } : { minimum: spec.min }),
        ...(Number.isFinite(spec.max) ? { maximum: spec.max } : {}),
      };
    case 'string':
      return {
        type: 'string',
        ...(spec.nonEmpty === true ? { minLength: 1 } : {}),
        ...(spec.pattern !== undefined ? { pattern: spec.pattern } : {}),
        ...(spec.patternMessage !== undefined ? { patternErrorMessage: `expected ${spec.patternMessage}` } : {}),
        ...(spec.suggestions !== undefined ? { examples: [...spec.suggestions()] } : {}),
      };
    case 'enum':
      return { type: spec.values.every((v) => typeof v === 'number') ? 'integer' : 'string', enum: [...spec.values] };
    case 'boolean':
      return { type: 'boolean' };
    case 'duration':
      return ref(spec.min >= 1 ? 'positiveDuration' : 'duration');
    case 'rate':
      return ref(spec.bitsOnly ? 'bitRate' : 'rate');
    case 'list':
      return {
        type: 'array',
        items: toSchema(spec.items),
        ...(spec.minItems !== undefined ? { minItems: spec.minItems } : {}),
        ...(spec.maxItems !== undefined ? { maxItems: spec.maxItems } : {}),
        ...(spec.unique === true ? { uniqueItems: true } : {}),
      };
    case 'map':
      return mapShape(spec);
    case 'tagged':
      return taggedShape(spec);
    case 'oneOf':
      // The forms are disjoint (a word, a number, a list, maps with different keys), so exactly one matches.
      return { oneOf: spec.variants.map(toSchema) };
  }
}

function powersOfTwo(min: number, max: number): number[] {
  const out: number[] = [];
  for (let p = 1; p <= max; p *= 2) if (p >= min) out.push(p);
  return out;
}

/**
 * A key written with nothing after it (YAML null) means "not given" to the readers: the default
 * applies. So an optional key also accepts null; a required one does not.
 */
function orNull(schema: Json): Json {
  const { description, default: dflt, ...check } = schema;
  const notes: Json = { ...(description !== undefined ? { description } : {}), ...(dflt !== undefined ? { default: dflt } : {}) };
  // Words stay a list of their own, so that an editor does not offer "null" among them.
  if (typeof check['type'] === 'string' && check['enum'] === undefined) return { ...notes, ...check, type: [check['type'], 'null'] };
  if (Array.isArray(check['oneOf'])) return { ...notes, ...check, oneOf: [...(check['oneOf'] as Json[]), { type: 'null' }] };
  return { ...notes, anyOf: [check, { type: 'null' }] };
}

/**
 * Exactly one of `keys`: at least one given, and with one given the others null or absent. The
 * second half as "must be null" rather than `oneOf`, so that an editor's message can say what is wrong.
 */
function exactlyOneOf(keys: readonly string[]): { anyOf: Json[]; allOf: Json[] } {
  return {
    anyOf: keys.map((k) => ({ required: [k] })),
    allOf: keys.map((k) => ({
      if: { required: [k], properties: { [k]: { not: { type: 'null' } } } },
      then: {
        properties: Object.fromEntries(
          keys.filter((o) => o !== k).map((o) => [o, { type: 'null', errorMessage: `expected either ${keys.join(' or ')}, found both` }]),
        ),
      },
    })),
  };
}

function mapShape(spec: MapSpec): Json {
  const required = spec.required ?? [];
  return {
    type: 'object',
    properties: Object.fromEntries(Object.entries(spec.keys).map(([key, s]) => [key, required.includes(key) ? toSchema(s) : orNull(toSchema(s))])),
    ...(required.length > 0 ? { required: [...required] } : {}),
    ...(spec.minKeys !== undefined ? { minProperties: spec.minKeys } : {}),
    additionalProperties: false,
  };
}

/**
 * A map tagged by one key. The base holds the tag and the keys every variant has, so that an editor
 * completes them before the tag is written; one if/then per tag value then allows that variant's
 * keys only, with its own checks, defaults and required keys (and so the editor completes those).
 * A key whose checks differ between variants (a fault's target kinds) is only described in the base.
 */
function taggedShape(spec: TaggedSpec): Json {
  const variants = Object.entries(spec.variants);
  const seen = new Map<string, { description: string | undefined; shapes: Set<string>; in: number }>();
  for (const [, variant] of variants) {
    for (const [key, s] of Object.entries(variant.keys)) {
      const entry = seen.get(key) ?? { description: s.description, shapes: new Set<string>(), in: 0 };
      entry.shapes.add(JSON.stringify(shape(s)));
      entry.in += 1;
      seen.set(key, entry);
    }
  }
  const agreed = (key: string): boolean => seen.get(key)?.shapes.size === 1 && seen.get(key)?.in === variants.length;
  const required = [spec.tag, ...(spec.required ?? [])];
  const base: Json = { [spec.tag]: { description: spec.tagDescription, type: 'string', enum: variants.map(([tag]) => tag) } };
  for (const [key, { description, shapes, in: count }] of seen) {
    if (count < variants.length) continue;
    const common = agreed(key) ? (JSON.parse([...shapes][0] as string) as Json) : {};
    const schema = { ...(description !== undefined ? { description } : {}), ...common };
    base[key] = required.includes(key) || !agreed(key) ? schema : orNull(schema);
  }
  // Per variant: its default for each key, its own checks where variants differ, and no null for a key it requires.
  const variantKeys = (variant: MapSpec): Json => {
    const needed = variant.required ?? [];
    const out: Json = { [spec.tag]: true };
    for (const [key, s] of Object.entries(variant.keys)) {
      const dflt = defaultOf(s);
      const checks = agreed(key) && !needed.includes(key) ? {} : needed.includes(key) ? shape(s) : orNull(shape(s));
      // A key only some variants have is described here, where the editor finds it.
      const described = base[key] === undefined && s.description !== undefined ? { description: s.description } : {};
      const own: Json = { ...described, ...checks, ...(dflt !== undefined ? { default: dflt } : {}) };
      out[key] = Object.keys(own).length === 0 ? true : own;
    }
    return out;
  };
  const one = spec.exactlyOne === undefined ? undefined : exactlyOneOf(spec.exactlyOne);
  return {
    type: 'object',
    properties: base,
    required,
    ...(one !== undefined ? { anyOf: one.anyOf } : {}),
    allOf: [
      ...(one?.allOf ?? []),
      ...variants.map(([tag, variant]) => ({
        if: { properties: { [spec.tag]: { const: tag } }, required: [spec.tag] },
        then: {
          properties: variantKeys(variant),
          ...(variant.required !== undefined && variant.required.length > 0 ? { required: [...variant.required] } : {}),
          additionalProperties: false,
        },
      })),
    ],
  };
}
