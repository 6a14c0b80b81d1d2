// Runs a compiled scenario in the deterministic sim runtime and produces the summary, time series and event log.
import { LatencyHistogram, meanFrameBytes, requestedWireGbps, WIRE_OVERHEAD_BYTES } from '@splitnet/model';
import type { Nanos } from '@splitnet/model';
import { SimRuntime } from '@splitnet/runtime';
import type { RuntimeEvent } from '@splitnet/runtime';
import type { CompiledScenario } from '@splitnet/scenario';
import { buildActors } from './build.js';
import { linkDelayFor } from './live/links.js';
import type { ActorGraph } from './build.js';
import { faultsSummary } from './fault-report.js';
import type { FaultsSummary } from './fault-report.js';
import { BASE_DROP_REASONS, combine, DROP_REASONS, sampleRow, sig, totalVirqs } from './metrics.js';
import type { DropReason, Snapshot } from './metrics.js';
import { planSimFaults } from './fault-plan.js';
import type { SimFaultPlan } from './fault-plan.js';
import type { ActorReport } from '@splitnet/model';
import { seriesPoints } from './timeseries.js';
import type { SeriesPoint } from './timeseries.js';

export interface Accounting {
  readonly emitted: number;
  readonly delivered: number;
  readonly dropped: Readonly<Record<DropReason, number>>;
  readonly inFlight: {
    readonly nicRings: number;
    readonly links: number;
    readonly workerBacklogs: number;
    readonly guestRings: number;
  };
  /** emitted − delivered − dropped − in flight: must be 0. */
  readonly unaccounted: number;
  readonly balanced: boolean;
}

export interface RunResult {
  readonly summary: Summary;
  /** Metrics time series rows (one per sample interval). */
  readonly samples: readonly Record<string, unknown>[];
  /** The same samples per entity, in long form (timeseries.csv). */
  readonly series: readonly SeriesPoint[];
  readonly events: readonly RuntimeEvent[];
  readonly accounting: Accounting;
  /** One-way latency of the packets delivered in the measurement window (the summary's `latencyUs`, in full). */
  readonly latency: LatencyHistogram;
  /** Discrete events processed (for speed reports; not part of the deterministic summary). */
  readonly eventsProcessed: number;
}

/** What only a live run has: its time base, how late it ran, and what the wire rejected. */
export interface LiveInfo {
  readonly tdf: number;
  readonly placement: string;
  readonly processes: number;
  readonly maxLagUs: number;
  /** How far behind emulated time events were processed. */
  readonly processingLagUs: { readonly p50: number; readonly p99: number; readonly max: number };
  /**
   * Processing lag p99 in the first and second halves of the measured window; `growing` when it grew
   * (see `lagGrowing`): a host that is falling behind, not one that keeps up with a bounded lag.
   */
  readonly lagTrend: { readonly firstHalfP99Us: number; readonly secondHalfP99Us: number; readonly growing: boolean };
  /** How late messages arrived relative to their modeled delivery time (transport latency ÷ TDF shows here). */
  readonly inputLatenessUs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Time resolution the results can be trusted to: the p99 input lateness. */
  readonly effectiveResolutionUs: number;
  readonly valid: boolean;
  readonly invalidReason?: string;
  readonly suggestedTdf?: number;
  /** `lostInCrash`: the part of `drops.lost-in-crash` inferred from the bus counters (the rest, actors counted themselves). */
  readonly bus: { readonly onBusAtEnd: number; readonly pendingAtEnd: number; readonly lostInCrash: number };
  /** Actor processes restarted by the supervisor. */
  readonly restarts: number;
  /** Each restarted process: where its counters continue from, and where they ended (present only after restarts). */
  readonly restarted?: readonly RestartedProcess[];
  readonly wire: { readonly rejected: Readonly<Record<string, number>>; readonly gaps: number; readonly lastRejection: string; readonly badControl: number };
}

/** Packets a process's actors emitted, delivered and dropped (every reason), cumulative. */
export interface ProcessCounters {
  readonly emitted: number;
  readonly delivered: number;
  readonly dropped: number;
}

/** A restarted live actor process and how its counters were carried across its incarnations. */
export interface RestartedProcess {
  readonly process: string;
  readonly restarts: number;
  /**
   * Per restart: the time of the dead incarnation's last sample, whose counters the next incarnation
   * continues from (null if it was never sampled: the counters of the incarnation before carry over),
   * and those counters. What happened between that sample and the crash is counted as lost-in-crash.
   */
  readonly continuedFrom: readonly ({ readonly incarnation: number; readonly sampleMs: number | null; readonly latencySampleMs?: number | null } & ProcessCounters)[];
  /** Its counters at the end of the run (every incarnation). */
  readonly atEnd: ProcessCounters;
}

