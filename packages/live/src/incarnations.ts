// Counters across incarnations: a restarted actor process's reports continue from its dead incarnation's last sample.
import { LatencyHistogram, SplitnetError, transactionLatencyCdf } from '@splitnet/model';
import type { ActorReport, ClosedLoopEndReport, FlowSummary, HistogramJson, Nanos } from '@splitnet/model';

/*
 * A restarted process's actors start with fresh state and fresh counters. The last periodic sample its
 * dead incarnation sent is the last thing known of it, so that sample is the base the successor's
 * cumulative counters (packets emitted, delivered, dropped by reason, interrupts, notifications, busy
 * time…) are added to. Snapshot values — packets held, ring occupancy, backlog — are the successor's own.
 * What happened between that sample and the crash is unknown: the controller's bus accounting counts
 * the packets of that interval as `lost-in-crash` (see run-live.ts).
 *
 * The NIC's `emitted` is the exception: the traffic on its wire is deterministic from the seed, so a
 * restarted NIC replays the wire up to its restart time and counts every frame that arrived, exactly
 * (see NicActor.reconnect): its `emitted` is not rebased, except for the frames a fault injected
 * (`injected`) and those the far ends of closed-loop flows sent (`farArrived`), which the wire's schedule
 * does not know: those carry over (the far ends' frames that arrived after the last sample are inferred
 * by the bus accounting: bus-accounting.ts emittedUnsampled).
 */

/** Report fields that are not counters: identity, instant, what an actor holds right now, and the latency histogram (final reports only). */
const SNAPSHOT: ReadonlySet<string> = new Set(['role', 'id', 't', 'vm', 'held', 'backlog', 'ringOccupancy', 'queueRingOccupancy', 'queueBacklogs', 'latency']);

/** Per role, counters the restarted actor recomputes exactly itself (not rebased). */
const RECOMPUTED: Readonly<Record<string, ReadonlySet<string>>> = { nic: new Set(['emitted', 'emittedBytes']) };

const num = (x: unknown): number => (typeof x === 'number' ? x : 0);

function sumRecords(a: Record<string, unknown>, b: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  const other = typeof b === 'object' && b !== null ? (b as Record<string, unknown>) : {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(other)])) out[k] = num(a[k]) + num(other[k]);
  return out;
}

/**
 * A guest's closed-loop end's sending direction, continued across its restart: counts add up; the RTT's minimum and
 * mean are the two incarnations' together, its p99 the larger of the two (an upper bound: a sample carries no
 * histogram); the cwnd trace is the successor's (a sample carries none). A final report of a guest's active end (the
 * bulk sender, the rr client: the summary reads its RTT and cwnd) then gets its p99 and cwnd from its predecessors'
 * shipped histograms and traces (mergeShipped); a restarted NIC's far ends, active ones included, ship none: their
 * RTT, cwnd and transactions are then bounds.
 */
function continueFlowSummary(b: FlowSummary, m: FlowSummary): FlowSummary {
  const samples = b.rttSamples + m.rttSamples;
  const min = b.rttSamples === 0 ? m.rttMinNs : m.rttSamples === 0 ? b.rttMinNs : Math.min(b.rttMinNs, m.rttMinNs);
  return {
    ...m,
    deliveredBytes: b.deliveredBytes + m.deliveredBytes,
    rttMinNs: min,
    rttMeanNs: samples === 0 ? m.rttMeanNs : (b.rttMeanNs * b.rttSamples + m.rttMeanNs * m.rttSamples) / samples,
    rttP99Ns: Math.max(b.rttP99Ns, m.rttP99Ns),
    rttSamples: samples,
    segmentsSent: b.segmentsSent + m.segmentsSent,
    retransmissions: b.retransmissions + m.retransmissions,
    fastRetransmits: b.fastRetransmits + m.fastRetransmits,
    timeouts: b.timeouts + m.timeouts,
  };
}

/**
 * An rr client's transactions, continued across its guest's restart: they add up, from the first incarnation's start
 * to `t`; the latency's minimum and mean are both incarnations' together, its p50 and p99 the larger of the two (an
 * upper bound, until a final report's mergeShipped), its CDF the successor's (a sample carries none).
 */
