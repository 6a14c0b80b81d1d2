// A guest's netfront transmit side: the application's sends, the qdisc, TX requests on the TX ring and their notification, TX responses reclaimed by xennet_tx_buf_gc.
import {
  doubleFields,
  NotificationFault,
  PacketFifo,
  Prng,
  setTcpEntry,
  tcpColumnsOf,
  TrafficSource,
  TxRingFront,
  txSlots,
  u32Add,
  u32Sub,
} from '@splitnet/model';
import type { ActorRef, BatchPool, Core, CostProfile, Effects, FaultCommand, GeneratorSpec, Nanos, TcpHeader, TxCosts, TxReport } from '@splitnet/model';

export interface NetfrontTxConfig {
  readonly vm: number;
  readonly ringSize: number;
  readonly costs: CostProfile;
  /** This guest's generators (their `sender` is this VM). */
  readonly generators: readonly GeneratorSpec[];
  readonly flowCount: number;
  /** The rate the guest's sends are serialized at (the vif's advertised speed: the link's). */
  readonly linkGbps: number;
  readonly seed: number;
  /** Per flow: the TX queue netfront picks (xennet_select_queue: the skb hash modulo the queues). */
  readonly flowQueue: Uint16Array;
  /** The worker serving each queue. */
  readonly workers: readonly ActorRef[];
  /** Frames the qdisc in front of each stopped TX queue holds (pfifo_fast's tx_queue_len, 1000); beyond it a send is dropped. */
  readonly qdiscLen: number;
  /** feature-split-event-channels negotiated: TX responses are announced on port queues + q (else on port q, shared with RX). */
  readonly split: boolean;
  readonly pool: BatchPool;
}

/**
 * netfront stops a TX queue when fewer than XEN_NETIF_NR_SLOTS_MIN + 1 slots are free
 * (netfront_tx_slot_available), so that the largest frame always fits.
 */
const XEN_NETIF_NR_SLOTS_MIN = 18;
/** Timer tags of the transmit side are negative. The application's next send: */
const TAG_SEND = -1;
/** A TX-port notification a delay-tx-notifications fault held back, delivered now: TAG_DELAYED_EVT − queue. */
const TAG_DELAYED_EVT = -2;

class TxQueue {
  ring: TxRingFront;
  /** Frames the stack queued while the TX queue was stopped (netif_tx_stop_queue). */
  readonly qdisc = new PacketFifo(64);
  stopped = false;
  /** When the handler of this TX port's last upcall acks it; a send before then merges into that upcall. */
  ackAt: Nanos = -1;
  /** Fault state: TX-port notifications lost / delayed with a probability; completion handling stopped. */
  readonly notify = new NotificationFault();
  gcStopped = false;
  constructor(
    readonly index: number,
    ringSize: number,
    readonly core: Core,
  ) {
    this.ring = new TxRingFront(ringSize);
  }
}

export class NetfrontTx {
  private readonly source: TrafficSource;
  private readonly qs: TxQueue[] = [];
  private readonly tx: TxCosts;
  sent = 0;
  sentBytes = 0;
  /** Of `sent`, the frames (and bytes) that carried a closed-loop end's segment. */
  closedLoopSent = 0;
  closedLoopSentBytes = 0;
  dropsQdisc = 0;
  notifies = 0;
  virqs = 0;
  notificationsLost = 0;
  notificationsDelayed = 0;
  /** TX response writes older than one already seen, ignored (see onResponses). */
  staleResponses = 0;
  /** TX response writes of a ring that a reconnect re-created, ignored (see onResponses, staleResponse). */
  staleMessages = 0;

  constructor(
    private readonly cfg: NetfrontTxConfig,
    cores: readonly Core[],
  ) {
    doubleFields(this, ['sentBytes', 'closedLoopSentBytes']);
    this.source = new TrafficSource(cfg.generators, cfg.flowCount, cfg.linkGbps, cfg.seed);
    cores.forEach((core, q) => this.qs.push(new TxQueue(q, cfg.ringSize, core)));
    const tx = cfg.costs.tx;
    if (tx === undefined) throw new Error('NetfrontTx needs the cost profile of the transmit path (costs.tx)');
    this.tx = tx;
  }

