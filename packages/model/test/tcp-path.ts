// Test harness for the TCP models: two hosts joined by a bottleneck link each way (rate, delay, drop-tail queue), run in virtual time.
import type { Nanos, TcpAck, TcpReceiverConfig, TcpReceiverOutput, TcpSenderConfig, TcpSenderOutput } from '../src/index.js';
import { TcpReceiver, TcpSender, tcpFrameBytes, wireTimeNs } from '../src/index.js';

/** A small discrete-event loop: callbacks ordered by (time, insertion order), so equal times run in a fixed order. */
export class VirtualClock {
  now: Nanos = 0;
  private readonly heap: { at: Nanos; seq: number; run: () => void }[] = [];
  private seq = 0;

  at(at: Nanos, run: () => void): void {
    const e = { at, seq: this.seq++, run };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as typeof e;
      if (parent.at < e.at || (parent.at === e.at && parent.seq < e.seq)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = e;
  }

  /** Run every event due at or before `until`; the clock then reads `until`. */
  runUntil(until: Nanos): void {
    for (;;) {
      const top = this.heap[0];
      if (!top || top.at > until) break;
      this.popTop();
      this.now = top.at;
      top.run();
    }
    this.now = until;
  }

  private popTop(): void {
    const h = this.heap;
    const last = h.pop() as (typeof h)[number];
    if (h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      let c = l;
      const lc = h[l] as typeof last;
      const rc = h[r];
      if (rc && (rc.at < lc.at || (rc.at === lc.at && rc.seq < lc.seq))) c = r;
      const child = h[c] as typeof last;
      if (last.at < child.at || (last.at === child.at && last.seq < child.seq)) break;
      h[i] = child;
      i = c;
    }
    h[i] = last;
  }
}

export type Packet = { kind: 'data'; seq: number; len: number; retransmit: boolean; ack?: TcpAck } | { kind: 'ack'; ack: TcpAck };

export interface LinkConfig {
  readonly gbps: number;
  readonly delay: Nanos;
  /** Drop-tail limit on the bytes waiting to be serialized. */
  readonly queueBytes: number;
  /** Drop the first `times` transmissions of the data segment starting at `seq`. */
  readonly drop?: readonly { seq: number; times: number }[];
}

/** One direction of the path: frames are serialized at the link rate behind a drop-tail byte queue, then delayed. */
export class Link {
  queueDrops = 0;
  chosenDrops = 0;
  private busyUntil: Nanos = 0;
  private readonly transmissions = new Map<number, number>();

  constructor(
    private readonly clock: VirtualClock,
    private readonly config: LinkConfig,
    private readonly deliver: (p: Packet) => void,
  ) {}

  send(p: Packet): void {
    const now = this.clock.now;
    if (p.kind === 'data' && this.chosenDrop(p.seq)) return;
    const frame = tcpFrameBytes(p.kind === 'data' ? p.len : 0);
    const backlog = Math.max(0, this.busyUntil - now) * (this.config.gbps / 8);
    if (backlog + frame > this.config.queueBytes) {
      this.queueDrops += 1;
      return;
    }
    this.busyUntil = Math.max(now, this.busyUntil) + wireTimeNs(frame, this.config.gbps);
    this.clock.at(this.busyUntil + this.config.delay, () => this.deliver(p));
  }

  private chosenDrop(seq: number): boolean {
    const rule = this.config.drop?.find((d) => d.seq === seq);
    if (!rule) return false;
    const n = (this.transmissions.get(seq) ?? 0) + 1;
    this.transmissions.set(seq, n);
    if (n > rule.times) return false;
    this.chosenDrops += 1;
    return true;
  }
}

/** A host's end of one connection: a sender and a receiver, wired to the outgoing link and the clock. */
export class Endpoint {
  readonly sender: TcpSender;
  readonly receiver: TcpReceiver;
  /** Called with bytes delivered in order to this host's application. */
  onDelivered: (bytes: number) => void = () => {};
  /** Observers of every ACK the sender processes, with its state before and after. */
  readonly ackLog: { t: Nanos; before: string; after: string; cwndBefore: number; cwnd: number; ssthresh: number }[] = [];
  /** Every expiry of the sender's retransmission timer, with the window right after it. */
  readonly timeoutLog: { t: Nanos; cwnd: number; ssthresh: number; state: string }[] = [];
  link: Link | undefined;
  readonly senderOut: TcpSenderOutput;
  readonly receiverOut: TcpReceiverOutput;