function continueRr(
  b: NonNullable<ClosedLoopEndReport['rr']>,
  m: NonNullable<ClosedLoopEndReport['rr']>,
  since: Nanos,
  t: Nanos,
): NonNullable<ClosedLoopEndReport['rr']> {
  const n = b.transactions + m.transactions;
  const min = b.transactions === 0 ? m.latencyMinNs : m.transactions === 0 ? b.latencyMinNs : Math.min(b.latencyMinNs, m.latencyMinNs);
  return {
    ...m,
    transactions: n,
    transactionsPerSec: t > since ? (n * 1e9) / (t - since) : 0,
    latencyMinNs: min,
    latencyMeanNs: n === 0 ? m.latencyMeanNs : (b.latencyMeanNs * b.transactions + m.latencyMeanNs * m.transactions) / n,
    latencyP50Ns: Math.max(b.latencyP50Ns, m.latencyP50Ns),
    latencyP99Ns: Math.max(b.latencyP99Ns, m.latencyP99Ns),
  };
}

/**
 * A restarted guest's closed-loop ends (ClosedLoopEndReport), or a restarted NIC's far ends (whose connections opened
 * again: NicActor.rejoined), continued from the dead incarnation's last sample, as sim's FrontendActor.inherit →
 * ClosedLoopEnds.adopt carries a guest's over: bytes delivered, pure ACKs, resets, reconnects and RSTs sent add up,
 * the connection's start is the first incarnation's, the sending direction and an rr client's transactions as above.
 * `t`: the report's time.
 */
function continueEnds(base: unknown, mine: readonly ClosedLoopEndReport[] | undefined, t: Nanos): readonly ClosedLoopEndReport[] | undefined {
  if (!Array.isArray(base) || mine === undefined) return mine;
  const before = base as readonly ClosedLoopEndReport[];
  return mine.map((m) => {
    const b = before.find((e) => e.flow === m.flow && e.side === m.side && e.active === m.active);
    if (b === undefined) return m;
    const sum = (k: 'resets' | 'reconnects' | 'rstSent'): Partial<ClosedLoopEndReport> => {
      const n = (b[k] ?? 0) + (m[k] ?? 0);
      return n > 0 ? { [k]: n } : {};
    };
    return {
      ...m,
      sent: continueFlowSummary(b.sent, m.sent),
      delivered: b.delivered + m.delivered,
      pureAcks: b.pureAcks + m.pureAcks,
      startedAt: b.startedAt,
      ...(b.rr !== undefined && m.rr !== undefined ? { rr: continueRr(b.rr, m.rr, b.startedAt, t) } : {}),
      ...sum('resets'),
      ...sum('reconnects'),
      ...sum('rstSent'),
    };
  });
}

/** `e`'s end (same flow, side and role) among `ends`, when it shipped histograms. */
function shippedEnd(ends: readonly ClosedLoopEndReport[] | undefined, e: ClosedLoopEndReport): ClosedLoopEndReport | undefined {
  return ends?.find((b) => b.flow === e.flow && b.side === e.side && b.active === e.active && b.histograms !== undefined);
}

/**
 * A final report's guest active ends (continued), with what their guest's earlier incarnations shipped last (`shipped`,
 * oldest first: the ends of each one's latest full report): the RTT and transaction latency histograms merged, so the
 * RTT's p99, the transactions' p50, p99 and CDF are every incarnation's samples up to its last shipment — as sim's
 * adopted FlowStats and RrClient hold all of them — and the cwnd trace the incarnations' traces one after another.
 * With no shipment before (an incarnation that died within its first second of wall time), they are the successor's
 * own, consistent with its CDF, not the sample's upper bound.
 */
function mergeShipped(ends: readonly ClosedLoopEndReport[], shipped: readonly (readonly ClosedLoopEndReport[] | undefined)[]): ClosedLoopEndReport[] {
  return ends.map((e) => {
    const h = e.histograms;
    const before = shipped.map((s) => shippedEnd(s, e)).filter((b): b is ClosedLoopEndReport => b !== undefined);
    if (h === undefined) return e;
    const rtt = LatencyHistogram.fromJSON(h.rtt);
    const tx = h.transactions === undefined ? undefined : LatencyHistogram.fromJSON(h.transactions);
    for (const b of before) {
      rtt.merge(LatencyHistogram.fromJSON((b.histograms as NonNullable<ClosedLoopEndReport['histograms']>).rtt));
      const bt = b.histograms?.transactions;
      if (tx !== undefined && bt !== undefined) tx.merge(LatencyHistogram.fromJSON(bt));
    }
    const sent = { ...e.sent, rttP99Ns: rtt.percentile(99), cwnd: [...before.flatMap((b) => b.sent.cwnd), ...e.sent.cwnd] };
    const rr =
      e.rr === undefined || tx === undefined
        ? {}
        : { rr: { ...e.rr, latencyP50Ns: tx.percentile(50), latencyP99Ns: tx.percentile(99), latencyCdf: transactionLatencyCdf(tx) } };
    return { ...e, sent, ...rr, histograms: { rtt: rtt.toJSON(), ...(tx === undefined ? {} : { transactions: tx.toJSON() }) } };
  });
}

