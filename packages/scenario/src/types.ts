// The compiled scenario: every default applied, validated and frozen; what actors are built from.
import type { GeneratorSpec, Nanos, PolicySpec } from '@splitnet/model';

export type VrssMode = 'single' | 'per-vif' | 'per-flow';

export interface VmSpec {
  readonly id: number;
  /** Netfront queues = guest vCPUs used for receive (one queue per vCPU). */
  readonly queues: number;
  /** Guest RX ring slots (power of two). */
  readonly ringSize: number;
}

export type { PacketSize, TrafficPattern, GeneratorSpec } from '@splitnet/model';

export interface FlowSpec {
  readonly id: number;
  readonly generator: number;
  /** Destination VM index. */
  readonly vm: number;
  readonly ipVersion: 4 | 6;
  readonly protocol: 'tcp' | 'udp';
  /** Addresses in network byte order (4 or 16 bytes). */
  readonly src: readonly number[];
  readonly dst: readonly number[];
  readonly srcPort: number;
  readonly dstPort: number;
}

/** Emulated CPU costs in ns (fractional allowed for per-byte costs). See the cost profile YAML for sources. */
export interface CostProfile {
  readonly name: string;
  readonly nic: {
    /** Physical interrupt entry + handler on the driver domain core. */
    readonly irq: number;
  };
  readonly backend: {
    /** Driver NAPI poll overhead per DMA batch. */
    readonly perBatch: number;
    /** Driver receive + bridge demux + vRSS steering per packet. */
    readonly perPacket: number;
  };
  readonly worker: {
    /** Fixed overhead of one netback RX pass (thread wake-up, batch set-up, grant-copy hypercall). */
    readonly perPass: number;
    /** Per-packet grant copy and response set-up. */
    readonly perPacket: number;
    /** Per-byte copy cost (ns/byte). */
    readonly perByte: number;
    /** Event-channel notify hypercall. */
    readonly notify: number;
    /** Driver-domain timer interrupt (back-end coalescing timer). */
    readonly timer: number;
  };
  readonly frontend: {
    /** Virtual interrupt delivery: VM exit/entry, event-channel upcall, handler scheduling NAPI. */
    readonly virq: number;
    /** Fixed overhead of one NAPI poll. */
    readonly pollOverhead: number;
    /** Guest network stack + application receive per packet. */
    readonly perPacket: number;
    /** Guest per-byte cost (ns/byte). */
    readonly perByte: number;
    /** Re-posting one RX buffer (grant + request). */
    readonly refillPerPacket: number;
    /** A guest timer tick that polls (front-end coalescing). */
    readonly timerTick: number;
    /** Notify hypercall when new requests must wake the back-end. */
    readonly notify: number;
  };
  /** One-way delay of a message between actors on one host (shared-page visibility, event-channel signal). */
  readonly link: number;
}

export interface CoalescingPlacement {
  /** Physical interrupt moderation on the NIC queues (ethtool / adaptive ITR). */
  readonly nic: PolicySpec;
  /** Back-end coalescing: the worker holds its notify hypercall. */
  readonly backend: PolicySpec;
  /** Front-end coalescing: the guest sets its event index further ahead and polls from a timer. */
  readonly frontend: PolicySpec;
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
  readonly runtime: 'sim';
  readonly topology: {
    readonly linkGbps: number;
    readonly nicQueues: number;
    /** Hardware RX descriptors per NIC queue: packets the driver has not processed beyond this are dropped (`nic-ring-full`). */
    readonly nicRingSize: number;
    readonly vms: readonly VmSpec[];
    readonly workers: number;
    readonly vrss: VrssMode;
    /** netback's per-queue backlog: packets waiting for ring space or CPU beyond this are dropped. */
    readonly backlogPackets: number;
    /** Toeplitz key (40 bytes) used by the NIC and by the back-end's vRSS steering. */
    readonly rssKey: readonly number[];
    /** Indirection table entries (power of two ≤ 128). */
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
}
