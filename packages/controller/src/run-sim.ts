// Runs a compiled scenario in the deterministic sim runtime and produces the summary, time series and event log.
import { LatencyHistogram } from '@splitnet/model';
import { NicActor } from '@splitnet/nic';
import type { Nanos } from '@splitnet/model';
import { SimRuntime } from '@splitnet/runtime';
import type { CompiledScenario } from '@splitnet/scenario';
import { buildActors } from './build.js';
import { linkDelayFor } from './links.js';
import type { ActorGraph } from './build.js';
import { balance, combine, faultsSummary, hostThroughputRows, sampleRow, seriesPoints, shownDrops, summarize, withTxBalance } from '@splitnet/results';
import type {
  Accounting,
  FlowPlacement,
  PacketCapture,
  RunResult,
  SeriesPoint,
  Snapshot,
  Summary,
  ThroughputRow,
  TxRestartDropReason,
} from '@splitnet/results';
import { ClusterRun } from './cluster-run.js';
import { planSimFaults } from './fault-plan.js';
import type { SimFaultPlan, SimGhost } from './fault-plan.js';
import type { ActorReport, TxReport } from '@splitnet/model';

export interface RunOptions {
  /** Called now and then with the emulated time reached (for progress displays). */
  readonly onProgress?: (done: Nanos, total: Nanos) => void;
  /** A packet capture (--pcap) the NIC and the front ends tell of their packets; its summary goes into the run's. */
  readonly capture?: PacketCapture;
  /** A multi-host scenario's captures instead, one per host (its flows, its VMs): each host's summary has its own. */
  readonly hostCaptures?: readonly PacketCapture[];
}

/** Per flow, the NIC queue and the guest queue the graph steers it to: what a capture selects by and shows. */
export function flowPlacement(g: ActorGraph): FlowPlacement {
  const st = g.steering;
  return { nicQueue: st.flowNicQueue, guestQueue: Array.from(st.flowGq, (gq) => st.gqQueue[gq] as number) };
}

/** Every actor's report at time t, combined. */
function snapshot(g: ActorGraph, t: Nanos, final = false): Snapshot {
  return combine(
    g.all.map((a) => a.report(t, final)),
    t,
  );
}

/**
 * A killed incarnation's report, frozen at its death: what it held is lost-in-crash, not held or in its ring any
 * more; a dead NIC's source frames are counted by its successor, which replays the wire.
 */
export function ghostReport(gh: SimGhost, final: boolean, t?: Nanos): ActorReport {
  const r = gh.actor.report(gh.t, final); // final: a dead guest's latency samples count too
  if (r.role === 'worker')
    return { ...r, held: 0, backlog: 0, queueBacklogs: [], ...ghostTx(r.tx, gh.ringsLost === true ? 'lost-in-crash' : 'release-tx-bufs') };
  if (r.role === 'frontend') {
    const again = gh.sentAgain;
    const tx =
      r.tx === undefined || again === undefined ? r.tx : { ...r.tx, sent: (r.tx.sent ?? 0) - again.frames, sentBytes: (r.tx.sentBytes ?? 0) - again.bytes };
    return { ...r, held: 0, ringOccupancy: 0, queueRingOccupancy: [], ...ghostTx(tx, 'lost-in-crash') };
  }
  if (r.role === 'switch') return r;
  if (r.role === 'nic') {
    const again = gh.emittedAgain ?? { frames: 0, bytes: 0 };
    // The frames that left toward the switch before it died are on the cable until they reach it (at the snapshot's t).
    const fabric = r.fabric === undefined || t === undefined || !(gh.actor instanceof NicActor) ? {} : { fabric: { ...r.fabric, onLink: gh.actor.cableAt(t) } };
    return { ...r, held: 0, emitted: r.emitted - again.frames, emittedBytes: r.emittedBytes - again.bytes, ...ghostTx(r.tx, 'lost-in-crash'), ...fabric };
  }
  return { ...r, held: 0, ...ghostTx(r.tx, 'lost-in-crash') };
}

