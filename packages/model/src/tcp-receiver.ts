// A TCP receiver with Linux's ACK policy: delayed ACK every second full segment, the delayed-ACK timer and quick-ack mode.
import { SplitnetError } from './errors.js';
import type { TcpAck, TcpReceiverOutput } from './tcp-segment.js';
import { TCP_DEFAULT_MSS } from './tcp-segment.js';
import type { Nanos } from './time.js';
import { MS } from './time.js';
import { TCP_TIMEOUT_INIT } from './tcp-rto.js';
import { LazyTimer } from './lazy-timer.js';

/** Linux TCP_ATO_MIN = TCP_DELACK_MIN = HZ/25: 40 ms, the delayed-ACK timeout a connection starts with. */
export const TCP_DELACK_MIN: Nanos = 40 * MS;
/** Linux TCP_DELACK_MAX = HZ/5: 200 ms, the longest an ACK is delayed (icsk_delack_max). */
export const TCP_DELACK_MAX: Nanos = 200 * MS;
/** tcp_send_delayed_ack's cap on ato outside ping-pong mode: HZ/2. */
const DELACK_MAX_ATO: Nanos = 500 * MS;
/** Linux TCP_MAX_QUICKACKS: at most 16 immediate ACKs per quick-ack episode. */
export const TCP_MAX_QUICKACKS = 16;
/** Linux TCP_MSS_DEFAULT: the receive MSS estimate before any segment was seen. */
const TCP_MSS_DEFAULT = 536;
/** Linux's default receive buffer, net.ipv4.tcp_rmem[1]: 131072 bytes. */
export const TCP_RMEM_DEFAULT = 131_072;
/**
 * The share of the receive buffer advertised as window: Linux's tcp_adv_win_scale = 1 (through 6.5) keeps half
 * of sk_rcvbuf for skb overhead (tcp_win_from_space). Linux 6.6+ measures the ratio from real skbs instead
 * (scaling_ratio, about the same for 1500-byte frames); the model keeps the fixed half.
 */
export const TCP_WINDOW_SHARE = 0.5;

export interface TcpReceiverConfig {
  /** Receive buffer in bytes (default 131072, tcp_rmem[1]); the advertised window is its share. */
  readonly rcvbuf?: number;
  /** The sender's MSS (bounds the receive-MSS estimate like advmss; default 1448). */
  readonly mss?: number;
  /** This end's RTO, which bounds ato (default 1 s: a receiver that sends no data never measures an RTT). */
  readonly rto?: Nanos;
  /**
   * This end's smoothed RTT when it also sends data (its TcpSender's `srtt`; 0 or absent when it does not):
   * tcp_send_delayed_ack bounds a long ato by max(SRTT, 40 ms).
   */
  readonly srtt?: () => Nanos;
}

/**
 * The receiving half of a TCP connection. The application is taken to read everything in order at once, so
 * the buffer only holds out-of-order data (a slow reader is not modelled), and there is no receive-window
 * autotuning (tcp_rcv_space_adjust): the window is `rcvbuf · 0.5` less what out-of-order data holds, and
 * its right edge never moves left (tcp_select_window never shrinks it), so duplicate ACKs carry the same
 * window and count as duplicates. Linux's rules, net/ipv4/tcp_input.c unless said otherwise:
 * - in-order data (tcp_event_data_recv): the first segment starts quick-ack mode (tcp_incr_quickack: up to
 *   16 immediate ACKs, fewer for a small window) with ato = 40 ms; later arrivals adapt ato to the gap
 *   between segments; a gap longer than the RTO starts quick-ack mode again;
 * - __tcp_ack_snd_check: ACK at once if more than one full segment is unacknowledged (rcv_nxt − rcv_wup >
 *   rcv_mss, i.e. every second full-sized segment), in quick-ack mode, or while out-of-order data is queued
 *   (without SACK Linux skips ACK compression); otherwise tcp_send_delayed_ack (tcp_output.c) arms the
 *   delayed-ACK timer ato ahead, a long ato bounded by 500 ms and by max(SRTT, 40 ms) when this end also
 *   sends, then by TCP_DELACK_MAX (200 ms), sending at once when an armed timer is within ato/4 of firing;
 * - out-of-order data (tcp_data_queue_ofo) is queued and answered at once with a duplicate ACK; the segment
 *   that fills the hole is ACKed at once (RFC 5681 §4.2, ICSK_ACK_NOW). A GRO packet of n segments above a hole
 *   is answered with n duplicate ACKs [a modelling device]: Linux answers it with one ACK, whose SACK block
 *   tells the sender n segments arrived (its loss detection counts SACKed segments, sacked_out in
 *   tcp_time_to_recover, not ACKs); the model has no SACK, and its sender counts duplicate ACKs instead;
 * - data already received (a spurious retransmission) enters quick-ack mode for 16 ACKs and is ACKed at once;
 * - the timer (tcp_delack_timer_handler, tcp_timer.c) sends the ACK and doubles ato, bounded by the RTO.
 * Every ACK sent, pure or carried by data (`piggyback`), clears the timer and counts down quick-ack mode
 * (tcp_event_ack_sent). Not modelled: ping-pong (interactive) mode, which only matters for ACKs that data
 * does not carry, SACK and D-SACK, ECN, window probes.
 */
