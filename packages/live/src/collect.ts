// The collect step of a live run: the processes' samples and final reports, continued across restarts, made into the run's result.
import { LatencyHistogram } from '@splitnet/model';
import type { ActorReport } from '@splitnet/model';
import { ClusterRun, hostPrefixOf, lagBound } from '@splitnet/controller';
import type { ClusterFaultShot } from '@splitnet/controller';
import {
  balance,
  combine,
  faultsSummary,
  hostThroughputRows,
  lagBoundText,
  sampleRow,
  seriesPoints,
  shownDrops,
  sig,
  summarize,
  withTxBalance,
} from '@splitnet/results';
import type { BusOutage, DropReason, LagBound, LiveInfo, RestartedProcess, RunEvent, RunResult, SeriesPoint, Snapshot, ThroughputRow } from '@splitnet/results';
import type { Nanos } from '@splitnet/model';
import type { CompiledScenario, FaultOccurrence } from '@splitnet/scenario';
import { busAccount } from './bus-accounting.js';
import type { BusAccount } from './bus-accounting.js';
import { txBusAccount, withBridgeHandoffs } from './tx-bus-accounting.js';
import type { TxBusAccount } from './tx-bus-accounting.js';
import type { ControlPlane } from './control-plane.js';
import type { HostFinal } from './live-host.js';
import type { ReportInbox } from './report-inbox.js';
import type { RunLog } from './run-log.js';

/** What the collect step reads: the run's processes and what they reported, restarts, faults and the event log. */
export interface CollectInput {
  readonly scenario: CompiledScenario;
  readonly names: readonly string[];
  readonly inbox: ReportInbox;
  /** Restarts per process name. */
  readonly restarts: ReadonlyMap<string, number>;
  readonly occurrences: readonly FaultOccurrence[];
  readonly log: RunLog;
  /** The control plane: what it refused (forged, replayed or unknown control messages, refused joins). */
  readonly control: Pick<ControlPlane, 'refused' | 'refusals'>;
  /** The controller's NATS outages. */
  readonly busOutages?: readonly BusOutage[];
  /** The run was interrupted and halted there: its results end at that instant. */
  readonly interrupted?: Interrupted;
}

/** Where an interrupted live run was halted: the signal, and the controller's emulated time then. */
export interface Interrupted {
  readonly signal: string;
  readonly at: Nanos;
}

/**
 * A multi-host run's snapshots as sim takes them (cluster-run.ts): every actor's report in the graph's order, each
 * host's and the fabric's kept beside the whole run's. The fabric's frames a paused host's processes had not handled
 * at the end are on the bus (onBus), where sim has them waiting for the paused actor.
 */
class ClusterShots {
  readonly run: ClusterRun;
  private readonly order: ReadonlyMap<string, number>;

  constructor(s: CompiledScenario) {
    this.run = new ClusterRun(s);
    this.order = new Map(this.run.graph.all.map((a, ref) => [a.id, ref]));
  }

  at(reports: readonly ActorReport[], t: Nanos, final: boolean, start: boolean, onBus?: { up: number; down: number[] }, faults?: ClusterFaultShot): Snapshot {
    const inGraph = [...reports].sort((a, b) => (this.order.get(a.id) ?? 0) - (this.order.get(b.id) ?? 0));
    return this.run.fromReports(inGraph, t, final, 0, start, onBus, faults);
  }

  /**
   * With message faults on a host's links (the only faults a multi-host live run takes): what the send paths dropped,
   * per host (HostFinal.linkDropped, txLinkDropped; a link inside a host, so the sender's process is on the receiver's
   * host), as sim's runtime counts it per host; undefined without faults.
   */
  static linkDrops(finals: ReadonlyMap<string, HostFinal>, hosts: number, withFaults: boolean): ClusterFaultShot | undefined {
    if (!withFaults) return undefined;
    const zeros = (): number[] => new Array<number>(hosts).fill(0);
    const linkDropped = zeros();
    const txLinkDropped = zeros();
    for (const [name, f] of finals) {
      const p = hostPrefixOf(name);
      if (p === '') continue;
      const h = Number(p.slice(1, -1));
      linkDropped[h] = (linkDropped[h] as number) + (f.linkDropped ?? 0);
      txLinkDropped[h] = (txLinkDropped[h] as number) + (f.txLinkDropped ?? 0);
    }
    const none = zeros();
    return { ghosts: [], linkDropped, lostInCrash: none, txReleasedInCrash: none, txLostInCrash: none, txLinkDropped, fabricLost: none, fabricLostBytes: none };
  }

