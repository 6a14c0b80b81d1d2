// Cumulative counters read from every actor at an instant, and the rates between two such snapshots.
import type { Nanos } from '@splitnet/model';
import type { ActorGraph } from './build.js';

export interface Snapshot {
  readonly t: Nanos;
  readonly emitted: number;
  readonly emittedBytes: number;
  readonly delivered: number;
  readonly deliveredBytes: number;
  /** Virtual interrupts per VM, per queue. */
  readonly virqs: readonly (readonly number[])[];
  readonly timerPolls: number;
  readonly physicalIrqs: number;
  readonly notifies: number;
  readonly suppressed: number;
  readonly held: number;
  readonly reqNotifies: number;
  readonly drops: Readonly<Record<DropReason, number>>;
  /** Busy ns per core name, up to t. */
  readonly busy: ReadonlyMap<string, number>;
  readonly ringOccupancy: number;
  readonly backlog: number;
}

export type DropReason = 'nic-ring-full' | 'ring-full' | 'backlog-full';
export const DROP_REASONS: readonly DropReason[] = ['nic-ring-full', 'ring-full', 'backlog-full'];

export function snapshot(g: ActorGraph, t: Nanos): Snapshot {
  g.nic.settle(t);
  let delivered = 0;
  let deliveredBytes = 0;
  let timerPolls = 0;
  let ringOccupancy = 0;
  const virqs: number[][] = [];
  const busy = new Map<string, number>();
  for (const fe of g.frontends) {
    delivered += fe.delivered;
    deliveredBytes += fe.deliveredBytes;
    const row: number[] = [];
    for (const q of fe.queueStats()) {
      row.push(q.virqs);
      timerPolls += q.timerPolls;
    }
    virqs.push(row);
    for (const o of fe.ringOccupancy()) ringOccupancy += o;
    for (const c of fe.cores()) busy.set(c.name, c.busyThrough(t));
  }
  let physicalIrqs = 0;
  for (const q of g.nic.queueStats()) physicalIrqs += q.irqs;
  for (const c of g.backend.cores) busy.set(c.name, c.busyThrough(t));
  let notifies = 0;
  let suppressed = 0;
  let held = 0;
  let reqNotifies = 0;
  let ringFull = 0;
  let backlogFull = 0;
  let backlog = 0;
  for (const w of g.workers) {
    busy.set(w.core.name, w.core.busyThrough(t));
    backlog += w.backlogPackets();
    for (const q of w.queueStats()) {
      notifies += q.notifies;
      suppressed += q.suppressed;
      held += q.held;
      reqNotifies += q.reqNotifies;
      ringFull += q.dropsRingFull;
      backlogFull += q.dropsBacklog;
    }
  }
  return {
    t,
    emitted: g.nic.emitted,
    emittedBytes: g.nic.emittedBytes,
    delivered,
    deliveredBytes,
    virqs,
    timerPolls,
    physicalIrqs,
    notifies,
    suppressed,
    held,
    reqNotifies,
    drops: { 'nic-ring-full': g.nic.drops(), 'ring-full': ringFull, 'backlog-full': backlogFull },
    busy,
    ringOccupancy,
    backlog,
  };
}

/** Round to 6 significant digits: stable, readable figures in results files. */
export function sig(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  return Number(x.toPrecision(6));
}

/** One row of the metrics time series: rates over (a.t, b.t]. */
export function sampleRow(a: Snapshot, b: Snapshot): Record<string, unknown> {
  const dt = (b.t - a.t) / 1e9;
  const sum = (rows: readonly (readonly number[])[]) => rows.reduce((s, r) => s + r.reduce((x, y) => x + y, 0), 0);
  const cpu: Record<string, number> = {};
  for (const [name, v] of b.busy) cpu[name] = sig((v - (a.busy.get(name) ?? 0)) / (b.t - a.t));
  let drops = 0;
  for (const v of Object.values(b.drops)) drops += v;
  return {
    tMs: sig(b.t / 1e6),
    gbps: sig(((b.deliveredBytes - a.deliveredBytes) * 8) / dt / 1e9),
    pps: sig((b.delivered - a.delivered) / dt),
    offeredGbps: sig(((b.emittedBytes - a.emittedBytes) * 8) / dt / 1e9),
    virqPerSec: sig((sum(b.virqs) - sum(a.virqs)) / dt),
    timerPollsPerSec: sig((b.timerPolls - a.timerPolls) / dt),
    physicalIrqPerSec: sig((b.physicalIrqs - a.physicalIrqs) / dt),
    notifyPerSec: sig((b.notifies - a.notifies) / dt),
    dropsTotal: drops,
    ringOccupancy: b.ringOccupancy,
    backlog: b.backlog,
    cpu,
  };
}