/**
 * The transmit side of a report (TxReport), continued: what it holds now (`held`) is the new incarnation's, its
 * drops by reason and every other counter base + r — but a guest's `sent`, which a restarted guest recomputes
 * exactly itself as a NIC its `emitted` (it replays its application's sends up to its restart: NetfrontTx.reconnect).
 */
function continueTx(base: Record<string, unknown>, r: unknown, guest: boolean): Record<string, unknown> {
  const mine = typeof r === 'object' && r !== null ? (r as Record<string, unknown>) : {};
  const out: Record<string, unknown> = { ...mine };
  for (const [k, v] of Object.entries(base)) {
    if (k === 'held' || (guest && (k === 'sent' || k === 'sentBytes'))) continue;
    if (typeof v === 'number') out[k] = v + num(mine[k]);
    else if (typeof v === 'object' && v !== null) out[k] = sumRecords(v as Record<string, unknown>, mine[k]);
  }
  // Its closed-loop ends' frames are not replayed (the successor's ends start with no connection): those the dead
  // guest had sent by its last sample count on top of what the successor recomputed.
  if (guest && num(base['closedLoopSent']) > 0) {
    out['sent'] = num(mine['sent']) + num(base['closedLoopSent']);
    out['sentBytes'] = num(mine['sentBytes']) + num(base['closedLoopSentBytes']);
  }
  return out;
}

/**
 * `r`, a report of a restarted incarnation, continued from `base` (its predecessor's last sampled
 * report, itself continued): every counter is base + r; snapshots are r's.
 */
export function continueReport(base: ActorReport | undefined, r: ActorReport): ActorReport {
  if (base === undefined) return r;
  if (base.role !== r.role || base.id !== r.id) {
    throw new SplitnetError('E_INTERNAL', `continueReport: a ${base.role} report of ${base.id} cannot be the base of a ${r.role} report of ${r.id}`);
  }
  const out: Record<string, unknown> = { ...r };
  const mine = r as unknown as Record<string, unknown>;
  const skip = RECOMPUTED[r.role];
  for (const [k, v] of Object.entries(base)) {
    if (SNAPSHOT.has(k) || skip?.has(k)) continue;
    const cur = mine[k];
    if (k === 'tx') out[k] = continueTx(v as Record<string, unknown>, cur, r.role === 'frontend');
    else if (k === 'closedLoop') out[k] = r.role === 'frontend' || r.role === 'nic' ? continueEnds(v, r.closedLoop, r.t) : cur;
    else if (typeof v === 'number') out[k] = v + num(cur);
    else if (Array.isArray(v)) {
      // Per-queue counters (virtual interrupts): element by element.
      const c = Array.isArray(cur) ? (cur as unknown[]) : [];
      out[k] = Array.from({ length: Math.max(v.length, c.length) }, (_, i) => num(v[i]) + num(c[i]));
    } else if (typeof v === 'object' && v !== null) out[k] = sumRecords(v as Record<string, unknown>, cur); // busy ns per core
  }
  if (r.role === 'nic' && base.role === 'nic') {
    out['emitted'] = r.emitted + (base.injected ?? 0) + (base.farArrived ?? 0);
    out['emittedBytes'] = r.emittedBytes + (base.injectedBytes ?? 0) + (base.farArrivedBytes ?? 0);
  }
  return out as unknown as ActorReport;
}

/** The reports of one process (one per actor it hosts), continued from `base` (matched by actor id). */
export function continueReports(base: readonly ActorReport[] | undefined, reports: readonly ActorReport[]): readonly ActorReport[] {
  if (base === undefined) return reports;
  return reports.map((r) =>
    continueReport(
      base.find((b) => b.id === r.id),
      r,
    ),
  );
}

