// One end of a TCP connection: its sender and receiver together, ACKs carried on outgoing data, one output port for an actor.
import type { FlowStats } from './flow-stats.js';
import { TcpReceiver } from './tcp-receiver.js';
import type { TcpReceiverConfig } from './tcp-receiver.js';
import type { TcpAck, TcpReceiverOutput, TcpSenderOutput } from './tcp-segment.js';
import { TcpSender } from './tcp-sender.js';
import type { TcpSenderConfig } from './tcp-sender.js';
import type { Nanos } from './time.js';

/** A segment as it crosses the wire: data [seq, seq + len) with the ACK riding on it, or a pure ACK (len 0). */
export interface TcpWireSegment {
  readonly seq: number;
  readonly len: number;
  /** The ACK this segment carries (always on a pure ACK; on data when this end has received anything). */
  readonly ack: TcpAck | undefined;
  readonly retransmit: boolean;
}

/** Which of an end's two timers fires. */
export type TcpTimerKind = 'rto' | 'delack';

/** Where an end's decisions go: segments to put on the wire, and timers to call it back with. */
export interface TcpEndpointOutput {
  /**
   * `segment` and its `ack` are the end's scratch objects, rewritten for its next segment (no objects made per
   * segment): read them now, copy what you keep.
   */
  send(segment: TcpWireSegment, at: Nanos): void;
  timer(kind: TcpTimerKind, at: Nanos): void;
}

/**
 * Both halves of one end. Outgoing data carries the receiver's current ACK (`piggyback`, which also clears a
 * pending delayed ACK, as tcp_event_ack_sent does); an incoming segment's ACK goes to the sender (never a
 * duplicate when it came with data) and its data to the receiver. A bulk flow uses only one direction's data;
 * TCP_RR uses both.
 */
export class TcpEndpoint {
  readonly sender: TcpSender;
  readonly receiver: TcpReceiver;
  private hasReceived = false;
  private ports: { out: TcpEndpointOutput; sender: TcpSenderOutput; receiver: TcpReceiverOutput } | undefined;
  /** The segment and ACK every outgoing segment is written into (TcpEndpointOutput.send reads them at once). */
  private readonly outSegment: { seq: number; len: number; ack: TcpAck | undefined; retransmit: boolean } = {
    seq: 0,
    len: 0,
    ack: undefined,
    retransmit: false,
  };
  private readonly outAck: { ack: number; window: number } = { ack: 0, window: 0 };

  constructor(sender: TcpSenderConfig = {}, receiver: TcpReceiverConfig = {}) {
    this.sender = new TcpSender(sender);
    this.receiver = new TcpReceiver({ srtt: () => this.sender.srtt, ...receiver });
  }

  /** The flow statistics of this end's sending direction. */
  get stats(): FlowStats {
    return this.sender.stats;
  }

  /** The application writes `bytes` (Infinity for a bulk flow). */
  write(bytes: number, now: Nanos, out: TcpEndpointOutput): void {
    this.sender.write(bytes, now, this.senderPort(out));
  }

  /** A segment from the peer arrives; returns the bytes it delivered in order to this end's application. */
  onSegment(segment: TcpWireSegment, now: Nanos, out: TcpEndpointOutput): number {
    if (segment.ack) this.sender.onAck(segment.ack, now, this.senderPort(out), segment.len > 0);
    if (segment.len === 0) return 0;
    this.hasReceived = true;
    return this.receiver.onSegment(segment.seq, segment.len, now, this.receiverPort(out));
  }

  /** A timer asked for through `out.timer` fires. */
  onTimer(kind: TcpTimerKind, now: Nanos, out: TcpEndpointOutput): void {
    if (kind === 'rto') this.sender.onTimer(now, this.senderPort(out));
    else this.receiver.onTimer(now, this.receiverPort(out));
  }

  /**
   * The actor hosting this end was replaced (a far host's ends handed to a restarted NIC, a modelling device): the
   * timers it had asked for died with it, so ask `out` again for the RTO and delayed-ACK deadlines.
   */
  rearmTimers(now: Nanos, out: TcpEndpointOutput): void {
    this.sender.rearmTimer(now, this.senderPort(out));
    this.receiver.rearmTimer(now, this.receiverPort(out));
  }

  /** The sender's and receiver's ports onto `out`, built once per output object (an actor passes the same one). */
  private senderPort(out: TcpEndpointOutput): TcpSenderOutput {
    return this.portsFor(out).sender;
  }

  private receiverPort(out: TcpEndpointOutput): TcpReceiverOutput {
    return this.portsFor(out).receiver;
  }

  private portsFor(out: TcpEndpointOutput): { sender: TcpSenderOutput; receiver: TcpReceiverOutput } {
    const ports = this.ports;
    if (ports !== undefined && ports.out === out) return ports;
    return (this.ports = this.makePorts(out));
  }

  /**
   * The ports onto `out`: their closures capture `out`, so they are made here, apart from portsFor — a function
   * whose parameter a closure captures allocates a context on every call, and portsFor runs for every segment.
   */
  private makePorts(out: TcpEndpointOutput): { out: TcpEndpointOutput; sender: TcpSenderOutput; receiver: TcpReceiverOutput } {
    return {
      out,
      sender: {
        segment: (seq, len, at, retransmit) => this.sendSegment(out, seq, len, at, retransmit),
        timer: (at) => out.timer('rto', at),
      },
      receiver: {
        ack: (ack, at) => this.sendAck(out, ack.ack, ack.window, at),
        ackFields: (ack, window, at) => this.sendAck(out, ack, window, at),
        timer: (at) => out.timer('delack', at),
      },
    };
  }

  /** Data [seq, seq + len), carrying the receiver's current ACK once this end has received anything. */
  private sendSegment(out: TcpEndpointOutput, seq: number, len: number, at: Nanos, retransmit: boolean): void {
    const s = this.outSegment;
    s.seq = seq;
    s.len = len;
    s.retransmit = retransmit;
    if (this.hasReceived) {
      this.receiver.piggybackInto(this.outAck);
      s.ack = this.outAck;
    } else s.ack = undefined;
    out.send(s, at);
  }

  /** A pure ACK: no data, at snd_nxt. */
  private sendAck(out: TcpEndpointOutput, ack: number, window: number, at: Nanos): void {
    const a = this.outAck;
    a.ack = ack;
    a.window = window;
    const s = this.outSegment;
    s.seq = this.sender.sndNxt;
    s.len = 0;
    s.ack = a;
    s.retransmit = false;
    out.send(s, at);
  }
}