  /** The fabric's frames due by the end that no receiver handled (HostFinal.fabric): toward the switch, and toward each port's NIC. */
  static onBus(finals: Iterable<HostFinal>, ports: number): { up: number; down: number[] } {
    const left = new Map<string, number>();
    for (const f of finals) for (const [id, c] of Object.entries(f.fabric ?? {})) left.set(id, (left.get(id) ?? 0) + c.sent - c.done);
    return { up: left.get('switch') ?? 0, down: Array.from({ length: ports }, (_, i) => left.get(`h${i}.nic`) ?? 0) };
  }
}

/** The time series: a row when every process reported for that instant (counters continued across restarts). */
function timeSeries(
  c: CollectInput,
  cluster: ClusterShots | null,
): { rows: Record<string, unknown>[]; series: SeriesPoint[]; complete: Snapshot[]; hostSamples: ThroughputRow[][] } {
  const rows: Record<string, unknown>[] = [];
  const series: SeriesPoint[] = [];
  const complete: Snapshot[] = [];
  // A multi-host run: per host, its delivered throughput per sample (its faults' recovery is measured on it, as in sim).
  const hostSamples: ThroughputRow[][] = [];
  let started = false;
  for (const t of [...c.inbox.samples.keys()].sort((a, b) => a - b)) {
    const reports = c.inbox.reportsAt(t);
    if (reports === undefined) continue;
    // The window starts at the first complete sample at or after the warm-up (collect's `warm`).
    const start = !started && t >= c.scenario.warmup;
    if (start) started = true;
    const snap = cluster === null ? combine(reports, t) : cluster.at(reports, t, false, start);
    cluster?.run.sampled(t);
    const prev = complete.at(-1) ?? combine([], 0);
    rows.push(sampleRow(prev, snap));
    for (const p of seriesPoints(prev, snap)) series.push(p);
    if (prev.hosts !== undefined) hostThroughputRows(prev, snap)?.forEach((r, i) => (hostSamples[i] ??= []).push(r));
    complete.push(snap);
  }
  return { rows, series, complete, hostSamples };
}

/** Every drop reason: what actors counted, plus what the bus accounting inferred (crashes, fault drops, a broken bus). */
function allDrops(c: CollectInput, end: Snapshot, bus: BusAccount): { all: Record<DropReason, number>; lostInTransport: number } {
  // After a NATS server restart, what is still on the bus after the drain was lost with the server; after
  // a node's containers were cut from their network, what NATS had for them while they were gone (core
  // NATS drops a message nobody is subscribed to).
  const busBroken = busOutage(c);
  const lostInTransport = busBroken && bus.onBus > 0 ? bus.onBus : 0;
  // Plus what actors counted themselves as lost to a crash.
  const lostInCrash = bus.inferredLost + end.drops['lost-in-crash'];
  return {
    all: { ...end.drops, 'lost-in-crash': lostInCrash, 'link-drop': bus.linkDropped, 'lost-in-transport': lostInTransport, rejected: bus.rejected },
    lostInTransport,
  };
}

/**
 * The transmit path's frames between processes at the end (`links`): sent on the bus and not taken, or taken and due
 * after the end. After a bus outage, what was sent and never taken was lost with the server, as on the receive path
 * (allDrops): counted `lost-in-transport` among the transmit drops of the returned `end`, no longer in flight.
 */
function txOnTheBus(c: CollectInput, finals: ReadonlyMap<string, HostFinal>, end: Snapshot, onBus: number): { links: number; end: Snapshot } {
  let pending = 0;
  for (const f of finals.values()) pending += f.txPending ?? 0;
  if (end.tx === null || !busOutage(c)) return { links: onBus, end };
  const notTaken = onBus - pending;
  const lost = notTaken > 0 ? notTaken : 0;
  return { links: onBus - lost, end: { ...end, tx: { ...end.tx, drops: { ...end.tx.drops, 'lost-in-transport': lost } } } };
}