/**
 * The transmit side of a dead incarnation: the frames it held are dropped, not held. A dead netback's are the
 * requests on a guest's TX ring it had not taken (or had taken and not passed on): netfront frees them as it
 * re-creates the ring (`release-tx-bufs`); a dead guest's qdisc and a dead driver domain's queues are
 * `lost-in-crash`.
 */
function ghostTx(tx: TxReport | undefined, reason: TxRestartDropReason): { tx?: TxReport } {
  if (tx === undefined || tx.held === 0) return tx === undefined ? {} : { tx };
  return { tx: { ...tx, held: 0, drops: { ...tx.drops, [reason]: (tx.drops?.[reason] ?? 0) + tx.held } } };
}

/** A snapshot with the frames guests sent that the runtime itself found lost: in messages to dead actors, or a partition dropped. */
export function withRuntimeTxDrops(snap: Snapshot, released: number, lost: number, linkDropped = 0): Snapshot {
  const tx = snap.tx;
  if (tx === null || released + lost + linkDropped === 0) return snap;
  const drops = { ...tx.drops };
  if (released > 0) drops['release-tx-bufs'] = (drops['release-tx-bufs'] ?? 0) + released;
  if (lost > 0) drops['lost-in-crash'] = (drops['lost-in-crash'] ?? 0) + lost;
  if (linkDropped > 0) drops['link-drop'] = (drops['link-drop'] ?? 0) + linkDropped;
  return { ...snap, tx: { ...tx, drops } };
}

/** A snapshot with the packets the runtime itself dropped: on faulty links, and lost in crashes (beyond what actors held). */
export function withRuntimeDrops(snap: Snapshot, linkDropped: number, lostInCrash: number): Snapshot {
  return { ...snap, drops: { ...snap.drops, 'link-drop': linkDropped, 'lost-in-crash': snap.drops['lost-in-crash'] + lostInCrash } };
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
  for (const gh of plan.ghosts) reports.push(ghostReport(gh, final));
  const snap = withRuntimeDrops(combine(reports, t), rt.linkDropped, rt.lostInCrash + plan.wire.lostWhileDown);
  return withRuntimeTxDrops(snap, rt.txReleasedInCrash, rt.txLostInCrash + plan.wire.txLostWhileDown, rt.txLinkDropped);
}

export function accounting(s: Snapshot, onLinks: number, withFaults = false): Accounting {
  return balance(s.emitted, s.delivered, shownDrops(s.drops, withFaults), { ...s.heldIn, links: onLinks });
}

/**
 * What a run's periodic snapshots make: the metrics rows, the time series, and the snapshots in the measured
 * window. Sim and lockstep (from its partitions' reports) both build them here, so their files agree.
 */
export class SampleSeries {
  readonly samples: Record<string, unknown>[] = [];
  readonly series: SeriesPoint[] = [];
  readonly inWindow: Snapshot[] = [];
  /** A multi-host run: per host, its delivered throughput per sample (its faults' recovery is measured on it); empty on one host. */
  readonly hostSamples: ThroughputRow[][] = [];

  constructor(
    private readonly warmup: Nanos,
    /** The snapshot before the first sample (the actors before the first event). */
    private prev: Snapshot,
  ) {}

  add(t: Nanos, cur: Snapshot): void {
    this.samples.push(sampleRow(this.prev, cur));
    seriesPoints(this.prev, cur, this.series);
    hostThroughputRows(this.prev, cur)?.forEach((r, i) => (this.hostSamples[i] ??= []).push(r));
    if (t > this.warmup) this.inWindow.push(cur);
    this.prev = cur;
  }
}

/** Slices of a run that `runSim` reports progress after; slices do not change the result. */
const SLICES = 50;

/**
 * Slices of an interruptible run: it yields to the event loop after each, so that a signal is seen within
 * one slice (a 60 s quickstart's 1/1000 takes ~20 ms here). Results are byte-identical to runSim's.
 */
const INTERRUPTIBLE_SLICES = 1000;