/**
 * The latest sample of each incarnation of one actor process, and the latest latency histograms each
 * shipped (front ends send them with every few samples: see LiveHostOptions.fullReportEvery). A dead
 * incarnation's latency samples up to its last shipment count with its successor's final histogram.
 */
export class Incarnations {
  private readonly last = new Map<number, { t: Nanos; reports: readonly ActorReport[] }>();
  private readonly bases = new Map<number, readonly ActorReport[] | undefined>();
  /**
   * Per incarnation: when it last shipped latency histograms, those histograms by actor id, and the closed-loop ends of
   * the same (full) reports by actor id (a guest's active ends' RTT and transaction histograms, its cwnd traces).
   */
  private readonly latency = new Map<
    number,
    { t: Nanos; byId: ReadonlyMap<string, HistogramJson>; ends: ReadonlyMap<string, readonly ClosedLoopEndReport[]> }
  >();

  /** A periodic sample of incarnation `n` arrived. */
  sampled(n: number, t: Nanos, reports: readonly ActorReport[]): void {
    const cur = this.last.get(n);
    if (!cur || t > cur.t) this.last.set(n, { t, reports });
    this.bases.clear(); // a late sample of an earlier incarnation moves the bases after it
    const byId = new Map<string, HistogramJson>();
    const ends = new Map<string, readonly ClosedLoopEndReport[]>();
    for (const r of reports) {
      if (r.role !== 'frontend' || !r.latency) continue;
      byId.set(r.id, r.latency);
      if (r.closedLoop?.some((e) => e.histograms !== undefined)) ends.set(r.id, r.closedLoop);
    }
    const lat = this.latency.get(n);
    if (byId.size > 0 && (!lat || t > lat.t)) this.latency.set(n, { t, byId, ends });
  }

  /** When incarnation `n` last shipped its latency histograms (undefined: never). */
  lastLatencyAt(n: number): Nanos | undefined {
    return this.latency.get(n)?.t;
  }

  /** The latency histograms incarnations before `n` shipped last, merged, by actor id. */
  private latencyBefore(n: number): Map<string, LatencyHistogram> {
    const out = new Map<string, LatencyHistogram>();
    for (let k = 0; k < n; k++) {
      for (const [id, j] of this.latency.get(k)?.byId ?? []) {
        let h = out.get(id);
        if (!h) out.set(id, (h = new LatencyHistogram()));
        h.merge(LatencyHistogram.fromJSON(j));
      }
    }
    return out;
  }

  /** When incarnation `n`'s counters were last sampled (undefined: never). */
  lastSampleAt(n: number): Nanos | undefined {
    return this.last.get(n)?.t;
  }

  /**
   * The base of incarnation `n`: its predecessors' counters up to their last samples (undefined for
   * the first incarnation, and while no predecessor was ever sampled).
   */
  base(n: number): readonly ActorReport[] | undefined {
    if (n <= 0) return undefined;
    if (this.bases.has(n)) return this.bases.get(n);
    const before = this.base(n - 1);
    const prev = this.last.get(n - 1);
    const b = prev ? continueReports(before, prev.reports) : before;
    this.bases.set(n, b);
    return b;
  }

  /**
   * Incarnation `n`'s reports, continued from its base; a report with a latency histogram (a final one)
   * gets its predecessors' last shipped histograms added.
   */
  continued(n: number, reports: readonly ActorReport[]): readonly ActorReport[] {
    const out = continueReports(this.base(n), reports);
    if (n <= 0 || !out.some((r) => r.role === 'frontend' && r.latency)) return out;
    const before = this.latencyBefore(n);
    return out.map((r) => {
      if (r.role !== 'frontend' || !r.latency) return r;
      const shipped = Array.from({ length: n }, (_, k) => this.latency.get(k)?.ends.get(r.id));
      const closedLoop = r.closedLoop === undefined ? {} : { closedLoop: mergeShipped(r.closedLoop, shipped) };
      const h = before.get(r.id);
      h?.merge(LatencyHistogram.fromJSON(r.latency));
      return { ...r, ...(h === undefined ? {} : { latency: h.toJSON() }), ...closedLoop };
    });
  }
}