/**
 * Events of a run whose bus may have lost messages — a NATS server killed (a fault, or an outage a process
 * saw), a node cut from its network or paused (its NATS server stops routing; its clients may be cut as slow
 * consumers) — which explain gaps in
 * sequences. (A process's own lost connection shows in its final report: HostFinal.disconnects.)
 */
const BUS_OUTAGE_EVENTS: ReadonlySet<string> = new Set(['nats-down', 'nats-disconnected', 'node-disconnect', 'node-pause']);

function busOutage(c: CollectInput): boolean {
  return c.log.events.some((e) => BUS_OUTAGE_EVENTS.has(e.kind));
}

/**
 * What makes a live run tainted, one line each: anything on the bus its actors did not send or a receiver
 * refused — messages the wire refused, control messages refused (forged, replayed, another controller's,
 * refused joins), packets a receiver accepted that were never sent to it — and messages missing from a known
 * sender's sequence that no outage, disconnect or restart explains.
 */
function taint(c: CollectInput, bus: BusAccount, restarted: ReadonlySet<string>): string[] {
  const lines: string[] = [];
  const refused = Object.entries(bus.rejectedMessages).filter(([, n]) => n > 0);
  if (refused.length > 0) {
    const total = refused.reduce((n, [, v]) => n + v, 0);
    lines.push(`receivers refused ${total} message(s) on the bus: ${refused.map(([k, v]) => `${k} ${v}`).join(', ')}`);
    for (const [k] of refused) if (bus.rejections[k]) lines.push(`  first ${bus.rejections[k]}`);
  }
  const control = c.control.refused + bus.controlRefused;
  if (control > 0) {
    lines.push(`${control} control message(s) refused (forged, replayed, another controller's, or a join the run did not take)`);
    for (const why of [...c.control.refusals, ...(bus.controlRefusal ? [bus.controlRefusal] : [])].slice(0, 5)) lines.push(`  ${why}`);
  }
  for (const f of bus.forged) lines.push(`${f.to} accepted ${f.packets} packet(s) from ${f.from} more than ${f.from} sent it: forged packets were taken`);
  if (!busOutage(c)) {
    const unexplained = bus.gapped.filter(
      (g) => !restarted.has(g.from) && !restarted.has(g.to) && !bus.disconnected.some((p) => p.split('+').includes(g.from) || p.split('+').includes(g.to)),
    );
    for (const g of unexplained)
      lines.push(`${g.gaps} message(s) missing from ${g.from}'s sequence to ${g.to}, with no bus outage, disconnect or restart to explain them`);
  }
  return lines;
}

/** Each restarted process: where its counters continue from, and where they ended. */
function restartedProcesses(c: CollectInput, finalReports: ReadonlyMap<string, readonly ActorReport[]>): RestartedProcess[] {
  const counters = (reports: readonly ActorReport[] | undefined) => {
    const s = combine(reports ?? [], 0);
    return { emitted: s.emitted, delivered: s.delivered, dropped: Object.values(s.drops).reduce((a, b) => a + b, 0) };
  };
  return [...c.restarts.keys()].map((name) => {
    const inc = c.inbox.incarnations.get(name);
    const last = c.inbox.finalIncarnation.get(name) ?? 0;
    const continuedFrom = Array.from({ length: last }, (_, k) => {
      const at = inc?.lastSampleAt(k);
      const lat = inc?.lastLatencyAt(k);
      return {
        incarnation: k + 1,
        sampleMs: at === undefined ? null : sig(at / 1e6),
        // A front end's: the sample whose latency histogram of the dead incarnation counts (null: none reached us).
        ...(finalReports.get(name)?.some((r) => r.role === 'frontend') ? { latencySampleMs: lat === undefined ? null : sig(lat / 1e6) } : {}),
        ...counters(inc?.base(k + 1)),
      };
    });
    return { process: name, restarts: c.restarts.get(name) ?? 0, continuedFrom, atEnd: counters(finalReports.get(name)) };
  });
}

