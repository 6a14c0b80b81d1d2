// One side's ends of the closed-loop flows (TCP bulk, TCP_RR) inside an actor: endpoints, workload roles, timers as tags, frames out.
import type { Effects } from './actor.js';
import type { FlowSummary } from './flow-stats.js';
import { RrClient, RrServer, type RrSummary } from './rr-workload.js';
import { TCP_HAS_ACK, TCP_HAS_SEGMENT, TCP_RETRANSMIT, type TcpColumns, type TcpHeader } from './tcp-columns.js';
import { TcpEndpoint, type TcpEndpointOutput, type TcpTimerKind, type TcpWireSegment } from './tcp-endpoint.js';
import { tcpFrameBytes, type TcpAck } from './tcp-segment.js';
import type { Nanos } from './time.js';
import type { ClosedLoopSpec } from './traffic-types.js';

/** A closed-loop flow as the actors at its two ends are configured with it. */
export interface ClosedLoopFlow {
  /** Index in the scenario's flow table (the same index both ways: data and ACKs are one connection). */
  readonly flow: number;
  readonly spec: ClosedLoopSpec;
  /** When the far end starts the connection's workload, and (rr) stops issuing requests. */
  readonly start: Nanos;
  readonly stop: Nanos;
  /**
   * Guest to guest, this end's part: whether it is the active end, and the flows its frames leave on and arrive on.
   * Each direction between two guests is a flow of its own (the active guest's is `flow`), since the bridge routes,
   * steers and returns grants per flow and direction. Absent: one flow both ways, the active end by `spec.active`.
   */
  readonly guestToGuest?: { readonly active: boolean; readonly out: number; readonly in: number };
}

/** What one end of a closed-loop flow reports (live: it travels in the actor's report, so plain data). */
export interface ClosedLoopEndReport {
  readonly flow: number;
  /** far: behind the wire; guest: in the flow's VM. */
  readonly side: 'far' | 'guest';
  /** Whether this end is the active one (bulk sender, rr client). */
  readonly active: boolean;
  readonly workload: 'bulk' | 'rr';
  /** This end's sending direction: RTT samples, cwnd trace, retransmissions (goodput from `delivered` below, the peer's). */
  readonly sent: FlowSummary;
  /** Bytes this end's application received in order. */
  readonly delivered: number;
  /** Frames this end sent that carried no data (pure ACKs). */
  readonly pureAcks: number;
  /** When the connection started (ns; the far end's start). */
  readonly startedAt: Nanos;
  /** rr, far end (the client): transactions and their latencies. */
  readonly rr?: RrSummary & { readonly latencyCdf: readonly (readonly [number, number])[] };
}

/** The wire form of an endpoint's segment, written into `h` (a scratch header the ends reuse: whoever takes a frame's header copies its fields at once). */
function writeHeader(s: TcpWireSegment, h: TcpHeader): TcpHeader {
  const a = s.ack;
  h.seq = s.seq;
  h.payload = s.len;
  h.ack = a === undefined ? 0 : a.ack;
  h.window = a === undefined ? 0 : a.window;
  h.flags = TCP_HAS_SEGMENT | (a !== undefined ? TCP_HAS_ACK : 0) | (s.retransmit ? TCP_RETRANSMIT : 0);
  return h;
}

/** A wire segment the ends reuse for every frame they take (TcpEndpoint reads it and the ACK on it while it handles the segment, and keeps neither). */
interface ScratchSegment {
  seq: number;
  len: number;
  ack: TcpAck | undefined;
  retransmit: boolean;
}

/**
 * Where an end's frames go: the actor puts a frame of `len` bytes carrying `header` of `flow` on its way at `at`.
 * `header` is the ends' scratch, rewritten for the next frame: copy its fields, do not keep it.
 */
export type SendFrame = (flow: number, len: number, header: TcpHeader, at: Nanos, fx: Effects) => void;

const KIND_START = 0;
const KIND_RTO = 1;
const KIND_DELACK = 2;
const KINDS = 4;