  /** Frames the guest holds: queued in a stopped TX queue's qdisc (those on the ring are netback's to take). */
  held(): number {
    let n = 0;
    for (const q of this.qs) n += q.qdisc.length;
    return n;
  }

  /**
   * The earliest a frame may enter the transmit path from here (Actor.earliestTransmit): now while the qdisc holds
   * frames (they go as soon as the ring has room), else the open-loop generators' next frame (Infinity: none left).
   */
  earliestTransmit(now: Nanos): Nanos {
    if (this.held() > 0) return now;
    const next = this.source.peek();
    return next > now ? next : now;
  }

  report(): TxReport {
    return {
      sent: this.sent,
      sentBytes: this.sentBytes,
      ...(this.closedLoopSent > 0 ? { closedLoopSent: this.closedLoopSent, closedLoopSentBytes: this.closedLoopSentBytes } : {}),
      held: this.held(),
      drops: { 'guest-qdisc-overlimit': this.dropsQdisc },
      notifies: this.notifies,
      virqs: this.virqs,
      ...(this.staleMessages > 0 ? { staleMessages: this.staleMessages } : {}),
      ...(this.notificationsLost + this.notificationsDelayed > 0
        ? { notificationsLost: this.notificationsLost, notificationsDelayed: this.notificationsDelayed }
        : {}),
    };
  }

  start(_now: Nanos, fx: Effects): void {
    this.schedule(fx);
  }

  /**
   * A restarted guest sends again from `now` on, on new TX rings (from index 0, as the front end's reconnect tells
   * netback). Its application's sends are deterministic from the seed, as the NIC's wire is: the frames due up to now
   * — while the dead guest ran and while it was down — are replayed and counted as sent without entering the stack,
   * so that `sent` is exact (the run's driver counts those due while it was down lost with it, lost-in-crash).
   */
  reconnect(now: Nanos, fx: Effects): void {
    const src = this.source;
    const before = this.sent;
    while (src.peek() <= now) {
      src.take();
      this.sent++;
      this.sentBytes += src.len;
    }
    fx.event('netfront-tx-resumed', { vm: this.cfg.vm, replayedFrames: this.sent - before });
    this.schedule(fx);
  }

  /**
   * netback restarted and asks for queue `queue`'s rings (xenbus: the back end went through Closing to InitWait):
   * netfront's xennet_disconnect_backend frees every TX buffer netback has not answered (xennet_release_tx_bufs:
   * their frames are lost, or already sent if netback had passed them on before it died — netfront cannot tell),
   * and talk_to_netback sets up a new TX ring from index 0 (FRONT_RING_INIT). The queue runs again and its qdisc
   * drains onto the new ring. The caller has sent the ring state first, so netback knows the new ring before it
   * sees requests on it.
   */
  reconnectBackend(queue: number, now: Nanos, fx: Effects): void {
    const q = this.qs[queue];
    if (q === undefined) return;
    const unanswered = u32Sub(q.ring.reqProd, q.ring.rspProd);
    q.ring = new TxRingFront(q.ring.size);
    q.stopped = false;
    q.ackAt = -1;
    fx.event('netfront-tx-bufs-released', { vm: this.cfg.vm, queue, slots: unanswered });
    let t = now;
    while (!q.stopped && q.qdisc.length > 0) {
      const d = q.qdisc;
      this.startXmit(q, d.flowAt(0), d.seqAt(0), d.lenAt(0), d.atAt(0), t, fx, d.tcpAt(0));
      d.discard(1);
      t = q.core.busyUntil > t ? q.core.busyUntil : t;
    }
  }

  /** A TX response write of a ring that went away (before the new ring is connected), ignored and counted. */
  staleResponse(): void {
    this.staleMessages++;
  }

  timer(tag: number, now: Nanos, fx: Effects): void {
    if (tag === TAG_SEND) this.send(now, fx);
    else if (tag <= TAG_DELAYED_EVT) this.deliverTxEvent(this.qs.length + TAG_DELAYED_EVT - tag, now, fx);
  }

