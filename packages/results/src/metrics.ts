// Cumulative counters combined from every actor's report at an instant, and the rates between two such snapshots.
import { LatencyHistogram } from '@splitnet/model';
import type { ActorReport, ClosedLoopEndReport, FrontendReport, Nanos } from '@splitnet/model';
import { combineClosedLoop } from './tcp-summary.js';
import { combineTx, type TxSnapshot } from './tx-summary.js';
import { combineFabric, fabricColumns } from './fabric-summary.js';
import type { FabricSnapshot, SwitchPortSample, SwitchSourceSample } from './fabric-summary.js';
import { sig } from './sig.js';

export { sig } from './sig.js';

/**
 * Why packets were dropped. `nic-ring-full`: the NIC's hardware ring was full (the driver core is
 * behind). `netback-queue-full`: xenvif_start_xmit refused a packet because the queue's guest-RX queue
 * held rx_queue_max bytes (counted in the vif's tx_dropped; netback then stops the vif's queue).
 * `qdisc-overlimit`: the vif's qdisc was at its limit while the queue was stopped (pfifo_fast's
 * tx_queue_len, fq_codel's 10240 packets). `qdisc-congested`: fq_codel's CoDel dropped it on dequeue.
 * `lost-in-crash` (live mode only): packets that went into an actor process that died, or were sent
 * to it while it was down, and never came out; and those netback held for a crashed front end's old
 * ring, discarded when it reconnected with a new one. `rejected` (live mode only): packets a receiver refused
 * (a replay, a sequence jump, a spoofed or misrouted frame, a message its sender never sends it) that their
 * real sender did send it — dropped, not in flight; only a tainted run has any.
 */
export type DropReason =
  | 'nic-ring-full' | 'netback-queue-full' | 'qdisc-overlimit' | 'qdisc-congested' | 'lost-in-crash'
  | 'link-down' | 'link-drop' | 'vif-disabled' | 'lost-in-transport' | 'rejected';
/** Reasons every summary shows. */
export const BASE_DROP_REASONS: readonly DropReason[] = ['nic-ring-full', 'netback-queue-full', 'qdisc-overlimit', 'qdisc-congested', 'lost-in-crash'];
/**
 * Reasons only faults cause, shown when the scenario has faults (so fault-free results keep their
 * shape): `link-down` frames that met a NIC link held down by link-flap; `link-drop` packets in
 * messages a message-path fault dropped; `vif-disabled` packets for a queue netback disabled after a
 * fatal ring error; `lost-in-transport` (live, after a NATS server restart) packets sent on the bus and
 * never received after the drain — core NATS delivers at most once. In sim, `lost-in-crash` also
 * counts what a killed actor held or was sent while down.
 */
export const FAULT_DROP_REASONS: readonly DropReason[] = ['link-down', 'link-drop', 'vif-disabled', 'lost-in-transport'];
export const DROP_REASONS: readonly DropReason[] = [...BASE_DROP_REASONS, ...FAULT_DROP_REASONS, 'rejected'];