/**
 * Traffic that asks the wire for more than the link carries, both in Gbit/s counting preamble and
 * inter-frame gap: the generators wait for the wire, the excess is never offered, and `offeredGbps`
 * is what the link took.
 */
export interface OfferedCap {
  readonly requestedGbps: number;
  readonly linkGbps: number;
}

/** The cap of this scenario's traffic, or undefined when the link carries all it asks for. */
export function offeredCapOf(s: CompiledScenario): OfferedCap | undefined {
  const requested = requestedWireGbps(s.traffic.generators);
  // The slack absorbs rounding: 10Gbps of traffic on a 10Gbps link is exactly line rate, not above it.
  return requested > s.topology.linkGbps * (1 + 1e-9) ? { requestedGbps: sig(requested), linkGbps: s.topology.linkGbps } : undefined;
}

export interface Summary {
  readonly scenario: string;
  readonly seed: number;
  readonly runtime: 'sim' | 'live';
  readonly live?: LiveInfo;
  readonly windowMs: readonly [number, number];
  readonly throughput: {
    readonly gbps: number;
    readonly pps: number;
    readonly offeredGbps: number;
    readonly lineRateGbps: number;
    /** Present only when the traffic asks the wire for more than the link carries (then capped at line rate). */
    readonly offeredCapped?: OfferedCap;
    /** Delivered to each VM over the window. */
    readonly perVm: readonly { readonly vm: number; readonly gbps: number; readonly pps: number }[];
  };
  readonly interrupts: {
    readonly virqPerSec: number;
    readonly timerPollsPerSec: number;
    readonly physicalIrqPerSec: number;
    /** Driver-domain timer interrupts of back-end coalescing. */
    readonly backendTimerIrqPerSec: number;
    /** Virtual interrupts that found NAPI already scheduled (wasted). */
    readonly virqWhilePollingPerSec: number;
    /** Front-end coalescing timer ticks that found nothing to poll. */
    readonly idleTimerTicksPerSec: number;
    readonly virqPerPacket: number;
    readonly perVm: readonly { readonly vm: number; readonly virqPerSec: number; readonly perQueue: readonly number[] }[];
  };
  readonly notifications: {
    readonly sentPerSec: number;
    readonly suppressedPerSec: number;
    readonly heldPerSec: number;
    readonly guestReqNotifiesPerSec: number;
  };
  readonly cpu: Readonly<Record<string, number>>;
  readonly latencyUs: { readonly count: number; readonly mean: number; readonly p50: number; readonly p99: number; readonly p999: number; readonly max: number };
  readonly ring: { readonly meanOccupancy: number; readonly maxOccupancy: number };
  readonly backlog: { readonly mean: number; readonly max: number };
  readonly drops: Readonly<Record<DropReason, number>> & { readonly total: number };
  readonly flowOrder: { readonly reordered: number };
  readonly accounting: Accounting;
  /** Present only when the scenario has faults. */
  readonly faults?: FaultsSummary;
}

export interface RunOptions {
  /** Called now and then with the emulated time reached (for progress displays). */
  readonly onProgress?: (done: Nanos, total: Nanos) => void;
}

/** Every actor's report at time t, combined. */
function snapshot(g: ActorGraph, t: Nanos, final = false): Snapshot {
  return combine(g.all.map((a) => a.report(t, final)), t);
}

/**
 * The snapshot of a run with faults: the runtime's current actors (restarted ones replace the
 * graph's), the frozen reports of killed incarnations (what they held is counted as lost-in-crash,
 * not held), and the packets the runtime itself dropped.
 */
function faultSnapshot(rt: SimRuntime, n: number, plan: SimFaultPlan, t: Nanos, final = false): Snapshot {
  const reports: ActorReport[] = [];
  // A killed actor not yet restarted is represented by its ghost alone (its frozen report at death).
  for (let i = 0; i < n; i++) if (!rt.isDown(i)) reports.push(rt.actor(i).report(t, final));
  for (const gh of plan.ghosts) {
    const r = gh.actor.report(gh.t, final); // final: a dead guest's latency samples count too
    // What a dead incarnation held is lost-in-crash, not held or in its ring any more; a dead NIC's
    // source frames are counted by its successor, which replays the wire.
    if (r.role === 'worker') reports.push({ ...r, held: 0, backlog: 0, queueBacklogs: [] });
    else if (r.role === 'frontend') reports.push({ ...r, held: 0, ringOccupancy: 0, queueRingOccupancy: [] });
    else if (r.role === 'nic') {
      const again = gh.emittedAgain ?? { frames: 0, bytes: 0 };
      reports.push({ ...r, held: 0, emitted: r.emitted - again.frames, emittedBytes: r.emittedBytes - again.bytes });
    } else reports.push({ ...r, held: 0 });
  }
  const snap = combine(reports, t);
  return { ...snap, drops: { ...snap.drops, 'link-drop': rt.linkDropped, 'lost-in-crash': snap.drops['lost-in-crash'] + rt.lostInCrash + plan.wire.lostWhileDown } };
}

