// The `faults` section of a summary: the fault timeline, losses by reason, stalls and how they ended, recovery times.
import type { Nanos } from '@splitnet/model';
import { formatDuration } from '@splitnet/scenario';
import type { FaultOccurrence } from '@splitnet/scenario';
import { DROP_REASONS, sig } from './metrics.js';
import type { DropReason, Snapshot } from './metrics.js';
import type { RunEvent } from './summary.js';

/** The detail of a fault-start / fault-end event: id, action, target and the parameters as the scenario writes them. */
export function faultDetail(occ: FaultOccurrence): Record<string, unknown> {
  const d: Record<string, unknown> = { id: occ.id, action: occ.spec.action, target: occ.spec.targetText };
  for (const [k, v] of Object.entries(occ.spec.params)) d[k] = k === 'delay' || k === 'restartAfter' ? formatDuration(v as number) : v;
  return d;
}

export interface FaultStall {
  /** `vm<v>:q<q>`. */
  readonly queue: string;
  /** lost-notification, stopped-polling, ring-full (netback saw no posted buffer), ring-corrupt, worker-killed. */
  readonly cause: string;
  readonly startMs: number;
  /** Who noticed: netback-rx-stall-timer, netback-ring-check, or null when only the injector knows (and the datapath never noticed). */
  readonly detectedBy: string | null;
  readonly detectedMs: number | null;
  readonly endMs: number | null;
  /** What ended it: netback-stall-kick, final-check, timer-poll, virq, resume, reconnect, supervisor-restart, guest-refill; `not ended`. */
  readonly endedBy: string;
  readonly durationMs: number | null;
}

export interface FaultRecovery {
  readonly id: string;
  /**
   * A multi-host run: the host of the fault (its target `h<i>.<selector>`, or a kill of `h<i>`), whose own delivered
   * throughput the three figures below are measured on (absent: they are on the whole run's).
   */
  readonly host?: string;
  /** Mean delivered throughput over the sample intervals before the fault (after the warm-up when there are some). */
  readonly preFaultGbps: number | null;
  /** Lowest sample from the fault's start until recovery (or the end). */
  readonly minGbps: number | null;
  /** Time from the fault's end until the end of the first sample interval back within 10% of the pre-fault level; 0 when it never dipped below. */
  readonly recoveryMs: number | 'not recovered' | 'no pre-fault level' | 'lasts to the end';
}

export interface FaultsSummary {
  readonly timeline: readonly Record<string, unknown>[];
  readonly dropped: Readonly<Record<DropReason, number>> & { readonly total: number };
  readonly notifications: { readonly lost: number; readonly absorbedByFinalCheck: number; readonly delayed: number; readonly stallKicks: number };
  /** Message-path faults: messages hit and packets in dropped ones, per occurrence. */
  readonly messages: Readonly<Record<string, { readonly messages: number; readonly packets: number }>>;
  readonly stalls: readonly FaultStall[];
  readonly ringErrors: readonly Record<string, unknown>[];
  readonly restarts: number;
  /** Sample resolution of the recovery times. */
  readonly recoveryResolutionMs: number;
  readonly recovery: readonly FaultRecovery[];
}

const ms = (ns: number) => sig(ns / 1e6);
const qname = (d: Record<string, unknown>) => `vm${String(d['vm'])}:q${String(d['queue'])}`;

/** A stall being followed through the event log. */
interface OpenStall {
  queue: string;
  cause: string;
  start: Nanos;
  detectedBy: string | null;
  detectedAt: Nanos | null;
  end: Nanos | null;
  endedBy: string;
}

/** Follows stalls through the events, in time order: each event kind that starts, detects or ends one has its method. */
class StallTracker {
  readonly records: OpenStall[] = [];
  /** Open stalls by key: a queue (`vm0:q1`), a VIF of a queue (`…:vif`), a worker process (`worker.1:proc`). */
  private readonly open = new Map<string, OpenStall>();
  /** When netback's stall timer kicked each queue. */
  private readonly kicks = new Map<string, Nanos[]>();

  private openOne(key: string, r: OpenStall): void {
    this.records.push(r);
    this.open.set(key, r);
  }

  private closeOne(key: string, t: Nanos, endedBy: string): void {
    const r = this.open.get(key);
    if (!r) return;
    r.end = t;
    r.endedBy = endedBy;
    this.open.delete(key);
  }

  /** What the injector knows: a front end's queue stalled (lost notification, stopped polling) … */
  stallStart(e: RunEvent): void {
    const q = qname(e.detail);
    this.openOne(q, { queue: q, cause: String(e.detail['cause']), start: e.t, detectedBy: null, detectedAt: null, end: null, endedBy: 'not ended' });
  }

  /** … and ended; a virtual interrupt that came after netback's stall kick was the kick's doing. */
  stallEnd(e: RunEvent): void {
    const r = this.open.get(qname(e.detail));
    if (!r) return;
    const kicked = (this.kicks.get(r.queue) ?? []).some((t) => t >= r.start && t <= e.t);
    this.closeOne(r.queue, e.t, String(e.detail['endedBy']) === 'virq' && kicked ? 'netback-stall-kick' : String(e.detail['endedBy']));
  }

