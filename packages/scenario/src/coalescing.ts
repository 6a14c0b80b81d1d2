// The `coalescing` section: one interrupt moderation policy per placement (NIC, back-end, front-end), parameters checked and defaulted.
import type { PolicyKind, PolicySpec, StaticMode } from '@splitnet/model';
import { isPlainMap, readEnum, readInt, readMap, readNumber, type Field, type MapField } from './field.js';
import { listWords } from './issue.js';
import { int, map, number, oneOf, tagged, words, type Keys, type OneOfSpec } from './spec.js';
import type { CoalescingPlacement } from './types.js';

export const PLACEMENTS = ['nic', 'backend', 'frontend'] as const;
export const POLICY_KINDS: readonly PolicyKind[] = ['none', 'static', 'adaptive-itr', 'aic', 'vic'];
export const STATIC_MODES: readonly StaticMode[] = ['throttle', 'timer'];
type Placement = (typeof PLACEMENTS)[number];

/** A second is the longest moderation delay anyone would mean; beyond it a typo (ms for µs) is likelier. */
const MAX_USECS = 1_000_000;
const INTERRUPT_RATE = { min: 1, max: 10_000_000, unit: 'interrupts/s' } as const;
const BYTES_PER_US = { min: 0, max: 1e6, minExclusive: true, unit: 'bytes/µs' } as const;

/** Parameters each policy accepts, in the order the resolved scenario writes them, with their defaults. */
export const POLICY_PARAMS = {
  none: {},
  static: {
    usecs: number({
      min: 0,
      max: MAX_USECS,
      unit: 'µs',
      default: 0,
      description:
        'As ethtool rx-usecs. Timer: interrupt this long after the first pending completion (0: no time bound); throttle: at least this long between two interrupts.',
    }),
    frames: int({
      min: 0,
      max: 65536,
      default: 0,
      description: 'Timer only: interrupt at this many pending completions (0: no count bound), as ethtool rx-frames.',
    }),
  },
  // ixgbe (3.x) values: 100K, 20K and 8K interrupts/s; state thresholds 10 and 20 bytes/µs.
  'adaptive-itr': {
    lowestLatencyRate: int({ ...INTERRUPT_RATE, default: 100_000, description: 'Interrupt rate of the lowest-latency state (light traffic).' }),
    lowLatencyRate: int({ ...INTERRUPT_RATE, default: 20_000, description: 'Interrupt rate of the low-latency state (at most lowestLatencyRate).' }),
    bulkRate: int({ ...INTERRUPT_RATE, default: 8_000, description: 'Interrupt rate of the bulk state (at most lowLatencyRate).' }),
    lowestLatencyMaxBytesPerUs: number({
      ...BYTES_PER_US,
      default: 10,
      description: 'Traffic (bytes/µs in the last interval) below which the lowest-latency state applies.',
    }),
    lowLatencyMaxBytesPerUs: number({
      ...BYTES_PER_US,
      default: 20,
      description: 'Traffic (bytes/µs) below which the low-latency state applies (more than lowestLatencyMaxBytesPerUs).',
    }),
  },
  aic: {
    minUsecs: number({ min: 0, max: MAX_USECS, unit: 'µs', default: 10, description: 'Shortest coalescing delay (µs).' }),
    maxUsecs: number({
      min: 0,
      max: MAX_USECS,
      minExclusive: true,
      unit: 'µs',
      default: 200,
      description: 'Longest coalescing delay (µs; at least minUsecs).',
    }),
    bufferFraction: number({
      min: 0,
      max: 1,
      minExclusive: true,
      default: 0.5,
      description: 'Share of the free ring slots the delay may fill at the current packet rate.',
    }),
  },
  vic: {
    lowRate: number({ min: 0, max: 1e9, unit: 'completions/s', default: 20_000, description: 'Below this completion rate every completion interrupts.' }),
    targetRate: number({ min: 0, max: 1e9, minExclusive: true, unit: 'interrupts/s', default: 20_000, description: 'Interrupt rate aimed at above lowRate.' }),
    maxRatio: int({ min: 1, max: 4096, default: 32, description: 'Most completions per interrupt.' }),
    maxUsecs: number({ min: 0, max: MAX_USECS, minExclusive: true, unit: 'µs', default: 200, description: 'Timer backstop (µs).' }),
  },
} as const satisfies Record<PolicyKind, Keys>;

/**
 * A static policy's `mode`: the NIC offers Intel's throttle (EITR, its default: the NIC is modelled
 * on ixgbe) and mlx5's timer; netback's and netfront's coalescing are timers (no source gives them a throttle).
 */
