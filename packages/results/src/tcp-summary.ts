// The closed-loop flows' figures (TCP bulk, TCP_RR): gathered from both ends' reports, summarized per flow over the window.
import type { ActorReport, ClosedLoopEndReport, Nanos } from '@splitnet/model';

/** Both ends of every closed-loop flow at an instant (the far ends from the NIC, the guest ends from the front ends). */
export function combineClosedLoop(reports: readonly ActorReport[]): readonly ClosedLoopEndReport[] | null {
  const out: ClosedLoopEndReport[] = [];
  for (const r of reports) if ((r.role === 'nic' || r.role === 'frontend') && r.closedLoop !== undefined) out.push(...r.closedLoop);
  return out.length === 0 ? null : out;
}

/** One TCP flow over the measured window (RTT, retransmissions and cwnd over the whole run). */
export interface TcpFlowSummary {
  readonly flow: number;
  readonly workload: 'bulk' | 'rr';
  /** Payload delivered in order to the receiving applications over the window (both directions for rr). */
  readonly goodputGbps: number;
  /** Which end is active (the bulk sender, the rr client): the host behind the wire or the guest (between two guests: the sending one). */
  readonly active: 'far' | 'guest';
  /** RTT samples of the active end's sender (the data direction of a bulk flow, the requests of rr), µs. */
  readonly rttUs: { readonly samples: number; readonly min: number; readonly mean: number; readonly p99: number };
  /** Segments both ends sent again, and how loss was detected (three duplicate ACKs, or the RTO). */
  readonly retransmissions: number;
  readonly fastRetransmits: number;
  readonly timeouts: number;
  readonly segmentsSent: number;
  /** The active end's congestion window at the end, in segments (its trace over time is in cwnd.csv). */
  readonly finalCwnd: number;
  /**
   * Present after a restart of a guest hosting an end (docs/model.md §12 "Restarts"): over the whole run, the
   * connection resets (an end aborted by an RST), the connections opened again after them, and the RSTs a
   * restarted guest sent for segments of a connection it no longer had.
   */
  readonly resets?: number;
  readonly reconnects?: number;
  readonly rstSent?: number;
}

/** One TCP_RR flow: transactions over the window, their latency (whole run) and CPU per transaction. */
export interface RrFlowSummary {
  readonly flow: number;
  readonly transactions: number;
  readonly transactionsPerSec: number;
  readonly latencyUs: { readonly min: number; readonly mean: number; readonly p50: number; readonly p99: number };
  /** [percentile, µs] pairs of the transaction latency distribution. */
  readonly latencyCdfUs: readonly (readonly [number, number])[];
  /** Every modelled core's busy time over the window divided by the window's transactions, µs (all rr flows together). */
  readonly cpuUsPerTransaction: number;
}

export interface TcpSummary {
  readonly flows: readonly TcpFlowSummary[];
  readonly rr: readonly RrFlowSummary[];
}

/**
 * The `tcp` block of the summary from the snapshots at the window's start (`a`) and end (`b`, final reports).
 * `busyNs` is the cores' busy time over the window.
 */
