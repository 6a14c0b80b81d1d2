// The compiled scenario: every default applied, validated and frozen; what actors are built from.
import type { FaultAction, FaultParams, GeneratorSpec, Nanos, PolicySpec } from '@splitnet/model';

export type VrssMode = 'single' | 'per-vif' | 'per-flow';

/**
 * How netback picks the queue of a multi-queue VIF for a packet (xenvif_select_queue). `rx-queue`: no
 * hash configured (a Linux netfront), so netdev_pick_tx → skb_tx_hash takes the RX queue the NIC driver
 * recorded, modulo the VIF's queues; `flow-hash`: the same without a recorded RX queue, so the stack's
 * flow hash scaled onto the queues; `toeplitz`: the front end configured Toeplitz over the control ring
 * (Windows PV drivers do), so mapping[hash % size].
 */
export type Steering = 'rx-queue' | 'flow-hash' | 'toeplitz';

/** The vif's queueing discipline: pfifo_fast (the kernel's default) or fq_codel (many distributions' default). */
export type QdiscKind = 'pfifo-fast' | 'fq-codel';

export interface VmSpec {
  readonly id: number;
  /** Netfront queues = guest vCPUs used for receive (one queue per vCPU). */
  readonly queues: number;
  /** Guest RX ring slots (power of two). */
  readonly ringSize: number;
  /** A vCPU idle for longer than this blocks (SCHEDOP_block) and pays Xen's wake-up before its next upcall runs; null: never blocks. */
  readonly blockAfter: Nanos | null;
}

/** Linux's bounds on softirq work on a dom0 vCPU (net_rx_action's budget, __do_softirq's limits) and whether ksoftirqd takes what is left. */
export interface SoftirqLimits {
  readonly netdevBudget: number;
  readonly netdevBudgetTime: Nanos;
  readonly maxTime: Nanos;
  readonly maxRestart: number;
  readonly ksoftirqd: boolean;
}

/** The driver domain's vCPUs. */
export interface Dom0Spec {
  /** Scheduled vCPUs, or null: dedicated cores (one per NIC queue and per worker, nothing scheduled). */
  readonly vcpus: number | null;
  /** With vCPUs: the vCPU of each NIC queue's interrupt and softirq, and of each netback worker. */
  readonly nicVcpu: readonly number[];
  readonly workerVcpu: readonly number[];
  /** A normal thread's time slice (0 with dedicated cores). */
  readonly timeslice: Nanos;
  readonly softirq: SoftirqLimits | null;
}

/** How netback's work runs on its vCPU: kernel threads (CFS), SCHED_FIFO kernel threads, or tasklets in softirq context. */
export type NetbackThreading = 'kthread' | 'kthread-rt' | 'tasklet';

export type { PacketSize, TrafficPattern, GeneratorSpec } from '@splitnet/model';

/** The transmit path (guests that send): the `tx` section, defaults applied. */
export interface TxSpec {
  /** The vif's rate= limit in bytes per credit interval (null: unlimited, netback's credit_bytes = ~0). */
  readonly creditBytes: number | null;
  /** credit_usec, in ns. */
  readonly creditInterval: Nanos;
  /** feature-split-event-channels negotiated: separate TX and RX event channels per queue. */
  readonly splitEventChannels: boolean;
  /** Frames the guest's qdisc holds in front of a stopped netfront TX queue. */
  readonly guestQdiscLen: number;
  /** Frames the physical NIC's qdisc holds in front of a TX queue whose descriptors are all taken. */
  readonly nicQdiscLen: number;
}

export interface FlowSpec {
  readonly id: number;
  readonly generator: number;
  /** Destination VM index; for a flow a guest sends (`sender`), that guest. */
  readonly vm: number;
  /** The guest that sends this flow (from: vm.<index>); absent: the flow comes from the wire. */
  readonly sender?: number;
  /**
   * A guest-to-guest TCP connection's two directions are two flows (each its own 4-tuple, hash, queues and route
   * through the bridge): on the flow of the active guest's direction, the id of the other direction's flow…
   */
  readonly reverse?: number;
  /** …and on that other flow, the id of the connection's own flow (the one its results are reported under). */
  readonly reverseOf?: number;
  readonly ipVersion: 4 | 6;
  readonly protocol: 'tcp' | 'udp';
  /** Addresses in network byte order (4 or 16 bytes). */
  readonly src: readonly number[];
  readonly dst: readonly number[];
  readonly srcPort: number;
  readonly dstPort: number;
}