  /** netback's rx stall timer noticed a queue; a full ring the front end did not know about (its writes were lost) is a stall of its own. */
  netbackDetected(e: RunEvent): void {
    const q = qname(e.detail);
    let r = this.open.get(q);
    if (!r) {
      r = { queue: q, cause: 'ring-full', start: Number(e.detail['since']), detectedBy: null, detectedAt: null, end: null, endedBy: 'not ended' };
      this.openOne(q, r);
    }
    if (r.detectedBy === null) {
      r.detectedBy = 'netback-rx-stall-timer';
      r.detectedAt = e.t;
    }
  }

  netbackKick(e: RunEvent): void {
    const q = qname(e.detail);
    const list = this.kicks.get(q) ?? [];
    list.push(e.t);
    this.kicks.set(q, list);
  }

  netbackStallEnd(e: RunEvent): void {
    const q = qname(e.detail);
    if (this.open.get(q)?.cause === 'ring-full') this.closeOne(q, e.t, String(e.detail['endedBy']));
  }

  /** A corrupted ring index: netback's ring check disables the VIF until the guest reconnects it. */
  ringCorrupt(e: RunEvent): void {
    const q = qname(e.detail);
    this.openOne(`${q}:vif`, { queue: q, cause: 'ring-corrupt', start: e.t, detectedBy: 'netback-ring-check', detectedAt: e.t, end: null, endedBy: 'not ended' });
  }

  vifReconnected(e: RunEvent): void {
    this.closeOne(`${qname(e.detail)}:vif`, e.t, 'reconnect');
  }

  /** A killed worker stalls every queue it serves until the supervisor restarts it. */
  actorDied(e: RunEvent): void {
    if (!e.actor.startsWith('worker.')) return;
    this.openOne(`${e.actor}:proc`, { queue: e.actor, cause: 'worker-killed', start: e.t, detectedBy: 'supervisor', detectedAt: e.t, end: null, endedBy: 'not ended' });
  }

  actorRestart(e: RunEvent): void {
    this.closeOne(`${e.actor}:proc`, e.t, 'supervisor-restart');
  }
}

const STALL_EVENTS: Readonly<Record<string, (k: StallTracker, e: RunEvent) => void>> = {
  'queue-stall-start': (k, e) => k.stallStart(e),
  'queue-stall-end': (k, e) => k.stallEnd(e),
  'netback-stall-detected': (k, e) => k.netbackDetected(e),
  'netback-stall-kick': (k, e) => k.netbackKick(e),
  'netback-stall-end': (k, e) => k.netbackStallEnd(e),
  'ring-corrupt': (k, e) => k.ringCorrupt(e),
  'vif-reconnected': (k, e) => k.vifReconnected(e),
  'actor-died': (k, e) => k.actorDied(e),
  'actor-restart': (k, e) => k.actorRestart(e),
};

/** Stalls from the actors' events: what the injector knows (front end) merged with what netback detected. */
export function collectStalls(events: readonly RunEvent[]): FaultStall[] {
  const tracker = new StallTracker();
  for (const e of events) STALL_EVENTS[e.kind]?.(tracker, e);
  return tracker.records.map((r) => ({
    queue: r.queue,
    cause: r.cause,
    startMs: ms(r.start),
    detectedBy: r.detectedBy,
    detectedMs: r.detectedAt === null ? null : ms(r.detectedAt),
    endMs: r.end === null ? null : ms(r.end),
    endedBy: r.endedBy,
    durationMs: r.end === null ? null : ms(r.end - r.start),
  }));
}

/** A row of a delivered-throughput series: its interval's end (ms) and what was delivered over it (Gbit/s), as metrics.jsonl's tMs and gbps. */
export type ThroughputRow = {
  readonly tMs: number;
  readonly gbps: number;
};

/**
 * Per host of a multi-host run, its delivered throughput over (a.t, b.t] as a metrics row's `tMs` and `gbps` (the
 * whole run's formula on the host's own snapshot); none on one host.
 */
export function hostThroughputRows(a: Snapshot, b: Snapshot): ThroughputRow[] | undefined {
  if (b.hosts === undefined) return undefined;
  const dt = (b.t - a.t) / 1e9;
  const tMs = sig(b.t / 1e6);
  return b.hosts.map((h, i) => {
    const bytes = h.deliveredBytes - (a.hosts?.[i]?.deliveredBytes ?? h.deliveredBytes);
    return { tMs, gbps: sig((bytes * 8) / dt / 1e9) };
  });
}

/** The host a fault occurrence of a multi-host run is on: its target `h<i>` (a host kill) or `h<i>.<selector>` (one of its actors); null otherwise. */
export function occurrenceHost(occ: FaultOccurrence): number | null {
  const m = /^h(\d+)(?:\.|$)/.exec(occ.spec.targetText);
  return m === null ? null : Number(m[1]);
}