/** Drops as results show them: the fault-only reasons appear when the scenario has faults. */
function shownDrops(d: Readonly<Record<DropReason, number>>, withFaults: boolean): Record<DropReason, number> {
  const out = {} as Record<DropReason, number>;
  for (const r of withFaults ? DROP_REASONS : BASE_DROP_REASONS) out[r] = d[r];
  return out;
}

function accounting(s: Snapshot, onLinks: number, withFaults = false): Accounting {
  return balance(s.emitted, s.delivered, shownDrops(s.drops, withFaults), { ...s.heldIn, links: onLinks });
}

/** The accounting invariant: every emitted packet is delivered, dropped with a reason, or in flight. */
export function balance(
  emitted: number,
  delivered: number,
  dropped: Readonly<Record<DropReason, number>>,
  inFlight: Accounting['inFlight'],
): Accounting {
  const dropSum = Object.values(dropped).reduce((n, v) => n + v, 0);
  const held = inFlight.nicRings + inFlight.links + inFlight.workerBacklogs + inFlight.guestRings;
  const unaccounted = emitted - delivered - dropSum - held;
  return { emitted, delivered, dropped, inFlight, unaccounted, balanced: unaccounted === 0 };
}

export function runSim(s: CompiledScenario, opts: RunOptions = {}): RunResult {
  const g = buildActors(s);
  const plan = s.faults.length > 0 ? planSimFaults(s, g) : null;
  const rt = new SimRuntime({ linkDelay: linkDelayFor(g, s), ...(plan?.linkFaults ? { linkFaults: plan.linkFaults } : {}) });
  g.all.forEach((actor, i) => {
    const ref = rt.add(actor);
    if (ref !== i) throw new Error('actor registration order broken');
  });
  const snap = plan === null ? (t: Nanos, final = false) => snapshot(g, t, final) : (t: Nanos, final = false) => faultSnapshot(rt, g.all.length, plan, t, final);

  const samples: Record<string, unknown>[] = [];
  const series: SeriesPoint[] = [];
  const inWindow: Snapshot[] = [];
  let prev = snap(0);
  const hooks = {
    sampleInterval: s.sampleInterval,
    onSample: (t: Nanos) => {
      const cur = snap(t);
      samples.push(sampleRow(prev, cur));
      for (const p of seriesPoints(prev, cur)) series.push(p);
      if (t > s.warmup) inWindow.push(cur);
      prev = cur;
    },
  };
  rt.log.push({ t: 0, actor: 'controller', kind: 'run-start', detail: { scenario: s.name, seed: s.seed, duration: s.duration } });

  // Fault steps happen between events: run up to each one's instant, then apply it.
  const steps = plan?.steps ?? [];
  let next = 0;
  const runTo = (until: Nanos) => {
    while (next < steps.length && (steps[next] as { t: Nanos }).t < until) {
      const step = steps[next++] as (typeof steps)[number];
      rt.run(step.t, hooks);
      step.apply(rt);
    }
    rt.run(until, hooks);
  };

  // Run in slices so that progress can be shown; slices do not change the result.
  const slices = 50;
  let warmSnap: Snapshot | null = s.warmup === 0 ? snap(0) : null;
  for (let i = 1; i <= slices; i++) {
    const until = Math.round((s.duration * i) / slices);
    if (warmSnap === null && until >= s.warmup) {
      runTo(s.warmup);
      warmSnap = snap(s.warmup);
      rt.log.push({ t: s.warmup, actor: 'controller', kind: 'warmup-end', detail: {} });
    }
    runTo(until);
    opts.onProgress?.(until, s.duration);
  }
  const end = snap(s.duration, true);
  const acc = accounting(end, rt.inFlightOnLinks(), plan !== null);
  rt.log.push({ t: s.duration, actor: 'controller', kind: 'run-end', detail: { balanced: acc.balanced, unaccounted: acc.unaccounted } });
  let summary = summarize(s, warmSnap ?? snap(s.warmup), end, inWindow, acc);
  if (plan !== null) {
    const faults = faultsSummary({
      occurrences: plan.occurrences,
      events: rt.log,
      samples,
      end,
      messages: plan.linkFaults?.counts,
      interval: s.sampleInterval,
      warmup: s.warmup,
      runEnd: s.duration,
    });
    summary = { ...summary, faults };
  }
  return { summary, samples, series, events: rt.log, accounting: acc, latency: end.latency ?? new LatencyHistogram(), eventsProcessed: rt.eventsProcessed };
}