export interface Snapshot {
  readonly t: Nanos;
  readonly emitted: number;
  readonly emittedBytes: number;
  readonly delivered: number;
  readonly deliveredBytes: number;
  /** Packets and bytes delivered per VM (by VM index). */
  readonly deliveredPerVm: readonly number[];
  readonly bytesPerVm: readonly number[];
  /** Virtual interrupts per VM (by VM index), per queue. */
  readonly virqs: readonly (readonly number[])[];
  readonly virqsWhilePolling: number;
  readonly timerPolls: number;
  readonly idleTimerTicks: number;
  readonly physicalIrqs: number;
  readonly notifies: number;
  readonly suppressed: number;
  readonly held: number;
  readonly backendTimerIrqs: number;
  readonly reqNotifies: number;
  readonly drops: Readonly<Record<DropReason, number>>;
  /** Busy ns per core name, up to t. */
  readonly busy: ReadonlyMap<string, number>;
  readonly ringOccupancy: number;
  readonly backlog: number;
  reordered: number;
  /** Packets held inside actors, by where. */
  readonly heldIn: { readonly nicRings: number; readonly workerBacklogs: number; readonly guestRings: number };
  /** What faults did to notifications. */
  readonly faultCounters: { readonly notificationsLost: number; readonly lostAbsorbed: number; readonly notificationsDelayed: number; readonly stallKicks: number };
  /** Latency of measured packets (present when the reports were final). */
  readonly latency: LatencyHistogram | null;
  /** Per VM, per queue: packets and bytes delivered, responses on the ring now, packets in netback's backlog now (what the time series shows per queue). */
  readonly queues: readonly (readonly QueueCounters[])[];
  /** Packets in each netback worker's backlogs now, by the worker's core name (`dom0.worker<k>`). */
  readonly workerBacklogs: ReadonlyMap<string, number>;
  /** Physical interrupts per NIC hardware queue. */
  readonly nicQueueIrqs: readonly number[];
  /** Scheduled dom0 vCPUs and guest vCPUs that block: what the schedulers did (null when neither is modelled). */
  readonly sched: SchedSnapshot | null;
  /** The transmit path's counters (null when no guest sends). */
  readonly tx: TxSnapshot | null;
  /** Both ends of every closed-loop flow (null when the scenario has none). */
  readonly closedLoop: readonly ClosedLoopEndReport[] | null;
  /** The NICs' fabric sides and the switch's ports (null: one host, no switch). */
  readonly fabric: FabricSnapshot | null;
  /** A multi-host run's whole snapshot: each host's own beside it, by host index, its cores under their own names (absent: one host). */
  readonly hosts?: readonly Snapshot[];
}

/** Cumulative scheduler counters: dom0's (context switches, softirq deferrals, vCPU wake-ups) and the guests' vCPU wake-ups. */
export interface SchedSnapshot {
  readonly dom0: { readonly switches: number; readonly deferrals: number; readonly wakeups: number } | null;
  readonly guestWakeups: number | null;
}

/** One guest RX queue at an instant: cumulative delivery counters and what it holds now. */
export interface QueueCounters {
  readonly delivered: number;
  readonly bytes: number;
  readonly ringOccupancy: number;
  readonly backlog: number;
}

type MutableQueue = { -readonly [K in keyof QueueCounters]: QueueCounters[K] };

