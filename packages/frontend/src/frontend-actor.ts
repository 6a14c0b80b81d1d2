// A guest VM's netfront: event channels, virtual interrupts, NAPI poll, front-end coalescing, RX refill, app sink.
import {
  BatchFifo,
  BatchPool,
  ClosedLoopEnds,
  GroList,
  Core,
  createCoalescer,
  doubleFields,
  EventChannels,
  LatencyHistogram,
  NotificationFault,
  PacketFifo,
  Prng,
  RxRingFront,
  rxDataSlots,
  SplitnetError,
  TCP_HAS_SEGMENT,
  tcpEntry,
  TX_FAULT_ACTIONS,
  u32Add,
  u32Sub,
} from '@splitnet/model';
import { NetfrontTx, type NetfrontTxConfig } from './netfront-tx.js';
import type {
  Actor,
  ActorRef,
  ClosedLoopFlow,
  Coalescer,
  CoreBusy,
  CostProfile,
  Effects,
  FaultCommand,
  FrontendReport,
  Message,
  Nanos,
  PacketBatch,
  PacketTap,
  PolicySpec,
  TcpColumns,
  TcpHeader,
} from '@splitnet/model';

/** A report built field by field. */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface FrontendConfig {
  readonly id: string;
  readonly vm: number;
  readonly queues: number;
  readonly ringSize: number;
  /** NAPI weight per poll (64). */
  readonly budget: number;
  readonly costs: CostProfile;
  /** The worker serving each queue. */
  readonly workers: readonly ActorRef[];
  /** Front-end coalescing policy (`none`: re-arm at cons + 1 after every poll — Xen's default). */
  readonly policy: PolicySpec;
  /** Latency is recorded for packets delivered at or after this time (the end of warm-up). */
  readonly measureFrom: Nanos;
  readonly flowCount: number;
  /**
   * Extra-info slots netback puts after each packet's first data slot: 1 when it passes the Toeplitz
   * hash (XEN_NETIF_EXTRA_TYPE_HASH), else 0. netfront reads them (xennet_get_extras) and puts their
   * buffers back on the ring.
   */
  readonly extraSlots?: number;
  /** The batch pool this actor shares with the actors it passes batches to in memory (default: one of its own). */
  readonly pool?: BatchPool;
  /** A packet capture told of every packet handed to the application (absent: none, and no call). */
  readonly tap?: PacketTap;
  /**
   * A vCPU idle for longer than this has blocked (its idle loop's SCHEDOP_block) and is woken, paying
   * `costs.frontend.wakeup`, before an upcall or timer tick runs on it; absent or null: vCPUs never block.
   */
  readonly blockAfter?: Nanos | null;
  /** The transmit side, when this guest sends (absent: it only receives). */
  readonly tx?: Omit<NetfrontTxConfig, 'pool' | 'costs' | 'vm' | 'ringSize'>;
  /** Closed-loop flows whose guest end (TCP receiver, TCP_RR server) is this VM (absent: none; needs `tx` for its ACKs). */
  readonly closedLoop?: readonly ClosedLoopFlow[];
}

/** Timer tags of the guest's TCP ends: −(base + …), below the transmit side's small negative tags. */
const GUEST_TCP_TAG_BASE = 2 ** 44;
/** How many frame numbers of each closed-loop flow a live guest's incarnation has before the next one's (rejoined). */
const FRAME_NUMBERING_SPAN = 2 ** 24;

export interface FrontendQueueStats {
  queue: number;
  /** Virtual interrupts delivered to this queue's vCPU. */
  virqs: number;
  /** Virtual interrupts that found NAPI already scheduled (wasted). */
  virqsWhilePolling: number;
  polls: number;
  /** Polls started by the front-end coalescing timer. */
  timerPolls: number;
  /** Timer ticks that found nothing to do. */
  idleTimerTicks: number;
  delivered: number;
  deliveredBytes: number;
  /** Notify hypercalls for new RX requests. */
  reqNotifies: number;
  /** Notifications a fault lost; those that found NAPI already running were absorbed by its final check. */
  notificationsLost: number;
  lostAbsorbed: number;
  notificationsDelayed: number;
  /** Responses that arrived without their packets (their message was lost): netfront's rx_errors. */
  rxErrors: number;
  /**
   * Packets in responses for the old ring, ignored while a restarted front end waited for its new ring
   * to connect, or refused afterwards because their rsp_prod was impossible for the new ring.
   */
  staleDiscarded: number;
  /** Responses refused for an impossible rsp_prod (after the first, no further event). */
  badResponses: number;
  /** Times its vCPU had blocked and was woken for an upcall or a timer tick. */
  wakeups: number;
}

