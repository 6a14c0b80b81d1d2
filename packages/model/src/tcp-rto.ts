// The retransmission timeout: RFC 6298's smoothed RTT and variance, with Linux's floor and back-off.
import type { Nanos } from './time.js';
import { MS, SEC } from './time.js';

/** Linux TCP_RTO_MIN (include/net/tcp.h): HZ/5 = 200 ms, the floor `net.ipv4.tcp_rto_min_us` defaults to. */
export const TCP_RTO_MIN: Nanos = 200 * MS;
/** Linux TCP_RTO_MAX: 120 s (RFC 6298 §2.5 allows any maximum ≥ 60 s). */
export const TCP_RTO_MAX: Nanos = 120 * SEC;
/** RFC 6298 §2.1 initial RTO, and Linux TCP_TIMEOUT_INIT: 1 s. */
export const TCP_TIMEOUT_INIT: Nanos = SEC;

export interface RtoConfig {
  readonly rtoMin: Nanos;
  readonly rtoMax: Nanos;
  readonly rtoInitial: Nanos;
}

export const RTO_DEFAULTS: RtoConfig = { rtoMin: TCP_RTO_MIN, rtoMax: TCP_RTO_MAX, rtoInitial: TCP_TIMEOUT_INIT };

/**
 * RTT estimator and RTO (RFC 6298 §2): SRTT ← 7/8·SRTT + 1/8·R', RTTVAR ← 3/4·RTTVAR + 1/4·|SRTT − R'|,
 * the first sample setting SRTT = R and RTTVAR = R/2.
 *
 * The timeout itself follows Linux rather than the RFC's `max(SRTT + 4·RTTVAR, 1 s)`: Linux keeps the
 * variance term at least `tcp_rto_min` (tcp_rtt_estimator and __tcp_set_rto in net/ipv4/tcp_input.c, where
 * `mdev_max_us` never drops below tcp_rto_min_us), so RTO = SRTT + max(4·RTTVAR, 200 ms). On a 100 µs
 * datacenter path that is ≈ 200.1 ms. (Linux also takes the variance as the largest of the last RTT's
 * samples; this model keeps the RFC's smoothed one, which only matters when 4·RTTVAR exceeds 200 ms.)
 *
 * Back-off (RFC 6298 §5.5, Linux tcp_retransmit_timer): each expiry doubles the RTO up to the maximum; the
 * next valid sample (Karn's rule: never from a retransmitted segment, enforced by the caller) clears it.
 */
export class RtoEstimator {
  private srttNs = 0;
  private rttvarNs = 0;
  private measured = false;
  private backoffCount = 0;

  constructor(private readonly config: RtoConfig = RTO_DEFAULTS) {}

  /** The smoothed RTT, or 0 before the first sample. */
  get srtt(): Nanos {
    return this.srttNs;
  }

  get rttvar(): Nanos {
    return this.rttvarNs;
  }

  /** How many times the timer has backed off since the last valid sample. */
  get backoff(): number {
    return this.backoffCount;
  }

  /** Feed one RTT measurement (from a segment that was sent exactly once). */
  sample(rtt: Nanos): void {
    if (!this.measured) {
      this.srttNs = rtt;
      this.rttvarNs = rtt / 2;
      this.measured = true;
    } else {
      this.rttvarNs = 0.75 * this.rttvarNs + 0.25 * Math.abs(this.srttNs - rtt);
      this.srttNs = 0.875 * this.srttNs + 0.125 * rtt;
    }
    this.backoffCount = 0;
  }

  /** The timer expired: double the timeout for the retransmission (RFC 6298 §5.5). */
  backOff(): void {
    this.backoffCount += 1;
  }

  /** The current retransmission timeout, backed off and bounded by the maximum. */
  get rto(): Nanos {
    const base = this.measured ? this.srttNs + Math.max(4 * this.rttvarNs, this.config.rtoMin) : this.config.rtoInitial;
    // 2^backoff overflows nothing: the product is capped long before 2^1024.
    return Math.min(this.config.rtoMax, base * 2 ** Math.min(this.backoffCount, 64));
  }
}