  /**
   * A transmit-path fault on this guest's queues starts or ends (the worker serving a queue acts on the guest's
   * kicks, see NetbackTx.fault; this side on the TX completions). lose / delay: notifications on the queue's TX
   * event channel (with split event channels; a shared channel's are the receive path's to lose).
   * stop-tx-completion: xennet_tx_buf_gc does not run (neither after a send nor from the interrupt), so no slot
   * comes back: the ring fills, the queue stops, the qdisc fills and further sends are dropped; at the end the
   * deferred interrupt work runs. corrupt-tx-ring-index: a req_prod more than a ring ahead is written.
   */
  fault(cmd: FaultCommand, now: Nanos, fx: Effects): void {
    const on = cmd.phase === 'start';
    const p = cmd.params;
    const prng = on ? new Prng(cmd.seed) : null;
    for (const qi of cmd.queues ?? this.qs.map((q) => q.index)) {
      const q = this.qs[qi];
      if (!q) continue;
      switch (cmd.action) {
        case 'lose-tx-notifications':
          q.notify.setLoss(on, p.probability, prng);
          break;
        case 'delay-tx-notifications':
          q.notify.setDelay(on, p.probability, p.delay, prng);
          break;
        case 'stop-tx-completion':
          q.gcStopped = on;
          fx.event(on ? 'tx-completion-stopped' : 'tx-completion-resumed', { vm: this.cfg.vm, queue: q.index });
          if (!on) this.onInterrupt(q.index, now, fx);
          break;
        case 'corrupt-tx-ring-index': {
          const bad = u32Add(q.ring.reqProd, q.ring.size + (p.offset ?? 1));
          const r = q.ring;
          fx.send(
            this.cfg.workers[q.index] as ActorRef,
            {
              kind: 'txreq',
              vm: this.cfg.vm,
              queue: q.index,
              reqProd: bad,
              rspEvent: r.rspEvent,
              rspProdSeen: r.rspProd,
              notify: true,
              batch: this.cfg.pool.take(0),
            },
            now,
          );
          fx.event('tx-ring-index-written', { vm: this.cfg.vm, queue: q.index, reqProd: bad, valid: r.reqProd });
          break;
        }
        default:
          break;
      }
    }
  }

  /** The open-loop generators: every frame due by now is transmitted, then the next send is scheduled. */
  private send(now: Nanos, fx: Effects): void {
    const src = this.source;
    while (src.peek() <= now) {
      src.take();
      this.transmit(src.flow, src.seq, src.len, src.at, fx, undefined, now);
    }
    this.schedule(fx);
  }

  /**
   * The guest transmits a frame of `len` bytes (Ethernet, FCS included) on flow `flow`, sent by the application at
   * `at` (its send time, where latency counts from) and handled from `now` on: the one entry point of the transmit path, for the open-loop generators and for any workload that
   * sends (a TCP ACK, a request). The stack's work runs on the vCPU of the frame's TX queue, then
   * dev_queue_xmit — straight to xennet_start_xmit when the queue runs and its qdisc is empty, into the qdisc
   * when it is stopped, dropped when the qdisc is full [assumption: a sender that does not block]. A closed-loop
   * flow's frame carries its TCP header `tcp` along.
   */
  transmit(flow: number, seq: number, len: number, at: Nanos, fx: Effects, tcp?: TcpHeader, now: Nanos = at): void {
    const tx = this.tx;
    this.sent++;
    this.sentBytes += len;
    if (tcp !== undefined) {
      this.closedLoopSent++;
      this.closedLoopSentBytes += len;
    }
    const q = this.qs[this.cfg.flowQueue[flow] ?? 0] ?? (this.qs[0] as TxQueue);
    // The stack's work starts no earlier than now: a live host's send timer can fire late, and what the guest
    // writes then cannot be due before it was written (in sim the timer fires at `at`, so now is `at`).
    const t = q.core.run(now > at ? now : at, tx.guestPerPacket + len * tx.guestPerByte, 'tx-send');
    if (q.stopped || q.qdisc.length > 0) {
      if (q.qdisc.length >= this.cfg.qdiscLen) this.dropsQdisc++;
      else if (tcp === undefined) q.qdisc.push(flow, seq, len, at);
      else q.qdisc.pushHeader(flow, seq, len, at, tcp);
      return;
    }
    this.startXmit(q, flow, seq, len, at, t, fx, tcp);
  }