const KIND_POLL_START = 0;
const KIND_POLL_END = 1;
const KIND_TIMER = 2;
/** A notification a delay-notifications fault held back, delivered now (tag rest = port). */
const KIND_DELAYED_EVT = 3;
const NAPI_IDLE = 0;
const NAPI_SCHEDULED = 1;
const NAPI_POLLING = 2;

class RxQueue {
  readonly ring: RxRingFront;
  /** Responses published by the back end and not yet consumed (the packets in the guest's RX ring). */
  readonly pending: BatchFifo;
  readonly core: Core;
  readonly coalescer: Coalescer | null;
  napi = NAPI_IDLE;
  timerGen = 0;
  lastPollCount = 0;
  /** Ring slots the last poll consumed (data pages and extra info), re-posted at its end. */
  lastPollSlots = 0;
  lastPollBytes = 0;
  /** Fault state: lose / delay notifications with a probability, NAPI not polling. */
  readonly notify = new NotificationFault();
  stopped = false;
  /** Slots of error responses, whose buffers go back on the ring at the next refill. */
  repost = 0;
  /** Segments of closed-loop flows the running poll delivered (flow and TCP fields), for the guest's TCP at the poll's end. */
  readonly tcpSegments = new PacketFifo(16);
  /** napi_gro_receive's list for those segments (null until the first). */
  gro: GroList | null = null;
  /** A poll came due while stopped: run it at resume. */
  pollDeferred = false;
  /** An open stall (the queue has work but nothing will poll it): why, and since when (−1: none). */
  stallCause = '';
  stallSince = -1;
  /**
   * When the handler of this port's latest upcall starts and acks the port (clears its pending bit);
   * -1 before the first. A send up to then merges into that upcall, a later one raises another.
   */
  ackAt: Nanos = -1;
  /** The back end serves this queue's current ring (false from a reconnect with a new ring until `connected`). */
  connected = true;
  /** Which ring this is: the emulated time it was set up (0: the run's first). */
  ringAt: Nanos = 0;
  readonly stats: FrontendQueueStats;
  constructor(
    readonly index: number,
    vm: number,
    ringSize: number,
    policy: PolicySpec,
    pool: BatchPool,
  ) {
    this.pending = new BatchFifo(pool);
    this.ring = new RxRingFront(ringSize);
    this.core = new Core(`vm${vm}.vcpu${index}`);
    this.coalescer = policy.kind === 'none' ? null : createCoalescer(policy);
    this.stats = doubleFields(
      {
        queue: index,
        virqs: 0,
        virqsWhilePolling: 0,
        polls: 0,
        timerPolls: 0,
        idleTimerTicks: 0,
        delivered: 0,
        deliveredBytes: 0,
        reqNotifies: 0,
        notificationsLost: 0,
        lostAbsorbed: 0,
        notificationsDelayed: 0,
        rxErrors: 0,
        staleDiscarded: 0,
        badResponses: 0,
        wakeups: 0,
      },
      ['deliveredBytes'],
    );
  }
}

export class FrontendActor implements Actor {
  readonly id: string;
  readonly latency = new LatencyHistogram();
  private readonly qs: RxQueue[] = [];
  private readonly evtchn: EventChannels;
  private readonly nextSeq: Uint32Array;
  /** Packets of a flow that arrived with a lower sequence number than one already delivered. */
  reordered = 0;
  delivered = 0;
  deliveredBytes = 0;
  /** Delivered after the warm-up (for rates over the measured window). */
  measuredDelivered = 0;
  measuredBytes = 0;

  /** Where this actor's packet batches come from and go back to. */
  private readonly pool: BatchPool;
  /** netfront's transmit side (null: this guest does not send). */
  private readonly tx: NetfrontTx | null;
  /** The guest ends of closed-loop flows (null: none), and the next sequence number of each flow's frames. */
  private tcp: ClosedLoopEnds | null;
  private tcpSeq: number[] = [];
  /** The instant and effects of the poll end whose GRO list is handing packets to TCP. */
  private groNow: Nanos = 0;
  private groFx: Effects | null = null;

  constructor(private readonly cfg: FrontendConfig) {
    this.id = cfg.id;
    this.pool = cfg.pool ?? new BatchPool();
    doubleFields(this, ['deliveredBytes', 'measuredBytes']); // byte counters pass 2^30 within seconds
    this.evtchn = new EventChannels(cfg.queues, cfg.queues);
    for (let q = 0; q < cfg.queues; q++) {
      this.qs.push(new RxQueue(q, cfg.vm, cfg.ringSize, cfg.policy, this.pool));
      this.evtchn.bind(q, q); // queue q's event channel is bound to vCPU q
    }
    this.nextSeq = new Uint32Array(cfg.flowCount);
    this.tx = cfg.tx
      ? new NetfrontTx(
          { ...cfg.tx, vm: cfg.vm, ringSize: cfg.ringSize, costs: cfg.costs, pool: this.pool },
          this.qs.map((q) => q.core),
        )
      : null;
    const flows = cfg.closedLoop ?? [];
    this.tcp = flows.length === 0 ? null : new ClosedLoopEnds(flows, 'guest', GUEST_TCP_TAG_BASE, -1, (f, len, h, at, fx) => this.tcpSend(f, len, h, at, fx));
  }

