// The bench's strict verdict: the smallest TDF at which the bench scenario is valid under the default lag rule (live.maxLag auto), searched per configuration.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LiveProcesses } from '@splitnet/scenario';
import { describeRun, failedAsUndefined, runLive } from './live-cli-run.js';
import type { DiagnosticsReport } from '@splitnet/live';
import type { LiveRun, LiveRunExtra } from './live-cli-run.js';

/** One way of running the bench scenario whose smallest valid TDF is searched (the default, or a remedy). */
export interface StrictConfig {
  /** Short key (bench.json). */
  readonly key: string;
  /** What it changes, in words. */
  readonly what: string;
  readonly processes: LiveProcesses;
  /** The issue's target for this grouping: valid at this TDF or below. */
  readonly targetTdf: number;
  readonly extra?: LiveRunExtra;
}

/** One run of a search. */
export interface StrictTry {
  readonly tdf: number;
  readonly durationMs: number;
  /** The run failed (no summary): counted as not valid. */
  readonly failed: boolean;
  readonly valid: boolean;
  readonly lagP99Us: number;
  readonly boundUs: number;
  readonly suggestedTdf: number | undefined;
  readonly pps: number;
  readonly wallSeconds: number;
}

export interface StrictResult {
  readonly key: string;
  readonly what: string;
  readonly processes: LiveProcesses;
  readonly targetTdf: number;
  readonly tries: readonly StrictTry[];
  /** The smallest TDF tried that was valid (undefined: none was). */
  readonly smallestValidTdf: number | undefined;
  /** The largest TDF tried below it that was invalid: the smallest valid TDF lies in (this, smallestValidTdf]. */
  readonly largestInvalidBelow: number | undefined;
  /** The auto bound (emulated µs) and the constant it came from, as the runs' summaries say. */
  readonly boundUs: number | undefined;
  readonly constant: string | undefined;
  /** The actor processes' diagnostics of the run at the target TDF (when that run asked for them). */
  readonly diagnostics: readonly { readonly process: string; readonly report: DiagnosticsReport }[];
}

export interface StrictOptions {
  /** Emulated ms of a run at the target TDF (less at larger TDFs, so that no run exceeds maxRunSeconds). */
  readonly durationMs: number;
  /** Wall seconds one run may take (emulated duration × TDF). */
  readonly maxRunSeconds: number;
  /** Shortest emulated run (the warm-up is a third of it). */
  readonly minDurationMs: number;
  /** Runs per search. */
  readonly maxTries: number;
}

/**
 * The bench scenario (1 VM, 4 queues, 4 workers, 1518-byte frames at 15 Gbit/s on 40 GbE) with the default lag rule;
 * `steering: flow-hash` spreads the flows over the 4 queues (with the default, `rx-queue`, a one-queue NIC sends all to queue 0).
 */
export const strictScenarioYaml = (durationMs: number, processes: LiveProcesses): string => `name: bench-strict-1vm-4q-4w
duration: ${durationMs}ms
warmup: ${Math.max(1, Math.round(durationMs / 3))}ms
topology: { link: 40Gbps, vms: { count: 1, queues: 4 }, workers: 4, vrss: per-flow, steering: flow-hash }
traffic: [ { flows: 64, rate: 15Gbps, size: 1518 } ]
live: { processes: ${processes} }
`;

/**
 * Search the smallest valid TDF: the target first; while invalid, the TDF the run suggests (its lag × 2 over the
 * bound); once one is valid above an invalid one, once more between them (geometric mean). Each run is one
 * `splitnet run … --runtime live`, printed as it ends. `diagnose`: the target run asks the actor processes for
 * their lag diagnostics (SPLITNET_LIVE_DIAGNOSTICS=1).
 */
export async function searchSmallestValidTdf(c: StrictConfig, work: string, o: StrictOptions, diagnose: boolean): Promise<StrictResult> {
  const tries: StrictTry[] = [];
  let diagnostics: StrictResult['diagnostics'] = [];
  let boundUs: number | undefined;
  let constant: string | undefined;
  let tdf = c.targetTdf;
  let valid: number | undefined;
  let invalid: number | undefined;
  for (let k = 0; k < o.maxTries && tdf > 0; k++) {
    const durationMs = Math.max(o.minDurationMs, Math.min(o.durationMs, Math.floor((o.maxRunSeconds * 1e3) / tdf)));
    const file = join(work, `strict-${c.key}-tdf${tdf}.yaml`);
    writeFileSync(file, strictScenarioYaml(durationMs, c.processes));
    const withDiag = diagnose && tdf === c.targetTdf;
    const extra: LiveRunExtra = { ...c.extra, env: { ...c.extra?.env, ...(withDiag ? { SPLITNET_LIVE_DIAGNOSTICS: '1' } : {}) } };
    const r: LiveRun | undefined = await failedAsUndefined(
      `  ${c.key} TDF ${tdf}`,
      runLive(file, tdf, join(work, `strict-${c.key}-tdf${tdf}`), (durationMs / 1e3) * tdf + 120, extra),
    );
    if (r === undefined) {
      tries.push({ tdf, durationMs, failed: true, valid: false, lagP99Us: NaN, boundUs: NaN, suggestedTdf: undefined, pps: NaN, wallSeconds: NaN });
      invalid = Math.max(invalid ?? 0, tdf);
    } else {
      const l = r.summary.live;
      boundUs = l.lagBound?.us ?? l.maxLagUs;
      constant = l.lagBound?.constant === undefined ? undefined : `${l.lagBound.constant.what} ${l.lagBound.constant.us} µs`;
      if (withDiag) diagnostics = r.totals.diagnostics;
      tries.push({
        tdf,
        durationMs,
        failed: false,
        valid: l.valid,
        lagP99Us: l.processingLagUs.p99,
        boundUs,
        suggestedTdf: l.suggestedTdf,
        pps: r.summary.throughput.pps,
        wallSeconds: r.runWallSeconds,
      });
      console.log(`  ${c.key}, ${durationMs} ms emulated${withDiag ? ', with diagnostics' : ''}:`);
      for (const line of describeRun(r)) console.log(`  ${line}`);
      if (l.valid) valid = Math.min(valid ?? Infinity, tdf);
      else invalid = Math.max(invalid ?? 0, tdf);
    }
    tdf = nextTdf(tries[tries.length - 1] as StrictTry, valid, invalid, Math.floor((o.maxRunSeconds * 1e3) / o.minDurationMs));
  }
  return {
    key: c.key,
    what: c.what,
    processes: c.processes,
    targetTdf: c.targetTdf,
    tries,
    smallestValidTdf: valid,
    largestInvalidBelow:
      valid === undefined ? invalid : tries.filter((t) => !t.valid && t.tdf < valid).reduce<number | undefined>((m, t) => Math.max(m ?? 0, t.tdf), undefined),
    boundUs,
    constant,
    diagnostics,
  };
}