/**
 * A lag that grows over the run: the host is falling further behind emulated time and would miss
 * any bound given a long enough run. Noise moves a bounded lag's p99 between the two halves too, so
 * growth must be both large in ratio (more than doubled) and large against the bound (by more than
 * half of maxLag).
 */
export function lagGrowing(firstHalfP99: number, secondHalfP99: number, maxLag: number): boolean {
  return secondHalfP99 > 2 * firstHalfP99 && secondHalfP99 - firstHalfP99 > maxLag / 2;
}

/**
 * Why a run whose bus went down is invalid: messages held while it was down arrived late all at once, so
 * the lag measured is the outage's, not the CPU's, and no TDF would have helped.
 */
function outageReason(outages: readonly BusOutage[], p99LagUs: number | undefined): string {
  const known = outages.filter((o) => o.wallMs !== null).reduce((sum, o) => sum + (o.wallMs ?? 0), 0);
  const open = outages.some((o) => o.wallMs === null);
  const howLong = `${(known / 1000).toFixed(1)} s of wall time${open ? ' and until the end' : ''}`;
  const lag = p99LagUs !== undefined ? `, so the lag measured (p99 ${p99LagUs} µs) is the outage's, not the CPU's` : '';
  return `the NATS bus was down ${outages.length === 1 ? 'once' : `${outages.length} times`} (${howLong}, from ${outages[0]?.atMs ?? 0} ms emulated): messages were held and arrived late, or were lost (lost-in-transport)${lag}; a higher TDF would not help, run it again`;
}

/**
 * The lag part of a live run's verdict: whether the p99 processing lag (emulated ns) is within the bound, and if
 * not, why — naming the bound and, for `auto`, the constant it is a fraction of — and the TDF at which twice the
 * lag seen would fit (the lag scales about as 1/TDF: it is mostly wall-clock wake-up and transport time).
 */
export function judgeLag(bound: LagBound, tdf: number, p99LagNs: number): { ok: boolean; reason: string; suggestedTdf: number } {
  const lagUs = sig(p99LagNs / 1000);
  const reason =
    bound.rule === 'set'
      ? `actors fell behind emulated time by ${lagUs} µs (p99) > maxLag ${bound.us} µs`
      : `actors fell behind emulated time by ${lagUs} µs (p99) > the lag bound, ${lagBoundText(bound)}`;
  return { ok: p99LagNs <= bound.us * 1000, reason, suggestedTdf: Math.ceil((tdf * p99LagNs * 2) / (bound.us * 1000)) };
}

/**
 * Why a run measured nothing, or undefined when it measured something. Nothing: no actor processed an event in its
 * measured window (from the warm-up to the end), so its lag histogram is empty — a p99 of 0 that says nothing about
 * keeping up — and its figures cover no time; or, in a scenario with traffic, no packet was delivered and no guest
 * sent a frame in the window (`moved`), so every figure the tool exists to measure is zero (a TCP_RR run with no
 * transaction). Such a run is not valid, whatever its lag: it is judged invalid with this reason.
 */
export function nothingMeasured(s: CompiledScenario, bus: Pick<BusAccount, 'lag'>, endT: Nanos, moved = 1): string | undefined {
  const ms = (ns: number) => `${sig(ns / 1e6)} ms`;
  if (bus.lag.count === 0)
    return s.warmup >= endT
      ? `nothing was measured: the run ended at ${ms(endT)}, within its warm-up (${ms(s.warmup)}), so its measured window is empty`
      : `nothing was measured: no actor processed an event in the measured window (${ms(s.warmup)} to ${ms(endT)}), so the lag says nothing about keeping up; lengthen the run or give it traffic`;
  if (moved === 0 && s.traffic.flows.length > 0)
    return `nothing was measured: no packet was delivered and no guest sent a frame in the measured window (${ms(s.warmup)} to ${ms(endT)}), so its figures are all zero; lengthen the run (or its window) or raise the TDF`;
  return undefined;
}