  /** The GRO list of q's NAPI context, made at its first TCP segment; what it hands on goes to the guest's TCP at groNow. */
  private groOf(q: RxQueue): GroList {
    if (q.gro !== null) return q.gro;
    const tcp = this.tcp as ClosedLoopEnds;
    return (q.gro = new GroList((flow, seq, payload, ack, window, flags) =>
      tcp.take(flow, seq, payload, ack, window, flags, this.groNow, this.groFx as Effects),
    ));
  }

  /** The guest's TCP end sends a segment (an ACK, a response) through the transmit path. */
  private tcpSend(flow: number, len: number, header: TcpHeader, at: Nanos, fx: Effects): void {
    const seq = this.tcpSeq[flow] ?? 0;
    this.tcpSeq[flow] = (seq + 1) >>> 0;
    this.transmit(flow, seq, len, at, fx, header);
  }

  queueStats(): readonly FrontendQueueStats[] {
    return this.qs.map((q) => q.stats);
  }

  cores(): readonly Core[] {
    return this.qs.map((q) => q.core);
  }

  /** Responses waiting in each queue's ring (ring occupancy). */
  ringOccupancy(): readonly number[] {
    return this.qs.map((q) => q.pending.length);
  }

  /**
   * Lockstep's promises: a guest with a closed-loop end (TCP, request-response) transmits in reaction to what it
   * receives, so it may at any moment; an open-loop sender at its next frame (NetfrontTx); a guest that only
   * receives never (its receive path hands frames to the application, never back to the wire).
   */
  earliestTransmit(now: Nanos): Nanos {
    if (this.tcp !== null) return now;
    return this.tx === null ? Infinity : this.tx.earliestTransmit(now);
  }

  heldPackets(): number {
    let n = 0;
    for (const q of this.qs) n += q.pending.length;
    return n;
  }

  report(t: Nanos, final: boolean): FrontendReport {
    const busy: CoreBusy = {};
    let timerPolls = 0;
    let idleTimerTicks = 0;
    let virqsWhilePolling = 0;
    let lost = 0;
    let absorbed = 0;
    let delayed = 0;
    let stale = 0;
    let wakeups = 0;
    for (const q of this.qs) {
      stale += q.stats.staleDiscarded;
      lost += q.stats.notificationsLost;
      absorbed += q.stats.lostAbsorbed;
      delayed += q.stats.notificationsDelayed;
      busy[q.core.name] = q.core.busyThrough(t);
      timerPolls += q.stats.timerPolls;
      idleTimerTicks += q.stats.idleTimerTicks;
      virqsWhilePolling += q.stats.virqsWhilePolling;
      wakeups += q.stats.wakeups;
    }
    const held = this.heldPackets();
    // The optional fields are added after, in this order: an object literal with spreads is built field by field.
    const r: Mutable<FrontendReport> = {
      role: 'frontend',
      id: this.id,
      t,
      vm: this.cfg.vm,
      busy,
      held,
      delivered: this.delivered,
      deliveredBytes: this.deliveredBytes,
      virqs: this.qs.map((q) => q.stats.virqs),
      virqsWhilePolling,
      timerPolls,
      idleTimerTicks,
      ringOccupancy: held,
      reordered: this.reordered,
      notificationsLost: lost,
      lostAbsorbed: absorbed,
      notificationsDelayed: delayed,
      discardedOldRing: stale,
      queueDelivered: this.qs.map((q) => q.stats.delivered),
      queueDeliveredBytes: this.qs.map((q) => q.stats.deliveredBytes),
      queueRingOccupancy: this.ringOccupancy(),
    };
    if (this.cfg.blockAfter !== undefined && this.cfg.blockAfter !== null) r.vcpuWakeups = wakeups;
    if (final) r.latency = this.latency.toJSON();
    if (this.tx) r.tx = this.tx.report();
    if (this.tcp) r.closedLoop = this.tcp.report(t, final);
    return r;
  }