export type { CostProfile } from '@splitnet/model';
import type { CostProfile } from '@splitnet/model';

export interface CoalescingPlacement {
  /** Physical interrupt moderation on the NIC queues (ethtool / adaptive ITR). */
  readonly nic: PolicySpec;
  /** Back-end coalescing: the worker holds its notify hypercall. */
  readonly backend: PolicySpec;
  /** Front-end coalescing: the guest sets its event index further ahead and polls from a timer. */
  readonly frontend: PolicySpec;
}

/** Where a live run's actors execute: one OS process each, or all in one process talking over the bus. */
/** processes: the CLI spawns one process per actor; inprocess: all in the controller's process; external: actors are started elsewhere (compose, other hosts) and join the run; docker: the CLI starts them as containers (dockerode). */
export type LivePlacement = 'processes' | 'inprocess' | 'external' | 'docker';
/**
 * How a live run's actors are grouped into processes: `per-actor`, one each (the NIC shares its driver's, the
 * back end's); `per-domain`, one per Xen domain: the driver domain (NIC, back end and the vRSS workers, which
 * are netback's threads in dom0) and each guest. Messages cross the bus where they cross a process.
 */
export type LiveProcesses = 'per-actor' | 'per-domain';

/** Settings of the live runtime (each actor a process over NATS). Compiled whatever the runtime, so a `--set runtime=live` finds them. */
export interface LiveSpec {
  /** Time dilation factor ≥ 1: emulated time runs `tdf` times slower than wall time, so slower hosts can keep up. */
  readonly tdf: number;
  /**
   * Emulated ns the p99 processing lag may reach before the run is reported invalid, or `auto`: a fraction
   * of the scenario's shortest modelled time constant (the controller's `lagBound` works it out).
   */
  readonly maxLag: Nanos | 'auto';
  readonly placement: LivePlacement;
  readonly processes: LiveProcesses;
  /** NATS server URL(s) as written (comma-separated); `""` means start a private nats-server on a random loopback port. */
  readonly nats: string;
  /** WALL-clock ns between "all actors ready" and emulated time 0 (not dilated). */
  readonly startDelay: Nanos;
  /** WALL-clock ns to wait after the end for messages still on the bus (not dilated). */
  readonly drainTime: Nanos;
  /** WALL-clock ns an actor process waits at least between two pumps (0: none), so more of what it sends shares a NATS message. */
  readonly batchWindow: Nanos;
  /**
   * EMULATED ns of the scenario each actor process rehearses in `sim` before it reports ready, every
   * message through the wire codec, so that its code is compiled before emulated time starts (0: none).
   */
  readonly codeWarmup: Nanos;
  /**
   * WALL-clock ns the controller waits for every actor process to say hello, or `auto`: 30 s plus 3 s per
   * actor process per core of the controller's machine (start-up costs each process about a second of CPU).
   */
  readonly readyTimeout: Nanos | 'auto';
  /** WALL-clock ns a lost NATS connection may stay lost before the controller ends the run and actors exit. */
  readonly busOutageLimit: Nanos;
}

/** One actor (or a set of them, `*`) named by a fault target. */
export type ActorSelector =
  | { readonly role: 'nic' }
  | { readonly role: 'backend' }
  | { readonly role: 'worker'; readonly index: number | '*' }
  | { readonly role: 'vm'; readonly index: number | '*'; readonly queue: number | '*' }
  | { readonly role: '*' };