/** One sim run, advanced slice by slice by runSim or runSimInterruptible. */
class SimRun {
  private readonly g: ActorGraph | null;
  /** A multi-host scenario's hosts and switch (null: one host, `g`). */
  private readonly cluster: ClusterRun | null;
  private readonly plan: SimFaultPlan | null;
  private readonly rt: SimRuntime;
  private readonly snap: (t: Nanos, final?: boolean) => Snapshot;
  private readonly book: SampleSeries;
  private readonly hooks: { sampleInterval: Nanos; onSample: (t: Nanos) => void };
  private readonly steps: readonly { readonly t: Nanos; readonly apply: (rt: SimRuntime) => void }[];
  private next = 0;
  private warmSnap: Snapshot | null;
  /** The actors' counters before the first event (a report describes the actor as it is when asked). */
  private readonly startSnap: Snapshot;
  /** Emulated time the run has reached (the end of the last slice). */
  reached: Nanos = 0;

  constructor(
    private readonly s: CompiledScenario,
    private readonly capture?: PacketCapture,
    hostCaptures?: readonly PacketCapture[],
  ) {
    const cluster = (this.cluster = s.cluster === undefined ? null : new ClusterRun(s, capture, hostCaptures));
    const g = (this.g = cluster === null ? buildActors(s, capture !== undefined ? { tap: capture } : {}) : null);
    if (g !== null) capture?.begin(flowPlacement(g));
    const plan = (this.plan = s.faults.length > 0 && g !== null ? planSimFaults(s, g) : null);
    const linkDelay = cluster?.linkDelay() ?? linkDelayFor(g as ActorGraph, s);
    const pool = cluster?.graph.pool ?? (g as ActorGraph).pool;
    const linkFaults = plan?.linkFaults ?? cluster?.faults.linkFaults;
    // A run whose actors may die: the frames guests sent that die with them give their slots back (per host in a cluster).
    const txOrigin = plan !== null ? g?.txCrashOrigin : cluster?.faults.hostFaults === true ? { of: cluster.graph.txOriginOf } : undefined;
    const rt = (this.rt = new SimRuntime({
      linkDelay,
      pool,
      ...(linkFaults ? { linkFaults } : {}),
      ...(txOrigin !== undefined ? { txOrigin } : {}),
    }));
    (cluster?.graph.all ?? (g as ActorGraph).all).forEach((actor, i) => {
      const ref = rt.add(actor);
      if (ref !== i) throw new Error('actor registration order broken');
    });
    this.snap =
      cluster !== null
        ? (t: Nanos, final = false) => cluster.snapshot(t, final)
        : plan === null
          ? (t: Nanos, final = false) => snapshot(g as ActorGraph, t, final)
          : (t: Nanos, final = false) => faultSnapshot(rt, (g as ActorGraph).all.length, plan, t, final);
    const book = (this.book = new SampleSeries(s.warmup, (this.startSnap = this.snap(0))));
    this.hooks = {
      sampleInterval: s.sampleInterval,
      onSample: (t: Nanos) => {
        const cur = this.snap(t);
        this.cluster?.sampled(t);
        this.flushCapture(t);
        book.add(t, cur);
      },
    };
    cluster?.attach(rt);
    this.steps = plan?.steps ?? cluster?.faultSteps() ?? [];
    this.warmSnap = s.warmup === 0 ? this.snap(0) : null;
    rt.record('controller', 'run-start', { scenario: s.name, seed: s.seed, duration: s.duration });
  }

  /** After every actor reported at t, every packet before t has passed the capture's points: write them. */
  private flushCapture(t: Nanos): void {
    const capture = this.capture;
    if (capture?.flush(t) === true) this.rt.record('controller', 'pcap-stopped', { at: capture.stoppedAtNs, maxBytes: capture.maxBytes });
    for (const h of this.cluster?.flushCaptures(t) ?? []) this.rt.record('controller', 'pcap-stopped', h);
  }

  /** Fault steps happen between events: run up to each one's instant, then apply it. */
  private runTo(until: Nanos): void {
    const steps = this.steps;
    while (this.next < steps.length && (steps[this.next] as { t: Nanos }).t < until) {
      const step = steps[this.next++] as (typeof steps)[number];
      this.rt.run(step.t, this.hooks);
      step.apply(this.rt);
    }
    this.rt.run(until, this.hooks);
  }