  /**
   * The guest transmits a frame of `len` bytes on flow `flow` at `at` (see NetfrontTx.transmit): the transmit
   * path's entry point for anything in the guest that sends. A guest built without a transmit side refuses.
   */
  transmit(flow: number, seq: number, len: number, at: Nanos, fx: Effects, tcp?: TcpHeader): void {
    if (this.tx === null) throw new SplitnetError('E_INTERNAL', `${this.id} has no transmit side (no cost profile tx section given)`);
    this.tx.transmit(flow, seq, len, at, fx, tcp);
  }

  /** Post every ring slot as an RX buffer, as netfront does when the VIF connects. */
  start(now: Nanos, fx: Effects): void {
    for (const q of this.qs) {
      q.ring.postRequests(q.ring.freeRequestSlots());
      this.publish(q, now, fx);
    }
    this.tx?.start(now, fx);
    this.tcp?.start(now, fx);
  }

  /**
   * A restarted netfront reconnects its VIF, as after a xenbus reconnect: new shared rings (indices
   * from 0, as SHARED_RING_INIT), every slot posted as an RX buffer, and each queue's ring state sent
   * to the worker serving it, which re-initialises the queue from it and answers `connected`. Until
   * then, responses and notifications on that queue belong to the old ring: they are ignored (their
   * packets went into the buffers of a guest that crashed).
   */
  reconnect(now: Nanos, fx: Effects): void {
    for (const q of this.qs) {
      q.connected = false;
      q.ringAt = now;
      q.ring.postRequests(q.ring.freeRequestSlots());
      q.ring.pushRequests();
      this.sendRingState(q, now, fx);
    }
    this.tx?.reconnect(now, fx);
    // Its sockets died with it: its TCP ends listen, or open new connections (docs/model.md §12 "Restarts").
    this.tcp?.restarted(now, fx);
    fx.event('netfront-reconnect', { vm: this.cfg.vm, queues: this.qs.length });
  }

  /**
   * Sim and lockstep: this guest restarts in place of `dead`. Its TCP ends start with no connection (reconnect), but
   * the run's measurement of them goes on: bytes delivered, segments sent, transactions (ClosedLoopEnds.adopt), and
   * each flow's frame numbering, so that a receiver's order check does not take the new frames for reordered ones.
   */
  inherit(dead: Actor): void {
    if (!(dead instanceof FrontendActor) || dead.tcp === null || this.tcp === null) return;
    this.tcp.adopt(dead.tcp);
    this.tcpSeq = dead.tcpSeq.slice();
    dead.tcp = null; // its ghost reports them no more: they are this incarnation's
  }

  /**
   * Live only: this guest's process died and was restarted. Its dead incarnation's frame numbering died with it (sim
   * carries it over: inherit), and the frames it sent after its last sample are known to no counter, so the successor
   * cannot continue it exactly: incarnation `k` numbers its closed-loop frames from k · 2^24 on (each flow), past any
   * number an earlier one used in a run of fewer than 16.7 million frames per flow and incarnation, so the peer's
   * order check (a guest's `reordered`) and a capture's packet ids see the numbering go on, not repeat.
   */
  rejoined(_now: Nanos, _fx: Effects, incarnation: number): void {
    if (this.tcp === null) return;
    const base = ((incarnation % 256) * FRAME_NUMBERING_SPAN) >>> 0;
    for (const flow of this.tcp.outFlows()) this.tcpSeq[flow] = Math.max(base, this.tcpSeq[flow] ?? 0);
  }

  /** This queue's ring state, for the worker serving it (a back end that (re)connects); `txRenewed`: with a new TX ring. */
  private sendRingState(q: RxQueue, now: Nanos, fx: Effects, txRenewed = false): void {
    const r = q.ring;
    fx.send(
      this.cfg.workers[q.index] as ActorRef,
      {
        kind: 'ring',
        vm: this.cfg.vm,
        queue: q.index,
        reqProd: r.reqProd,
        rspEvent: r.rspEvent,
        rspProdSeen: r.rspProd,
        newRing: !q.connected,
        ringAt: q.ringAt,
        ...(txRenewed ? { txRenewed: true } : {}),
      },
      now,
    );
  }

  /**
   * After a bus outage (see Actor.resync): per connected queue, the ring writes netback must know (a lost
   * `req` would leave it with a stale req_prod and rsp_event). A re-announcement, not a notify hypercall:
   * no core time; netback ignores it when it already has them. A queue still waiting for netback to
   * connect its new ring (this front end restarted) sends its ring state again: it may have been lost.
   */
  resync(now: Nanos, fx: Effects): void {
    for (const q of this.qs) {
      if (!q.connected) {
        this.sendRingState(q, now, fx);
        continue;
      }
      this.sendRingWrites(q, false, now, fx);
    }
    this.tx?.resync(now, fx);
  }