/** Combine actor reports taken at time t into one snapshot of the whole datapath. */
// Long on purpose: one pass over the reports summing every counter into locals (run at every sample of every
// run); a function per role would spread one sum over several passes and objects.
// eslint-disable-next-line max-lines-per-function -- one pass over the reports (see above)
export function combine(reports: readonly ActorReport[], t: Nanos): Snapshot {
  let emitted = 0;
  let emittedBytes = 0;
  let physicalIrqs = 0;
  let nicDrops = 0;
  let nicHeld = 0;
  let delivered = 0;
  let deliveredBytes = 0;
  let virqsWhilePolling = 0;
  let timerPolls = 0;
  let idleTimerTicks = 0;
  let ringOccupancy = 0;
  let guestHeld = 0;
  let reordered = 0;
  let notifies = 0;
  let suppressed = 0;
  let held = 0;
  let backendTimerIrqs = 0;
  let reqNotifies = 0;
  let queueFull = 0;
  let qdiscOverlimit = 0;
  let qdiscCongested = 0;
  let backlog = 0;
  let workerHeld = 0;
  let linkDown = 0;
  let vifDisabled = 0;
  let notificationsLost = 0;
  let lostAbsorbed = 0;
  let notificationsDelayed = 0;
  let stallKicks = 0;
  let lostWithOldRing = 0;
  let latency: LatencyHistogram | null = null;
  const virqs: number[][] = [];
  const deliveredPerVm: number[] = [];
  const bytesPerVm: number[] = [];
  const busy = new Map<string, number>();
  const queues: MutableQueue[][] = [];
  const workerBacklogs = new Map<string, number>();
  let nicQueueIrqs: number[] = [];
  let dom0: { switches: number; deferrals: number; wakeups: number } | null = null;
  let guestWakeups: number | null = null;
  /** The counters of queue q of VM vm, created at zero the first time a report names it. */
  const queue = (vm: number, q: number): MutableQueue => {
    const row = (queues[vm] ??= []);
    for (let i = row.length; i <= q; i++) row.push({ delivered: 0, bytes: 0, ringOccupancy: 0, backlog: 0 });
    return row[q] as MutableQueue;
  };
  for (const r of reports) {
    // Summed: a killed and restarted actor contributes its dead incarnation's report too.
    if (r.role === 'switch') continue; // the fabric's counters are the switch's own (fabric-summary.ts)
    if (r.role !== 'nic') {
      // Object.keys' order (a core's name is never an integer), without an entry array per core.
      const rb = r.busy;
      for (const k of Object.keys(rb)) busy.set(k, (busy.get(k) ?? 0) + (rb[k] as number));
    }
    switch (r.role) {
      case 'nic':
        emitted += r.emitted;
        emittedBytes += r.emittedBytes;
        physicalIrqs += r.physicalIrqs;
        nicDrops += r.dropsNicRingFull;
        nicHeld += r.held;
        linkDown += r.dropsLinkDown ?? 0;
        nicQueueIrqs = (r.queueIrqs ?? []).map((v, q) => v + (nicQueueIrqs[q] ?? 0));
        break;
      case 'backend':
        // Batches whose driver work on a scheduled vCPU is not done: their descriptors are still taken in the NIC ring.
        nicHeld += r.held;
        // Frames the bridge forwarded from one guest to another enter the receive path as the NIC's do.
        emitted += r.tx?.toGuests ?? 0;
        emittedBytes += r.tx?.toGuestsBytes ?? 0;
        if (r.sched) {
          dom0 ??= { switches: 0, deferrals: 0, wakeups: 0 };
          dom0.switches += r.sched.switches;
          dom0.deferrals += r.sched.deferrals;
          dom0.wakeups += r.sched.wakeups;
        }
        break;
      case 'worker':
        workerHeld += r.held;
        backlog += r.backlog;
        notifies += r.notifies;
        suppressed += r.suppressed;
        held += r.notifiesHeld;
        backendTimerIrqs += r.timerNotifies;
        reqNotifies += r.reqNotifies;
        queueFull += r.dropsNetbackQueueFull;
        qdiscOverlimit += r.dropsQdiscOverlimit;
        qdiscCongested += r.dropsQdiscCongested;
        vifDisabled += r.dropsVifDisabled ?? 0;
        stallKicks += r.stallKicks ?? 0;
        lostWithOldRing += r.purgedOldRing ?? 0;
        for (const [vm, q, packets] of r.queueBacklogs ?? []) queue(vm, q).backlog += packets;
        // A worker is named by its core (one each), as in `cpu`.
        for (const core of Object.keys(r.busy)) workerBacklogs.set(core, (workerBacklogs.get(core) ?? 0) + r.backlog);
        break;
      case 'frontend':
        delivered += r.delivered;
        deliveredBytes += r.deliveredBytes;
        // Summed per VM: a killed and restarted guest contributes its dead incarnation's report too.
        virqs[r.vm] = r.virqs.map((v, q) => v + (virqs[r.vm]?.[q] ?? 0));
        deliveredPerVm[r.vm] = (deliveredPerVm[r.vm] ?? 0) + r.delivered;
        lostWithOldRing += r.discardedOldRing ?? 0;
        bytesPerVm[r.vm] = (bytesPerVm[r.vm] ?? 0) + r.deliveredBytes;
        virqsWhilePolling += r.virqsWhilePolling;
        timerPolls += r.timerPolls;
        idleTimerTicks += r.idleTimerTicks;
        ringOccupancy += r.ringOccupancy;
        guestHeld += r.held;
        reordered += r.reordered;
        if (r.vcpuWakeups !== undefined) guestWakeups = (guestWakeups ?? 0) + r.vcpuWakeups;
        notificationsLost += r.notificationsLost ?? 0;
        lostAbsorbed += r.lostAbsorbed ?? 0;
        notificationsDelayed += r.notificationsDelayed ?? 0;
        addQueueDelivered(queue, r);
        if (r.latency) {
          latency ??= new LatencyHistogram();
          latency.merge(LatencyHistogram.fromJSON(r.latency));
        }
        break;
    }
  }
  return {
    t, emitted, emittedBytes, delivered, deliveredBytes, deliveredPerVm, bytesPerVm, virqs, virqsWhilePolling, timerPolls, idleTimerTicks,
    physicalIrqs, notifies, suppressed, held, backendTimerIrqs, reqNotifies,
    drops: {
      'nic-ring-full': nicDrops, 'netback-queue-full': queueFull, 'qdisc-overlimit': qdiscOverlimit, 'qdisc-congested': qdiscCongested,
      'lost-in-crash': lostWithOldRing,
      'link-down': linkDown, 'link-drop': 0, 'vif-disabled': vifDisabled, 'lost-in-transport': 0, rejected: 0,
    },
    faultCounters: { notificationsLost, lostAbsorbed, notificationsDelayed, stallKicks },
    busy, ringOccupancy, backlog, reordered,
    heldIn: { nicRings: nicHeld, workerBacklogs: workerHeld, guestRings: guestHeld },
    latency, queues, workerBacklogs, nicQueueIrqs,
    sched: dom0 === null && guestWakeups === null ? null : { dom0, guestWakeups },
    tx: combineTx(reports),
    closedLoop: combineClosedLoop(reports),
    fabric: combineFabric(reports, t),
  };
}