export class TcpReceiver {
  private readonly windowBytes: number;
  private readonly mss: number;
  private readonly rto: Nanos;
  private readonly srtt: () => Nanos;
  private nxt = 0;
  /** rcv_nxt when the last ACK left (rcv_wup). */
  private wup = 0;
  /** Right edge of the last advertised window. */
  private edge: number;
  /** Out-of-order data as disjoint [start, end) ranges in order. */
  private readonly ofo: [number, number][] = [];
  private ofoBytes = 0;
  private rcvMss: number;
  private ato: Nanos = 0;
  private lrcvtime: Nanos = 0;
  private quick = 0;
  private readonly delackTimer = new LazyTimer();
  /** ACKs sent (pure and piggybacked), and how many of them the delayed-ACK timer sent. */
  acksSent = 0;
  delayedAckTimeouts = 0;
  /** Bytes delivered in order to the application. */
  delivered = 0;

  constructor(config: TcpReceiverConfig = {}) {
    const rcvbuf = config.rcvbuf ?? TCP_RMEM_DEFAULT;
    this.mss = config.mss ?? TCP_DEFAULT_MSS;
    if (!Number.isInteger(rcvbuf) || rcvbuf * TCP_WINDOW_SHARE < 2 * this.mss) {
      throw new SplitnetError(
        'E_USAGE',
        `TcpReceiver: expected an rcvbuf of at least ${(2 * this.mss) / TCP_WINDOW_SHARE} bytes (a window of two segments), found ${String(config.rcvbuf)}`,
      );
    }
    this.windowBytes = Math.floor(rcvbuf * TCP_WINDOW_SHARE);
    this.rto = config.rto ?? TCP_TIMEOUT_INIT;
    this.srtt = config.srtt ?? ((): Nanos => 0);
    this.rcvMss = Math.min(TCP_MSS_DEFAULT, this.mss);
    this.edge = this.windowBytes;
  }

  /** Next byte expected (rcv_nxt). */
  get rcvNxt(): number {
    return this.nxt;
  }
  /** The advertised window at full buffer (rcvbuf share). */
  get maxWindow(): number {
    return this.windowBytes;
  }
  get quickAcksLeft(): number {
    return this.quick;
  }
  /** Current delayed-ACK timeout estimate. */
  get delackTimeout(): Nanos {
    return this.ato;
  }
  get ackPending(): boolean {
    return this.delackTimer.deadline !== undefined;
  }

  /** The segment [seq, seq + len) arrives; returns how many bytes it made available in order. */
  onSegment(seq: number, len: number, now: Nanos, out: TcpReceiverOutput): number {
    const end = seq + len;
    if (end <= this.nxt) {
      // Already have it all: the sender retransmitted needlessly or our ACK was lost.
      this.incrQuickack(TCP_MAX_QUICKACKS);
      this.sendAck(now, out);
      return 0;
    }
    if (seq > this.nxt) {
      this.queueOutOfOrder(seq, end);
      // A GRO packet of several segments above a hole: one duplicate ACK per segment it holds (see the class comment).
      const segments = len > this.mss ? Math.ceil(len / this.mss) : 1;
      for (let k = 0; k < segments; k++) this.sendAck(now, out);
      return 0;
    }
    const hadOfo = this.ofo.length > 0;
    this.dataReceived(len, now);
    const before = this.nxt;
    this.nxt = end;
    this.pullInOrder();
    const fresh = this.nxt - before;
    this.delivered += fresh;
    if (hadOfo || this.nxt - this.wup > this.rcvMss || this.quick > 0) this.sendAck(now, out);
    else this.sendDelayedAck(now, out);
    return fresh;
  }

  /** The delayed-ACK timer fires. */
  /** The delayed-ACK firing asked for is gone (LazyTimer.rearm): ask `out` again. */
  rearmTimer(now: Nanos, out: TcpReceiverOutput): void {
    this.delackTimer.rearm(now, out);
  }

  onTimer(now: Nanos, out: TcpReceiverOutput): void {
    if (!this.delackTimer.fire(now, out)) return;
    // The ACK was delayed until the timer: the estimate was too short, so double it (tcp_delack_timer_handler).
    this.ato = Math.min(this.ato * 2, this.rto);
    this.delayedAckTimeouts += 1;
    this.sendAck(now, out);
  }

