// Where the lag of a live run comes from, as the bench prints it: the actor processes' diagnostics beside the machine's wake-up floor and the lag bound in wall time.
import type { DiagnosticsReport, Spread } from '@splitnet/live';
import type { StrictResult } from './strict-tdf.js';
import type { WakeFloor } from './wake-floor.js';

/** One cause, over the actor processes: the median process's p50 and the worst process's p99 (wall µs). */
export interface CauseLine {
  readonly cause: string;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly worst: string;
}

export interface LagCauses {
  readonly tdf: number;
  /** The auto bound in emulated µs, and what it is in wall time at this TDF. */
  readonly boundUs: number;
  readonly boundWallUs: number;
  readonly causes: readonly CauseLine[];
  readonly gc: { readonly collections: number; readonly major: number; readonly totalMs: number; readonly maxPauseMs: number };
  /** Processing lag (emulated µs, worst process's p99) during the warm-up window and after it. */
  readonly lagWarmupP99Us: number;
  readonly lagMeasuredP99Us: number;
  /** The machine's floor: a timer's lateness and one NATS hop, p50 (wall µs). */
  readonly floorTimerP50Us: number;
  readonly floorHopP50Us: number;
  /** Whether the floor alone (either figure's p50) exceeds the bound in wall time at this TDF. */
  readonly outOfReach: boolean;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[(s.length - 1) >> 1] as number);
}

function over(d: StrictResult['diagnostics'], cause: string, pick: (r: DiagnosticsReport) => Spread): CauseLine {
  const withData = d.filter((x) => pick(x.report).n > 0);
  let worst = withData[0];
  for (const x of withData) if (pick(x.report).p99 > pick((worst as (typeof withData)[number]).report).p99) worst = x;
  return {
    cause,
    p50Us: median(withData.map((x) => pick(x.report).p50)),
    p99Us: worst === undefined ? 0 : pick(worst.report).p99,
    worst: worst?.process ?? '-',
  };
}

const us = (x: number): string => (x >= 10_000 ? `${(x / 1000).toFixed(1)} ms` : `${x.toFixed(0)} µs`);

/** The breakdown of the run at a configuration's target TDF (undefined when that run had no diagnostics). */
export function lagCauses(r: StrictResult, floor: WakeFloor): LagCauses | undefined {
  const d = r.diagnostics;
  const t = r.tries.find((x) => x.tdf === r.targetTdf);
  if (d.length === 0 || t === undefined || r.boundUs === undefined) return undefined;
  const boundWallUs = r.boundUs * r.targetTdf;
  const causes = [
    over(d, 'timer wake-up, late by', (x) => x.timerLateUs),
    over(d, 'setImmediate wake-up', (x) => x.immediateUs),
    over(d, 'due frame arrived → its pass', (x) => x.arrivalToPassUs),
    over(d, "a pass's wall time (the sender's batching window: its sends wait for the pass's end)", (x) => x.passUs),
    over(d, 'event-loop delay (1 ms resolution)', (x) => x.eventLoopDelayUs),
  ];
  return {
    tdf: r.targetTdf,
    boundUs: r.boundUs,
    boundWallUs,
    causes,
    gc: {
      collections: d.reduce((s, x) => s + x.report.gc.count, 0),
      major: d.reduce((s, x) => s + x.report.gc.major, 0),
      totalMs: d.reduce((s, x) => s + x.report.gc.totalMs, 0),
      maxPauseMs: Math.max(0, ...d.map((x) => x.report.gc.maxMs)),
    },
    lagWarmupP99Us: Math.max(0, ...d.map((x) => x.report.lagWarmupUs.p99)),
    lagMeasuredP99Us: Math.max(0, ...d.map((x) => x.report.lagMeasuredUs.p99)),
    floorTimerP50Us: floor.timerLateUs.p50,
    floorHopP50Us: floor.natsHopUs.p50,
    outOfReach: Math.min(floor.timerLateUs.p50, floor.natsHopUs.p50) > boundWallUs,
  };
}

/** The breakdown as printed lines. */
export function formatLagCauses(c: LagCauses, r: StrictResult): string[] {
  const lines = [
    `  where the lag comes from (${r.key}, TDF ${c.tdf}, actor processes' SPLITNET_LIVE_DIAGNOSTICS; wall µs: median process's p50 / worst process's p99):`,
    `    the bound: ${c.boundUs} µs emulated = ${us(c.boundWallUs)} of wall time at TDF ${c.tdf}`,
  ];
  for (const x of c.causes) lines.push(`    ${x.cause}: p50 ${us(x.p50Us)}, p99 ${us(x.p99Us)} (worst: ${x.worst})`);
  lines.push(
    `    NATS flush: the client writes at the next microtask after a publish and the host publishes at the end of each pass (no timer in between); one hop between idle processes (probe): p50 ${us(c.floorHopP50Us)}`,
    `    GC: ${c.gc.collections} collections (${c.gc.major} major), ${c.gc.totalMs.toFixed(1)} ms in all, longest pause ${c.gc.maxPauseMs.toFixed(2)} ms`,
    `    warm-up (JIT, start-up) vs after: processing lag p99 ${us(c.lagWarmupP99Us)} emulated during the warm-up window, ${us(c.lagMeasuredP99Us)} after it (worst process)`,
  );
  lines.push(
    c.outOfReach
      ? `    out of reach on this machine: at TDF ${c.tdf} the bound is ${us(c.boundWallUs)} of wall time, but a timer armed 50 µs ahead fires ${us(c.floorTimerP50Us)} late (p50) and one NATS hop takes ${us(c.floorHopP50Us)} (p50): each alone is above it`
      : `    the floor (timer ${us(c.floorTimerP50Us)}, NATS hop ${us(c.floorHopP50Us)}, p50) is within the bound's ${us(c.boundWallUs)} of wall time at TDF ${c.tdf}`,
  );
  return lines;
}
