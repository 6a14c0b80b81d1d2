// A TCP sender as a pure state machine: MSS segmentation, cwnd and rwnd limits, fast retransmit and NewReno recovery, the RTO.
import { SplitnetError } from './errors.js';
import { FlowStats } from './flow-stats.js';
import { LazyTimer } from './lazy-timer.js';
import type { CongestionControl, CongestionControlName, CongestionWindow } from './tcp-congestion.js';
import { RenoCongestionControl, TCP_INFINITE_SSTHRESH, TCP_INIT_CWND, inSlowStart } from './tcp-congestion.js';
import { CubicCongestionControl } from './tcp-cubic.js';
import { RtoEstimator, RTO_DEFAULTS } from './tcp-rto.js';
import type { RtoConfig } from './tcp-rto.js';
import type { TcpAck, TcpSenderOutput } from './tcp-segment.js';
import { TCP_DEFAULT_MSS } from './tcp-segment.js';
import type { Nanos } from './time.js';

/** Linux TCP_FASTRETRANS_THRESH / RFC 5681 §3.2: the third duplicate ACK starts fast retransmit. */
export const TCP_FASTRETRANS_THRESH = 3;
/** RFC 3465 L: segments one ACK may add to cwnd; 2 keeps slow start doubling per RTT under delayed ACKs. */
const ABC_LIMIT = 2;

/**
 * Linux's congestion-avoidance states (enum tcp_ca_state) the model has: `open` (normal), `recovery` (fast
 * recovery after three duplicate ACKs), `loss` (after an RTO, until everything sent before it is acked).
 */
export type TcpSenderState = 'open' | 'recovery' | 'loss';

export interface TcpSenderConfig {
  /** Maximum segment size in payload bytes (default 1448, an Ethernet MTU with timestamps). */
  readonly mss?: number;
  /** Congestion control (default cubic, as Linux's net.ipv4.tcp_congestion_control). */
  readonly cc?: CongestionControlName;
  /** Initial window in segments (default 10, RFC 6928 / Linux TCP_INIT_CWND). */
  readonly initialCwnd?: number;
  /** Window the sender assumes before the first ACK tells it the receiver's (default 65535, an unscaled SYN's). */
  readonly initialRwnd?: number;
  readonly rto?: Partial<RtoConfig>;
  /** Where statistics go (default: a fresh FlowStats the sender owns). */
  readonly stats?: FlowStats;
}

/**
 * The segments sent and not yet acknowledged (Linux's retransmission queue, tcp_rtx_queue), oldest first, as
 * columns: entry i is [seq[i], seq[i] + len[i]), last sent at sentAt[i], retransmitted when retx[i] is 1. Entries
 * [0, head) are acknowledged (dropped once they are the larger part); the columns double when full. One object per
 * segment sent was a bulk-TCP run's largest garbage.
 */
class RtxQueue {
  seq = new Float64Array(64);
  len = new Uint32Array(64);
  sentAt = new Float64Array(64);
  retx = new Uint8Array(64);
  /** One past the newest entry. */
  length = 0;

  push(seq: number, len: number, sentAt: Nanos): void {
    if (this.length === this.seq.length) this.grow();
    const i = this.length++;
    this.seq[i] = seq;
    this.len[i] = len;
    this.sentAt[i] = sentAt;
    this.retx[i] = 0;
  }

  /** Drop entries [0, n), moving the rest to the front. */
  dropFront(n: number): void {
    this.seq.copyWithin(0, n, this.length);
    this.len.copyWithin(0, n, this.length);
    this.sentAt.copyWithin(0, n, this.length);
    this.retx.copyWithin(0, n, this.length);
    this.length -= n;
  }

  private grow(): void {
    const cap = this.seq.length * 2;
    const seq = new Float64Array(cap);
    const len = new Uint32Array(cap);
    const sentAt = new Float64Array(cap);
    const retx = new Uint8Array(cap);
    seq.set(this.seq);
    len.set(this.len);
    sentAt.set(this.sentAt);
    retx.set(this.retx);
    this.seq = seq;
    this.len = len;
    this.sentAt = sentAt;
    this.retx = retx;
  }
}

export function createCongestionControl(name: CongestionControlName): CongestionControl {
  switch (name) {
    case 'cubic':
      return new CubicCongestionControl();
    case 'reno':
      return new RenoCongestionControl();
  }
}

