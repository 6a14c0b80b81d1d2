// What each actor reports about itself: cumulative counters at an emulated instant, plain JSON so it can cross the wire.
import type { ClosedLoopEndReport } from './closed-loop-end.js';
import type { HistogramJson } from './histogram.js';
import type { Nanos } from './time.js';

/** Busy ns per emulated core name, up to the report's time. */
export type CoreBusy = Record<string, number>;

export interface NicReport {
  readonly role: 'nic';
  readonly id: string;
  readonly t: Nanos;
  readonly emitted: number;
  readonly emittedBytes: number;
  readonly physicalIrqs: number;
  readonly dropsNicRingFull: number;
  readonly held: number;
  /** Frames that arrived while a link-flap fault held the link down. */
  readonly dropsLinkDown?: number;
  /** Frames a fault (ring-full-storm) put on the wire besides the generators' traffic, and their bytes (part of `emitted` once they arrive). */
  readonly injected?: number;
  readonly injectedBytes?: number;
  /** Physical interrupts per hardware queue (the time series' `nic.q<q>`). */
  readonly queueIrqs?: readonly number[];
  /** The transmit path's counters (only when a guest sends). */
  readonly tx?: TxReport;
  /** The far ends of closed-loop flows (only when the scenario has some). */
  readonly closedLoop?: readonly ClosedLoopEndReport[];
  /** Of `emitted`, the frames (and bytes) the far ends of closed-loop flows sent (with `closedLoop`): live continues them across a restart. */
  readonly farArrived?: number;
  readonly farArrivedBytes?: number;
  /** Frames to and from the switch (only in a multi-host scenario). */
  readonly fabric?: NicFabricReport;
}

/** A host NIC's side of the fabric: frames it put on its link to the switch, and frames the switch sent it. */
export interface NicFabricReport {
  /** Frames whose last bit left toward the switch, and their bytes. */
  readonly out: number;
  readonly outBytes: number;
  /** Of those, frames still propagating on the cable (not yet at the switch). */
  readonly onLink: number;
  /** Frames that arrived from the switch (each then counts as `emitted`, like a frame from the wire). */
  readonly in: number;
  readonly inBytes: number;
}

/** One switch port's counters: frames toward the host (or source) on that port. */
export interface SwitchPortReport {
  readonly port: number;
  /** Frames that came in from this port's link. */
  readonly received: number;
  /** Frames put in this port's output queue, and their bytes. */
  readonly enqueued: number;
  readonly enqueuedBytes: number;
  /** Frames whose last bit has left the output port. */
  readonly forwarded: number;
  readonly forwardedBytes: number;
  /** Frames that left and are still propagating on the port's cable to the NIC. */
  readonly onLink: number;
  /** Frames in the output queue now (waiting, or being serialized), and their bytes. */
  readonly queued: number;
  readonly queuedBytes: number;
  /** The most bytes the output queue held at once. */
  readonly peakQueueBytes: number;
  /** Frames dropped at this port, by reason (`switch-queue-full`, `switch-port-down`, `switch-port-loss`, `switch-no-route`). */
  readonly drops: Readonly<Record<string, number>>;
}

/** An external traffic source on a switch port of its own (cumulative). */
export interface SwitchSourceReport {
  readonly port: number;
  readonly name: string;
  /** The host port its frames are queued at. */
  readonly to: number;
  /** Frames it put on its cable, and their bytes. */
  readonly sent: number;
  readonly sentBytes: number;
  /** Of those, still on the cable (their last bit not at the switch yet). */
  readonly onLink: number;
  /** Frames that reached the switch. */
  readonly received: number;
  /**
   * Of those, frames dropped at its port by a fault on it (`switch-port-down`, `switch-port-loss`; every reason of a
   * switch port, zeros included); absent until a fault first acts on the port.
   */
  readonly drops?: Readonly<Record<string, number>>;
}

export interface SwitchReport {
  readonly role: 'switch';
  readonly id: string;
  readonly t: Nanos;
  readonly ports: readonly SwitchPortReport[];
  /** External traffic sources (absent: none). */
  readonly sources?: readonly SwitchSourceReport[];
}

export interface BackendReport {
  readonly role: 'backend';
  readonly id: string;
  readonly t: Nanos;
  readonly busy: CoreBusy;
  /** Packets of DMA batches whose driver work on a scheduled vCPU is not done yet (0 with dedicated cores). */
  readonly held: number;
  /** Scheduled dom0 vCPUs only: their scheduler's counters, summed over the vCPUs. */
  readonly sched?: SchedCounters;
  /** The transmit path's counters (only when a guest sends). */
  readonly tx?: TxReport;
}

/** What the dom0 vCPUs' scheduler did (cumulative). */
export interface SchedCounters {
  /** Context switches to a kernel thread (a netback worker or ksoftirqd). */
  readonly switches: number;
  /** Softirq runs that reached their limits with work left and woke ksoftirqd. */
  readonly deferrals: number;
  /** Wake-ups of a vCPU that was idle (blocked in Xen). */
  readonly wakeups: number;
}