/** How late the run ran, whether that is within its bound, and what the wire rejected. */
function liveInfo(
  c: CollectInput,
  bus: BusAccount,
  restarted: readonly RestartedProcess[],
  totalRestarts: number,
  tainted: readonly string[],
  moved: number,
): LiveInfo {
  const s = c.scenario;
  const us = (ns: number) => sig(ns / 1000);
  const p99Lag = bus.lag.percentile(99);
  const outages = c.busOutages ?? [];
  // An outage nobody injected (a fault on the NATS server or a node is the experiment) leaves results that are
  // the bus's, not the model's: messages held and delivered late, or lost. A run lagging because of an outage
  // is not the CPU's fault either: the reason says so, and no TDF is suggested.
  const injected = c.occurrences.some((o) => o.spec.action === 'nats-restart' || o.spec.target.kind === 'node');
  // live.maxLag as written, or (auto) a fraction of the scenario's shortest modelled time constant.
  const bound = lagBound(s);
  const maxLag = bound.us * 1000;
  const lag = judgeLag(bound, s.live.tdf, p99Lag);
  const lagOk = lag.ok;
  const nothing = nothingMeasured(s, bus, c.interrupted?.at ?? s.duration, moved);
  const valid = lagOk && (outages.length === 0 || injected) && nothing === undefined;
  const p99Early = bus.lagEarly.percentile(99);
  const p99Late = bus.lagLate.percentile(99);
  return {
    tdf: s.live.tdf,
    placement: s.live.placement,
    processes: c.names.length,
    restarts: totalRestarts,
    maxLagUs: bound.us,
    lagBound: bound,
    processingLagUs: { p50: us(bus.lag.percentile(50)), p99: us(p99Lag), max: us(bus.lag.max) },
    lagTrend: { firstHalfP99Us: us(p99Early), secondHalfP99Us: us(p99Late), growing: lagGrowing(p99Early, p99Late, maxLag) },
    inputLatenessUs: { p50: us(bus.lateness.percentile(50)), p99: us(bus.lateness.percentile(99)), max: us(bus.lateness.max) },
    effectiveResolutionUs: us(bus.lateness.percentile(99)),
    valid,
    verdict: tainted.length > 0 ? 'tainted' : valid ? 'valid' : 'invalid',
    ...(tainted.length > 0 ? { tainted } : {}),
    ...(valid
      ? {}
      : nothing !== undefined
        ? { invalidReason: nothing }
        : outages.length > 0
          ? { invalidReason: outageReason(outages, lagOk ? undefined : us(p99Lag)) }
          : { invalidReason: lag.reason, suggestedTdf: lag.suggestedTdf }),
    bus: { onBusAtEnd: bus.onBus, pendingAtEnd: bus.pending, lostInCrash: bus.inferredLost },
    ...(restarted.length > 0 ? { restarted } : {}),
    wire: { rejected: bus.rejectedMessages, gaps: bus.gaps, lastRejection: bus.lastRejection, badControl: c.control.refused + bus.controlRefused },
    ...(outages.length > 0 ? { busOutages: outages } : {}),
  };
}

/**
 * The end snapshot with the transmit path's frames lost in restarted processes (TxBusAccount) among its drops, and
 * those a restarted guest's TCP ends sent after its last sample among its sent frames.
 */
function withTxLost(end: Snapshot, txBus: TxBusAccount): Snapshot {
  const tx = end.tx;
  if (tx === null || (txBus.lost === 0 && txBus.sentUnsampled === 0)) return end;
  return {
    ...end,
    tx: { ...tx, sent: tx.sent + txBus.sentUnsampled, drops: { ...tx.drops, [txBus.reason]: (tx.drops[txBus.reason] ?? 0) + txBus.lost } },
  };
}

/** The end snapshot with the frames guests sent that a partition dropped at a send path (HostFinal.txLinkDropped): `link-drop`. */
function withTxLinkDrops(end: Snapshot, finals: ReadonlyMap<string, HostFinal>, counted: boolean): Snapshot {
  const tx = end.tx;
  // A multi-host run's per-host counts (ClusterShots.linkDrops) are in the end snapshot already.
  if (counted) return end;
  let n = 0;
  for (const f of finals.values()) n += f.txLinkDropped ?? 0;
  if (tx === null || n === 0) return end;
  return { ...end, tx: { ...tx, drops: { ...tx.drops, 'link-drop': (tx.drops['link-drop'] ?? 0) + n } } };
}