  receive(msg: Message, now: Nanos, fx: Effects): void {
    if (msg.kind === 'rsp') {
      const q = this.qs[msg.queue];
      if (!q) return;
      const slots = this.slotsOf(msg.batch);
      if (!q.connected || !q.ring.responsesPlausible(msg.rspProd) || u32Sub(msg.rspProd, q.ring.rspProd) < slots) {
        // Before `connected`: the old ring's responses. After it, an impossible rsp_prod can only be the
        // old ring's too (a message delayed past the reconnect); netfront refuses such an index ("Illegal
        // number of responses") rather than consume it. So is a message with more packets than its rsp_prod
        // moves on: its responses are not all new. Either way the packets are lost with the old ring.
        if (q.connected && q.stats.badResponses++ === 0) {
          fx.event('netfront-bad-response', { vm: this.cfg.vm, queue: q.index, rspProd: msg.rspProd, rspProdSeen: q.ring.rspProd, reqProd: q.ring.reqProd });
        }
        q.stats.staleDiscarded += msg.batch.count;
        this.pool.release(msg.batch);
        return;
      }
      const before = q.ring.rspProd;
      q.ring.onResponses(msg.rspProd, msg.reqEvent);
      // Responses whose message was lost in transit (a partition): their slots moved on without
      // packets. netfront drops a response with an error status (rx_errors); here its slot is
      // consumed at once and its buffer re-posted at the next refill.
      const lost = ((msg.rspProd - before) >>> 0) - slots;
      if (lost > 0) {
        q.ring.consume(lost);
        q.repost += lost;
        q.stats.rxErrors += lost;
      }
      q.pending.adopt(msg.batch); // the queue owns the batch now: no copy
    } else if (msg.kind === 'txrsp') {
      // Before `connected`, TX responses are the old ring's (the guest restarted: its TX ring is new).
      if (this.qs[msg.queue]?.connected === false) this.tx?.staleResponse();
      else this.tx?.onResponses(msg.queue, msg.rspProd, msg.reqEvent);
    } else if (msg.kind === 'evt') {
      if (this.tx?.ownsPort(msg.port) === true) {
        this.tx.onTxEvent(msg.port, now, fx);
        return;
      }
      if (this.qs[msg.port]?.connected === false) return; // a notification on the old ring's event channel
      this.onEvtMessage(msg.port, now, fx);
    } else if (msg.kind === 'reconnect') {
      const q = this.qs[msg.queue];
      if (q) {
        // With a transmit side, the answer follows the TX ring writes this vCPU still has under way (stamped up to
        // its busy time): netback must see them, on the ring it is about to forget, before the new ring's state.
        const at = this.tx !== null && q.core.busyUntil > now ? q.core.busyUntil : now;
        this.sendRingState(q, at, fx, this.tx !== null);
        this.tx?.reconnectBackend(q.index, at, fx);
      }
    } else if (msg.kind === 'connected') {
      const q = this.qs[msg.queue];
      if (!q || q.connected || msg.ringAt !== q.ringAt) return; // an answer for an earlier ring is void
      q.connected = true;
      fx.event('netfront-connected', { vm: this.cfg.vm, queue: q.index, staleDiscarded: q.stats.staleDiscarded });
    }
  }

  timer(tag: number, now: Nanos, fx: Effects): void {
    if (tag < 0) {
      if (this.tcp?.ownsTag(tag) === true) this.tcp.timer(tag, now, fx);
      else this.tx?.timer(tag, now, fx); // the transmit side's timers are negative
      return;
    }
    const kind = tag % 4;
    const rest = Math.floor(tag / 4);
    const n = this.qs.length;
    const q = this.qs[rest % n];
    if (!q) return;
    if (kind === KIND_POLL_START) this.pollStart(q, now, fx);
    else if (kind === KIND_POLL_END) this.pollEnd(q, now, fx);
    else if (kind === KIND_TIMER && Math.floor(rest / n) === q.timerGen) this.timerTick(q, now, fx);
    else if (kind === KIND_DELAYED_EVT) this.onEvent(q.index, now, fx);
  }

