// One side's ends of the closed-loop flows (TCP bulk, TCP_RR) inside an actor: endpoints, workload roles, timers as tags, frames out.
import type { Effects } from './actor.js';
import type { FlowStats, FlowSummary } from './flow-stats.js';
import type { HistogramJson, LatencyHistogram } from './histogram.js';
import { RrClient, RrServer, type RrSummary } from './rr-workload.js';
import { TCP_HAS_ACK, TCP_HAS_SEGMENT, TCP_RETRANSMIT, TCP_RST, TCP_SYN, type TcpColumns, type TcpHeader } from './tcp-columns.js';
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
  /**
   * After a restart of a guest hosting an end (docs/model.md §12 "Restarts"), when not 0: the resets that aborted
   * this end's connection (an RST it received), the connections it opened since (an active end), and the RSTs it sent
   * (a restarted guest answering segments of a connection it no longer has).
   */
  readonly resets?: number;
  readonly reconnects?: number;
  readonly rstSent?: number;
  /**
   * A guest's active end (bulk sender, rr client), in a final or full report: its RTT samples and (rr) its transaction
   * latencies as histograms, so that a live run merges a restarted guest's incarnations (packages/live/src/incarnations.ts).
   */
  readonly histograms?: { readonly rtt: HistogramJson; readonly transactions?: HistogramJson };
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
/** A SYN not answered: sent again (TCP_TIMEOUT_INIT, doubled on each try). */
const KIND_SYN = 3;
const KINDS = 4;

/** How long an end waits for the SYN-ACK before it sends its SYN again: TCP_TIMEOUT_INIT (1 s, include/net/tcp.h). */
const SYN_TIMEOUT: Nanos = 1e9;

/**
 * Where a connection end is (docs/model.md §12 "Restarts"): `open` (every end from the run's start: established with no
 * handshake), `listen` (a restarted guest's passive end: no connection; a segment is answered with an RST, a SYN
 * opens one), `syn-sent` (an active end whose connection was reset, or a restarted guest's active end: it waits for
 * the SYN-ACK).
 */
type EndState = 'open' | 'listen' | 'syn-sent';

