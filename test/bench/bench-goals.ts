// Issue 21's goals as the bench judges them in one run: each measured value against its target, met or below, the strict verdict beside the eased one.
import type { LiveRun } from './live-cli-run.js';
import type { StrictResult } from './strict-tdf.js';

/** One goal's verdict (bench.json `live.goals`). */
export interface Goal {
  /** The issue's goal number and grouping, e.g. `2 per-actor`. */
  readonly goal: string;
  /** `strict` (the default lag rule) or `eased` (maxLag 50ms, rings of 32768). */
  readonly rule: 'strict' | 'eased';
  readonly what: string;
  /** The measured value (null: nothing was measured, which counts as below). */
  readonly value: number | null;
  readonly target: string;
  readonly met: boolean;
  /** The line the bench prints. */
  readonly text: string;
}

/** The issue's targets. */
export const GOAL2_TDF_PER_ACTOR = 5;
export const GOAL2_TDF_PER_DOMAIN = 2;
export const GOAL3_PPS = 1_200_000;
export const GOAL3_RAW_FRACTION = 0.5;

const verdict = (met: boolean): string => (met ? 'met' : 'below');
const M = (x: number): string => `${(x / 1e6).toFixed(2)} M`;
const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

function goal2(r: StrictResult | undefined, goal: string, target: number): Goal {
  const v = r?.smallestValidTdf ?? null;
  const met = v !== null && v <= target;
  const below = r?.largestInvalidBelow;
  const bracket =
    r === undefined
      ? 'not run'
      : v === null
        ? `none valid up to TDF ${Math.max(...r.tries.map((t) => t.tdf))}`
        : below === undefined
          ? `${v}`
          : `${v} (in (${below}, ${v}]: ${below} was invalid)`;
  const bound = r?.boundUs === undefined ? '' : ` (bound ${r.boundUs} µs = ${(r.boundUs * target).toFixed(1)} µs of wall time at TDF ${target})`;
  return {
    goal,
    rule: 'strict',
    what: 'smallest valid TDF under the default rule',
    value: v,
    target: `≤ ${target}`,
    met,
    text: `goal ${goal}, strict: smallest valid TDF under the default rule${bound}: ${bracket}; target ≤ ${target}: ${verdict(met)}`,
  };
}

/** The goals of issue 21 this bench measures, in the order it prints them. */
export function goalLines(o: {
  readonly strict: readonly StrictResult[];
  readonly rtBest: LiveRun | undefined;
  readonly rtFrameBytes?: number;
  readonly rawRate: number;
}): Goal[] {
  const perActor = o.strict.find((r) => r.key === 'per-actor');
  const goals = [
    goal2(perActor, '2 per-actor', GOAL2_TDF_PER_ACTOR),
    goal2(
      o.strict.find((r) => r.key === 'per-domain'),
      '2 per-domain',
      GOAL2_TDF_PER_DOMAIN,
    ),
  ];
  const pps = o.rtBest?.summary.throughput.pps ?? null;
  const lag = o.rtBest === undefined ? '' : `, lag p99 ${(o.rtBest.summary.live.processingLagUs.p99 / 1000).toFixed(1)} ms`;
  goals.push({
    goal: '3 per-actor',
    rule: 'eased',
    what: 'packets/s sustained in real time, per actor',
    value: pps,
    target: `≥ ${M(GOAL3_PPS)}`,
    met: pps !== null && pps >= GOAL3_PPS,
    text: `goal 3, eased (TDF 1, maxLag 50ms${lag}${o.rtBest === undefined ? '' : `, ${o.rtFrameBytes ?? 1518}-byte frames`}): per actor sustained ${pps === null ? 'nothing' : M(pps)} packets/s; target ≥ ${M(GOAL3_PPS)}: ${verdict(pps !== null && pps >= GOAL3_PPS)}`,
  });
  const ratio = pps === null ? null : pps / o.rawRate;
  goals.push({
    goal: '3 per-actor / raw',
    rule: 'eased',
    what: 'that over the raw 3-hop pipeline of the same run',
    value: ratio,
    target: `≥ ${pct(GOAL3_RAW_FRACTION)}`,
    met: ratio !== null && ratio >= GOAL3_RAW_FRACTION,
    text: `goal 3, eased: per actor / raw pipeline (same run) ${ratio === null ? '-' : `${M(pps as number)} / ${M(o.rawRate)} = ${pct(ratio)}`}; target ≥ ${pct(GOAL3_RAW_FRACTION)}: ${verdict(ratio !== null && ratio >= GOAL3_RAW_FRACTION)}`,
  });
  // The strict counterpart of goal 3: what one process per actor carries per wall second at its smallest valid TDF.
  const valid = perActor?.tries.find((t) => t.valid && t.tdf === perActor.smallestValidTdf);
  const strictPps = valid === undefined ? null : valid.pps / valid.tdf;
  goals.push({
    goal: '3 per-actor, strict',
    rule: 'strict',
    what: 'packets per wall second per actor at the smallest valid TDF under the default rule',
    value: strictPps,
    target: `≥ ${M(GOAL3_PPS)}`,
    met: strictPps !== null && strictPps >= GOAL3_PPS,
    text:
      `goal 3, strict beside it: per actor under the default rule ${valid === undefined ? 'was valid at no TDF tried' : `at TDF ${valid.tdf} carries ${M(valid.pps)} emulated packets/s = ${(strictPps as number).toLocaleString('en-US', { maximumFractionDigits: 0 })} per wall second (${pct((strictPps as number) / o.rawRate)} of raw)`}; ` +
      `target ≥ ${M(GOAL3_PPS)}: ${verdict(strictPps !== null && strictPps >= GOAL3_PPS)}`,
  });
  return goals;
}

/** What the live part of the bench measured, as bench.json keeps it (`live`). */
export interface LiveBenchRecord {
  readonly machine: { readonly cpus: number; readonly cpu: string; readonly node: string; readonly nats: string };
  readonly raw: Record<string, unknown>;
  readonly floor: unknown;
  readonly strict: Record<string, unknown>;
  readonly realTime: Record<string, unknown>;
  readonly goals: readonly Goal[];
}