/** Every process's final report arrived: the run's summary, time series, event log and accounting. */
export function collect(c: CollectInput): RunResult {
  const s = c.scenario;
  const cluster = s.cluster !== undefined ? new ClusterShots(s) : null;
  const { rows, series, complete, hostSamples } = timeSeries(c, cluster);
  const finals = new Map(c.names.map((n) => [n, c.inbox.finals.get(n) as HostFinal]));
  const restarted = new Set([...c.restarts.keys()].flatMap((n) => n.split('+')));
  const endT = c.interrupted?.at ?? s.duration;
  // A restarted bridge's guest-to-guest handoffs, as the netback workers that took them count them, and those to
  // workers restarted too as the accountings infer them (tx-bus-accounting.ts).
  const { reports: finalReports, handoffs } = withBridgeHandoffs(
    finals,
    new Map(c.names.map((n) => [n, c.inbox.continued(n, c.inbox.finalIncarnation.get(n) ?? 0, (finals.get(n) as HostFinal).reports)])),
    restarted,
    s.traffic.generators.some((g) => g.sender !== null && g.receiver !== null)
      ? (reports) => {
          const box = txBusAccount(finals, reports, restarted, endT).box;
          return { rx: busAccount(finals, reports, restarted, endT).inferredLost, tx: box.into - box.out - box.known };
        }
      : undefined,
  );
  if (handoffs !== undefined && handoffs.reported + handoffs.taken + (handoffs.inferred ?? 0) > 0)
    c.log.log('bridge-handoffs-counted', 'controller', { ...handoffs });
  const allFinal = c.names.flatMap((n) => finalReports.get(n) as readonly ActorReport[]);
  const hosts = s.cluster?.hosts.length ?? 0;
  // A multi-host run's link drops per host; a one-host run's are added to the end snapshot below (withTxLinkDrops).
  const shot = cluster === null ? undefined : ClusterShots.linkDrops(finals, hosts, c.occurrences.length > 0);
  const combined = cluster === null ? combine(allFinal, endT) : cluster.at(allFinal, endT, true, false, ClusterShots.onBus(finals.values(), hosts), shot);
  const txBus = txBusAccount(finals, finalReports, restarted, endT);
  const warm = complete.find((x) => x.t >= s.warmup) ?? combine([], 0);
  const inWindow = complete.filter((x) => x.t > warm.t);
  const bus = busAccount(finals, finalReports, restarted, endT);
  const { links: txOnBus, end: endTx } = txOnTheBus(c, finals, withTxLinkDrops(withTxLost(combined, txBus), finals, shot !== undefined), txBus.onBus);
  // A restarted NIC's far ends' frames emitted after its last sample (BusAccount.emittedUnsampled) among the emitted.
  const end = bus.emittedUnsampled === 0 ? endTx : { ...endTx, emitted: endTx.emitted + bus.emittedUnsampled };
  const { all, lostInTransport } = allDrops(c, end, bus);
  const withFaults = c.occurrences.length > 0;
  // Every reason with packets is in the balance; the fault-only ones also show as zeros when faults were injected
  // or the bus broke (fault-free results keep their shape).
  const showAll = withFaults || busOutage(c);
  const hostAcc = withTxBalance(
    balance(end.emitted, end.delivered, shownDrops(all, showAll), { ...end.heldIn, links: bus.pending + bus.onBus - lostInTransport }),
    end,
    txOnBus,
  );
  // A multi-host run balances only if the fabric does too (its frames sent, delivered, dropped at a port or on a cable).
  const acc = cluster === null ? hostAcc : cluster.run.withFabric(hostAcc);
  if (restarted.size > 0)
    c.log.log('lost-in-crash', 'controller', {
      packets: all['lost-in-crash'],
      inferred: bus.inferredLost,
      actors: [...restarted],
      emittedUnsampled: bus.emittedUnsampled,
    });
  if (restarted.size > 0 && end.tx !== null)
    c.log.log('tx-lost-in-restart', 'controller', { reason: txBus.reason, frames: txBus.lost, ...txBus.box, sentUnsampled: txBus.sentUnsampled });
  const live = liveInfo(
    c,
    bus,
    restartedProcesses(c, finalReports),
    [...c.restarts.values()].reduce((a, b) => a + b, 0),
    taint(c, bus, restarted),
    // What the window measured: packets delivered, and frames guests sent, between its start and the end.
    end.delivered - warm.delivered + (end.tx?.sent ?? 0) - (warm.tx?.sent ?? 0),
  );
  if (!live.valid) c.log.log('run-invalid', 'controller', { reason: live.invalidReason, suggestedTdf: live.suggestedTdf });
  if (live.tainted) c.log.log('run-tainted', 'controller', { reasons: live.tainted });
  c.log.log('run-end', 'controller', { balanced: acc.balanced, unaccounted: acc.unaccounted });
  const endAll = { ...end, drops: all };
  const whole = summarize(s, warm, endAll, inWindow, acc, showAll);
  // A multi-host run's summary as sim writes it: per host (hosts[]) and the switch's ports (fabric), each host's
  // accounting with what was on the bus toward its actors. Without a complete sample at the window's start it keeps the whole run's.
  const perHost =
    cluster !== null && complete.some((x) => x.t === warm.t) ? cluster.run.summaryWith(whole, onLinksByHost(finals, bus, s), warm.t, endT) : whole;
  let summary = { ...perHost, runtime: 'live' as const, live };
  if (withFaults) summary = { ...summary, faults: faultsOf(c, rows, endAll, endT, cluster === null ? undefined : hostSamples) };
  if (c.interrupted !== undefined) summary = { ...summary, interrupted: { signal: c.interrupted.signal, atMs: sig(endT / 1e6), durationMs: s.duration / 1e6 } };
  const events: RunEvent[] = c.log.events;
  return {
    summary,
    samples: rows,
    series,
    events,
    accounting: acc,
    latency: end.latency ?? new LatencyHistogram(),
    eventsProcessed: bus.eventsProcessed,
    end: endAll,
    occurrences: c.occurrences,
  };
}

