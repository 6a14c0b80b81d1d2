// Test harness for the TCP models: two hosts joined by a bottleneck link each way (rate, delay, drop-tail queue), run in virtual time.
import type { Nanos, TcpEndpointOutput, TcpReceiver, TcpReceiverConfig, TcpSender, TcpSenderConfig, TcpTimerKind, TcpWireSegment } from '../src/index.js';
import { TcpEndpoint, tcpFrameBytes, wireTimeNs } from '../src/index.js';

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
    private readonly deliver: (s: TcpWireSegment) => void,
  ) {}

  send(s: TcpWireSegment): void {
    const now = this.clock.now;
    if (s.len > 0 && this.chosenDrop(s.seq)) return;
    const frame = tcpFrameBytes(s.len);
    const backlog = Math.max(0, this.busyUntil - now) * (this.config.gbps / 8);
    if (backlog + frame > this.config.queueBytes) {
      this.queueDrops += 1;
      return;
    }
    this.busyUntil = Math.max(now, this.busyUntil) + wireTimeNs(frame, this.config.gbps);
    this.clock.at(this.busyUntil + this.config.delay, () => this.deliver(s));
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

/** A host's end of one connection (a TcpEndpoint) wired to its outgoing link and the clock, with logs for the tests. */
export class Host {
  readonly end: TcpEndpoint;
  /** Called with bytes delivered in order to this host's application. */
  onDelivered: (bytes: number) => void = () => {};
  /** Every ACK the sender processed, with its state and window before and after. */
  readonly ackLog: { t: Nanos; before: string; after: string; cwndBefore: number; cwnd: number; ssthresh: number }[] = [];
  /** Every expiry of the sender's retransmission timer, with the window right after it. */
  readonly timeoutLog: { t: Nanos; cwnd: number; ssthresh: number; state: string }[] = [];
  link: Link | undefined;
  private readonly out: TcpEndpointOutput;

  constructor(
    private readonly clock: VirtualClock,
    senderConfig: TcpSenderConfig,
    receiverConfig: TcpReceiverConfig,
  ) {
    this.end = new TcpEndpoint(senderConfig, receiverConfig);
    this.out = {
      // The end rewrites its segment and ACK for the next one: the link keeps a copy.
      send: (segment) => this.link?.send({ ...segment, ack: segment.ack === undefined ? undefined : { ...segment.ack } }),
      timer: (kind, at) => this.clock.at(at, () => this.fire(kind)),
    };
  }

  get sender(): TcpSender {
    return this.end.sender;
  }

  get receiver(): TcpReceiver {
    return this.end.receiver;
  }

  write(bytes: number): void {
    this.end.write(bytes, this.clock.now, this.out);
  }

  receive(segment: TcpWireSegment): void {
    const s = this.sender;
    const before = s.state;
    const cwndBefore = s.cwnd;
    const fresh = this.end.onSegment(segment, this.clock.now, this.out);
    if (segment.ack) this.ackLog.push({ t: this.clock.now, before, after: s.state, cwndBefore, cwnd: s.cwnd, ssthresh: s.ssthresh });
    if (fresh > 0) this.onDelivered(fresh);
  }

  private fire(kind: TcpTimerKind): void {
    const timeouts = this.sender.stats.timeouts;
    this.end.onTimer(kind, this.clock.now, this.out);
    const s = this.sender;
    if (s.stats.timeouts > timeouts) this.timeoutLog.push({ t: this.clock.now, cwnd: s.cwnd, ssthresh: s.ssthresh, state: s.state });
  }
}

export interface PathConfig {
  readonly forward: LinkConfig;
  /** The reverse direction (default: the forward link's rate and delay, a roomy queue, no chosen drops). */
  readonly reverse?: LinkConfig;
  readonly sender?: TcpSenderConfig;
  readonly receiver?: TcpReceiverConfig;
}

/** Host a → host b over `forward`, b → a over `reverse`; a flow's goodput is what b's application received. */
export class Path {
  readonly clock = new VirtualClock();
  readonly a: Host;
  readonly b: Host;
  readonly forward: Link;
  readonly reverse: Link;

  constructor(config: PathConfig) {
    this.a = new Host(this.clock, config.sender ?? {}, config.receiver ?? {});
    this.b = new Host(this.clock, config.sender ?? {}, config.receiver ?? {});
    this.forward = new Link(this.clock, config.forward, (s) => this.b.receive(s));
    const reverse = config.reverse ?? { gbps: config.forward.gbps, delay: config.forward.delay, queueBytes: 64 * 1024 * 1024 };
    this.reverse = new Link(this.clock, reverse, (s) => this.a.receive(s));
    this.a.link = this.forward;
    this.b.link = this.reverse;
    // The flow a → b: its statistics live with a's sender, its deliveries are what b's application reads.
    this.b.onDelivered = (bytes) => this.a.sender.stats.recordDelivered(bytes);
  }

  run(until: Nanos): void {
    this.clock.runUntil(until);
  }
}