  /** A datapath fault on this guest's queues starts or ends. */
  fault(cmd: FaultCommand, now: Nanos, fx: Effects): void {
    if (TX_FAULT_ACTIONS.has(cmd.action)) {
      this.tx?.fault(cmd, now, fx);
      return;
    }
    const on = cmd.phase === 'start';
    const p = cmd.params;
    const queues = cmd.queues ?? this.qs.map((q) => q.index);
    // One stream per fault occurrence and actor, drawn in queue order: the same seed gives the same losses.
    const prng = on ? new Prng(cmd.seed) : null;
    for (const qi of queues) {
      const q = this.qs[qi];
      if (!q) continue;
      switch (cmd.action) {
        case 'lose-notifications':
          q.notify.setLoss(on, p.probability, prng);
          break;
        case 'delay-notifications':
          q.notify.setDelay(on, p.probability, p.delay, prng);
          break;
        case 'stop-polling':
          if (on) {
            q.stopped = true;
            this.openStall(q, now, 'stopped-polling', fx);
          } else {
            q.stopped = false;
            if (q.pollDeferred) {
              q.pollDeferred = false;
              this.closeStall(q, now, 'resume', fx);
              this.pollStart(q, now, fx);
            } else if (q.napi === NAPI_IDLE && q.pending.length > 0) {
              this.schedulePoll(q, now, fx, 'resume');
            } else {
              this.closeStall(q, now, 'resume', fx);
            }
          }
          break;
        case 'corrupt-ring-index':
          if (on) {
            // Write a req_prod more than a ring ahead of anything posted: netback must catch it.
            const bad = u32Add(q.ring.reqProd, q.ring.size + (p.offset ?? 1));
            fx.send(
              this.cfg.workers[q.index] as ActorRef,
              {
                kind: 'req',
                vm: this.cfg.vm,
                queue: q.index,
                reqProd: bad,
                rspEvent: q.ring.rspEvent,
                rspProdSeen: q.ring.rspProd,
                notify: true,
              },
              now,
            );
            fx.event('ring-index-written', { vm: this.cfg.vm, queue: q.index, reqProd: bad, valid: q.ring.reqProd });
          } else {
            // The guest reconnects the queue (xenbus): netback takes the ring state from us.
            this.sendRingState(q, now, fx);
          }
          break;
        default:
          break;
      }
    }
  }

  /** A notification arrived: a fault may lose or delay it; otherwise it is delivered to the event channel. */
  private onEvtMessage(port: number, now: Nanos, fx: Effects): void {
    const q = this.qs[port];
    if (!q) return;
    if (q.notify.loses()) {
      q.stats.notificationsLost++;
      if (q.napi !== NAPI_IDLE) {
        // NAPI is scheduled or polling: its final check will find the responses this notification announced.
        q.stats.lostAbsorbed++;
      } else {
        this.openStall(q, now, 'lost-notification', fx);
      }
      return;
    }
    if (q.notify.delays()) {
      q.stats.notificationsDelayed++;
      fx.timer(now + q.notify.delayNs, KIND_DELAYED_EVT + 4 * port);
      return;
    }
    this.onEvent(port, now, fx);
  }

  /** The queue has (or will have) work that nothing is going to poll: record it until a poll is scheduled. */
  private openStall(q: RxQueue, now: Nanos, cause: string, fx: Effects): void {
    if (q.stallSince >= 0) return;
    q.stallSince = now;
    q.stallCause = cause;
    fx.event('queue-stall-start', { vm: this.cfg.vm, queue: q.index, cause });
  }

  private closeStall(q: RxQueue, now: Nanos, endedBy: string, fx: Effects): void {
    if (q.stallSince < 0) return;
    fx.event('queue-stall-end', { vm: this.cfg.vm, queue: q.index, cause: q.stallCause, since: q.stallSince, endedBy });
    q.stallSince = -1;
    q.stallCause = '';
  }

  /**
   * An event-channel notification: set pending; if it raises an upcall, the vCPU takes a virtual interrupt.
   * The port stays pending until the upcall's handler starts and acks it (Linux: handle_edge_irq → ack_dynirq →
   * clear_evtchn, before xennet_rx_interrupt runs), so a send before then finds the bit set and merges
   * (evtchn_2l_set_pending, xen/common/event_2l.c); a send after it raises another upcall. The ack is taken
   * at the start of the virtual interrupt's work on the vCPU [assumption: the exit/entry and upcall dispatch
   * that precede it in `frontend.virq` are folded into one cost].
   */
  private onEvent(port: number, now: Nanos, fx: Effects): void {
    const q = this.qs[port];
    if (!q) return;
    if (q.ackAt >= 0 && now > q.ackAt) {
      // The previous upcall's handler has acked the port by now.
      this.evtchn.ackUpcall(port);
      this.evtchn.clearPending(port);
    }
    if (!this.evtchn.send(port)) {
      // Merged into a pending upcall (not masked: ackAt is set only by an upcall): its handler reclaims TX slots too.
      if (this.tx?.shared === true && q.ackAt >= 0 && now <= q.ackAt) this.tx.merged(port, now, fx);
      return;
    }
    const virq = this.cfg.costs.frontend.virq;
    const done = q.core.run(this.vcpuReady(q, now), virq, 'virq');
    q.ackAt = done - virq;
    q.stats.virqs++;
    // One event channel for TX and RX (no feature-split-event-channels): xennet_interrupt also reclaims TX slots.
    if (this.tx?.shared === true) this.tx.onInterrupt(port, done, fx);
    if (q.napi !== NAPI_IDLE) {
      q.stats.virqsWhilePolling++;
      return;
    }
    this.schedulePoll(q, done, fx, 'virq');
  }