  /** Run slice `i` of `n` (1-based): up to emulated time duration · i / n. */
  slice(i: number, n: number): void {
    const s = this.s;
    const until = Math.round((s.duration * i) / n);
    if (this.warmSnap === null && until >= s.warmup) {
      this.runTo(s.warmup);
      this.warmSnap = this.snap(s.warmup);
      this.rt.record('controller', 'warmup-end', {});
    }
    this.runTo(until);
    this.reached = until;
  }

  /**
   * The result up to the time reached: the whole run, or, when `interrupted` says by what, the run up to
   * the end of the last slice (its window ends there; one that stopped in the warm-up measures from 0).
   */
  finish(interrupted?: string): RunResult {
    const s = this.s;
    const rt = this.rt;
    const endT = interrupted === undefined ? s.duration : this.reached;
    if (interrupted !== undefined) rt.record('controller', 'run-interrupted', { signal: interrupted, atMs: endT / 1e6, durationMs: s.duration / 1e6 });
    const end = this.snap(endT, true);
    this.flushCapture(Infinity);
    const cluster = this.cluster;
    // A multi-host run with faults on a host's actors reports them as one host does (its hosts' occurrences, its link faults' counts).
    const faulted = this.plan ?? (cluster?.faults.hostFaults === true ? cluster.faults : null);
    const hostAcc = withTxBalance(accounting(end, rt.inFlightOnLinks(), faulted !== null), end, rt.txInFlightOnLinks());
    const acc = cluster === null ? hostAcc : cluster.withFabric(hostAcc);
    rt.record('controller', 'run-end', { balanced: acc.balanced, unaccounted: acc.unaccounted });
    const warm = this.warmSnap ?? (interrupted === undefined ? this.snap(s.warmup) : this.startSnap);
    let summary: Summary = summarize(s, warm, end, this.book.inWindow, acc, faulted !== null);
    if (cluster !== null) summary = cluster.summary(summary, rt, warm.t, end.t);
    if (faulted !== null) {
      const faults = faultsSummary({
        occurrences: faulted.occurrences,
        events: rt.events,
        samples: this.book.samples,
        end,
        messages: faulted.linkFaults?.counts,
        interval: s.sampleInterval,
        warmup: s.warmup,
        runEnd: endT,
        // A host's fault is measured on its host's delivered throughput.
        ...(cluster !== null ? { hostSamples: this.book.hostSamples } : {}),
      });
      summary = { ...summary, faults };
    }
    if (this.capture !== undefined) summary = { ...summary, pcap: this.capture.finish() };
    if (interrupted !== undefined) summary = { ...summary, interrupted: { signal: interrupted, atMs: endT / 1e6, durationMs: s.duration / 1e6 } };
    return {
      summary,
      samples: this.book.samples,
      series: this.book.series,
      events: rt.events,
      accounting: acc,
      latency: end.latency ?? new LatencyHistogram(),
      eventsProcessed: rt.eventsProcessed,
      end,
      occurrences: faulted?.occurrences ?? [],
    };
  }
}

export function runSim(s: CompiledScenario, opts: RunOptions = {}): RunResult {
  const run = new SimRun(s, opts.capture, opts.hostCaptures);
  for (let i = 1; i <= SLICES; i++) {
    run.slice(i, SLICES);
    opts.onProgress?.(run.reached, s.duration);
  }
  return run.finish();
}

export interface InterruptibleRunOptions extends RunOptions {
  /** Aborting it ends the run after the current slice: the result covers the run up to there, marked interrupted (its reason: the signal's name). */
  readonly signal?: AbortSignal;
}

/**
 * runSim that yields to the event loop between slices, so that the process sees a signal (Ctrl-C) while it
 * runs: the result then covers the run up to that slice, with `summary.interrupted`, and the accounting
 * balances at that instant. Uninterrupted, the result is byte-identical to runSim's.
 */
export async function runSimInterruptible(s: CompiledScenario, opts: InterruptibleRunOptions = {}): Promise<RunResult> {
  const run = new SimRun(s, opts.capture, opts.hostCaptures);
  for (let i = 1; i <= INTERRUPTIBLE_SLICES; i++) {
    if (opts.signal?.aborted === true) return run.finish(String(opts.signal.reason));
    run.slice(i, INTERRUPTIBLE_SLICES);
    opts.onProgress?.(run.reached, s.duration);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return run.finish();
}
