// Traffic description types shared by the scenario compiler and the NIC's traffic source.
import type { Nanos } from './time.js';

export type PacketSize =
  | { readonly kind: 'fixed'; readonly bytes: number }
  | { readonly kind: 'uniform'; readonly min: number; readonly max: number }
  | { readonly kind: 'choice'; readonly values: readonly number[]; readonly weights: readonly number[] };

export type TrafficPattern =
  | { readonly kind: 'constant' }
  | { readonly kind: 'poisson' }
  /** Alternating bursts: `on` ns at the generator's rate, then `off` ns of silence. */
  | { readonly kind: 'onoff'; readonly on: Nanos; readonly off: Nanos };

export interface GeneratorSpec {
  readonly name: string;
  /** Offered load in frames per second of emulated time (the wire still caps it at line rate). */
  readonly pps: number;
  readonly pattern: TrafficPattern;
  /** Ethernet frame length in bytes (header + payload + FCS, 64–9018); the wire adds 20 bytes of preamble and inter-frame gap. */
  readonly size: PacketSize;
  /** This generator's flows are [firstFlow, firstFlow + flows) in the flow table, used round-robin. */
  readonly firstFlow: number;
  readonly flows: number;
  readonly start: Nanos;
  readonly stop: Nanos;
  /**
   * Where the pattern's grid lies relative to `start` (ns ≥ 0, taken modulo the pattern's cycle;
   * default 0, the grid starts at `start`). Constant: frames are due at start + phase + k/pps.
   * On/off: bursts begin at start + phase + k·(on + off) for every integer k, so a burst may
   * already be under way at `start` (it then sends the rest of it). Poisson has no grid (its
   * arrivals are memoryless): its phase must be 0. The scenario compiler draws it from the run
   * seed unless the scenario fixes it, so repetitions start at different points of the cycle.
   */
  readonly phase?: Nanos;
  /**
   * The guest that sends this generator's frames (a VM index), through its netfront's TX ring; absent: the
   * frames arrive from the wire at the NIC.
   */
  readonly sender?: number;
  /** With `sender`: the guest on the same host its frames go to through the bridge; absent: out to the wire. */
  readonly receiver?: number;
  /**
   * A closed-loop generator: each flow is a TCP connection (bulk or request/response) between a far end behind the
   * wire and a guest, or (with `sender` and `receiver`) between two guests; its frames come from the TCP models, not
   * from `pps`, `pattern` and `size` (the open-loop sources skip it). Absent: open loop.
   */
  readonly closedLoop?: ClosedLoopSpec;
}

/** The TCP (and TCP_RR) settings of a closed-loop generator, as the scenario compiler resolved them. */
export interface ClosedLoopSpec {
  /** bulk: the active end sends as fast as its windows allow; rr: it runs netperf TCP_RR's client loop. */
  readonly workload: 'bulk' | 'rr';
  /**
   * Which end is active (the bulk sender, the rr client): `far`, the host behind the wire (the default: the
   * guest receives, or serves); `guest`, the guest (a generator with from: vm.<index>; with to: vm.<index> too,
   * both ends are guests and the sending one is active).
   */
  readonly active?: 'far' | 'guest';
  readonly cc: 'cubic' | 'reno';
  /** The receiving end's socket buffer (the advertised window is half of it). */
  readonly rcvbuf: number;
  readonly mss: number;
  /** Request and response sizes (rr only). */
  readonly requestBytes?: number;
  readonly responseBytes?: number;
}

/** Bytes of preamble + start delimiter (8) and inter-frame gap (12) each frame costs on the wire. */
export const WIRE_OVERHEAD_BYTES = 20;