  /**
   * This end sends data now and the ACK rides on it (what an RR server's response or a client's next request
   * does): returns the ACK fields to put on the segment, and counts it as an ACK sent.
   */
  piggyback(): TcpAck {
    const a = this.currentAck();
    this.ackSent();
    return a;
  }

  /** piggyback, its fields written into `into` (an end's scratch ACK: no object per segment). */
  piggybackInto(into: { ack: number; window: number }): void {
    into.window = this.advertise();
    into.ack = this.nxt;
    this.ackSent();
  }

  private currentAck(): TcpAck {
    const window = this.advertise();
    return { ack: this.nxt, window };
  }

  /** The window to advertise from rcv_nxt now (never shrinking the right edge already advertised), which becomes the edge. */
  private advertise(): number {
    const free = this.windowBytes - this.ofoBytes;
    const window = Math.max(free, this.edge - this.nxt, 0);
    this.edge = this.nxt + window;
    return window;
  }

  private sendAck(now: Nanos, out: TcpReceiverOutput): void {
    if (out.ackFields !== undefined) {
      const window = this.advertise();
      out.ackFields(this.nxt, window, now);
    } else out.ack(this.currentAck(), now);
    this.ackSent();
  }

  private ackSent(): void {
    this.wup = this.nxt;
    this.delackTimer.stop();
    if (this.quick > 0) this.quick -= 1;
    this.acksSent += 1;
  }

  /** tcp_measure_rcv_mss + tcp_event_data_recv's ato estimate. */
  private dataReceived(len: number, now: Nanos): void {
    if (len > this.rcvMss) this.rcvMss = Math.min(len, this.mss);
    if (this.ato === 0) {
      this.incrQuickack(TCP_MAX_QUICKACKS);
      this.ato = TCP_DELACK_MIN;
    } else {
      const m = now - this.lrcvtime;
      if (m <= TCP_DELACK_MIN / 2) {
        this.ato = this.ato / 2 + TCP_DELACK_MIN / 2;
      } else if (m < this.ato) {
        this.ato = Math.min(this.ato / 2 + m, this.rto);
      } else if (m > this.rto) {
        this.incrQuickack(TCP_MAX_QUICKACKS);
      }
    }
    this.lrcvtime = now;
  }

  /** tcp_incr_quickack: about half a window's worth of segments, at least 2, at most `max`. */
  private incrQuickack(max: number): void {
    let quickacks = Math.floor(this.windowBytes / (2 * this.rcvMss));
    if (quickacks === 0) quickacks = 2;
    quickacks = Math.min(quickacks, max);
    if (quickacks > this.quick) this.quick = quickacks;
  }

  /** tcp_send_delayed_ack. */
  private sendDelayedAck(now: Nanos, out: TcpReceiverOutput): void {
    let ato = this.ato;
    if (ato > TCP_DELACK_MIN) {
      let maxAto = DELACK_MAX_ATO;
      const srtt = this.srtt();
      if (srtt > 0) maxAto = Math.min(maxAto, Math.max(srtt, TCP_DELACK_MIN));
      ato = Math.min(ato, maxAto);
    }
    ato = Math.min(ato, TCP_DELACK_MAX);
    let deadline = now + ato;
    const armed = this.delackTimer.deadline;
    if (armed !== undefined) {
      if (armed <= now + ato / 4) {
        this.sendAck(now, out);
        return;
      }
      if (armed < deadline) deadline = armed;
    }
    this.delackTimer.set(deadline, out);
  }

  private queueOutOfOrder(seq: number, end: number): void {
    // Insert [seq, end) and merge with neighbours; ofoBytes counts the bytes held.
    let start = seq;
    let stop = end;
    let i = 0;
    while (i < this.ofo.length && (this.ofo[i] as [number, number])[1] < start) i++;
    let j = i;
    while (j < this.ofo.length && (this.ofo[j] as [number, number])[0] <= stop) {
      const r = this.ofo[j] as [number, number];
      start = Math.min(start, r[0]);
      stop = Math.max(stop, r[1]);
      this.ofoBytes -= r[1] - r[0];
      j++;
    }
    this.ofo.splice(i, j - i, [start, stop]);
    this.ofoBytes += stop - start;
  }

  /** Move queued out-of-order ranges that now follow rcv_nxt into the stream. */
  private pullInOrder(): void {
    while (this.ofo.length > 0) {
      const r = this.ofo[0] as [number, number];
      if (r[0] > this.nxt) return;
      this.ofo.shift();
      this.ofoBytes -= r[1] - r[0];
      if (r[1] > this.nxt) this.nxt = r[1];
    }
  }
}
