// CUBIC congestion control (RFC 9438) with the constants and structure of Linux's net/ipv4/tcp_cubic.c.
import type { CongestionControl, CongestionWindow } from './tcp-congestion.js';
import { inSlowStart, tcpCongAvoidAi, tcpSlowStart } from './tcp-congestion.js';
import type { Nanos } from './time.js';
import { SEC } from './time.js';

/** Linux `beta` = 717/1024 ≈ 0.7: the window kept on a loss (RFC 9438 §4.6, β_cubic = 0.7). */
export const CUBIC_BETA = 717 / 1024;
/** Linux `bic_scale` 41 gives C = 41·10/1024 ≈ 0.4 segments/s³ (RFC 9438 §5, C = 0.4). */
export const CUBIC_C = (41 * 10) / 1024;
/**
 * Linux's Reno-friendly step: the estimated Reno window grows one segment every `cwnd · beta_scale / 8`
 * ACKed segments, beta_scale = 8·(1024 + 717) / 3 / (1024 − 717) = 15 in integer arithmetic, i.e. α ≈ 0.53
 * per RTT (RFC 9438 §4.3, α_cubic = 3(1 − β)/(1 + β)).
 */
const BETA_SCALE = Math.floor(Math.floor((8 * (1024 + 717)) / 3) / (1024 - 717));
/** bictcp_update: "The initial growth of cubic function may be too conservative" — at most 5 % per RTT before any loss. */
const CNT_BEFORE_FIRST_LOSS = 20;
/** cubictcp_acked: delay samples within 1 s (HZ) of an epoch's start are ignored (right after recovery). */
const DELAY_SAMPLE_HOLDOFF: Nanos = SEC;

/**
 * CUBIC as Linux runs it, in floating point instead of Linux's fixed point (the curve is the same to well
 * under a segment; Linux also recomputes at most once per jiffy, this model on every ACK):
 * - on loss (cubictcp_recalc_ssthresh): W_max = cwnd, or cwnd·(1 + β)/2 with fast convergence when the
 *   window had not regained the previous W_max (RFC 9438 §4.7); ssthresh = max(cwnd·β, 2);
 * - in congestion avoidance (bictcp_update): an epoch starts at the first ACK after a loss;
 *   K = ∛((W_max − cwnd)/C) and the target is W(t) = C·(t − K)³ + W_max at t = time since the epoch plus
 *   the minimum RTT (RFC 9438 §4.2); the window grows by one segment every `cnt` segments acked,
 *   cnt = cwnd / (target − cwnd), never faster than one per two acked (cnt ≥ 2);
 * - the Reno-friendly region (RFC 9438 §4.3): an estimate of Reno's window limits cnt so that CUBIC is
 *   never slower than Reno would be;
 * - an RTO (cubictcp_state, TCP_CA_Loss) forgets everything, W_max included.
 * Slow start is Linux's tcp_slow_start. HyStart (hybrid slow start) is not modelled: slow start ends at the
 * first loss, as with hystart=0 — at datacenter RTTs its delay threshold (≥ 4 ms) rarely fires anyway.
 */
export class CubicCongestionControl implements CongestionControl {
  readonly name = 'cubic';
  private cnt = 0;
  private lastMaxCwnd = 0;
  private epochStart: Nanos = -1;
  private originPoint = 0;
  /** K in seconds. */
  private k = 0;
  private delayMin: Nanos = 0;
  private ackCnt = 0;
  private tcpCwnd = 0;

  constructor(
    private readonly fastConvergence = true,
    private readonly tcpFriendliness = true,
  ) {}

  /** The W_max the curve returns to (0 before the first loss or after an RTO). */
  get wMax(): number {
    return this.lastMaxCwnd;
  }

  /** The cubic curve's target window at `now` (for tests and traces; NaN outside an epoch). */
  target(now: Nanos): number {
    if (this.epochStart < 0) return NaN;
    const t = (now - this.epochStart + this.delayMin) / SEC;
    return this.originPoint + CUBIC_C * (t - this.k) ** 3;
  }

  congAvoid(w: CongestionWindow, acked: number, now: Nanos): void {
    let left = acked;
    if (inSlowStart(w)) {
      left = tcpSlowStart(w, acked);
      if (left === 0) return;
    }
    this.update(w.cwnd, left, now);
    tcpCongAvoidAi(w, this.cnt, left);
  }

  ssthresh(w: CongestionWindow): number {
    this.epochStart = -1;
    if (w.cwnd < this.lastMaxCwnd && this.fastConvergence) {
      this.lastMaxCwnd = (w.cwnd * (1 + CUBIC_BETA)) / 2;
    } else {
      this.lastMaxCwnd = w.cwnd;
    }
    return Math.max(Math.floor(w.cwnd * CUBIC_BETA), 2);
  }

  onAcked(rtt: Nanos, now: Nanos): void {
    if (this.epochStart >= 0 && now - this.epochStart < DELAY_SAMPLE_HOLDOFF) return;
    if (this.delayMin === 0 || rtt < this.delayMin) this.delayMin = Math.max(rtt, 1);
  }

  onTimeout(): void {
    this.cnt = 0;
    this.lastMaxCwnd = 0;
    this.epochStart = -1;
    this.originPoint = 0;
    this.k = 0;
    this.delayMin = 0;
    this.ackCnt = 0;
    this.tcpCwnd = 0;
  }

  /** bictcp_update: the number of acked segments per one-segment increase. */
  private update(cwnd: number, acked: number, now: Nanos): void {
    this.ackCnt += acked;
    if (this.epochStart < 0) {
      this.epochStart = now;
      this.ackCnt = acked;
      this.tcpCwnd = cwnd;
      if (this.lastMaxCwnd <= cwnd) {
        this.k = 0;
        this.originPoint = cwnd;
      } else {
        this.k = Math.cbrt((this.lastMaxCwnd - cwnd) / CUBIC_C);
        this.originPoint = this.lastMaxCwnd;
      }
    }
    const target = this.target(now);
    this.cnt = target > cwnd ? Math.floor(cwnd / (target - cwnd)) : 100 * cwnd;
    if (this.lastMaxCwnd === 0 && this.cnt > CNT_BEFORE_FIRST_LOSS) this.cnt = CNT_BEFORE_FIRST_LOSS;
    if (this.tcpFriendliness) {
      const per = Math.max(1, Math.floor((cwnd * BETA_SCALE) / 8));
      while (this.ackCnt > per) {
        this.ackCnt -= per;
        this.tcpCwnd += 1;
      }
      if (this.tcpCwnd > cwnd) {
        const maxCnt = Math.floor(cwnd / (this.tcpCwnd - cwnd));
        if (this.cnt > maxCnt) this.cnt = maxCnt;
      }
    }
    this.cnt = Math.max(this.cnt, 2);
  }
}