/** A front end's per-queue delivery counters and ring occupancy into the snapshot's queues (`queue`: VM vm's queue q). */
function addQueueDelivered(queue: (vm: number, q: number) => MutableQueue, r: FrontendReport): void {
  const d = r.queueDelivered;
  if (d !== undefined) {
    const bytes = r.queueDeliveredBytes;
    for (let q = 0; q < d.length; q++) {
      const c = queue(r.vm, q);
      c.delivered += d[q] as number;
      c.bytes += bytes?.[q] ?? 0;
    }
  }
  const occ = r.queueRingOccupancy;
  if (occ !== undefined) for (let q = 0; q < occ.length; q++) queue(r.vm, q).ringOccupancy += occ[q] as number;
}

export function totalVirqs(s: Snapshot): number {
  let n = 0;
  for (const row of s.virqs) for (const v of row ?? []) n += v;
  return n;
}

/**
 * One row of metrics.jsonl: rates over (previous sample, tMs], levels at tMs; the transmit columns only when a guest
 * sends, the switch ports' only in a multi-host run.
 */
export type SampleRow = {
  readonly tMs: number;
  readonly gbps: number;
  readonly pps: number;
  readonly offeredGbps: number;
  readonly virqPerSec: number;
  readonly timerPollsPerSec: number;
  readonly physicalIrqPerSec: number;
  readonly notifyPerSec: number;
  /** Drops from the start of the run, every reason. */
  readonly dropsTotal: number;
  readonly ringOccupancy: number;
  readonly backlog: number;
  /** Busy fraction of each core over the interval (its transmit work included). */
  readonly cpu: Readonly<Record<string, number>>;
} & Partial<TxSampleColumns> & { readonly switchPorts?: readonly SwitchPortSample[]; readonly switchSources?: readonly SwitchSourceSample[] };