  /**
   * When work reaching queue q's vCPU at `now` can start. A vCPU idle for longer than blockAfter has blocked
   * (Linux's idle loop halts, and Xen deschedules a halted vCPU), so an upcall or a timer interrupt must first
   * wake it: Xen's vcpu_wake → csched_unit_wake (BOOST) → schedule → VM entry, `costs.frontend.wakeup`. The
   * port stays pending meanwhile, so notifications sent during the wake-up merge into this upcall.
   */
  private vcpuReady(q: RxQueue, now: Nanos): Nanos {
    const after = this.cfg.blockAfter;
    if (after === undefined || after === null) return now;
    const idleSince = q.core.busyUntil;
    if (!(now - idleSince > after)) return now;
    q.stats.wakeups++;
    return now + this.cfg.costs.frontend.wakeup;
  }

  /** `why` names what started the poll; it ends an open stall of the queue (a stopped queue's stall ends at resume). */
  private schedulePoll(q: RxQueue, at: Nanos, fx: Effects, why: string): void {
    if (q.stallSince >= 0 && !q.stopped) this.closeStall(q, at, why, fx);
    q.napi = NAPI_SCHEDULED;
    q.timerGen++; // a poll supersedes a pending coalescing timer
    fx.timer(at, KIND_POLL_START + 4 * q.index);
  }

  /** NAPI poll: consume up to `budget` responses, deliver each packet to the application in turn. */
  private pollStart(q: RxQueue, now: Nanos, fx: Effects): void {
    if (q.stopped) {
      // The guest's NAPI softirq does not run: the poll waits (the ring fills behind it).
      q.pollDeferred = true;
      return;
    }
    q.napi = NAPI_POLLING;
    q.stats.polls++;
    const f = this.cfg.costs.frontend;
    const p = q.pending;
    const n = Math.min(this.cfg.budget, p.length);
    const start = q.core.busyUntil > now ? q.core.busyUntil : now;
    let t = start + f.pollOverhead;
    const measureFrom = this.cfg.measureFrom;
    const nextSeq = this.nextSeq;
    const hist = this.latency;
    const extra = this.cfg.extraSlots ?? 0;
    const tap = this.cfg.tap;
    let bytes = 0;
    let slots = 0;
    let measured = 0;
    let measuredBytes = 0;
    const tcp = this.tcp;
    const segments = q.tcpSegments;
    // The packets, batch by batch as the responses came (segment s, index i in it).
    let s = 0;
    let b = n > 0 ? p.segment(0) : null;
    let i = p.headIndex;
    // Slots depend on the frame length only: the last length's are kept (frames of one size are the rule).
    let lastLen = -1;
    let lenSlots = 0;
    for (let k = 0; k < n; k++, i++) {
      let batch = b as PacketBatch;
      if (i >= batch.count) {
        batch = b = p.segment(++s);
        i = 0;
      }
      const len = batch.len[i] as number;
      const flow = batch.flow[i] as number;
      const seq = batch.seq[i] as number;
      t += f.perPacket + len * f.perByte;
      if (tcp !== null && tcp.has(flow)) {
        const cols = batch.tcp;
        if (cols !== undefined && ((cols.flags[i] as number) & TCP_HAS_SEGMENT) !== 0) segments.pushWithTcp(flow, 0, 0, 0, cols, i);
      }
      if (tap !== undefined) tap.guestDelivery(t, flow, seq, len, tcpEntry(batch.tcp, i));
      bytes += len;
      if (len !== lastLen) {
        lastLen = len;
        lenSlots = rxDataSlots(len) + extra;
      }
      slots += lenSlots;
      if (seq < (nextSeq[flow] as number)) this.reordered++;
      else nextSeq[flow] = seq + 1;
      if (t >= measureFrom) {
        hist.record(t - (batch.emittedAt[i] as number));
        measured++;
        measuredBytes += len;
      }
    }
    p.discard(n);
    q.ring.consume(slots);
    // The vCPU processes the packets back to back, then re-posts the buffer of every slot they used
    // (an extra-info slot's buffer goes back without a new page: charged as a refill, an upper bound).
    const cost = t - start + slots * f.refillPerPacket;
    const done = q.core.run(now, cost, 'poll');
    q.lastPollCount = n;
    q.lastPollSlots = slots;
    q.lastPollBytes = bytes;
    q.stats.delivered += n;
    q.stats.deliveredBytes += bytes;
    this.delivered += n;
    this.deliveredBytes += bytes;
    this.measuredDelivered += measured;
    this.measuredBytes += measuredBytes;
    fx.timer(done, KIND_POLL_END + 4 * q.index);
  }