/** One connection end: the endpoint, its workload role, and its output port (one object, as TcpEndpoint wants). */
class End implements TcpEndpointOutput {
  readonly ep: TcpEndpoint;
  readonly client: RrClient | null;
  readonly server: RrServer | null;
  readonly active: boolean;
  /** The flows this end's frames leave on and arrive on (the same flow but between two guests). */
  readonly out: number;
  readonly in: number;
  delivered = 0;
  /** Frames this end sent that carried no data: pure ACKs. */
  pureAcks = 0;
  startedAt: Nanos = -1;
  fx: Effects | null = null;

  constructor(
    readonly index: number,
    readonly f: ClosedLoopFlow,
    readonly side: 'far' | 'guest',
    private readonly owner: ClosedLoopEnds,
  ) {
    const s = f.spec;
    // Both ends of a model connection use the scenario's mss, congestion control and buffer.
    this.ep = new TcpEndpoint({ mss: s.mss, cc: s.cc, initialRwnd: s.rcvbuf / 2 }, { rcvbuf: s.rcvbuf, mss: s.mss });
    const rr = s.workload === 'rr';
    const g2g = f.guestToGuest;
    const active = g2g?.active ?? side === (s.active ?? 'far');
    this.active = active;
    this.out = g2g?.out ?? f.flow;
    this.in = g2g?.in ?? f.flow;
    this.client = rr && active ? new RrClient({ requestBytes: s.requestBytes ?? 1, responseBytes: s.responseBytes ?? 1 }) : null;
    this.server = rr && !active ? new RrServer(s.requestBytes ?? 1, s.responseBytes ?? 1) : null;
  }

  send(segment: TcpWireSegment, at: Nanos): void {
    if (segment.len === 0) this.pureAcks++;
    this.owner.emit(this.out, tcpFrameBytes(segment.len), writeHeader(segment, this.owner.outHeader), at, this.fx as Effects);
  }

  timer(kind: TcpTimerKind, at: Nanos): void {
    (this.fx as Effects).timer(at, this.owner.tag(this.index, kind === 'rto' ? KIND_RTO : KIND_DELACK));
  }
}

/**
 * The closed-loop flows' ends on one side of the wire, for the actor that hosts them: the NIC hosts the far
 * ends (the hosts behind the wire), a guest's front end its own. The far end of a bulk flow writes without end
 * from the generator's start; of an rr flow it is netperf's client (request, wait for the whole response, next
 * request, until the generator's stop); the guest's end receives, and (rr) is the server. Timers are the actor's
 * timers with tags `sign · (base + index · 4 + kind)`, which the actor hands back through `timer`.
 */
export class ClosedLoopEnds {
  private readonly ends: End[] = [];
  /** The end frames of each flow arrive at, by flow index (a flow table's indices: small integers). */
  private readonly byFlow: (End | undefined)[] = [];
  /** @internal The header of the frame an end is sending (sendFrame copies it at once). */
  readonly outHeader: TcpHeader = { seq: 0, payload: 0, ack: 0, window: 0, flags: 0 };
  /** The segment and ACK an arriving frame is read into. */
  private readonly inAck: { ack: number; window: number } = { ack: 0, window: 0 };
  private readonly inSegment: ScratchSegment = { seq: 0, len: 0, ack: undefined, retransmit: false };

  constructor(
    flows: readonly ClosedLoopFlow[],
    readonly side: 'far' | 'guest',
    private readonly tagBase: number,
    private readonly tagSign: 1 | -1,
    private readonly sendFrame: SendFrame,
  ) {
    flows.forEach((f, i) => {
      const e = new End(i, f, side, this);
      this.ends.push(e);
      this.byFlow[e.in] = e;
    });
  }

  get size(): number {
    return this.ends.length;
  }

  /** Whether frames of `flow` arrive at one of these ends (a connection's flow; between two guests, its direction towards this end). */
  has(flow: number): boolean {
    return this.byFlow[flow] !== undefined;
  }

  tag(index: number, kind: number): number {
    return this.tagSign * (this.tagBase + index * KINDS + kind);
  }