/**
 * Per host of a multi-host run, the packets on links toward its actors at the end (sim's inFlightByGroup): on the bus
 * toward them, or arrived and due after the end (rx); and the frames its guests sent still between its actors (tx).
 */
function onLinksByHost(finals: ReadonlyMap<string, HostFinal>, bus: BusAccount, s: CompiledScenario): { rx: number[]; tx: number[] } {
  const hosts = s.cluster?.hosts.length ?? 1;
  const rx = new Array<number>(hosts).fill(0);
  const tx = new Array<number>(hosts).fill(0);
  const hostOf = (id: string): number => {
    const p = hostPrefixOf(id);
    return p === '' ? -1 : Number(p.slice(1, -1));
  };
  for (const [name, f] of finals) {
    const h = hostOf(name);
    if (h < 0) continue;
    rx[h] = (rx[h] as number) + f.pendingPackets;
    tx[h] = (tx[h] as number) + (f.txSent ?? 0) - (f.txReceived ?? 0) + (f.txPending ?? 0);
  }
  for (const [to, n] of Object.entries(bus.onBusTo)) {
    const h = hostOf(to);
    if (h >= 0) rx[h] = (rx[h] as number) + n;
  }
  return { rx, tx };
}

function faultsOf(
  c: CollectInput,
  rows: readonly Record<string, unknown>[],
  end: Snapshot,
  endT: Nanos,
  hostSamples: ThroughputRow[][] | undefined,
): ReturnType<typeof faultsSummary> {
  const s = c.scenario;
  return faultsSummary({
    occurrences: c.occurrences,
    events: c.log.events,
    samples: rows,
    end,
    messages: undefined,
    interval: s.sampleInterval,
    warmup: s.warmup,
    runEnd: endT,
    ...(hostSamples !== undefined ? { hostSamples } : {}),
  });
}