  constructor(
    private readonly clock: VirtualClock,
    senderConfig: TcpSenderConfig,
    receiverConfig: TcpReceiverConfig,
    /** Carry this host's ACKs on its data segments (a two-way conversation such as RR). */
    private readonly piggyback = false,
  ) {
    this.sender = new TcpSender(senderConfig);
    this.receiver = new TcpReceiver({ srtt: () => this.sender.srtt, ...receiverConfig });
    this.senderOut = {
      segment: (seq, len, _at, retransmit) => {
        const p: Packet = this.piggyback ? { kind: 'data', seq, len, retransmit, ack: this.receiver.piggyback() } : { kind: 'data', seq, len, retransmit };
        this.link?.send(p);
      },
      timer: (at) => this.clock.at(at, () => this.senderTimer()),
    };
    this.receiverOut = {
      ack: (ack) => this.link?.send({ kind: 'ack', ack }),
      timer: (at) => this.clock.at(at, () => this.receiver.onTimer(this.clock.now, this.receiverOut)),
    };
  }

  write(bytes: number): void {
    this.sender.write(bytes, this.clock.now, this.senderOut);
  }

  receive(p: Packet): void {
    const now = this.clock.now;
    if (p.kind === 'ack' || p.ack) this.ackArrives(p.kind === 'ack' ? p.ack : (p.ack as TcpAck), p.kind === 'data');
    if (p.kind === 'data') {
      const fresh = this.receiver.onSegment(p.seq, p.len, now, this.receiverOut);
      if (fresh > 0) this.onDelivered(fresh);
    }
  }

  private senderTimer(): void {
    const timeouts = this.sender.stats.timeouts;
    this.sender.onTimer(this.clock.now, this.senderOut);
    if (this.sender.stats.timeouts > timeouts)
      this.timeoutLog.push({ t: this.clock.now, cwnd: this.sender.cwnd, ssthresh: this.sender.ssthresh, state: this.sender.state });
  }

  private ackArrives(ack: TcpAck, withData: boolean): void {
    const before = this.sender.state;
    const cwndBefore = this.sender.cwnd;
    this.sender.onAck(ack, this.clock.now, this.senderOut, withData);
    this.ackLog.push({ t: this.clock.now, before, after: this.sender.state, cwndBefore, cwnd: this.sender.cwnd, ssthresh: this.sender.ssthresh });
  }
}

export interface PathConfig {
  readonly forward: LinkConfig;
  /** The reverse direction (default: the forward link's rate and delay, a roomy queue, no chosen drops). */
  readonly reverse?: LinkConfig;
  readonly sender?: TcpSenderConfig;
  readonly receiver?: TcpReceiverConfig;
  readonly piggyback?: boolean;
}

/** Host a → host b over `forward`, b → a over `reverse`; a flow's goodput is what b's application received. */
export class Path {
  readonly clock = new VirtualClock();
  readonly a: Endpoint;
  readonly b: Endpoint;
  readonly forward: Link;
  readonly reverse: Link;

  constructor(config: PathConfig) {
    const piggyback = config.piggyback ?? false;
    this.a = new Endpoint(this.clock, config.sender ?? {}, config.receiver ?? {}, piggyback);
    this.b = new Endpoint(this.clock, config.sender ?? {}, config.receiver ?? {}, piggyback);
    this.forward = new Link(this.clock, config.forward, (p) => this.b.receive(p));
    const reverse = config.reverse ?? { gbps: config.forward.gbps, delay: config.forward.delay, queueBytes: 64 * 1024 * 1024 };
    this.reverse = new Link(this.clock, reverse, (p) => this.a.receive(p));
    this.a.link = this.forward;
    this.b.link = this.reverse;
    // The flow a → b: its statistics live with a's sender, its deliveries are what b's application reads.
    this.b.onDelivered = (bytes) => this.a.sender.stats.recordDelivered(bytes);
  }

  run(until: Nanos): void {
    this.clock.runUntil(until);
  }
}