/** What a fault applies to: actors (and guest queues), a link between actors, a Docker node, or the NATS server. */
export type FaultTarget =
  | { readonly kind: 'actor'; readonly actor: ActorSelector }
  | { readonly kind: 'link'; readonly from: ActorSelector; readonly to: ActorSelector }
  | { readonly kind: 'node'; readonly name: string }
  | { readonly kind: 'nats' };

/** One scheduled fault (possibly repeated), with every default applied. */
export interface FaultSpec {
  readonly id: string;
  readonly action: FaultAction;
  readonly target: FaultTarget;
  /** The target in canonical text form (`vm:0:queue:1`, `link:worker:1>vm:0`). */
  readonly targetText: string;
  /** First occurrence's start (emulated ns from the run start). */
  readonly start: Nanos;
  /** 0: instantaneous, or (for actions with an optional duration) until the end of the run. */
  readonly duration: Nanos;
  /** Repeat interval (0 when not repeated) and number of occurrences. */
  readonly every: Nanos;
  readonly count: number;
  readonly params: FaultParams;
}

/** netback's queueing in front of each guest RX ring, and its settings that matter when things go wrong. */
export interface NetbackSpec {
  /** rx_queue_max: skb bytes a queue's guest-RX queue holds before netback stops the vif's transmit queue. */
  readonly rxQueueBytes: number;
  readonly qdisc: QdiscKind;
  /** rx_stall_timeout: packets waiting with no posted RX buffer for this long declare the queue stalled (0: off). */
  readonly rxStallTimeout: Nanos;
  /** On a declared stall, re-send the notification (splitnet's rescue; Xen itself only turns the carrier off). */
  readonly stallKick: boolean;
  /** How its work is scheduled on scheduled dom0 vCPUs (with dedicated cores nothing is scheduled). */
  readonly threading: NetbackThreading;
}

export interface CompiledScenario {
  /** Where it came from (file path or `<inline>`), for messages. */
  readonly source: string;
  readonly name: string;
  readonly description: string;
  readonly seed: number;
  readonly duration: Nanos;
  readonly warmup: Nanos;
  /** Metrics time-series interval. */
  readonly sampleInterval: Nanos;
  /**
   * `sim`: every actor in one process in virtual time; `live`: actors over NATS against a (dilated) wall clock, set
   * up by `live`; `lockstep`: sim's run split into partitions over NATS, synchronised in emulated time (the cli runs it).
   */
  readonly runtime: 'sim' | 'live' | 'lockstep';
  readonly live: LiveSpec;
  readonly topology: {
    readonly linkGbps: number;
    readonly nicQueues: number;
    /** Hardware RX descriptors per NIC queue: packets the driver has not processed beyond this are dropped (`nic-ring-full`). */
    readonly nicRingSize: number;
    readonly vms: readonly VmSpec[];
    readonly workers: number;
    /** The driver domain's vCPUs: dedicated cores (today's layout) or scheduled vCPUs. */
    readonly dom0: Dom0Spec;
    readonly vrss: VrssMode;
    readonly steering: Steering;
    /** The front end's Toeplitz configuration (steering `toeplitz` only, else null). */
    readonly toeplitz: {
      readonly key: readonly number[];
      /** Entries of the queue mapping, 1 … 128; netback takes mapping[hash % mappingSize]. */
      readonly mappingSize: number;
      /** Each packet carries its hash to the guest in an extra ring slot (XEN_NETIF_EXTRA_TYPE_HASH). */
      readonly hashSlot: boolean;
    } | null;
    /** Toeplitz key (40 bytes) of the NIC's hardware RSS. */
    readonly rssKey: readonly number[];
    /** NIC indirection table entries (power of two ≤ 128). */
    readonly retaSize: number;
  };
  readonly traffic: {
    readonly generators: readonly GeneratorSpec[];
    readonly flows: readonly FlowSpec[];
  };
  readonly coalescing: CoalescingPlacement;
  readonly napi: {
    /** NAPI budget (weight) per poll. */
    readonly budget: number;
  };
  readonly costs: CostProfile;
  readonly netback: NetbackSpec;
  /** The transmit path's settings; null when no guest sends (the scenario is receive-only). */
  readonly tx: TxSpec | null;
  /** The fault schedule (empty: a fault-free run). */
  readonly faults: readonly FaultSpec[];
  /**
   * The scenario in its own YAML format with every default filled in (durations and rates as
   * strings, policies as maps, the cost profile written out in full). Compiling it gives the same
   * CompiledScenario (apart from `source`); save it with `formatResolvedYaml`.
   */
  readonly resolved: Readonly<Record<string, unknown>>;
  /**
   * A multi-host scenario (`hosts:`): every host's own compiled view and the switch joining them (absent: one host,
   * this scenario). The scenario's own fields are then host 0's view, with the run-wide settings every host shares.
   */
  readonly cluster?: ClusterSpec;
  /** In a host's view of a multi-host scenario: which host it is and what of its traffic crosses the fabric. */
  readonly host?: HostPlace;
}