/** The transmit path's columns of a metrics.jsonl row (a scenario where a guest sends). */
export interface TxSampleColumns {
  /** Frame bits and frames the guests sent (their applications' sends, before any drop). */
  readonly txGbps: number;
  readonly txPps: number;
  /** Frame bits that left on the wire (guest to guest frames do not). */
  readonly txWireGbps: number;
  /** Guest TX virtual interrupts (xennet_tx_interrupt upcalls). */
  readonly txVirqPerSec: number;
  /** TX notifications: the guests' to netback (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY), netback's to the guests (TX responses). */
  readonly txGuestNotifyPerSec: number;
  readonly txNotifyPerSec: number;
  /** NIC TX-completion interrupts. */
  readonly txNicIrqPerSec: number;
  /** TX responses netback gave the guests (completions: the slots the guests may reuse). */
  readonly txCompletionsPerSec: number;
  /** Transmit-path drops from the start of the run, every reason. */
  readonly txDropsTotal: number;
  /** Pure ACK frames the guests' TCP ends sent (present when the scenario has closed-loop flows). */
  readonly txAckPerSec?: number;
}

/** Pure ACKs the guest ends of the closed-loop flows sent, up to the snapshot. */
export function guestPureAcks(s: Snapshot): number {
  let n = 0;
  for (const e of s.closedLoop ?? []) if (e.side === 'guest') n += e.pureAcks;
  return n;
}

/** The transmit columns over (a.t, b.t] (none when no guest sends). */
export function txColumns(a: Snapshot, b: Snapshot, dt: number): TxSampleColumns | null {
  const x = b.tx;
  const w = a.tx;
  if (x === null || w === null) return null;
  let drops = 0;
  for (const v of Object.values(x.drops)) drops += v;
  const rate = (n: number) => sig(n / dt);
  return {
    txGbps: sig(((x.sentBytes - w.sentBytes) * 8) / dt / 1e9),
    txPps: rate(x.sent - w.sent),
    txWireGbps: sig(((x.onWireBytes - w.onWireBytes) * 8) / dt / 1e9),
    txVirqPerSec: rate(x.virqs - w.virqs),
    txGuestNotifyPerSec: rate(x.guestNotifies - w.guestNotifies),
    txNotifyPerSec: rate(x.netbackNotifies - w.netbackNotifies),
    txNicIrqPerSec: rate(x.nicIrqs - w.nicIrqs),
    txCompletionsPerSec: rate(x.responses - w.responses),
    txDropsTotal: drops,
    ...(b.closedLoop === null ? {} : { txAckPerSec: rate(guestPureAcks(b) - guestPureAcks(a)) }),
  };
}

/** One row of the metrics time series: rates over (a.t, b.t]. */
export function sampleRow(a: Snapshot, b: Snapshot): SampleRow {
  const dt = (b.t - a.t) / 1e9;
  const cpu: Record<string, number> = {};
  for (const [name, v] of b.busy) cpu[name] = sig((v - (a.busy.get(name) ?? 0)) / (b.t - a.t));
  let drops = 0;
  for (const v of Object.values(b.drops)) drops += v;
  const row: SampleRow = {
    tMs: sig(b.t / 1e6),
    gbps: sig(((b.deliveredBytes - a.deliveredBytes) * 8) / dt / 1e9),
    pps: sig((b.delivered - a.delivered) / dt),
    offeredGbps: sig(((b.emittedBytes - a.emittedBytes) * 8) / dt / 1e9),
    virqPerSec: sig((totalVirqs(b) - totalVirqs(a)) / dt),
    timerPollsPerSec: sig((b.timerPolls - a.timerPolls) / dt),
    physicalIrqPerSec: sig((b.physicalIrqs - a.physicalIrqs) / dt),
    notifyPerSec: sig((b.notifies - a.notifies) / dt),
    dropsTotal: drops,
    ringOccupancy: b.ringOccupancy,
    backlog: b.backlog,
    cpu,
  };
  // The optional columns after, as a spread would add them (an object literal with spreads is built field by field).
  const tx = txColumns(a, b, dt);
  const fabric = fabricColumns(a.fabric, b.fabric, dt);
  if (tx !== null) Object.assign(row, tx);
  if (fabric !== null) Object.assign(row, fabric);
  return row;
}