export function summarizeTcp(
  a: readonly ClosedLoopEndReport[] | null,
  b: readonly ClosedLoopEndReport[],
  window: { readonly a: Nanos; readonly b: Nanos },
  busyNs: number,
  sig: (x: number) => number,
): TcpSummary {
  const dt = (window.b - window.a) / 1e9;
  const us = (ns: number): number => sig(ns / 1000);
  const before = new Map<string, ClosedLoopEndReport>();
  // Keyed by role too: between two guests both ends are on side `guest`.
  const key = (e: ClosedLoopEndReport): string => `${e.side}:${e.active ? 'active' : 'passive'}:${e.flow}`;
  for (const e of a ?? []) before.set(key(e), e);
  const flows = [...new Set(b.map((e) => e.flow))].sort((x, y) => x - y);
  const end = (flow: number, active: boolean): ClosedLoopEndReport | undefined => b.find((e) => e.flow === flow && e.active === active);
  const delta = (e: ClosedLoopEndReport | undefined, pick: (r: ClosedLoopEndReport) => number): number =>
    e === undefined ? 0 : pick(e) - (before.has(key(e)) ? pick(before.get(key(e)) as ClosedLoopEndReport) : 0);
  const out: TcpFlowSummary[] = [];
  const rr: Omit<RrFlowSummary, 'cpuUsPerTransaction'>[] = [];
  for (const flow of flows) {
    const far = end(flow, true); // the active end (named far: usually the host behind the wire)
    const guest = end(flow, false);
    if (far === undefined) continue;
    const delivered = delta(far, (r) => r.delivered) + delta(guest, (r) => r.delivered);
    const both = (pick: (r: ClosedLoopEndReport) => number): number => pick(far) + (guest === undefined ? 0 : pick(guest));
    out.push({
      flow,
      workload: far.workload,
      active: far.side,
      goodputGbps: dt > 0 ? sig((delivered * 8) / dt / 1e9) : 0,
      rttUs: { samples: far.sent.rttSamples, min: us(far.sent.rttMinNs), mean: us(far.sent.rttMeanNs), p99: us(far.sent.rttP99Ns) },
      retransmissions: both((r) => r.sent.retransmissions),
      fastRetransmits: both((r) => r.sent.fastRetransmits),
      timeouts: both((r) => r.sent.timeouts),
      segmentsSent: both((r) => r.sent.segmentsSent),
      finalCwnd: far.sent.cwnd.at(-1)?.cwnd ?? 0,
      ...restarts(both),
    });
    const s = far.rr;
    if (s !== undefined) {
      const transactions = delta(far, (r) => r.rr?.transactions ?? 0);
      rr.push({
        flow,
        transactions,
        transactionsPerSec: dt > 0 ? sig(transactions / dt) : 0,
        latencyUs: { min: us(s.latencyMinNs), mean: us(s.latencyMeanNs), p50: us(s.latencyP50Ns), p99: us(s.latencyP99Ns) },
        latencyCdfUs: s.latencyCdf.map(([p, ns]) => [p, us(ns)] as const),
      });
    }
  }
  const total = rr.reduce((n, r) => n + r.transactions, 0);
  const cpuUsPerTransaction = total > 0 ? sig(busyNs / total / 1000) : 0;
  return { flows: out, rr: rr.map((r) => ({ ...r, cpuUsPerTransaction })) };
}

/** A flow's resets, reconnects and RSTs sent (both ends), when any. */
function restarts(both: (pick: (r: ClosedLoopEndReport) => number) => number): Pick<TcpFlowSummary, 'resets' | 'reconnects' | 'rstSent'> {
  const resets = both((r) => r.resets ?? 0);
  const reconnects = both((r) => r.reconnects ?? 0);
  const rstSent = both((r) => r.rstSent ?? 0);
  return resets + reconnects + rstSent === 0 ? {} : { resets, reconnects, rstSent };
}

/** The columns of cwnd.csv. */
export const CWND_COLUMNS = ['flow', 'ms', 'cwnd'] as const;

/**
 * cwnd.csv: each closed-loop flow's active end's congestion window over time (segments), from the final reports: a
 * bounded trace of evenly spaced samples (model/flow-stats.ts CwndTrace) covering the whole run.
 */
export function cwndCsv(ends: readonly ClosedLoopEndReport[], sig: (x: number) => number): string {
  const lines = [CWND_COLUMNS.join(',')];
  const active = ends.filter((e) => e.active).sort((x, y) => x.flow - y.flow);
  for (const e of active) for (const c of e.sent.cwnd) lines.push(`${e.flow},${sig(c.t / 1e6)},${c.cwnd}`);
  return lines.join('\n') + '\n';
}
