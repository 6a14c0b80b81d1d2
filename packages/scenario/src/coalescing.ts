// The `coalescing` section: one interrupt moderation policy per placement (NIC, back-end, front-end), parameters checked and defaulted.
import type { PolicyKind, PolicySpec } from '@splitnet/model';
import { isPlainMap, readEnum, readInt, readMap, readNumber, type Field, type MapField } from './field.js';
import { listWords } from './issue.js';
import type { CoalescingPlacement } from './types.js';

export const PLACEMENTS = ['nic', 'backend', 'frontend'] as const;
export const POLICY_KINDS: readonly PolicyKind[] = ['none', 'static', 'adaptive-itr', 'aic', 'vic'];

/** Parameters each policy accepts, in the order the resolved scenario writes them. */
const PARAMS: Readonly<Record<PolicyKind, readonly string[]>> = {
  none: [],
  static: ['usecs', 'frames'],
  'adaptive-itr': ['lowestLatencyRate', 'lowLatencyRate', 'bulkRate', 'lowestLatencyMaxBytesPerUs', 'lowLatencyMaxBytesPerUs'],
  aic: ['minUsecs', 'maxUsecs', 'bufferFraction'],
  vic: ['lowRate', 'targetRate', 'maxRatio', 'maxUsecs'],
};
const ALL_PARAMS = [...new Set(Object.values(PARAMS).flat())];

/** Defaults per placement: the NIC runs ixgbe's default adaptive ITR; Xen's rings have no coalescing of their own. */
const PLACEMENT_DEFAULT: Readonly<Record<(typeof PLACEMENTS)[number], PolicyKind>> = {
  nic: 'adaptive-itr',
  backend: 'none',
  frontend: 'none',
};

/** A second is the longest moderation delay anyone would mean; beyond it a typo (ms for µs) is likelier. */
const MAX_USECS = 1_000_000;

export interface CoalescingResult {
  readonly compiled: CoalescingPlacement;
  readonly resolved: Record<string, unknown>;
}

export function readCoalescing(field: Field): CoalescingResult {
  const map = readMap(field, PLACEMENTS);
  const nic = readPolicy(map.get('nic'), PLACEMENT_DEFAULT.nic);
  const backend = readPolicy(map.get('backend'), PLACEMENT_DEFAULT.backend);
  const frontend = readPolicy(map.get('frontend'), PLACEMENT_DEFAULT.frontend);
  return {
    compiled: { nic, backend, frontend },
    resolved: { nic: resolvePolicy(nic), backend: resolvePolicy(backend), frontend: resolvePolicy(frontend) },
  };
}

/** A policy in the scenario's own words: `none` as a word, anything else as a map with every parameter. */
export function resolvePolicy(spec: PolicySpec): unknown {
  if (spec.kind === 'none') return 'none';
  const { kind, ...params } = spec;
  return { policy: kind, ...params };
}

/** A policy: a bare name (all parameters defaulted) or `{ policy: <name>, <param>: … }`. */
export function readPolicy(field: Field, fallback: PolicyKind): PolicySpec {
  if (field.absent) return policyFrom(fallback, field, new FieldlessMap(field));
  if (typeof field.value === 'string') {
    const kind = readEnum(field, fallback, POLICY_KINDS);
    if (kind === 'static') {
      field.expected('a map for "static", which needs its limits, e.g. { policy: static, usecs: 50, frames: 32 }');
    }
    return policyFrom(kind, field, new FieldlessMap(field));
  }
  const what = `a policy name (${POLICY_KINDS.join(', ')}) or a map such as { policy: static, usecs: 50 }`;
  if (!isPlainMap(field.value)) field.expected(what);
  // Without a valid policy, check spelling against every parameter first, so that a misspelt
  // `policy` key is reported as such rather than as a missing policy.
  const raw = Object.hasOwn(field.value, 'policy') ? field.value['policy'] : undefined;
  const policyField = field.at('policy', raw);
  if (typeof raw !== 'string' || !(POLICY_KINDS as readonly string[]).includes(raw)) readMap(field, ['policy', ...ALL_PARAMS], what);
  if (policyField.absent) policyField.expected(`one of ${listWords(POLICY_KINDS)}`);
  const kind = readEnum(policyField, fallback, POLICY_KINDS);
  const map = readMap(field, ['policy', ...PARAMS[kind]], what);
  return policyFrom(kind, field, map);
}

