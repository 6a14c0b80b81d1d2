// The congestion-control port of the TCP sender, Linux's shared window arithmetic, and Reno/NewReno's increase and decrease.
import type { Nanos } from './time.js';

/** Linux TCP_INIT_CWND (include/net/tcp.h) and RFC 6928's initial window: 10 segments. */
export const TCP_INIT_CWND = 10;
/** Linux TCP_INFINITE_SSTHRESH: slow start runs until the first loss. */
export const TCP_INFINITE_SSTHRESH = 0x7fff_ffff;

export type CongestionControlName = 'cubic' | 'reno';

/**
 * The sender's congestion window in segments (Linux counts packets: tcp_sock.snd_cwnd) with its
 * fractional-increase counter (snd_cwnd_cnt) and slow-start threshold. Congestion controls change it in
 * place, as Linux's tcp_congestion_ops do.
 */
export interface CongestionWindow {
  cwnd: number;
  cwndCnt: number;
  ssthresh: number;
}

/** A congestion-control algorithm, shaped like Linux's struct tcp_congestion_ops. */
export interface CongestionControl {
  readonly name: CongestionControlName;
  /**
   * `acked` segments were newly acknowledged while the sender was cwnd-limited and not in recovery:
   * grow the window (cong_avoid).
   */
  congAvoid(w: CongestionWindow, acked: number, now: Nanos): void;
  /** A loss was detected: the slow-start threshold to use from now on (ssthresh). */
  ssthresh(w: CongestionWindow, now: Nanos): number;
  /** A valid RTT sample for `acked` segments (pkts_acked). */
  onAcked(rtt: Nanos, now: Nanos): void;
  /** The retransmission timer expired (set_state(TCP_CA_Loss)). */
  onTimeout(): void;
}

/** tcp_in_slow_start (include/net/tcp.h). */
export function inSlowStart(w: CongestionWindow): boolean {
  return w.cwnd < w.ssthresh;
}

/**
 * Slow start with appropriate byte counting in packets (tcp_slow_start, net/ipv4/tcp_cong.c; RFC 5681 §3.1,
 * RFC 3465): cwnd grows by the number of segments acked, so a delayed ACK covering two segments grows it by
 * two and the window still doubles each RTT. Stops at ssthresh; returns the acked segments left over for
 * congestion avoidance.
 */
export function tcpSlowStart(w: CongestionWindow, acked: number): number {
  const cwnd = Math.min(w.cwnd + acked, w.ssthresh);
  const used = cwnd - w.cwnd;
  w.cwnd = cwnd;
  return acked - used;
}

/**
 * Additive increase: one segment per `per` segments acked (tcp_cong_avoid_ai, net/ipv4/tcp_cong.c). Reno
 * uses per = cwnd (RFC 5681 §3.1: about one segment per RTT); CUBIC passes its own count.
 */
export function tcpCongAvoidAi(w: CongestionWindow, per: number, acked: number): void {
  if (w.cwndCnt >= per) {
    w.cwndCnt = 0;
    w.cwnd += 1;
  }
  w.cwndCnt += acked;
  if (w.cwndCnt >= per) {
    const delta = Math.floor(w.cwndCnt / per);
    w.cwndCnt -= delta * per;
    w.cwnd += delta;
  }
}

/**
 * Reno (RFC 5681 §3.1; Linux tcp_reno_cong_avoid / tcp_reno_ssthresh in net/ipv4/tcp_cong.c): slow start,
 * then one segment per RTT; halve the window on loss, never below two segments. The NewReno part (RFC 6582,
 * partial ACKs in fast recovery) lives in the sender, as in Linux, because it is the same for every
 * congestion control.
 */
export class RenoCongestionControl implements CongestionControl {
  readonly name = 'reno';

  congAvoid(w: CongestionWindow, acked: number): void {
    let left = acked;
    if (inSlowStart(w)) {
      left = tcpSlowStart(w, acked);
      if (left === 0) return;
    }
    tcpCongAvoidAi(w, w.cwnd, left);
  }

  ssthresh(w: CongestionWindow): number {
    return Math.max(Math.floor(w.cwnd / 2), 2);
  }

  onAcked(): void {}

  onTimeout(): void {}
}
