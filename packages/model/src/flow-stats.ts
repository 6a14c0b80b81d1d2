// Per-flow statistics of the TCP models: goodput, RTT distribution, a bounded cwnd trace, retransmissions.
import { SplitnetError } from './errors.js';
import { LatencyHistogram } from './histogram.js';
import type { Nanos } from './time.js';
import { US } from './time.js';

/** One cwnd sample: time and window in segments. */
export interface CwndSample {
  readonly t: Nanos;
  readonly cwnd: number;
}

/**
 * The congestion window over time in bounded memory. A sample is kept at most every `interval`; when
 * `capacity` samples are held, every second one is dropped and the interval doubles, so a run of any
 * length keeps between capacity/2 and capacity evenly spaced samples covering all of it.
 */
export class CwndTrace {
  private readonly times: number[] = [];
  private readonly values: number[] = [];
  private interval: Nanos;
  private lastT = -Infinity;

  constructor(
    private readonly capacity = 1024,
    initialInterval: Nanos = 100 * US,
  ) {
    if (!Number.isInteger(capacity) || capacity < 4) {
      throw new SplitnetError('E_USAGE', `CwndTrace: expected a capacity ≥ 4, found ${String(capacity)}`);
    }
    this.interval = initialInterval;
  }

  /** The spacing samples are kept at now. */
  get spacing(): Nanos {
    return this.interval;
  }

  get length(): number {
    return this.times.length;
  }

  record(t: Nanos, cwnd: number): void {
    if (t - this.lastT < this.interval) return;
    this.times.push(t);
    this.values.push(cwnd);
    this.lastT = t;
    if (this.times.length >= this.capacity) this.decimate();
  }

  samples(): CwndSample[] {
    return this.times.map((t, i) => ({ t, cwnd: this.values[i] ?? 0 }));
  }

  private decimate(): void {
    let j = 0;
    for (let i = 0; i < this.times.length; i += 2) {
      this.times[j] = this.times[i] ?? 0;
      this.values[j] = this.values[i] ?? 0;
      j++;
    }
    this.times.length = j;
    this.values.length = j;
    this.interval *= 2;
    this.lastT = this.times[j - 1] ?? -Infinity;
  }
}

/** A flow's summary for results files: bytes in Gbit/s and times in ns, as the rest of splitnet reports them. */
export interface FlowSummary {
  readonly deliveredBytes: number;
  readonly goodputGbps: number;
  readonly rttMinNs: Nanos;
  readonly rttMeanNs: Nanos;
  readonly rttP99Ns: Nanos;
  readonly rttSamples: number;
  readonly segmentsSent: number;
  readonly retransmissions: number;
  readonly fastRetransmits: number;
  readonly timeouts: number;
  readonly cwnd: readonly CwndSample[];
}

/**
 * What one TCP flow measures. The sender records RTT samples, cwnd and retransmissions; whoever sees the
 * in-order bytes (the receiver side) records deliveries. Goodput is payload delivered in order per second
 * between the flow's start and `now` (headers and retransmitted copies not counted).
 */
export class FlowStats {
  readonly rtt = new LatencyHistogram();
  readonly cwnd: CwndTrace;
  deliveredBytes = 0;
  segmentsSent = 0;
  retransmissions = 0;
  fastRetransmits = 0;
  timeouts = 0;
  private startedAt: Nanos = -1;

  constructor(cwndTrace: CwndTrace = new CwndTrace()) {
    this.cwnd = cwndTrace;
  }

  /** Mark the flow's start (the first segment sent); later calls are ignored. */
  start(now: Nanos): void {
    if (this.startedAt < 0) this.startedAt = now;
  }

  recordDelivered(bytes: number): void {
    this.deliveredBytes += bytes;
  }

  /** Payload bits per ns (= Gbit/s) delivered in order from the flow's start to `now`. */
  goodputGbps(now: Nanos): number {
    const span = now - this.startedAt;
    return this.startedAt < 0 || span <= 0 ? 0 : (this.deliveredBytes * 8) / span;
  }

  /** `withCwnd` false: the cwnd trace left empty (a sample's report, which drops it: copying it made a thousand objects a flow). */
  summary(now: Nanos, withCwnd = true): FlowSummary {
    return {
      deliveredBytes: this.deliveredBytes,
      goodputGbps: this.goodputGbps(now),
      rttMinNs: this.rtt.min,
      rttMeanNs: this.rtt.mean,
      rttP99Ns: this.rtt.percentile(99),
      rttSamples: this.rtt.count,
      segmentsSent: this.segmentsSent,
      retransmissions: this.retransmissions,
      fastRetransmits: this.fastRetransmits,
      timeouts: this.timeouts,
      cwnd: withCwnd ? this.cwnd.samples() : [],
    };
  }
}