/** Lets a bare policy name go through the same parameter readers as a map with no parameters. */
class FieldlessMap {
  constructor(readonly field: Field) {}
  get(key: string): Field {
    return this.field.at(key, undefined);
  }
}

function policyFrom(kind: PolicyKind, field: Field, map: MapField | FieldlessMap): PolicySpec {
  switch (kind) {
    case 'none':
      return { kind };
    case 'static': {
      const usecsField = map.get('usecs');
      const framesField = map.get('frames');
      // A bound left out is no bound (ethtool's 0); but with neither bound the interrupt would never fire.
      const usecs = readNumber(usecsField, 0, { min: 0, max: MAX_USECS }, 'µs');
      const frames = readInt(framesField, 0, { min: 0, max: 65536 });
      if (usecs === 0 && frames === 0) {
        const what = 'usecs > 0 and/or frames > 0 for a static policy, e.g. { policy: static, usecs: 50, frames: 32 }';
        if (usecsField.absent && framesField.absent) field.fail(`expected ${what}, found neither`);
        (usecsField.absent ? framesField : usecsField).expected(what, ' (with no bound at all it would never interrupt)');
      }
      return { kind, usecs, frames };
    }
    case 'adaptive-itr': {
      // ixgbe (3.x) values: 100K, 20K and 8K interrupts/s; state thresholds 10 and 20 bytes/µs.
      const lowestLatencyRate = readInt(map.get('lowestLatencyRate'), 100_000, { min: 1, max: 10_000_000 }, 'interrupts/s');
      const lowLatencyRateField = map.get('lowLatencyRate');
      const lowLatencyRate = readInt(lowLatencyRateField, 20_000, { min: 1, max: 10_000_000 }, 'interrupts/s');
      const bulkRateField = map.get('bulkRate');
      const bulkRate = readInt(bulkRateField, 8_000, { min: 1, max: 10_000_000 }, 'interrupts/s');
      const lowestMax = readNumber(map.get('lowestLatencyMaxBytesPerUs'), 10, { min: 0, max: 1e6, minExclusive: true }, 'bytes/µs');
      const lowMaxField = map.get('lowLatencyMaxBytesPerUs');
      const lowMax = readNumber(lowMaxField, 20, { min: 0, max: 1e6, minExclusive: true }, 'bytes/µs');
      // The three states only make sense as lighter traffic → more interrupts.
      if (lowLatencyRate > lowestLatencyRate) {
        lowLatencyRateField.expected(`at most lowestLatencyRate (${lowestLatencyRate})`, '', [map.get('lowestLatencyRate').path]);
      }
      if (bulkRate > lowLatencyRate) bulkRateField.expected(`at most lowLatencyRate (${lowLatencyRate})`, '', [lowLatencyRateField.path]);
      if (lowMax <= lowestMax) {
        lowMaxField.expected(`more than lowestLatencyMaxBytesPerUs (${lowestMax})`, '', [map.get('lowestLatencyMaxBytesPerUs').path]);
      }
      return {
        kind,
        lowestLatencyRate,
        lowLatencyRate,
        bulkRate,
        lowestLatencyMaxBytesPerUs: lowestMax,
        lowLatencyMaxBytesPerUs: lowMax,
      };
    }
    case 'aic': {
      const minUsecs = readNumber(map.get('minUsecs'), 10, { min: 0, max: MAX_USECS }, 'µs');
      const maxField = map.get('maxUsecs');
      const maxUsecs = readNumber(maxField, 200, { min: 0, max: MAX_USECS, minExclusive: true }, 'µs');
      if (maxUsecs < minUsecs) maxField.expected(`at least minUsecs (${minUsecs})`, '', [map.get('minUsecs').path]);
      const bufferFraction = readNumber(map.get('bufferFraction'), 0.5, { min: 0, max: 1, minExclusive: true });
      return { kind, minUsecs, maxUsecs, bufferFraction };
    }
    case 'vic': {
      const lowRate = readNumber(map.get('lowRate'), 20_000, { min: 0, max: 1e9 }, 'completions/s');
      const targetRate = readNumber(map.get('targetRate'), 20_000, { min: 0, max: 1e9, minExclusive: true }, 'interrupts/s');
      const maxRatio = readInt(map.get('maxRatio'), 32, { min: 1, max: 4096 });
      const maxUsecs = readNumber(map.get('maxUsecs'), 200, { min: 0, max: MAX_USECS, minExclusive: true }, 'µs');
      return { kind, lowRate, targetRate, maxRatio, maxUsecs };
    }
  }
}