/**
 * The sending half of a TCP connection, with no SACK (neither end offers it in the models): loss is learnt
 * from three duplicate ACKs or from the RTO. What it does and where each rule comes from:
 * - segments of at most MSS bytes, as many as min(cwnd, receive window) allows (tcp_write_xmit /
 *   tcp_cwnd_test / tcp_snd_wnd_test in net/ipv4/tcp_output.c), no Nagle (as with TCP_NODELAY: netperf
 *   -D), no pacing, no TSO: every segment leaves when the window opens;
 * - the congestion control grows the window on ACKs of new data only while the window is what limits
 *   sending (tcp_is_cwnd_limited, RFC 7661), so an rwnd- or application-limited flow keeps its cwnd;
 * - fast retransmit on the third duplicate ACK and NewReno fast recovery (RFC 5681 §3.2, RFC 6582):
 *   ssthresh from the congestion control, cwnd = ssthresh + 3 inflated by one per further duplicate, a
 *   partial ACK retransmits the next hole and deflates, the ACK covering `recover` ends recovery at
 *   cwnd = ssthresh. Linux reaches the same end point with Proportional Rate Reduction (RFC 6937), which
 *   spreads the sends during recovery more evenly; the model keeps the RFC 6582 inflation;
 * - the RTO (tcp-rto.ts) restarts on each ACK of new data (RFC 6298 §5.3); on expiry ssthresh is set
 *   (unless already in recovery or loss, as tcp_enter_loss in net/ipv4/tcp_input.c does), cwnd = 1
 *   (RFC 5681 §3.1 loss window) and everything outstanding is resent from snd_una in slow start
 *   (without SACK Linux marks all of it lost, the same go-back-N), the timer backing off.
 * Sequence numbers are byte offsets from 0; the connection is already established (no handshake, no FIN).
 */
export class TcpSender {
  readonly mss: number;
  readonly cc: CongestionControl;
  readonly stats: FlowStats;
  private readonly rtoEstimator: RtoEstimator;
  private readonly window: CongestionWindow;
  private caState: TcpSenderState = 'open';
  /** Oldest unacknowledged byte (snd_una). */
  private una = 0;
  /** Next byte to send (snd_nxt); below `max` while resending after an RTO. */
  private nxt = 0;
  /** One past the highest byte ever sent. */
  private max = 0;
  /** One past the last byte the application has written (Infinity: a bulk flow that never runs dry). */
  private appEnd = 0;
  /** Right edge of the receiver's window: snd_una + the last advertised window. */
  private wndEdge: number;
  private lastWindow: number;
  private dupAcks = 0;
  /** RFC 6582 `recover`: one past the highest byte sent when recovery or loss began. */
  private recover = 0;
  /** Was the last send attempt stopped by cwnd (not by rwnd or by the application)? */
  private cwndLimited = false;
  /** Retransmission queue, oldest first, from index `head`; `nxtIndex` is the segment at `nxt` while resending. */
  private readonly queue = new RtxQueue();
  private head = 0;
  private nxtIndex = 0;
  private readonly rtoTimer = new LazyTimer();

  constructor(config: TcpSenderConfig = {}) {
    this.mss = config.mss ?? TCP_DEFAULT_MSS;
    if (!Number.isInteger(this.mss) || this.mss < 64 || this.mss > 65_495) {
      throw new SplitnetError('E_USAGE', `TcpSender: expected an mss of 64-65495 bytes, found ${String(config.mss)}`);
    }
    const initialCwnd = config.initialCwnd ?? TCP_INIT_CWND;
    if (!Number.isInteger(initialCwnd) || initialCwnd < 1) {
      throw new SplitnetError('E_USAGE', `TcpSender: expected an initial cwnd ≥ 1 segment, found ${String(config.initialCwnd)}`);
    }
    this.cc = createCongestionControl(config.cc ?? 'cubic');
    this.stats = config.stats ?? new FlowStats();
    this.rtoEstimator = new RtoEstimator({ ...RTO_DEFAULTS, ...config.rto });
    this.window = { cwnd: initialCwnd, cwndCnt: 0, ssthresh: TCP_INFINITE_SSTHRESH };
    this.lastWindow = config.initialRwnd ?? 65_535;
    this.wndEdge = this.lastWindow;
  }

  get cwnd(): number {
    return this.window.cwnd;
  }
  get ssthresh(): number {
    return this.window.ssthresh;
  }
  get state(): TcpSenderState {
    return this.caState;
  }
  get sndUna(): number {
    return this.una;
  }
  get sndNxt(): number {
    return this.nxt;
  }
  /** Smoothed RTT (0 before the first sample) and the current RTO. */
  get srtt(): Nanos {
    return this.rtoEstimator.srtt;
  }
  get rto(): Nanos {
    return this.rtoEstimator.rto;
  }
  /** Bytes written by the application and not yet acknowledged. */
  get unacked(): number {
    return this.appEnd - this.una;
  }
  /** The time the retransmission timer is due, or undefined when nothing is outstanding. */
  get timerDeadline(): Nanos | undefined {
    return this.rtoTimer.deadline;
  }