function staticMode(placement: Placement) {
  return placement === 'nic'
    ? words({
        values: STATIC_MODES,
        default: 'throttle',
        description:
          'throttle: at least usecs between two interrupts, no frame count (Intel EITR, ixgbe); timer: usecs after the first pending completion or frames pending, whichever first (mlx5 CQ moderation).',
      })
    : words({
        values: ['timer'],
        default: 'timer',
        description: "Always timer here: usecs after the first pending completion or frames pending, whichever first (a throttle is the NIC's).",
      });
}

/** The parameters a policy takes at a placement (only static's `mode` differs). */
function paramsAt(placement: Placement, kind: PolicyKind): Keys {
  return kind === 'static' ? { ...POLICY_PARAMS.static, mode: staticMode(placement) } : POLICY_PARAMS[kind];
}
const ALL_PARAMS = [...new Set([...Object.values(POLICY_PARAMS).flatMap((p) => Object.keys(p)), 'mode'])];

/** Defaults per placement: the NIC runs ixgbe's default adaptive ITR; Xen's rings have no coalescing of their own. */
const PLACEMENT_DEFAULT: Readonly<Record<Placement, PolicyKind>> = {
  nic: 'adaptive-itr',
  backend: 'none',
  frontend: 'none',
};

const POLICY_WHAT = 'A policy name (every parameter defaulted) or { policy: <name>, <parameter>: <value>, … }; static needs its map.';

/** A policy: a bare name (not static, which needs its limits) or a map tagged by `policy`. */
function policySpec(placement: Placement, description: string): OneOfSpec {
  return oneOf({
    variants: [
      words({ values: POLICY_KINDS.filter((k) => k !== 'static') }),
      tagged({
        tag: 'policy',
        tagDescription: 'The coalescing policy.',
        variants: Object.fromEntries(POLICY_KINDS.map((k) => [k, map(paramsAt(placement, k))])),
      }),
    ],
    default: PLACEMENT_DEFAULT[placement],
    description: `${description} ${POLICY_WHAT}`,
  });
}

export const COALESCING_SPEC = map(
  {
    nic: policySpec('nic', 'Physical interrupt moderation on the NIC queues.'),
    backend: policySpec('backend', 'Back-end coalescing: netback holds its notify hypercall until a count or a driver-domain timer.'),
    frontend: policySpec('frontend', 'Front-end coalescing: netfront sets its event index further ahead and polls from a guest timer.'),
  },
  { description: 'Interrupt coalescing at the NIC, in netback and in netfront (setting both back end and front end stacks them).' },
);

export interface CoalescingResult {
  readonly compiled: CoalescingPlacement;
  readonly resolved: Record<string, unknown>;
}

export function readCoalescing(field: Field): CoalescingResult {
  const map = readMap(field, COALESCING_SPEC);
  const nic = readPolicy(map.get('nic'), 'nic');
  const backend = readPolicy(map.get('backend'), 'backend');
  const frontend = readPolicy(map.get('frontend'), 'frontend');
  return {
    compiled: { nic, backend, frontend },
    resolved: { nic: resolvePolicy(nic), backend: resolvePolicy(backend), frontend: resolvePolicy(frontend) },
  };
}

/** A policy in the scenario's own words: `none` as a word, anything else as a map with every parameter (a static policy's `mode` too). */
export function resolvePolicy(spec: PolicySpec): unknown {
  if (spec.kind === 'none') return 'none';
  if (spec.kind === 'static') return { policy: spec.kind, usecs: spec.usecs, frames: spec.frames, mode: spec.mode ?? 'timer' };
  const { kind, ...params } = spec;
  return { policy: kind, ...params };
}