export function summarize(
  s: CompiledScenario,
  a: Snapshot,
  b: Snapshot,
  inWindow: readonly Snapshot[],
  acc: Accounting,
  withFaults = s.faults.length > 0,
): Summary {
  const dt = (b.t - a.t) / 1e9;
  const rate = (x: number) => sig(x / dt);
  const delivered = b.delivered - a.delivered;
  const virqs = totalVirqs(b) - totalVirqs(a);
  const hist = b.latency ?? new LatencyHistogram();
  const us = (ns: number) => sig(ns / 1000);
  const cpu: Record<string, number> = {};
  for (const [name, v] of b.busy) cpu[name] = sig((v - (a.busy.get(name) ?? 0)) / (b.t - a.t));
  const occ = inWindow.map((x) => x.ringOccupancy);
  const blog = inWindow.map((x) => x.backlog);
  const mean = (xs: readonly number[]) => (xs.length === 0 ? 0 : sig(xs.reduce((p, q) => p + q, 0) / xs.length));
  const max = (xs: readonly number[]) => xs.reduce((p, q) => (q > p ? q : p), 0);
  const mtu = s.traffic.generators.length > 0 ? lineRateGbps(s) : s.topology.linkGbps;
  const drops = shownDrops(b.drops, withFaults);
  const capped = offeredCapOf(s);
  let dropTotal = 0;
  for (const v of Object.values(drops)) dropTotal += v;
  return {
    scenario: s.name,
    seed: s.seed,
    runtime: 'sim',
    windowMs: [sig(a.t / 1e6), sig(b.t / 1e6)],
    throughput: {
      gbps: sig(((b.deliveredBytes - a.deliveredBytes) * 8) / dt / 1e9),
      pps: rate(delivered),
      offeredGbps: sig(((b.emittedBytes - a.emittedBytes) * 8) / dt / 1e9),
      lineRateGbps: sig(mtu),
      ...(capped !== undefined ? { offeredCapped: capped } : {}),
      perVm: b.deliveredPerVm.map((d, vm) => ({
        vm,
        gbps: sig((((b.bytesPerVm[vm] ?? 0) - (a.bytesPerVm[vm] ?? 0)) * 8) / dt / 1e9),
        pps: rate(d - (a.deliveredPerVm[vm] ?? 0)),
      })),
    },
    interrupts: {
      virqPerSec: rate(virqs),
      timerPollsPerSec: rate(b.timerPolls - a.timerPolls),
      physicalIrqPerSec: rate(b.physicalIrqs - a.physicalIrqs),
      backendTimerIrqPerSec: rate(b.backendTimerIrqs - a.backendTimerIrqs),
      virqWhilePollingPerSec: rate(b.virqsWhilePolling - a.virqsWhilePolling),
      idleTimerTicksPerSec: rate(b.idleTimerTicks - a.idleTimerTicks),
      virqPerPacket: delivered > 0 ? sig(virqs / delivered) : 0,
      perVm: b.virqs.map((row, vm) => {
        const before = a.virqs[vm] ?? [];
        const perQueue = row.map((v, q) => rate(v - (before[q] ?? 0)));
        return { vm, virqPerSec: sig(perQueue.reduce((x, y) => x + y, 0)), perQueue };
      }),
    },
    notifications: {
      sentPerSec: rate(b.notifies - a.notifies),
      suppressedPerSec: rate(b.suppressed - a.suppressed),
      heldPerSec: rate(b.held - a.held),
      guestReqNotifiesPerSec: rate(b.reqNotifies - a.reqNotifies),
    },
    cpu,
    latencyUs: {
      count: hist.count,
      mean: us(hist.mean),
      p50: us(hist.percentile(50)),
      p99: us(hist.percentile(99)),
      p999: us(hist.percentile(99.9)),
      max: us(hist.max),
    },
    ring: { meanOccupancy: mean(occ), maxOccupancy: max(occ) },
    backlog: { mean: mean(blog), max: max(blog) },
    drops: { ...drops, total: dropTotal },
    flowOrder: { reordered: b.reordered },
    accounting: acc,
  };
}

/** Frame-bit throughput the link can carry with this scenario's first generator's mean frame size. */
function lineRateGbps(s: CompiledScenario): number {
  const gen = s.traffic.generators[0];
  if (!gen) return s.topology.linkGbps;
  const mean = meanFrameBytes(gen.size);
  return (s.topology.linkGbps * mean) / (mean + WIRE_OVERHEAD_BYTES);
}