export interface WorkerReport {
  readonly role: 'worker';
  readonly id: string;
  readonly t: Nanos;
  readonly busy: CoreBusy;
  readonly held: number;
  readonly backlog: number;
  readonly notifies: number;
  readonly suppressed: number;
  /** Pushes absorbed into a notification the back-end coalescer was already holding. */
  readonly notifiesHeld: number;
  /** Held notifications released by the back-end coalescing timer (driver-domain timer interrupts). */
  readonly timerNotifies: number;
  readonly reqNotifies: number;
  /** Refused by xenvif_start_xmit because the guest-RX queue held rx_queue_max bytes (the vif's tx_dropped). */
  readonly dropsNetbackQueueFull: number;
  /** Dropped by the vif's qdisc at its limit (pfifo_fast's tx_queue_len, fq_codel's 10240 packets). */
  readonly dropsQdiscOverlimit: number;
  /** Dropped by fq_codel's CoDel on dequeue (sojourn time above target for an interval). */
  readonly dropsQdiscCongested: number;
  /** Packets dropped because netback disabled a queue after a fatal ring error (a corrupted index). */
  readonly dropsVifDisabled?: number;
  /** Notifications re-sent by the rx stall timer to a stalled queue. */
  readonly stallKicks?: number;
  /**
   * Packets held for a front end's old ring (queued, or being copied) and discarded when the front end
   * reconnected with a new ring after a crash: they count as `lost-in-crash`.
   */
  readonly purgedOldRing?: number;
  /** Packets waiting for each served queue now (guest-RX queue and qdisc), as `[vm, queue, packets]` (the time series' per-queue backlog). */
  readonly queueBacklogs?: readonly (readonly [number, number, number])[];
  /** The transmit path's counters (only when a guest sends). */
  readonly tx?: TxReport;
}

export interface FrontendReport {
  readonly role: 'frontend';
  readonly id: string;
  readonly t: Nanos;
  readonly vm: number;
  /** This guest's ends of closed-loop flows (only when it has some). */
  readonly closedLoop?: readonly ClosedLoopEndReport[];
  readonly busy: CoreBusy;
  readonly held: number;
  readonly delivered: number;
  readonly deliveredBytes: number;
  /** Virtual interrupts per queue. */
  readonly virqs: readonly number[];
  /** Virtual interrupts that found NAPI already scheduled. */
  readonly virqsWhilePolling: number;
  readonly timerPolls: number;
  /** Front-end coalescing timer ticks that found nothing to poll. */
  readonly idleTimerTicks: number;
  readonly ringOccupancy: number;
  readonly reordered: number;
  /** Event-channel notifications a fault lost, and how many of those NAPI's final check absorbed. */
  readonly notificationsLost?: number;
  readonly lostAbsorbed?: number;
  /** Notifications a fault delayed. */
  readonly notificationsDelayed?: number;
  /** Packets in responses of an old ring (a restarted guest's, or delayed past its reconnect) that it discarded: lost with that ring (`lost-in-crash`). */
  readonly discardedOldRing?: number;
  /** Per queue: packets and frame bytes delivered (counters) and responses on its ring now (the time series' `vm<v>.q<q>`). */
  readonly queueDelivered?: readonly number[];
  readonly queueDeliveredBytes?: readonly number[];
  readonly queueRingOccupancy?: readonly number[];
  /** With guest vCPUs that block when idle: times a vCPU was woken for an upcall or a timer tick. */
  readonly vcpuWakeups?: number;
  /** Latency of packets delivered after the warm-up (only in final reports). */
  readonly latency?: HistogramJson;
  /** The transmit path's counters (only when a guest sends). */
  readonly tx?: TxReport;
}

/**
 * An actor's share of the transmit path (guest → wire), present only when a guest sends. Frames are counted
 * where they end: `sent` by the guest that sent them, `onWire` by the NIC that put them on the wire, drops by
 * the actor that dropped them; `held` is what the actor holds now.
 */
export interface TxReport {
  /** Frames (and bytes) the guests' applications handed to the stack. */
  readonly sent?: number;
  readonly sentBytes?: number;
  /**
   * Of `sent`, a guest's: the frames (and bytes) its closed-loop ends sent (ACKs, data, requests, responses), when
   * any — the rest come from its open-loop generators, which a restarted guest replays (NetfrontTx.reconnect).
   */
  readonly closedLoopSent?: number;
  readonly closedLoopSentBytes?: number;
  /** Frames (and bytes) the bridge forwarded to another guest on the host (they continue on its receive path). */
  readonly toGuests?: number;
  readonly toGuestsBytes?: number;
  /** Frames (and bytes) whose last bit left on the wire. */
  readonly onWire?: number;
  readonly onWireBytes?: number;
  /** Frames the actor holds now (guest qdisc, TX ring requests netback has not taken, NIC TX queue). */
  readonly held: number;
  /** Drops by reason (`guest-qdisc-overlimit`, `nic-tx-queue-full`, `vif-disabled`, `link-down`). */
  readonly drops?: Readonly<Record<string, number>>;
  /** Notify hypercalls for TX: the guest's for new requests (frontend), netback's for responses (worker). */
  readonly notifies?: number;
  /** Virtual interrupts on the guests' TX event channels. */
  readonly virqs?: number;
  /** TX-completion interrupts of the NIC. */
  readonly irqs?: number;
  /** TX responses netback produced, and how many it sent after a dealloc (grant-mapped slots). */
  readonly responses?: number;
  readonly deallocResponses?: number;
  /** netback TX NAPI polls, and times the credit scheduler held a frame back (tx_credit_exceeded). */
  readonly polls?: number;
  readonly creditWaits?: number;
  /** One-way latency (ns) from the application's send to the last bit on the wire, summed, for the mean. */
  readonly latencySum?: number;
  /**
   * TX notifications a fault lost or held back (lose- / delay-tx-notifications): the guest's kicks where they
   * reach netback (worker), netback's TX-completion notifications where they reach the guest (frontend).
   */
  readonly notificationsLost?: number;
  readonly notificationsDelayed?: number;
  /**
   * Messages of a TX ring that a restart re-created, ignored (present only when some were): TX responses of the old
   * ring (frontend), ring writes a restarted netback had no ring for and deallocs of the old ring's slots (worker).
   */
  readonly staleMessages?: number;
}

export type ActorReport = NicReport | BackendReport | WorkerReport | FrontendReport | SwitchReport;