/** One connection end: the endpoint, its workload role, and its output port (one object, as TcpEndpoint wants). */
class End implements TcpEndpointOutput {
  ep: TcpEndpoint;
  client: RrClient | null;
  server: RrServer | null;
  readonly active: boolean;
  state: EndState = 'open';
  /** A restarted guest's active end: its start opens a new connection (a SYN) instead of writing at once. */
  reborn = false;
  resets = 0;
  reconnects = 0;
  rstSent = 0;
  /** syn-sent: when the SYN goes again, and the wait after that; open: accepted by a SYN, no data received since. */
  synDue: Nanos = Infinity;
  synWait: Nanos = SYN_TIMEOUT;
  fresh = false;
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
    this.ep = this.endpoint();
    const rr = s.workload === 'rr';
    const g2g = f.guestToGuest;
    const active = g2g?.active ?? side === (s.active ?? 'far');
    this.active = active;
    this.out = g2g?.out ?? f.flow;
    this.in = g2g?.in ?? f.flow;
    this.client = rr && active ? new RrClient({ requestBytes: s.requestBytes ?? 1, responseBytes: s.responseBytes ?? 1 }) : null;
    this.server = rr && !active ? new RrServer(s.requestBytes ?? 1, s.responseBytes ?? 1) : null;
  }

  /** A new connection's endpoint; its sending direction's statistics go on in `stats` when given. */
  endpoint(stats?: FlowStats): TcpEndpoint {
    const s = this.f.spec;
    // Both ends of a model connection use the scenario's mss, congestion control and buffer.
    return new TcpEndpoint({ mss: s.mss, cc: s.cc, initialRwnd: s.rcvbuf / 2, ...(stats ? { stats } : {}) }, { rcvbuf: s.rcvbuf, mss: s.mss });
  }

  /** A segment with no data that opens or resets a connection (SYN, SYN-ACK, RST): a header-only frame. */
  control(flags: number, at: Nanos): void {
    const h: TcpHeader = { seq: 0, payload: 0, ack: 0, window: 0, flags: TCP_HAS_SEGMENT | flags };
    this.owner.emit(this.out, tcpFrameBytes(0), h, at, this.fx as Effects);
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
    private sendFrame: SendFrame,
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

  /** The flows these ends' frames leave on, in the ends' order. */
  outFlows(): number[] {
    return this.ends.map((e) => e.out);
  }

  /**
   * The actor hosting these ends was replaced at `now` by a successor that takes them over, whose frames go through
   * `sendFrame`: the timers the ends had asked of the dead actor died with it, so each asks again — an active end
   * that had not started yet for its start, the others for their RTO and delayed-ACK deadlines (one that passed
   * while no actor hosted them fires at `now`). A modelling device: the far hosts behind the wire live in the NIC
   * actor, but their TCP state is not the driver domain's and survives its restart (docs/model.md §12).
   */
  handTo(sendFrame: SendFrame, now: Nanos, fx: Effects): void {
    this.sendFrame = sendFrame;
    for (const e of this.ends) {
      e.fx = fx;
      if (e.active && e.startedAt < 0) fx.timer(Math.max(now, e.f.start), this.tag(e.index, KIND_START));
      else e.ep.rearmTimers(now, e);
    }
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
    if (kind === KIND_START && e.reborn) {
      e.reborn = false;
      this.connect(e, now);
    } else if (kind === KIND_START) {
      if (e.startedAt < 0) e.startedAt = now;
      if (e.client !== null) e.ep.write(e.client.start(now, e.f.stop), now, e);
      else e.ep.write(Infinity, now, e);
    } else if (kind === KIND_SYN) {
      if (e.state !== 'syn-sent' || now < e.synDue) return;
      e.synWait *= 2;
      this.sendSyn(e, now);
    } else e.ep.onTimer(kind === KIND_RTO ? 'rto' : 'delack', now, e);
  }

  /**
   * A guest restarted at `now` with these ends (FrontendActor.reconnect): its sockets died with it. A passive end
   * listens (the peer's next segment is answered with an RST); an active end opens a new connection at its start (now,
   * or the generator's start if later) — the benchmark in a loop starting again [assumption].
   */
  restarted(now: Nanos, fx: Effects): void {
    for (const e of this.ends) {
      e.fx = fx;
      e.state = 'listen';
      if (e.active) {
        e.reborn = true;
        const start = Math.max(now, e.f.start);
        e.client?.schedule(start, e.f.stop); // a client that never started (live: a fresh one) stops at its generator's stop
        fx.timer(start, this.tag(e.index, KIND_START));
      }
    }
  }

  /**
   * Live: the actor hosting these ends restarted at `now` in a new process, and its ends are new (their state died with
   * the dead one's: NicActor.rejoined, for the far hosts in a NIC's process). An end whose workload has not started yet
   * starts as at the run's start; the others' connections are gone, as a restarted guest's are (`restarted`): a passive
   * end listens (the peer's next segment is answered with an RST, and the peer opens a new connection) and an active
   * end opens a new connection now — an rr client's loop going on from there. Their measurement up to their dead
   * incarnation's last sample is the controller's to continue (live/src/incarnations.ts).
   */
  lostWithProcess(now: Nanos, fx: Effects): void {
    for (const e of this.ends) {
      e.fx = fx;
      if (now < e.f.start) {
        if (e.active) fx.timer(e.f.start, this.tag(e.index, KIND_START));
        continue;
      }
      e.state = 'listen';
      if (!e.active) continue;
      e.client?.start(now, e.f.stop);
      e.reborn = true;
      fx.timer(now, this.tag(e.index, KIND_START));
    }
  }

  /**
   * A restarted actor's ends take over the measurement of its dead incarnation's, `prev` (the emulator's counters, not
   * the guest's state): bytes delivered, frames sent, resets and reconnects, the sending direction's statistics, the
   * rr client's transactions. Called before `restarted`.
   */
  adopt(prev: ClosedLoopEnds): void {
    this.ends.forEach((e, i) => {
      const p = prev.ends[i];
      if (p === undefined) return;
      e.delivered = p.delivered;
      e.pureAcks = p.pureAcks;
      e.resets = p.resets;
      e.reconnects = p.reconnects;
      e.rstSent = p.rstSent;
      e.startedAt = p.startedAt;
      e.ep = e.endpoint(p.ep.stats);
      if (p.client !== null) e.client = p.client;
    });
  }

  /** An active end opens a new connection: a SYN, sent again until the SYN-ACK comes. */
  private connect(e: End, now: Nanos): void {
    e.state = 'syn-sent';
    e.synWait = SYN_TIMEOUT;
    this.sendSyn(e, now);
  }

  private sendSyn(e: End, now: Nanos): void {
    e.control(TCP_SYN, now);
    e.synDue = now + e.synWait;
    (e.fx as Effects).timer(e.synDue, this.tag(e.index, KIND_SYN));
  }

  /**
   * A segment that opens or resets a connection, or one for an end with no connection: an RST aborts an open
   * connection (tcp_reset) and the active end opens a new one; a SYN gets a new connection and its SYN-ACK (a
   * duplicate SYN only the SYN-ACK again); the SYN-ACK establishes the active end's new connection, which starts its
   * workload again from slow start; a listening end answers anything else with an RST (tcp_v4_send_reset).
   * Returns whether the segment was taken here.
   */
  private control(e: End, flags: number, now: Nanos): boolean {
    if ((flags & TCP_RST) !== 0) {
      if (e.state === 'open') {
        e.resets++;
        (e.fx as Effects).event('tcp-connection-reset', { flow: e.f.flow, side: this.side, active: e.active });
        if (e.active) this.connect(e, now);
        else e.state = 'listen';
      }
      return true;
    }
    if ((flags & TCP_SYN) !== 0) {
      if ((flags & TCP_HAS_ACK) !== 0) {
        if (e.state === 'syn-sent') this.established(e, now);
      } else this.accept(e, now);
      return true;
    }
    if (e.state === 'listen') {
      e.rstSent++;
      e.control(TCP_RST, now);
      return true;
    }
    return e.state === 'syn-sent'; // a segment of the connection that was reset
  }

  private accept(e: End, now: Nanos): void {
    if (!(e.state === 'open' && e.fresh)) {
      e.ep = e.endpoint(e.ep.stats);
      if (e.server !== null) e.server = new RrServer(e.server.requestBytes, e.server.responseBytes);
      e.state = 'open';
      e.fresh = true;
    }
    e.control(TCP_SYN | TCP_HAS_ACK, now);
  }

  private established(e: End, now: Nanos): void {
    e.state = 'open';
    e.synDue = Infinity;
    e.reconnects++;
    (e.fx as Effects).event('tcp-connection-opened', { flow: e.f.flow, side: this.side });
    e.ep = e.endpoint(e.ep.stats);
    if (e.client !== null) {
      const bytes = e.client.reconnect(now);
      if (bytes > 0) e.ep.write(bytes, now, e);
    } else e.ep.write(Infinity, now, e);
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

  /** onSegment with the header's fields (a GRO packet: the merged segments' payload, the first one's ACK and flags). */
  take(flow: number, seq: number, payload: number, ack: number, window: number, flags: number, now: Nanos, fx: Effects): void {
    const e = this.byFlow[flow];
    if (e === undefined) return;
    e.fx = fx;
    if ((flags & (TCP_SYN | TCP_RST)) !== 0 || e.state !== 'open') {
      if (this.control(e, flags, now)) return;
    }
    e.fresh = false;
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
      const histograms =
        final && e.active && this.side === 'guest'
          ? { histograms: { rtt: e.ep.stats.rtt.toJSON(), ...(e.client === null ? {} : { transactions: e.client.latency.toJSON() }) } }
          : {};
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
        ...(e.resets > 0 ? { resets: e.resets } : {}),
        ...(e.reconnects > 0 ? { reconnects: e.reconnects } : {}),
        ...(e.rstSent > 0 ? { rstSent: e.rstSent } : {}),
        ...histograms,
      };
    });
  }
}

/** The transaction latency CDF at fixed percentiles: [percentile, latency ns] pairs. */
function latencyCdf(c: RrClient): [number, number][] {
  return transactionLatencyCdf(c.latency);
}

/** A transaction latency histogram's CDF as a report carries it: [percentile, latency ns] at fixed percentiles. */
export function transactionLatencyCdf(h: LatencyHistogram): [number, number][] {
  if (h.count === 0) return [];
  return [0, 1, 5, 10, 25, 50, 75, 90, 95, 99, 99.9, 100].map((p) => [p, p === 0 ? h.min : h.percentile(p)]);
}