/** One occurrence's recovery on a delivered-throughput series (rows of the interval before each `t`). */
function recoveryOn(occ: FaultOccurrence, rows: readonly { t: number; gbps: number }[], interval: Nanos, warmup: Nanos, runEnd: Nanos): Omit<FaultRecovery, 'id' | 'host'> {
  if (occ.end > runEnd) return { preFaultGbps: null, minGbps: null, recoveryMs: 'lasts to the end' as const };
  let pre = rows.filter((r) => r.t <= occ.start && r.t - interval >= warmup);
  if (pre.length === 0) pre = rows.filter((r) => r.t <= occ.start);
  if (pre.length === 0) return { preFaultGbps: null, minGbps: null, recoveryMs: 'no pre-fault level' as const };
  const level = pre.reduce((a, r) => a + r.gbps, 0) / pre.length;
  const floor = level * 0.9;
  // Intervals that overlap the fault, then the first full interval after its end that is back.
  const during = rows.filter((r) => r.t > occ.start && r.t - interval < occ.end);
  let min = during.reduce((a, r) => (r.gbps < a ? r.gbps : a), Infinity);
  const after = rows.filter((r) => r.t - interval >= occ.end);
  const back = after.find((r) => r.gbps >= floor);
  for (const r of after) {
    if (back !== undefined && r.t > back.t) break;
    if (r.gbps < min) min = r.gbps;
  }
  const dipped = min < floor;
  const recoveryMs = !dipped ? 0 : back === undefined ? ('not recovered' as const) : ms(back.t - occ.end);
  return { preFaultGbps: sig(level), minGbps: min === Infinity ? null : sig(min), recoveryMs };
}

/**
 * Recovery of each fault occurrence from the metrics series (rows with tMs and gbps, each over the interval before
 * tMs). `hostSamples`, in a multi-host run: per host, its own delivered-throughput rows (hostThroughputRows); an
 * occurrence on one host (occurrenceHost) is measured on its host's rows, any other on the whole run's.
 */
export function recoveryTimes(
  occurrences: readonly FaultOccurrence[],
  samples: readonly Record<string, unknown>[],
  interval: Nanos,
  warmup: Nanos,
  runEnd: Nanos,
  hostSamples?: readonly (readonly ThroughputRow[])[],
): FaultRecovery[] {
  const rowsOf = (xs: readonly Record<string, unknown>[]) => xs.map((r) => ({ t: Number(r['tMs']) * 1e6, gbps: Number(r['gbps']) }));
  const whole = rowsOf(samples);
  const perHost = hostSamples?.map(rowsOf);
  return occurrences.map((occ) => {
    const h = perHost === undefined ? null : occurrenceHost(occ);
    const own = h === null ? undefined : perHost?.[h];
    if (own === undefined) return { id: occ.id, ...recoveryOn(occ, whole, interval, warmup, runEnd) };
    return { id: occ.id, host: `h${String(h)}`, ...recoveryOn(occ, own, interval, warmup, runEnd) };
  });
}

export function faultsSummary(args: {
  occurrences: readonly FaultOccurrence[];
  events: readonly RunEvent[];
  samples: readonly Record<string, unknown>[];
  end: Snapshot;
  messages: ReadonlyMap<string, { messages: number; packets: number }> | undefined;
  interval: Nanos;
  warmup: Nanos;
  runEnd: Nanos;
  /** A multi-host run: per host, its delivered-throughput rows (hostThroughputRows), which its faults' recovery is measured on. */
  hostSamples?: readonly (readonly ThroughputRow[])[];
}): FaultsSummary {
  const { occurrences, events, end } = args;
  const timeline = occurrences.map((o) => ({
    ...faultDetail(o),
    startMs: ms(o.start),
    endMs: o.instantaneous ? ms(o.start) : o.end > args.runEnd ? null : ms(o.end),
  }));
  let total = 0;
  const dropped = {} as Record<DropReason, number>;
  for (const r of DROP_REASONS) {
    dropped[r] = end.drops[r];
    total += end.drops[r];
  }
  const messages: Record<string, { messages: number; packets: number }> = {};
  for (const [id, c] of args.messages ?? []) messages[id] = { messages: c.messages, packets: c.packets };
  const fc = end.faultCounters;
  return {
    timeline,
    dropped: { ...dropped, total },
    notifications: { lost: fc.notificationsLost, absorbedByFinalCheck: fc.lostAbsorbed, delayed: fc.notificationsDelayed, stallKicks: fc.stallKicks },
    messages,
    // Live logs arrive from several processes: put them in time order (stable, so sim's order stays).
    stalls: collectStalls([...events].sort((a, b) => a.t - b.t)),
    // netback's RX ring check, and its TX one (xenvif_tx_build_gops: the vif's TX side is disabled for good).
    ringErrors: events.filter((e) => e.kind === 'ring-corrupt' || e.kind === 'vif-tx-fatal-error').map((e) => ({ tMs: ms(e.t), ...(e.kind === 'ring-corrupt' ? {} : { ring: 'tx' }), ...e.detail })),
    restarts: events.filter((e) => e.kind === 'actor-restart').length,
    recoveryResolutionMs: ms(args.interval),
    recovery: recoveryTimes(occurrences, args.samples, args.interval, args.warmup, args.runEnd, args.hostSamples),
  };
}
