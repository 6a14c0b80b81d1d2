// What a run produces, as typed data every consumer imports (the CLI, report, experiments): the summary, the accounting, a live run's figures, the run result.
import type { LatencyHistogram, Nanos } from '@splitnet/model';
import type { FaultsSummary } from './fault-report.js';
import type { CaptureSummary } from './packet-capture.js';
import type { FaultOccurrence } from '@splitnet/scenario';
import type { DropReason, Snapshot } from './metrics.js';
import type { SeriesPoint } from './timeseries.js';
import type { TxAccounting, TxSummary } from './tx-summary.js';
import type { TcpSummary } from './tcp-summary.js';
import type { FabricAccounting, FabricSummary } from './fabric-summary.js';

/** One entry of a run's event log (events.jsonl): lifecycle, faults, what actors noticed. */
export interface RunEvent {
  readonly t: Nanos;
  readonly actor: string;
  readonly kind: string;
  readonly detail: Record<string, unknown>;
}

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
  /** The receive invariant holds, and the transmit one too when guests send. */
  readonly balanced: boolean;
  /** The transmit path's invariant (present only when a guest sends). */
  readonly tx?: TxAccounting;
  /** The fabric's invariant (present only in a multi-host run; `balanced` above includes it). */
  readonly fabric?: FabricAccounting;
}

export interface RunResult {
  readonly summary: Summary;
  /** Metrics time series rows (one per sample interval). */
  readonly samples: readonly Record<string, unknown>[];
  /** The same samples per entity, in long form (timeseries.csv). */
  readonly series: readonly SeriesPoint[];
  readonly events: readonly RunEvent[];
  readonly accounting: Accounting;
  /** One-way latency of the packets delivered in the measurement window (the summary's `latencyUs`, in full). */
  readonly latency: LatencyHistogram;
  /** Discrete events processed (for speed reports; not part of the deterministic summary). */
  readonly eventsProcessed: number;
  /** The datapath's counters at the end of the run, every drop reason included (what metrics.prom shows). */
  readonly end: Snapshot;
  /** The run's fault occurrences (none without faults). */
  readonly occurrences: readonly FaultOccurrence[];
}

/**
 * A live run's verdict. `valid`: it kept up with emulated time (lag within its bound, `lagBound`) and nothing on the bus
 * was other than the run's own actors sent. `invalid`: it fell behind (results kept, with a suggested TDF).
 * `tainted`: the bus carried something the run's actors did not send or that a receiver refused — forged,
 * replayed, misrouted or unexplained traffic — so its figures cannot be trusted, whatever the lag.
 */
export type Verdict = 'valid' | 'invalid' | 'tainted';

/**
 * The lag bound a live run was judged by, and why that value: `auto` (live.maxLag's default), a tenth of the
 * scenario's shortest modelled time constant and at least 1 µs; `set`, live.maxLag as written. `constant`
 * names that shortest constant either way (null: the scenario has none, e.g. no traffic reaches a guest).
 */
export interface LagBound {
  readonly us: number;
  readonly rule: 'auto' | 'set';
  /** auto only: the fraction of `constant` the bound is (before the 1 µs floor). */
  readonly fraction?: number;
  readonly constant: { readonly what: string; readonly us: number } | null;
}

/** What only a live run has: its time base, how late it ran, and what the wire rejected. */
export interface LiveInfo {
  readonly tdf: number;
  readonly placement: string;
  readonly processes: number;
  /** The validity bound (as `lagBound.us`). */
  readonly maxLagUs: number;
  readonly lagBound: LagBound;
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
  /** Lag within its bound (the run kept up with emulated time closely enough for its time constants). */
  readonly valid: boolean;
  readonly invalidReason?: string;
  readonly suggestedTdf?: number;
  /** `tainted` over `invalid` over `valid`. */
  readonly verdict: Verdict;
  /** What made the run tainted, one line each (present when it is). */
  readonly tainted?: readonly string[];
  /** `lostInCrash`: the part of `drops.lost-in-crash` inferred from the bus counters (the rest, actors counted themselves). */
  readonly bus: { readonly onBusAtEnd: number; readonly pendingAtEnd: number; readonly lostInCrash: number };
  /** Actor processes restarted by the supervisor. */
  readonly restarts: number;
  /** Each restarted process: where its counters continue from, and where they ended (present only after restarts). */
  readonly restarted?: readonly RestartedProcess[];
  /**
   * What the receivers refused, by kind (messages); sequence numbers missing from known senders (`gaps`);
   * control messages refused, by the controller and by the actor processes (`badControl`).
   */
  readonly wire: { readonly rejected: Readonly<Record<string, number>>; readonly gaps: number; readonly lastRejection: string; readonly badControl: number };
  /** Times the controller lost its NATS connection (present only when it did): the run's messages were held or lost meanwhile. */
  readonly busOutages?: readonly BusOutage[];
}

/** The controller's NATS connection was lost: when (emulated), and for how long (wall clock; null: it never came back). */
export interface BusOutage {
  readonly atMs: number;
  readonly wallMs: number | null;
}

/**
 * A run stopped before its end by a signal (Ctrl-C, SIGTERM): its results cover emulated time up to
 * `atMs` of the `durationMs` the scenario asked for, and the accounting balances at that instant.
 */
export interface Interruption {
  readonly signal: string;
  readonly atMs: number;
  readonly durationMs: number;
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
  /** Present only when the run wrote a packet capture (--pcap). */
  readonly pcap?: CaptureSummary;
  /** Present only when the run was interrupted: its results stop at that instant. */
  readonly interrupted?: Interruption;
  /** Present only with scheduled dom0 vCPUs (topology.dom0.vcpus) or guest vCPUs that block (topology.vms.blockAfter). */
  readonly sched?: SchedSummary;
  /** The transmit path, beside the receive figures above (present only when a guest sends). */
  readonly tx?: TxSummary;
  /** Closed-loop flows: per TCP flow goodput, RTT, retransmissions, cwnd; per TCP_RR flow transactions and latency (present only when the scenario has some). */
  readonly tcp?: TcpSummary;
  /** A multi-host run: each host's own summary (the figures above add up every host's)… */
  readonly hosts?: readonly HostSummary[];
  /** …and the switch's, per port (present only in a multi-host run). */
  readonly fabric?: FabricSummary;
}

/** One host of a multi-host run, summarized as a one-host run is (its ids and VM indices are the host's own). */
export type HostSummary = { readonly host: string } & Omit<Summary, 'hosts' | 'fabric'>;

/** What the schedulers did, per second of the measured window. */
export interface SchedSummary {
  /** Scheduled dom0 vCPUs: context switches to a kernel thread (netback worker or ksoftirqd), softirq runs that reached their limits and woke ksoftirqd, wake-ups of a blocked vCPU. */
  readonly dom0?: { readonly contextSwitchesPerSec: number; readonly softirqDeferralsPerSec: number; readonly vcpuWakeupsPerSec: number };
  /** Guest vCPUs that block: wake-ups before an upcall or timer tick. */
  readonly guestVcpuWakeupsPerSec?: number;
}