/** A policy at a placement: a bare name (all parameters defaulted) or `{ policy: <name>, <param>: … }`. */
export function readPolicy(field: Field, placement: Placement): PolicySpec {
  const fallback = PLACEMENT_DEFAULT[placement];
  if (field.absent) return policyFrom(fallback, field, new FieldlessMap(field), placement);
  if (typeof field.value === 'string') {
    const kind = readEnum(field, fallback, POLICY_KINDS);
    if (kind === 'static') {
      field.expected('a map for "static", which needs its limits, e.g. { policy: static, usecs: 50, frames: 32 }');
    }
    return policyFrom(kind, field, new FieldlessMap(field), placement);
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
  const map = readMap(field, ['policy', ...Object.keys(paramsAt(placement, kind))], what);
  return policyFrom(kind, field, map, placement);
}

/** Lets a bare policy name go through the same parameter readers as a map with no parameters. */
class FieldlessMap {
  constructor(readonly field: Field) {}
  get(key: string): Field {
    return this.field.at(key, undefined);
  }
}

// eslint-disable-next-line max-lines-per-function -- one case per policy kind, each reading its own keys
function policyFrom(kind: PolicyKind, field: Field, map: MapField | FieldlessMap, placement: Placement): PolicySpec {
  switch (kind) {
    case 'none':
      return { kind };
    case 'static': {
      const P = POLICY_PARAMS.static;
      const usecsField = map.get('usecs');
      const framesField = map.get('frames');
      const modeField = map.get('mode');
      const mode = readEnum(modeField, placement === 'nic' ? 'throttle' : 'timer', STATIC_MODES);
      if (mode === 'throttle' && placement !== 'nic') {
        modeField.expected(
          '"timer"',
          ` (a throttle, a minimum gap between interrupts, is the NIC's Intel EITR; ${placement} coalescing counts from the first pending completion)`,
        );
      }
      // A bound left out is no bound (ethtool's 0); but with neither bound the interrupt would never fire.
      const usecs = readNumber(usecsField, P.usecs.default, P.usecs);
      const frames = readInt(framesField, P.frames.default, P.frames);
      if (mode === 'throttle') {
        const why = modeField.absent ? 'a static policy on the NIC is a throttle unless it says mode: timer, and ' : '';
        if (frames !== 0)
          framesField.expected(
            'no frames with mode throttle',
            ` (${why}Intel's EITR has no frame count: ixgbe ignores rx-frames; write mode: timer for a frame bound)`,
          );
        if (usecs === 0)
          usecsField.expected('usecs > 0 for a throttle, e.g. { policy: static, usecs: 50 }', ` (a throttle without a gap is no moderation: write nic: none)`);
        return { kind, usecs, frames, mode };
      }
      if (usecs === 0 && frames === 0) {
        const what = 'usecs > 0 and/or frames > 0 for a static policy, e.g. { policy: static, usecs: 50, frames: 32 }';
        if (usecsField.absent && framesField.absent) field.fail(`expected ${what}, found neither`);
        (usecsField.absent ? framesField : usecsField).expected(what, ' (with no bound at all it would never interrupt)');
      }
      // The NIC says which of its two meanings it runs; netback and netfront have only the timer.
      return placement === 'nic' ? { kind, usecs, frames, mode } : { kind, usecs, frames };
    }
    case 'adaptive-itr': {
      const P = POLICY_PARAMS['adaptive-itr'];
      const lowestLatencyRate = readInt(map.get('lowestLatencyRate'), P.lowestLatencyRate.default, P.lowestLatencyRate);
      const lowLatencyRateField = map.get('lowLatencyRate');
      const lowLatencyRate = readInt(lowLatencyRateField, P.lowLatencyRate.default, P.lowLatencyRate);
      const bulkRateField = map.get('bulkRate');
      const bulkRate = readInt(bulkRateField, P.bulkRate.default, P.bulkRate);
      const lowestMax = readNumber(map.get('lowestLatencyMaxBytesPerUs'), P.lowestLatencyMaxBytesPerUs.default, P.lowestLatencyMaxBytesPerUs);
      const lowMaxField = map.get('lowLatencyMaxBytesPerUs');
      const lowMax = readNumber(lowMaxField, P.lowLatencyMaxBytesPerUs.default, P.lowLatencyMaxBytesPerUs);
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
      const P = POLICY_PARAMS.aic;
      const minUsecs = readNumber(map.get('minUsecs'), P.minUsecs.default, P.minUsecs);
      const maxField = map.get('maxUsecs');
      const maxUsecs = readNumber(maxField, P.maxUsecs.default, P.maxUsecs);
      if (maxUsecs < minUsecs) maxField.expected(`at least minUsecs (${minUsecs})`, '', [map.get('minUsecs').path]);
      const bufferFraction = readNumber(map.get('bufferFraction'), P.bufferFraction.default, P.bufferFraction);
      return { kind, minUsecs, maxUsecs, bufferFraction };
    }
    case 'vic': {
      const P = POLICY_PARAMS.vic;
      const lowRate = readNumber(map.get('lowRate'), P.lowRate.default, P.lowRate);
      const targetRate = readNumber(map.get('targetRate'), P.targetRate.default, P.targetRate);
      const maxRatio = readInt(map.get('maxRatio'), P.maxRatio.default, P.maxRatio);
      const maxUsecs = readNumber(map.get('maxUsecs'), P.maxUsecs.default, P.maxUsecs);
      return { kind, lowRate, targetRate, maxRatio, maxUsecs };
    }
  }
}