  /** The application writes `bytes` more (Infinity for a bulk flow); sends what the windows allow now. */
  write(bytes: number, now: Nanos, out: TcpSenderOutput): void {
    if (!(bytes > 0)) throw new SplitnetError('E_USAGE', `TcpSender.write: expected a byte count > 0, found ${String(bytes)}`);
    this.appEnd += bytes;
    this.stats.start(now);
    this.transmit(now, out);
  }

  /**
   * An ACK arrives: a pure one, or (`withData`) one carried by a data segment of the other direction, which
   * never counts as a duplicate (RFC 5681 §2: a duplicate ACK carries no data).
   */
  onAck(ack: TcpAck, now: Nanos, out: TcpSenderOutput, withData = false): void {
    const a = ack.ack;
    if (a > this.max) return; // acknowledges data never sent: ignored (RFC 9293 §3.10.7.4)
    if (a < this.una) return; // an old ACK, overtaken
    const windowChanged = ack.window !== this.lastWindow;
    this.lastWindow = ack.window;
    this.wndEdge = a + ack.window;
    if (a > this.una) {
      this.onNewData(a, now, out);
    } else if (this.max > this.una && !windowChanged && !withData) {
      this.onDuplicate(now, out);
    }
    this.stats.cwnd.record(now, this.window.cwnd);
    this.transmit(now, out);
  }

  /** The timer asked for through `out.timer` fires. */
  /** The RTO firing asked for is gone (LazyTimer.rearm): ask `out` again. */
  rearmTimer(now: Nanos, out: TcpSenderOutput): void {
    this.rtoTimer.rearm(now, out);
  }

  onTimer(now: Nanos, out: TcpSenderOutput): void {
    if (!this.rtoTimer.fire(now, out)) return;
    this.stats.timeouts += 1;
    if (this.caState === 'open') this.window.ssthresh = this.cc.ssthresh(this.window, now);
    this.cc.onTimeout();
    this.window.cwnd = 1;
    this.window.cwndCnt = 0;
    this.caState = 'loss';
    this.recover = this.max;
    this.dupAcks = 0;
    // Go back N: resend everything outstanding from snd_una as the (slow-starting) window allows.
    this.nxt = this.una;
    this.nxtIndex = this.head;
    this.rtoEstimator.backOff();
    this.stats.cwnd.record(now, this.window.cwnd);
    this.transmit(now, out);
    this.restartTimer(now, out); // the backed-off timeout, for the resent segment
  }

  private onNewData(a: number, now: Nanos, out: TcpSenderOutput): void {
    // Take the acknowledged segments off the queue; the oldest one sent exactly once gives the RTT sample
    // (tcp_clean_rtx_queue's first_ackt), and none is taken if any retransmitted one is covered (Karn).
    const priorInFlight = this.packetsInFlight();
    let acked = 0;
    let firstSentAt = Infinity;
    let retransmittedAcked = false;
    const q = this.queue;
    while (this.head < q.length) {
      const i = this.head;
      if ((q.seq[i] as number) + (q.len[i] as number) > a) break;
      if (q.retx[i] === 1) retransmittedAcked = true;
      else if ((q.sentAt[i] as number) < firstSentAt) firstSentAt = q.sentAt[i] as number;
      this.head++;
      acked++;
    }
    this.compactQueue();
    this.una = a;
    if (this.nxt < a) this.nxt = a;
    if (this.nxtIndex < this.head) this.nxtIndex = this.head;
    if (!retransmittedAcked && firstSentAt !== Infinity) {
      const rtt = now - firstSentAt;
      this.rtoEstimator.sample(rtt);
      this.cc.onAcked(rtt, now);
      this.stats.rtt.record(rtt);
    }
    switch (this.caState) {
      case 'recovery':
        if (a >= this.recover) {
          // Full ACK (RFC 6582 §3.2 step 3): deflate to ssthresh and leave recovery.
          this.window.cwnd = this.window.ssthresh;
          this.window.cwndCnt = 0;
          this.caState = 'open';
          this.dupAcks = 0;
        } else {
          // Partial ACK (step 4): resend the next hole, deflate by what was acked, add one back.
          this.retransmitHead(now, out);
          this.window.cwnd = Math.max(this.window.cwnd - acked + 1, 1);
          // Restart the timer on every partial ACK (RFC 6582 §4's Slow-but-Steady variant; Linux re-arms
          // the RTO on every ACK that advances snd_una).
          this.restartTimer(now, out);
          return;
        }
        break;
      case 'loss':
        if (a >= this.recover) this.caState = 'open';
        this.growWindow(acked, priorInFlight, now);
        break;
      case 'open':
        this.dupAcks = 0;
        this.growWindow(acked, priorInFlight, now);
        break;
    }
    this.restartTimer(now, out);
  }