  private schedule(fx: Effects): void {
    const next = this.source.peek();
    if (next !== Infinity) fx.timer(next, TAG_SEND);
  }

  /**
   * xennet_start_xmit: grant the frame's pages and post one TX request per slot (XEN_NETTXF_more_data on all but
   * the last), RING_PUSH_REQUESTS_AND_CHECK_NOTIFY and the notify hypercall if it says so, then reclaim what
   * netback has answered (xennet_tx_buf_gc) and stop the queue if the next largest frame might not fit.
   */
  private startXmit(q: TxQueue, flow: number, seq: number, len: number, sentAt: Nanos, now: Nanos, fx: Effects, tcp?: TcpHeader): void {
    const slots = txSlots(len);
    let t = q.core.run(now, slots * this.tx.guestPerSlot, 'tx-xmit');
    q.ring.postRequests(slots);
    const notify = q.ring.pushRequests();
    if (notify) {
      t = q.core.run(t, this.cfg.costs.frontend.notify, 'tx-notify');
      this.notifies++;
    }
    // xennet_tx_buf_gc runs right after the push; its re-armed rsp_event is on the shared page at once, so
    // this write carries it.
    t = this.bufGc(q, t);
    const batch = this.cfg.pool.take(1);
    batch.flow[0] = flow;
    batch.seq[0] = seq;
    batch.len[0] = len;
    batch.emittedAt[0] = sentAt;
    if (tcp !== undefined) setTcpEntry(tcpColumnsOf(batch), 0, tcp);
    batch.count = 1;
    this.writeRing(q, notify, batch, t, fx);
    if (q.ring.freeRequestSlots() < XEN_NETIF_NR_SLOTS_MIN + 1) q.stopped = true;
  }

  /**
   * After a bus outage (Actor.resync): per queue, our TX ring writes again — req_prod, rsp_event and the rsp_prod
   * seen — since a `txreq` the bus lost would leave netback with a stale view: requests it never gets the frames of
   * (it answers them with error responses, see NetbackTx.lostRequests) or an old rsp_event. Not a notify hypercall:
   * no core time. Stamped no earlier than the queue's last write, which may lie ahead of now on a busy vCPU, so that
   * it cannot overtake that write.
   */
  resync(now: Nanos, fx: Effects): void {
    for (const q of this.qs) {
      const at = q.core.busyUntil > now ? q.core.busyUntil : now;
      this.writeRing(q, false, this.cfg.pool.take(0), at, fx);
    }
  }

  /** Our TX ring writes to the queue's worker: new requests (with their frames) or only a re-armed rsp_event. */
  private writeRing(q: TxQueue, notify: boolean, batch: ReturnType<BatchPool['take']>, at: Nanos, fx: Effects): void {
    const r = q.ring;
    fx.send(
      this.cfg.workers[q.index] as ActorRef,
      { kind: 'txreq', vm: this.cfg.vm, queue: q.index, reqProd: r.reqProd, rspEvent: r.rspEvent, rspProdSeen: r.rspProd, notify, batch },
      at,
    );
  }

  /**
   * xennet_tx_buf_gc: free the slots of every response seen (ending their grants), then
   * RING_FINAL_CHECK_FOR_RESPONSES re-arms rsp_event at rsp_cons + 1. Returns when done.
   */
  private bufGc(q: TxQueue, now: Nanos): Nanos {
    if (q.gcStopped) return now;
    const n = q.ring.unconsumed();
    if (n > 0) q.ring.consume(n);
    q.ring.finalCheck(1);
    return n === 0 ? now : q.core.run(now, n * this.tx.guestGcPerSlot, 'tx-gc');
  }