  ownsTag(tag: number): boolean {
    const t = tag * this.tagSign;
    return t >= this.tagBase && t < this.tagBase + this.ends.length * KINDS;
  }

  /** @internal Called by an end's output port. */
  emit(flow: number, len: number, header: TcpHeader, at: Nanos, fx: Effects): void {
    this.sendFrame(flow, len, header, at, fx);
  }

  /** The active ends (bulk senders, rr clients) start their workloads at their generators' start. */
  start(now: Nanos, fx: Effects): void {
    for (const e of this.ends) if (e.active) fx.timer(Math.max(now, e.f.start), this.tag(e.index, KIND_START));
  }

  timer(tag: number, now: Nanos, fx: Effects): void {
    const t = tag * this.tagSign - this.tagBase;
    const e = this.ends[Math.floor(t / KINDS)];
    if (e === undefined) return;
    e.fx = fx;
    const kind = t % KINDS;
    if (kind === KIND_START) {
      e.startedAt = now;
      if (e.client !== null) e.ep.write(e.client.start(now, e.f.stop), now, e);
      else e.ep.write(Infinity, now, e);
    } else e.ep.onTimer(kind === KIND_RTO ? 'rto' : 'delack', now, e);
  }

  /** A frame of `flow` (the direction towards this end) carrying `header` reached this end's application at `now`. */
  onSegment(flow: number, header: TcpHeader, now: Nanos, fx: Effects): void {
    this.take(flow, header.seq, header.payload, header.ack, header.window, header.flags, now, fx);
  }

  /** onSegment with the header as entry `i` of `cols` (a FIFO's or a batch's columns: no header object). */
  onSegmentAt(flow: number, cols: TcpColumns, i: number, now: Nanos, fx: Effects): void {
    const c = cols;
    this.take(flow, c.seq[i] as number, c.payload[i] as number, c.ack[i] as number, c.window[i] as number, c.flags[i] as number, now, fx);
  }

  private take(flow: number, seq: number, payload: number, ack: number, window: number, flags: number, now: Nanos, fx: Effects): void {
    const e = this.byFlow[flow];
    if (e === undefined) return;
    e.fx = fx;
    const seg = this.inSegment;
    seg.seq = seq;
    seg.len = payload;
    seg.retransmit = (flags & TCP_RETRANSMIT) !== 0;
    if ((flags & TCP_HAS_ACK) !== 0) {
      this.inAck.ack = ack;
      this.inAck.window = window;
      seg.ack = this.inAck;
    } else seg.ack = undefined;
    const bytes = e.ep.onSegment(seg, now, e);
    if (bytes === 0) return;
    e.delivered += bytes;
    if (e.client !== null) {
      const next = e.client.onResponseData(bytes, now);
      if (next > 0) e.ep.write(next, now, e);
    } else if (e.server !== null) {
      const respond = e.server.onRequestData(bytes);
      if (respond > 0) e.ep.write(respond, now, e);
    }
  }

  /** What each end measured up to `now`; the cwnd trace and the latency CDF only in a final report (they are long). */
  report(now: Nanos, final: boolean): ClosedLoopEndReport[] {
    return this.ends.map((e) => {
      const rr = e.client === null ? {} : { rr: { ...e.client.summary(now), latencyCdf: final ? latencyCdf(e.client) : [] } };
      const sent = e.ep.stats.summary(now, final);
      return {
        flow: e.f.flow,
        side: this.side,
        active: e.active,
        workload: e.f.spec.workload,
        sent,
        delivered: e.delivered,
        pureAcks: e.pureAcks,
        startedAt: e.startedAt < 0 ? e.f.start : e.startedAt,
        ...rr,
      };
    });
  }
}

/** The transaction latency CDF at fixed percentiles: [percentile, latency ns] pairs. */
function latencyCdf(c: RrClient): [number, number][] {
  if (c.latency.count === 0) return [];
  return [0, 1, 5, 10, 25, 50, 75, 90, 95, 99, 99.9, 100].map((p) => [p, p === 0 ? c.latency.min : c.latency.percentile(p)]);
}