  /** End of a poll: refill the ring, then either keep polling or complete NAPI and re-arm. */
  private pollEnd(q: RxQueue, now: Nanos, fx: Effects): void {
    // The guest's TCP takes the poll's segments when the poll's work is done, as GRO holds them until
    // napi_gro_flush at the end of the poll; what it sends in answer (ACKs, responses) takes the transmit path.
    const segments = q.tcpSegments;
    if (this.tcp !== null && segments.length > 0) {
      const cols = segments.tcpColumns as TcpColumns;
      const gro = this.groOf(q);
      this.groNow = now;
      this.groFx = fx;
      for (let k = 0; k < segments.length; k++) gro.receive(segments.flowAt(k), cols, segments.tcpIndex(k));
      gro.flush();
      this.groFx = null;
      segments.discard(segments.length);
    }
    const n = q.lastPollCount;
    const refill = q.lastPollSlots + q.repost;
    if (refill > 0) q.ring.postRequests(refill);
    q.repost = 0;
    if (q.coalescer) q.coalescer.onFire(now, n, q.lastPollBytes);
    if (n >= this.cfg.budget) {
      // Used the whole budget: stay on the poll list.
      const t = this.publish(q, now, fx);
      this.schedulePoll(q, t, fx, 'napi-budget');
      return;
    }
    let again: boolean;
    let pollAfter = Infinity;
    if (q.coalescer) {
      // Room the back end still has: RX buffers posted that no response has filled yet. The policy counts
      // packets, the ring slots: each packet takes 1 + extraSlots of them (frames up to a page).
      const perPacket = 1 + (this.cfg.extraSlots ?? 0);
      const room = Math.floor(((q.ring.reqProdPvt - q.ring.rspProd) >>> 0) / perPacket);
      const ahead = Math.max(1, Math.min(q.ring.size, perPacket * Math.floor(q.coalescer.eventAhead(now, room))));
      again = q.ring.armResponseEvent(ahead);
      pollAfter = q.coalescer.pollAfter(now);
    } else {
      again = q.ring.finalCheck(1);
    }
    const t = this.publish(q, now, fx);
    if (again) {
      this.schedulePoll(q, t, fx, 'final-check');
      return;
    }
    q.napi = NAPI_IDLE;
    if (pollAfter !== Infinity) {
      q.timerGen++;
      fx.timer(t + pollAfter, KIND_TIMER + 4 * (q.index + this.qs.length * q.timerGen));
    }
  }

  /** Front-end coalescing timer: a cheap guest tick polls whatever accumulated. */
  private timerTick(q: RxQueue, now: Nanos, fx: Effects): void {
    if (q.napi !== NAPI_IDLE) return;
    const done = q.core.run(this.vcpuReady(q, now), this.cfg.costs.frontend.timerTick, 'timer');
    if (q.pending.length > 0) {
      q.stats.timerPolls++;
      this.schedulePoll(q, done, fx, 'timer-poll');
      return;
    }
    // Quiet queue: fall back to eager notification so a trickle is not held back.
    q.stats.idleTimerTicks++;
    const again = q.ring.finalCheck(1);
    const t = this.publish(q, done, fx);
    if (again) this.schedulePoll(q, t, fx, 'final-check');
  }

  /** Ring slots a batch of responses takes: each packet's data pages and extra-info slots. */
  private slotsOf(b: PacketBatch): number {
    let slots = b.count * (this.cfg.extraSlots ?? 0);
    for (let k = 0; k < b.count; k++) slots += rxDataSlots(b.len[k] as number);
    return slots;
  }

  /** Push new requests (notify the back end if its req_event says so) and send our ring writes. Returns when done. */
  private publish(q: RxQueue, now: Nanos, fx: Effects): Nanos {
    const notify = q.ring.pushRequests();
    let t = now;
    if (notify) {
      t = q.core.run(now, this.cfg.costs.frontend.notify, 'notify');
      q.stats.reqNotifies++;
    }
    this.sendRingWrites(q, notify, t, fx);
    return t;
  }

  /** Our ring writes (req_prod, rsp_event, the rsp_prod we have seen) to the queue's worker, with the notification or without. */
  private sendRingWrites(q: RxQueue, notify: boolean, at: Nanos, fx: Effects): void {
    const ring = q.ring;
    fx.send(
      this.cfg.workers[q.index] as ActorRef,
      { kind: 'req', vm: this.cfg.vm, queue: q.index, reqProd: ring.reqProd, rspEvent: ring.rspEvent, rspProdSeen: ring.rspProd, notify },
      at,
    );
  }
}