  /** netback's TX responses arrived (its writes to the shared page): seen now, reclaimed at the next gc. */
  onResponses(queue: number, rspProd: number, reqEvent: number): void {
    const r = this.qs[queue]?.ring;
    if (r === undefined) return;
    // A write older than one already seen (live: messages stamped at different emulated instants can overtake each
    // other) is a stale view of a page whose rsp_prod only moves forward: the newer one stands.
    const behind = u32Sub(r.rspProd, rspProd);
    if (behind !== 0 && behind <= r.size) {
      this.staleResponses++;
      return;
    }
    // Responses to more requests than this ring has posted: a write of a ring a reconnect re-created.
    if (!r.responsesPlausible(rspProd)) {
      this.staleMessages++;
      return;
    }
    r.onResponses(rspProd, reqEvent);
  }

  /** TX and RX share each queue's event channel (feature-split-event-channels not negotiated). */
  get shared(): boolean {
    return !this.cfg.split;
  }

  /** Whether `port` is a TX event channel of this guest (split event channels: port ≥ queues). */
  ownsPort(port: number): boolean {
    return this.cfg.split && port >= this.qs.length;
  }

  /**
   * A notification on a queue's TX event channel. A send while the previous upcall's handler has not acked the
   * port merges into it; otherwise a virtual interrupt runs xennet_tx_interrupt on the queue's vCPU.
   */
  onTxEvent(port: number, now: Nanos, fx: Effects): void {
    const q = this.qs[port - this.qs.length];
    if (!q) return;
    if (q.notify.loses()) {
      this.notificationsLost++;
      return;
    }
    if (q.notify.delays()) {
      this.notificationsDelayed++;
      fx.timer(now + q.notify.delayNs, TAG_DELAYED_EVT - q.index);
      return;
    }
    this.deliverTxEvent(port, now, fx);
  }

  /** The notification reaches the TX event channel: an upcall, unless it merges into one not yet acked. */
  private deliverTxEvent(port: number, now: Nanos, fx: Effects): void {
    const q = this.qs[port - this.qs.length];
    if (!q) return;
    if (q.ackAt >= 0 && now <= q.ackAt) {
      this.merged(q.index, now, fx);
      return;
    }
    const virq = this.cfg.costs.frontend.virq;
    const done = q.core.run(now, virq, 'tx-virq');
    q.ackAt = done - virq;
    this.virqs++;
    this.onInterrupt(q.index, done, fx);
  }

  /**
   * A notification merged into an upcall whose handler has not acked the port yet. On Xen that handler has not run
   * either: netback made its responses (make_tx_response, push_tx_responses) before notify_remote_via_irq, so the
   * pending xennet_tx_interrupt's xennet_tx_buf_gc sees them. The model ran that handler's gc when the upcall was
   * raised (its work is stamped at the handler's time), before responses stamped up to the ack had arrived: the ones
   * this notification announces are reclaimed now, as the pending handler would have, or a queue stopped on a full
   * ring would wait for good (netback notifies once per rsp_prod, and that notification was this one).
   */
  merged(queue: number, now: Nanos, fx: Effects): void {
    const q = this.qs[queue];
    if (q === undefined || !q.stopped || q.gcStopped || q.ring.unconsumed() === 0) return;
    this.onInterrupt(queue, now, fx);
  }

  /**
   * The TX part of netfront's interrupt handler (xennet_tx_interrupt, or xennet_interrupt on a shared channel):
   * xennet_tx_buf_gc with RING_FINAL_CHECK_FOR_RESPONSES (rsp_event re-armed at rsp_cons + 1, written to the
   * shared page: a ring write to netback), then the queue is woken if slots came free and its qdisc drains.
   */
  onInterrupt(queue: number, now: Nanos, fx: Effects): void {
    const q = this.qs[queue];
    if (!q) return;
    let t = this.bufGc(q, now);
    this.writeRing(q, false, this.cfg.pool.take(0), t, fx);
    if (!q.stopped || q.ring.freeRequestSlots() < XEN_NETIF_NR_SLOTS_MIN + 1) return;
    q.stopped = false;
    while (!q.stopped && q.qdisc.length > 0) {
      const d = q.qdisc;
      this.startXmit(q, d.flowAt(0), d.seqAt(0), d.lenAt(0), d.atAt(0), t, fx, d.tcpAt(0));
      d.discard(1);
      t = q.core.busyUntil > t ? q.core.busyUntil : t;
    }
  }
}