/**
 * The next TDF to try, or 0 when the search is done. `maxTdf`: the largest whose shortest run fits the budget. A
 * run whose lag grew without bound suggests a TDF far beyond what its lag at a larger TDF needs: at most ×20 a step.
 */
function nextTdf(last: StrictTry, valid: number | undefined, invalid: number | undefined, maxTdf: number): number {
  if (valid !== undefined) {
    // Bracketed: narrow it (geometric mean) after each valid run, while the bracket is wider than 1.5×.
    if (!last.valid || invalid === undefined || invalid >= valid || valid / invalid <= 1.5) return 0;
    const mid = Math.round(Math.sqrt(invalid * valid));
    return mid > invalid && mid < valid ? mid : 0;
  }
  if (last.tdf >= maxTdf) return 0;
  const suggested = last.suggestedTdf ?? last.tdf * 4;
  return Math.min(maxTdf, last.tdf * 20, Math.max(suggested, Math.ceil(last.tdf * 1.5)));
}

/**
 * The configurations the bench searches: the default (one process per actor) with the issue's target TDF 5, one
 * process per Xen domain (fewer hops) with its target 2, and (`remedies`) the default with one change each.
 */
export function strictConfigs(remedies: boolean): StrictConfig[] {
  const list: StrictConfig[] = [
    { key: 'per-actor', what: 'the default: one process per actor', processes: 'per-actor', targetTdf: 5 },
    { key: 'per-domain', what: 'one process per Xen domain: fewer hops', processes: 'per-domain', targetTdf: 2 },
  ];
  if (!remedies) return list;
  return [
    ...list,
    {
      key: 'poll-sub-ms',
      what: 'per actor, waits under 1 ms polled with setImmediate instead of a 1 ms-grained timer (SPLITNET_LIVE_POLL_US=1000)',
      processes: 'per-actor',
      targetTdf: 5,
      extra: { env: { SPLITNET_LIVE_POLL_US: '1000' } },
    },
    {
      key: 'wake-early-1ms',
      what: 'per actor, timers armed 1 ms before they are due and the rest of each wait polled (SPLITNET_LIVE_WAKE_EARLY_US=1000)',
      processes: 'per-actor',
      targetTdf: 5,
      extra: { env: { SPLITNET_LIVE_WAKE_EARLY_US: '1000' } },
    },
    {
      key: 'gc-semi-space-64',
      what: 'per actor, a larger young generation: fewer scavenges (SPLITNET_ACTOR_NODE_ARGS=--max-semi-space-size=64)',
      processes: 'per-actor',
      targetTdf: 5,
      extra: { env: { SPLITNET_ACTOR_NODE_ARGS: '--min-semi-space-size=64 --max-semi-space-size=64' } },
    },
    {
      key: 'no-code-warmup',
      what: 'per actor without the warm-up before time zero (live.codeWarmup 0ms): what that warm-up buys',
      processes: 'per-actor',
      targetTdf: 5,
      extra: { args: ['--set', 'live.codeWarmup=0ms'] },
    },
  ];
}

/** A search's outcome in words: valid at the target, or the bracket the smallest valid TDF lies in. */
export function strictText(r: StrictResult): string {
  const tried = r.tries.map((t) => `${t.tdf}${t.failed ? ' failed' : t.valid ? ' valid' : ` invalid (lag p99 ${t.lagP99Us} µs)`}`).join(', ');
  const bound = r.boundUs === undefined ? '' : `; bound ${r.boundUs} µs${r.constant === undefined ? '' : ` (0.1 × ${r.constant})`}`;
  if (r.smallestValidTdf === undefined) return `no TDF tried was valid (tried ${tried})${bound}`;
  const where =
    r.smallestValidTdf <= r.targetTdf
      ? `valid at TDF ${r.smallestValidTdf}`
      : `smallest valid TDF ${r.largestInvalidBelow === undefined ? '≤' : `in (${r.largestInvalidBelow},`} ${r.smallestValidTdf}${r.largestInvalidBelow === undefined ? '' : ']'}`;
  return `${where} (tried ${tried})${bound}`;
}