  private onDuplicate(now: Nanos, out: TcpSenderOutput): void {
    this.dupAcks += 1;
    if (this.caState === 'open' && this.dupAcks === TCP_FASTRETRANS_THRESH && this.una >= this.recover) {
      this.window.ssthresh = this.cc.ssthresh(this.window, now);
      this.window.cwnd = this.window.ssthresh + TCP_FASTRETRANS_THRESH;
      this.window.cwndCnt = 0;
      this.recover = this.max;
      this.caState = 'recovery';
      this.stats.fastRetransmits += 1;
      this.retransmitHead(now, out);
    } else if (this.caState === 'recovery') {
      this.window.cwnd += 1; // RFC 5681 §3.2 step 4: each further duplicate means a segment left the network
    }
  }

  /**
   * Congestion avoidance or slow start, only while the window is what limits the sender. An ACK credits at
   * most ABC_LIMIT segments (1 while recovering from an RTO): RFC 3465 §2.2–2.3's L. Linux has no such
   * limit, but it paces, uses SACK and TSQ; without them a cumulative ACK that jumps over data the receiver
   * held out of order (after a go-back-N resend) would grow cwnd by hundreds of segments and send them at
   * line rate in one burst.
   */
  private growWindow(acked: number, priorInFlight: number, now: Nanos): void {
    if (acked === 0) return;
    const limited = this.cwndLimited || (inSlowStart(this.window) && this.window.cwnd < 2 * priorInFlight);
    if (limited) this.cc.congAvoid(this.window, Math.min(acked, this.caState === 'loss' ? 1 : ABC_LIMIT), now);
  }

  /** Segments sent and not yet acknowledged (or, while resending after an RTO, resent). */
  private packetsInFlight(): number {
    return this.nxtIndex - this.head;
  }

  /** Send new or resent segments while cwnd, the receive window and the application allow. */
  private transmit(now: Nanos, out: TcpSenderOutput): void {
    for (;;) {
      if (this.nxt >= this.appEnd) {
        this.cwndLimited = false;
        return;
      }
      if (this.packetsInFlight() >= this.window.cwnd) {
        this.cwndLimited = true;
        return;
      }
      const resend = this.nxt < this.max;
      const q = this.queue;
      const again = resend && this.nxtIndex < q.length; // the entry resent (always there while resending)
      const len = again ? (q.len[this.nxtIndex] as number) : Math.min(this.mss, this.appEnd - this.nxt);
      if (this.nxt + len > this.wndEdge) {
        this.cwndLimited = false;
        return;
      }
      if (again) {
        q.sentAt[this.nxtIndex] = now;
        q.retx[this.nxtIndex] = 1;
        this.stats.retransmissions += 1;
      } else {
        q.push(this.nxt, len, now);
        this.max = this.nxt + len;
      }
      out.segment(this.nxt, len, now, resend);
      this.stats.segmentsSent += 1;
      this.nxt += len;
      this.nxtIndex += 1;
      if (this.rtoTimer.deadline === undefined) this.rtoTimer.set(now + this.rtoEstimator.rto, out);
    }
  }

  /** Resend the oldest unacknowledged segment (fast retransmit, or a partial ACK's next hole). */
  private retransmitHead(now: Nanos, out: TcpSenderOutput): void {
    const q = this.queue;
    const i = this.head;
    if (i >= q.length) return;
    q.sentAt[i] = now;
    q.retx[i] = 1;
    this.stats.retransmissions += 1;
    this.stats.segmentsSent += 1;
    out.segment(q.seq[i] as number, q.len[i] as number, now, true);
  }

  private restartTimer(now: Nanos, out: TcpSenderOutput): void {
    if (this.una >= this.max) this.rtoTimer.stop();
    else this.rtoTimer.set(now + this.rtoEstimator.rto, out);
  }

  /** Drop acknowledged entries from the front of the queue once they are the larger part of it. */
  private compactQueue(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.dropFront(this.head);
      this.nxtIndex -= this.head;
      this.head = 0;
    }
  }
}