/** Several Xen hosts joined by one switch. */
export interface ClusterSpec {
  /** Host i's view: a single-host scenario whose flow table holds the flows with an end on host i. */
  readonly hosts: readonly CompiledScenario[];
  readonly fabric: FabricSpec;
  /** Faults on hosts and switch ports, in the order written. */
  readonly faults: readonly ClusterFault[];
}

/** A fault of a multi-host scenario: on host `index` (all its actors) or on switch port `index`, from `at` to `until`. */
export interface ClusterFault {
  readonly id: string;
  readonly at: Nanos;
  readonly until: Nanos;
  /**
   * host-pause: the host's actors stop (their inputs wait) and its switch port is down; host-kill: the host crashes
   * (its driver, workers and guests die, its NIC's link and its switch port go down) until restartAfter, else to the end; port-*:
   * the port goes down, loses frames, delays them.
   */
  readonly kind: 'host-pause' | 'host-kill' | 'port-down' | 'port-loss' | 'port-delay';
  readonly index: number;
  readonly probability?: number;
  readonly delay?: Nanos;
  /** host-kill: when the host comes back (its power cycled), after the kill; absent: it stays down to the end. */
  readonly restartAfter?: Nanos;
}

/** Where a host sits in a cluster. */
export interface HostPlace {
  readonly index: number;
  /** Generators (indices into this view's traffic) whose frames come from the switch: the NIC neither generates them nor runs their far ends. */
  readonly remoteGenerators: readonly number[];
  /** Per flow of this view: 1 when it crosses the fabric (the frames this host's guests send on it go to the switch). */
  readonly fabricFlows: Uint8Array;
}

/** One switch port toward host `index` (the port index is the host's). */
export interface FabricPortSpec {
  /** The port's and its cable's line rate. */
  readonly linkGbps: number;
  /** Output queue capacity, bytes (drop-tail). */
  readonly queueBytes: number;
  /** Propagation delay of the cable between the host's NIC and the port, plus the switch's own latency, per direction. */
  readonly delay: Nanos;
}

/**
 * A traffic source outside the cluster on a switch port of its own (`from: external`): port `port` (after the hosts'
 * ports), its frames sent on its cable at `linkGbps` and arriving at the switch `delay` later, then queued at the
 * output port toward host `host` as any frame between hosts is.
 */
export interface FabricSourceSpec {
  readonly name: string;
  readonly port: number;
  /** The receiving host, and its view's generator (its flow ids are that host's). */
  readonly host: number;
  readonly generator: GeneratorSpec;
  /** The receiving host's flow count (the source numbers its frames' per-flow sequence over them). */
  readonly flowCount: number;
  readonly linkGbps: number;
  readonly delay: Nanos;
  /** The source's own seed (its Poisson gaps and frame sizes). */
  readonly seed: number;
}

export interface FabricSpec {
  readonly ports: readonly FabricPortSpec[];
  /** External traffic sources on ports of their own (absent: none). */
  readonly sources?: readonly FabricSourceSpec[];
  /** Per ingress port (host), per flow of that host: the egress port (−1: none) and the flow's id on the egress host. */
  readonly routes: readonly { readonly port: Int32Array; readonly flow: Uint32Array }[];
}
