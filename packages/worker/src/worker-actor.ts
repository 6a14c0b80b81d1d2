// A netback worker (one driver-domain core): the vif queues in front of the guest RX rings it serves, grant copy, notify.
import {
  BatchPool,
  copyPacket,
  Core,
  createCoalescer,
  doubleFields,
  ETH_FCS_LEN,
  PacketFifo,
  RxRingBack,
  rxCopyOps,
  rxDataSlots,
  tcpEntry,
  zerocopyRelease,
} from '@splitnet/model';
import type {
  CpuAccount,
  CpuSource,
  Job,
  Vcpu,
  Actor,
  ActorRef,
  ArrivalView,
  Coalescer,
  CostProfile,
  Effects,
  FaultCommand,
  Message,
  MutableBatch,
  Nanos,
  PacketBatch,
  PolicySpec,
  TcpHeader,
  TxOrigin,
  WorkerReport,
} from '@splitnet/model';
import { FqCodel, PfifoFast, type Qdisc } from './qdisc.js';
import { isTxTimer, NetbackTx, type NetbackTxConfig } from './netback-tx.js';

export interface ServedQueue {
  readonly vm: number;
  readonly queue: number;
  readonly frontend: ActorRef;
  readonly ringSize: number;
}

/** The qdisc in front of each vif transmit queue (one instance per queue under the mq root). */
export type QdiscKind = 'pfifo-fast' | 'fq-codel';

/** How much one pass takes and how its grant copies are flushed: the netback generation being modelled. */
export interface PassRule {
  /** Packets per pass at most: RX_BATCH_SIZE (64) in per-queue netback (rx.c, xenvif_rx_action); Infinity in legacy netback. */
  readonly maxPackets: number;
  /**
   * Legacy netback (xen_netbk_rx_action) stopped taking packets once the slots taken plus MAX_SKB_FRAGS
   * reached the ring size: a ring's worth per pass. This is that MAX_SKB_FRAGS; 0: no such rule.
   */
  readonly ringSlack: number;
  /**
   * Grant-copy ops per flush: COPY_BATCH_SIZE (64) in per-queue netback, each flush a hypercall and a
   * push-and-check-notify (xenvif_rx_copy_flush); Infinity in legacy netback (one hypercall per pass).
   */
  readonly copyBatch: number;
}

/**
 * Scheduled dom0 vCPUs: the vCPU this worker is bound to and how its work runs there — a kernel thread (normal
 * or SCHED_FIFO) or a tasklet — and the account it is charged to (`dom0.worker<k>`).
 */
export interface WorkerSched {
  readonly vcpu: Vcpu;
  readonly src: CpuSource;
  readonly account: CpuAccount;
}

/** Work on a scheduled vCPU and what to do when it is done: flush (the copies up to the pass's next flush), or send an event. */
interface PendingWork {
  readonly job: Job;
  /** -1: a flush of the pass in progress; else the served queue to notify. */
  readonly notifyQueue: number;
}

export interface WorkerConfig {
  readonly id: string;
  readonly index: number;
  readonly costs: CostProfile;
  readonly pass: PassRule;
  /** rx_queue_max: bytes of skb data a queue's guest-RX queue takes before netback stops the vif's transmit queue. */
  readonly rxQueueBytes: number;
  readonly qdisc: QdiscKind;
  /** Extra-info slots per packet: 1 when netback passes the Toeplitz hash to the guest (XEN_NETIF_EXTRA_TYPE_HASH). */
  readonly extraSlots: number;
  /** Per flow: the skb's hash as the qdisc sees it (skb_get_hash), for fq_codel's bucket choice. */
  readonly skbHash: Uint32Array;
  readonly served: readonly ServedQueue[];
  /** Back-end coalescing policy (`none`: notify as soon as the event index says so — Xen's default). */
  readonly policy: PolicySpec;
  /**
   * netback's rx stall timer (rx_stall_timeout): a queue with packets waiting and no posted RX buffer
   * for this long is declared stalled (0: off). Xen's default is 60 s; scenarios set it in `netback`.
   */
  readonly rxStallTimeout?: Nanos;
  /** On a declared stall, re-send the event-channel notification (splitnet's rescue; Xen only turns the carrier off). */
  readonly stallKick?: boolean;
  /** The batch pool this actor shares with the actors it passes batches to in memory (default: one of its own). */
  readonly pool?: BatchPool;
  /** Scheduled dom0 vCPUs (absent: a dedicated core, nothing scheduled). */
  readonly sched?: WorkerSched;
  /** The transmit side of the vif queues it serves, when a guest sends (absent: RX only). */
  readonly tx?: Omit<NetbackTxConfig, 'pool' | 'costs'>;
  /** Where a frame another guest on the host sent comes from, so that its grant-mapped slots go back (absent: RX only). */
  readonly txOrigin?: TxOrigin;
}

export interface WorkerQueueStats {
  vm: number;
  queue: number;
  received: number;
  copied: number;
  bytes: number;
  passes: number;
  /** Notify hypercalls sent (virtual interrupts requested). */
  notifies: number;
  /** Pushes after which the event index said no notification was needed. */
  suppressed: number;
  /** Notifications the back-end coalescer absorbed into one it was already holding (each saves a virtual interrupt). */
  held: number;
  /** Notifications owed because the front's event index arrived after our push (the ring's barrier rule). */
  lateNotifies: number;
  /** Notifications sent from the back-end coalescing timer. */
  timerNotifies: number;
  /** Guest notify hypercalls received for new RX requests. */
  reqNotifies: number;
  /** Refused by xenvif_start_xmit: the guest-RX queue held rx_queue_max bytes (it then stops the vif's queue). */
  dropsQueueFull: number;
  /** Dropped by the qdisc at its limit, and by fq_codel's CoDel on dequeue. */
  dropsQdiscOverlimit: number;
  dropsQdiscCongested: number;
  /** Passes that found packets but not enough posted RX buffers for the next one. */
  ringFullStalls: number;
  /** Most packets in the guest-RX queue, and in the qdisc, at once. */
  maxBacklog: number;
  maxQdisc: number;
  /** Grant-copy flushes (hypercall + push), copy ops, and ring slots filled (data and extra info). */
  flushes: number;
  copyOps: number;
  slots: number;
  /** Packets dropped while the queue was disabled after a fatal ring error. */
  dropsVifDisabled: number;
  /** Fatal ring errors (a req_prod more than a ring ahead of req_cons). */
  ringErrors: number;
  /** Ring writes older than one already seen (reordered messages), ignored. */
  staleWrites: number;
  /** Stalls declared by the rx stall timer, and the notifications it re-sent. */
  stallsDetected: number;
  stallKicks: number;
  /** Packets held for a front end's old ring (backlog, copy in progress), discarded when it reconnected with a new ring. */
  purgedOldRing: number;
  /** Ring states ignored: a second one for the ring the queue serves, or one for an older ring. */
  staleRingStates: number;
}

const KIND_FLUSH = 0;
const KIND_COALESCE = 1;
const KIND_STALL = 2;
/** Scheduled vCPU: look at the work that may be done. */
const KIND_WORK = 3;

/** Per served queue: netback's queue state. Also the view of pushed-but-unannounced responses for the coalescer. */
class QueueState implements ArrivalView {
  /** The guest-RX queue (queue->rx_queue): packets the vif transmitted and netback has not copied yet. */
  readonly backlog = new PacketFifo(256);
  /** Its length in skb bytes (rx_queue_len), against rx_queue_max. */
  backlogBytes = 0;
  /** The vif's transmit queue is stopped (netif_tx_stop_queue): the qdisc holds what arrives. */
  txStopped = false;
  readonly qdisc: Qdisc;
  readonly ring: RxRingBack;
  readonly coalescer: Coalescer | null;
  readonly stats: WorkerQueueStats;
  /** Notification owed to the front end but held by the back-end coalescer. */
  owed = false;
  lastFireAt = -Infinity;
  coalesceGen = 0;
  /** Runs of responses pushed while a notification was owed: push times and counts. */
  private runAt: number[] = [];
  private runCount: number[] = [];
  private owedTotal = 0;
  owedBytes = 0;
  /** Netback disabled this queue after a fatal ring error; it serves it again when the front end reconnects. */
  disabled = false;
  /**
   * The ring this queue serves (`ring.ringAt`): 0, the run's first, for a worker that started with the
   * run; −1 for a restarted one until a front end's ring state arrives.
   */
  ringAt = 0;
  /** Since when the queue has had packets waiting and no posted buffer (−1: not stalled). */
  stallSince = -1;
  stallDeclared = false;
  stallTimerArmed = false;
  kicksThisStall = 0;

  constructor(
    readonly index: number,
    readonly served: ServedQueue,
    policy: PolicySpec,
    qdisc: QdiscKind,
  ) {
    this.ring = new RxRingBack(served.ringSize);
    this.qdisc = qdisc === 'fq-codel' ? new FqCodel() : new PfifoFast();
    this.coalescer = policy.kind === 'none' ? null : createCoalescer(policy);
    this.stats = doubleFields(
      {
        vm: served.vm,
        queue: served.queue,
        received: 0,
        copied: 0,
        bytes: 0,
        passes: 0,
        notifies: 0,
        suppressed: 0,
        held: 0,
        lateNotifies: 0,
        timerNotifies: 0,
        reqNotifies: 0,
        dropsQueueFull: 0,
        dropsQdiscOverlimit: 0,
        dropsQdiscCongested: 0,
        ringFullStalls: 0,
        maxBacklog: 0,
        maxQdisc: 0,
        flushes: 0,
        copyOps: 0,
        slots: 0,
        dropsVifDisabled: 0,
        ringErrors: 0,
        staleWrites: 0,
        stallsDetected: 0,
        stallKicks: 0,
        purgedOldRing: 0,
        staleRingStates: 0,
      },
      ['bytes'],
    ); // a byte counter passes 2^30 within seconds
  }

  /** Packets waiting in the driver domain for this queue: the guest-RX queue and the qdisc. */
  get waiting(): number {
    return this.backlog.length + this.qdisc.length;
  }

  get known(): number {
    return this.owedTotal;
  }
  arrivalAt(k: number): Nanos {
    let acc = 0;
    for (let i = 0; i < this.runAt.length; i++) {
      acc += this.runCount[i] as number;
      if (k < acc) return this.runAt[i] as number;
    }
    return this.runAt[this.runAt.length - 1] ?? 0;
  }
  addOwed(at: Nanos, count: number, bytes: number): void {
    if (count <= 0) return;
    this.runAt.push(at);
    this.runCount.push(count);
    this.owedTotal += count;
    this.owedBytes += bytes;
  }
  clearOwed(): void {
    // At every notification: emptying arrays that are already empty is a runtime call each, not free.
    if (this.runAt.length !== 0) {
      this.runAt.length = 0;
      this.runCount.length = 0;
    }
    this.owedTotal = 0;
    this.owedBytes = 0;
    this.owed = false;
  }
}

/**
 * One copy pass in progress: its queue, its packets, and where its flushes fall. A worker keeps one and reuses it
 * and its arrays for every pass (one pass at a time): allocating them per pass was most of a sim run's garbage.
 */
interface Pass {
  queue: number;
  batch: PacketBatch | null;
  /** Per flush: packets completed by it (cumulative count from the start of the pass), and its cost; `flushes` of them are this pass's. */
  readonly flushEnd: number[];
  readonly flushCost: number[];
  flushes: number;
  /**
   * Per flush: ring slots (data and extra info) and frame bytes of the packets completed up to it, cumulative from
   * the start of the pass, as the pass counts them when it takes its packets (a flush publishes the difference).
   */
  readonly flushSlots: number[];
  readonly flushBytes: number[];
  /** The next flush to happen, and packets already published. */
  next: number;
  published: number;
}

export class WorkerActor implements Actor {
  readonly id: string;
  readonly core: Core;
  private readonly qs: QueueState[] = [];
  private readonly byKey = new Map<number, number>();
  private rr = 0;
  /** The pass in progress (one at a time: a worker is one thread). */
  private pass: Pass | null = null;
  /** The Pass object every pass reuses (its arrays keep their room: entries past a pass's own are stale). */
  private readonly passState: Pass = {
    queue: 0,
    batch: null,
    flushEnd: [],
    flushCost: [],
    flushes: 0,
    flushSlots: [],
    flushBytes: [],
    next: 0,
    published: 0,
  };
  /** A slow-worker fault multiplies this core's copy cost. */
  private costFactor = 1;

  /** Where this actor's packet batches come from and go back to. */
  private readonly pool: BatchPool;
  /** Scheduled vCPU: work submitted and not yet seen done, in submission order. */
  private work: PendingWork[] = [];
  private alarm: ((at: Nanos) => void) | null = null;
  /** netback's transmit side on this core (null: RX only). */
  private readonly tx: NetbackTx | null;
  /** Per sending vif queue (vm · 65536 + queue): the TX slots of its guest's frames released as they entered our vifs. */
  private readonly releasedTo = new Map<number, number>();

  constructor(private readonly cfg: WorkerConfig) {
    this.id = cfg.id;
    this.pool = cfg.pool ?? new BatchPool();
    this.core = new Core(`dom0.worker${cfg.index}`);
    // On scheduled vCPUs the TX side runs on the worker's vCPU, its dealloc threads of the RX thread's class.
    const txSched = cfg.sched ? { vcpu: cfg.sched.vcpu, account: cfg.sched.account, rt: cfg.sched.src.rt } : null;
    this.tx = cfg.tx ? new NetbackTx({ ...cfg.tx, pool: this.pool, costs: cfg.costs }, this.core, txSched) : null;
    cfg.served.forEach((s, i) => {
      this.qs.push(new QueueState(i, s, cfg.policy, cfg.qdisc));
      this.byKey.set(s.vm * 65536 + s.queue, i);
    });
  }

  queueStats(): readonly WorkerQueueStats[] {
    for (const q of this.qs) {
      q.stats.dropsQdiscOverlimit = q.qdisc.drops.overlimit;
      q.stats.dropsQdiscCongested = q.qdisc.drops.congested;
    }
    return this.qs.map((q) => q.stats);
  }

  /**
   * Lockstep's promises: netback's TX side passes on the frames a guest posted (txreq, which the runtime bounds
   * itself) and those it holds (now); its receive side never sends a frame toward the wire.
   */
  earliestTransmit(now: Nanos): Nanos {
    return this.tx === null || this.tx.idle() ? Infinity : now;
  }

  heldPackets(): number {
    let n = this.pass?.batch ? this.pass.batch.count - this.pass.published : 0;
    for (const q of this.qs) n += q.waiting;
    return n;
  }

  backlogPackets(): number {
    let n = 0;
    for (const q of this.qs) n += q.waiting;
    return n;
  }

  /** A slow-worker fault starts (cost × factor) or ends. */
  fault(cmd: FaultCommand, _now: Nanos, fx: Effects): void {
    if (cmd.action === 'lose-tx-notifications' || cmd.action === 'delay-tx-notifications') this.tx?.fault(cmd);
    if (cmd.action !== 'slow-worker') return;
    this.costFactor = cmd.phase === 'start' ? (cmd.params.factor ?? 1) : 1;
    fx.event(cmd.phase === 'start' ? 'worker-slowed' : 'worker-restored', { factor: this.costFactor });
  }

  start(_now: Nanos, _fx: Effects): void {}

  /** A restarted worker has fresh rings: ask each front end it serves for the ring's state. */
  reconnect(now: Nanos, fx: Effects): void {
    // Its dead incarnation's work on the vCPU died with it.
    if (this.cfg.sched) this.cfg.sched.vcpu.discard(this.cfg.sched.src, now);
    for (const q of this.qs) {
      q.ringAt = -1; // serves no ring until a front end's state arrives
      this.askRingState(q, now, fx);
    }
  }

  /** Live only, after reconnect: this netback's counts of what it hands the bridge start from 0 (NetbackTx.rejoined). */
  rejoined(now: Nanos, fx: Effects): void {
    this.tx?.rejoined(now, fx);
  }

  /** The `ringAt` of the ring queue (vm, queue) is connected to (−1: none yet, after a restart). */
  private ringState(vm: number, queue: number): Nanos {
    const i = this.byKey.get(vm * 65536 + queue);
    return i === undefined ? 0 : (this.qs[i] as QueueState).ringAt;
  }

  /** Ask the queue's front end for its ring state (xenbus reconnect); it answers with a `ring` message. */
  private askRingState(q: QueueState, now: Nanos, fx: Effects): void {
    fx.send(q.served.frontend, { kind: 'reconnect', vm: q.served.vm, queue: q.served.queue }, now);
  }

  report(t: Nanos): WorkerReport {
    // `tx` is added after: an object literal with a spread is built field by field.
    const r: { -readonly [K in keyof WorkerReport]: WorkerReport[K] } & { dropsVifDisabled: number; stallKicks: number; purgedOldRing: number } = {
      role: 'worker' as const,
      id: this.id,
      t,
      busy: this.busy(t),
      held: this.heldPackets(),
      backlog: this.backlogPackets(),
      notifies: 0,
      suppressed: 0,
      notifiesHeld: 0,
      timerNotifies: 0,
      reqNotifies: 0,
      dropsNetbackQueueFull: 0,
      dropsQdiscOverlimit: 0,
      dropsQdiscCongested: 0,
      dropsVifDisabled: 0,
      stallKicks: 0,
      purgedOldRing: 0,
      queueBacklogs: this.qs.map((q) => [q.served.vm, q.served.queue, q.waiting] as const),
    };
    if (this.tx) r.tx = this.tx.report();
    for (const s of this.queueStats()) {
      r.notifies += s.notifies;
      r.suppressed += s.suppressed;
      r.notifiesHeld += s.held;
      r.timerNotifies += s.timerNotifies;
      r.reqNotifies += s.reqNotifies;
      r.dropsNetbackQueueFull += s.dropsQueueFull;
      r.dropsQdiscOverlimit += s.dropsQdiscOverlimit;
      r.dropsQdiscCongested += s.dropsQdiscCongested;
      r.dropsVifDisabled += s.dropsVifDisabled;
      r.stallKicks += s.stallKicks;
      r.purgedOldRing += s.purgedOldRing;
    }
    return r;
  }

  /** Busy time by core name: its dedicated core, or on a scheduled vCPU what its work (and switches to it) took. */
  private busy(t: Nanos): Record<string, number> {
    const a = this.cfg.sched?.account;
    return a ? { [a.name]: a.busyThrough(t) } : { [this.core.name]: this.core.busyThrough(t) };
  }

  /**
   * After a bus outage (see Actor.resync): per served queue, the responses published so far (an `rsp` with
   * no packets: the front end takes slots whose message was lost as error responses) and a notification
   * (one that was lost would leave the guest waiting for an interrupt that never comes). Neither is a
   * modelled hypercall: no core time, no coalescing state, not counted as a notify. A queue still waiting
   * for its front end's ring state (this worker restarted) asks for it again: the request may have been lost.
   */
  resync(now: Nanos, fx: Effects): void {
    for (const q of this.qs) {
      const s = q.served;
      if (q.ringAt < 0) {
        this.askRingState(q, now, fx);
        continue;
      }
      if (q.disabled) continue;
      fx.send(s.frontend, { kind: 'rsp', vm: s.vm, queue: s.queue, rspProd: q.ring.rspProd, reqEvent: q.ring.reqEvent, batch: this.pool.take(0) }, now);
      fx.send(s.frontend, { kind: 'evt', vm: s.vm, port: s.queue }, now);
    }
    this.tx?.resync(now, fx);
    this.resyncReleases(now, fx);
  }

  receive(msg: Message, now: Nanos, fx: Effects): void {
    if (msg.kind === 'ring') {
      const i = this.byKey.get(msg.vm * 65536 + msg.queue);
      if (i === undefined) return;
      const q = this.qs[i] as QueueState;
      if (msg.ringAt <= q.ringAt && !q.disabled) {
        // A second state for the ring this queue already serves (both ends restarted: the front end's
        // own and its answer to our `reconnect`), or one for an older ring: responses published since
        // may be ahead of it, so taking it would move rsp_prod back. The first one connected the queue.
        q.stats.staleRingStates++;
        fx.event('vif-ring-state-ignored', { vm: q.served.vm, queue: q.served.queue, ringAt: msg.ringAt, serving: q.ringAt });
        // The front end set up a new TX ring with it, though (its answer to our `reconnect`): so does netback.
        if (this.tx !== null && msg.txRenewed === true) this.tx.reconnectRing(msg.vm, msg.queue, false, now, fx);
        return;
      }
      // The TX ring is re-created with the RX ring: the guest restarted (a new ring), or this netback did and the
      // front end, answering its `reconnect`, set up a new TX ring (xennet_disconnect_backend, talk_to_netback).
      if (this.tx !== null && (msg.newRing || q.ringAt < 0 || msg.txRenewed === true)) this.tx.reconnectRing(msg.vm, msg.queue, msg.newRing, now, fx);
      q.ringAt = msg.ringAt;
      const purged = msg.newRing ? this.purgeOldRing(q) : 0;
      q.ring.resync(msg.reqProd, msg.rspProdSeen, msg.rspEvent);
      if (q.disabled || msg.newRing) {
        // The front end reconnected (xenbus): netback re-initialises the queue and serves it again.
        q.disabled = false;
        fx.event('vif-reconnected', { vm: q.served.vm, queue: q.served.queue, newRing: msg.newRing, purged });
      }
      this.endStall(q, now, 'reconnect', fx);
      // Connected: the front end takes responses on this ring from now on.
      fx.send(q.served.frontend, { kind: 'connected', vm: q.served.vm, queue: q.served.queue, ringAt: q.ringAt }, now);
      if (msg.newRing) {
        // Nothing is published on a new ring yet: a notification owed or held for the old one is void.
        q.clearOwed();
        q.coalesceGen++;
      } else {
        // Kick the front end once: a notification the dead incarnation owed (or held) died with it,
        // and responses it already published may be waiting for that interrupt.
        this.notify(q, now, fx);
      }
      if (this.pass === null) this.startPass(now, fx);
    } else if (msg.kind === 'rx') this.onRx(msg.vm, msg.queue, msg.batch, now, fx);
    else if (msg.kind === 'txreq') {
      // A restarted netback serves no TX ring before the front end's ring state: these are the old ring's requests.
      if (this.tx && this.ringState(msg.vm, msg.queue) < 0) this.tx.dropRequests(msg.vm, msg.queue, msg.batch);
      else if (this.tx) this.tx.onRequests(msg.vm, msg.queue, msg.reqProd, msg.rspEvent, msg.rspProdSeen, msg.notify, msg.batch, now, fx);
      else this.pool.release(msg.batch);
    } else if (msg.kind === 'dealloc') this.tx?.onDealloc(msg, now, fx);
    else if (msg.kind === 'req') this.onReq(msg.vm, msg.queue, msg.reqProd, msg.rspEvent, msg.rspProdSeen, msg.notify, now, fx);
  }

  timer(tag: number, now: Nanos, fx: Effects): void {
    if (isTxTimer(tag)) {
      this.tx?.timer(tag, now, fx);
      return;
    }
    const kind = tag % 4;
    if (kind === KIND_FLUSH) {
      this.flush(now, fx);
      return;
    }
    if (kind === KIND_WORK) {
      this.workDone(now, fx);
      return;
    }
    const rest = Math.floor(tag / 4);
    if (kind === KIND_STALL) {
      const sq = this.qs[rest];
      if (sq) this.stallCheck(sq, now, fx);
      return;
    }
    const n = this.qs.length;
    const i = rest % n;
    const gen = Math.floor(rest / n);
    const q = this.qs[i];
    if (!q || gen !== q.coalesceGen || !q.owed) return;
    // Driver-domain timer interrupt for back-end coalescing, then the held notification.
    q.stats.timerNotifies++;
    if (this.cfg.sched) {
      // A hard interrupt whose handler sends the notification: it runs ahead of everything on the vCPU.
      this.notified(q, now);
      this.submit(now, fx, this.cfg.costs.worker.timer + this.cfg.costs.worker.notify, false, q.index, true);
      return;
    }
    const t = this.core.run(now, this.cfg.costs.worker.timer, 'timer');
    this.notify(q, t, fx);
  }

  /**
   * Work on a scheduled vCPU: a kernel thread's or tasklet's (`cont`: it carries on the work that just finished,
   * with no scheduling point in between — the rest of a pass), or a hard interrupt's. `notifyQueue`: −1 for the
   * pass's next flush, else the served queue whose event is sent when the work is done.
   */
  private submit(now: Nanos, fx: Effects, cost: Nanos, cont: boolean, notifyQueue: number, hard = false): void {
    const s = this.cfg.sched as WorkerSched;
    const alarm = (this.alarm ??= (at: Nanos) => fx.timer(at, KIND_WORK));
    const job = hard ? s.vcpu.hardirq(now, cost, s.account, alarm) : s.vcpu.submit(s.src, now, cost, cont, 0, alarm);
    this.work.push({ job, notifyQueue });
  }

  /** The vCPU says some work may be done: act on what is, in the order it was submitted. */
  private workDone(now: Nanos, fx: Effects): void {
    const s = this.cfg.sched;
    if (!s) return;
    const list = this.work;
    this.work = [];
    const keep: PendingWork[] = [];
    for (const w of list) {
      if (!s.vcpu.check(w.job, now)) {
        keep.push(w);
        continue;
      }
      if (w.notifyQueue < 0) this.flush(now, fx);
      else {
        const q = this.qs[w.notifyQueue] as QueueState;
        fx.send(q.served.frontend, { kind: 'evt', vm: q.served.vm, port: q.served.queue }, now);
      }
    }
    this.work = keep.concat(this.work);
  }

  /**
   * The bridge transmits a batch on the vif queue (dev_queue_xmit): while the queue runs, each packet goes
   * to xenvif_start_xmit; while it is stopped, the qdisc holds it (or drops it at its limit).
   */
  private onRx(vm: number, queue: number, b: PacketBatch, now: Nanos, fx: Effects): void {
    const i = this.byKey.get(vm * 65536 + queue);
    if (i === undefined) return;
    const q = this.qs[i] as QueueState;
    q.stats.received += b.count;
    if (this.cfg.txOrigin !== undefined) this.releaseOrigin(b, now, fx, this.cfg.txOrigin);
    if (q.disabled) {
      // Netback stopped serving this VIF queue after a fatal ring error: everything for it is dropped.
      q.stats.dropsVifDisabled += b.count;
      this.pool.release(b);
      return;
    }
    const whole = q.txStopped ? -1 : this.backlogAfter(q, b);
    if (whole >= 0 && this.passTakesBatch(q, b)) {
      // The batch would join an empty guest-RX queue and the pass that starts at once would take it from there:
      // the pass takes it as it is (the packets it has no room for join the queue), the same pass, without the
      // two copies through the queue.
      if (b.count > q.stats.maxBacklog) q.stats.maxBacklog = b.count;
      if (q.qdisc.length > q.stats.maxQdisc) q.stats.maxQdisc = q.qdisc.length;
      q.backlogBytes = whole;
      this.takePass(q, q.ring.requestsAvailable(), b as MutableBatch, now, fx);
      return;
    }
    if (whole >= 0) {
      // Every packet fits under rx_queue_max (the bound is checked before each): the batch joins the queue in one copy.
      q.backlog.pushBatch(b);
      q.backlogBytes = whole;
    } else {
      const hash = this.cfg.skbHash;
      for (let k = 0; k < b.count; k++) {
        const flow = b.flow[k] as number;
        const seq = b.seq[k] as number;
        const len = b.len[k] as number;
        const at = b.emittedAt[k] as number;
        const tcp = tcpEntry(b.tcp, k);
        if (q.txStopped) q.qdisc.enqueue({ flow, seq, len, emittedAt: at, enqueuedAt: now, ...(tcp === undefined ? {} : { tcp }) }, hash[flow] ?? 0);
        else this.startXmit(q, flow, seq, len, at, tcp);
      }
    }
    this.pool.release(b);
    if (q.backlog.length > q.stats.maxBacklog) q.stats.maxBacklog = q.backlog.length;
    if (q.qdisc.length > q.stats.maxQdisc) q.stats.maxQdisc = q.qdisc.length;
    if (this.pass === null) this.startPass(now, fx);
  }

  /**
   * Frames another guest on the host sent arrive with that guest's pages grant-mapped as their frags. Their
   * zero-copy callback hands the slots back to the sender's netback dealloc as the frame enters this vif
   * [assumption: the frags are released as the frame is queued (skb_orphan_frags copies them out before an
   * skb may wait), not after netback's copy into this guest].
   */
  private releaseOrigin(b: PacketBatch, now: Nanos, fx: Effects, o: TxOrigin): void {
    zerocopyRelease(b, o, (worker, msg) => {
      // With our count of the slots released to that vif queue so far (DeallocMessage.from), which resync re-announces.
      const key = msg.vm * 65536 + msg.queue;
      const freed = (this.releasedTo.get(key) ?? 0) + msg.slots;
      this.releasedTo.set(key, freed);
      fx.send(worker, { ...msg, freed, from: this.cfg.index }, now);
    });
  }

  /**
   * After a bus outage or a partition (resync): to each sending vif queue whose frames entered our vifs, the count of
   * slots released to it so far (a dealloc with none), since one lost on the way would leave them taken for good.
   */
  private resyncReleases(now: Nanos, fx: Effects): void {
    const o = this.cfg.txOrigin;
    if (o === undefined) return;
    for (const [key, freed] of this.releasedTo) {
      const vm = Math.floor(key / 65536);
      const queue = key % 65536;
      const worker = o.vifWorker[vm]?.[queue];
      if (worker !== undefined) fx.send(worker, { kind: 'dealloc', vm, queue, frames: 0, slots: 0, freed, from: this.cfg.index }, now);
    }
  }

  /**
   * Whether the pass startPass would begin next, with b in q's empty guest-RX queue, is a pass of q that starts with
   * b's first packet: no pass is running, no queue before q in round-robin order has packets (it would be served or
   * stall first), and q's ring has room for the first packet.
   */
  private passTakesBatch(q: QueueState, b: PacketBatch): boolean {
    if (this.pass !== null || q.backlog.length !== 0 || b.count === 0) return false;
    const n = this.qs.length;
    for (let k = 0; k < n; k++) {
      const i = (this.rr + k) % n;
      if (i === q.index) break;
      const o = this.qs[i] as QueueState;
      if (o.backlog.length !== 0 && !o.disabled) return false;
    }
    return q.ring.requestsAvailable() >= this.slotsOf(b.len[0] as number);
  }

  /**
   * The queue's bytes once startXmit took every packet of b, when it would (the queue below rx_queue_max before each
   * of them: none is dropped and the vif's transmit queue does not stop); −1 when it would not.
   */
  private backlogAfter(q: QueueState, b: PacketBatch): number {
    const max = this.cfg.rxQueueBytes;
    let bytes = q.backlogBytes;
    for (let k = 0; k < b.count; k++) {
      if (bytes >= max) return -1;
      bytes += (b.len[k] as number) - ETH_FCS_LEN;
    }
    return bytes;
  }

  /**
   * xenvif_start_xmit → xenvif_rx_queue_tail: a queue already holding rx_queue_max bytes refuses the
   * packet (dropped, counted in the vif's tx_dropped) and stops the vif's transmit queue; otherwise the
   * packet joins the guest-RX queue, even if it takes the queue past the bound.
   */
  private startXmit(q: QueueState, flow: number, seq: number, len: number, at: Nanos, tcp: TcpHeader | undefined): void {
    if (q.backlogBytes >= this.cfg.rxQueueBytes) {
      q.stats.dropsQueueFull++;
      q.txStopped = true;
      return;
    }
    if (tcp === undefined) q.backlog.push(flow, seq, len, at);
    else q.backlog.pushHeader(flow, seq, len, at, tcp);
    q.backlogBytes += len - ETH_FCS_LEN;
  }

  /**
   * xenvif_rx_dequeue wakes the vif's transmit queue once the guest-RX queue is below rx_queue_max; the
   * qdisc then transmits what it holds until the queue stops again or the qdisc is empty. The model runs
   * it once, right after a pass took its packets [assumption]: Linux runs it from the NET_TX softirq or
   * from the NIC core's next transmit, between single dequeues, which can refuse one packet per packet taken.
   */
  private wake(q: QueueState, now: Nanos): void {
    if (!q.txStopped || q.backlogBytes >= this.cfg.rxQueueBytes) return;
    q.txStopped = false;
    while (!q.txStopped) {
      const p = q.qdisc.dequeue(now);
      if (p === undefined) break;
      this.startXmit(q, p.flow, p.seq, p.len, p.emittedAt, p.tcp);
    }
    if (q.backlog.length > q.stats.maxBacklog) q.stats.maxBacklog = q.backlog.length;
  }

  private onReq(vm: number, queue: number, reqProd: number, rspEvent: number, rspProdSeen: number, notified: boolean, now: Nanos, fx: Effects): void {
    const i = this.byKey.get(vm * 65536 + queue);
    if (i === undefined) return;
    const q = this.qs[i] as QueueState;
    if (q.disabled) return; // ignored until the front end reconnects
    if (notified) q.stats.reqNotifies++;
    const verdict = q.ring.judgeRequests(reqProd);
    if (verdict === 'stale') {
      q.stats.staleWrites++;
      return;
    }
    if (verdict === 'overflow') {
      this.disable(q, reqProd, now, fx);
      return;
    }
    const late = q.ring.onRequests(reqProd, rspEvent, rspProdSeen);
    if (q.stallSince >= 0 && q.ring.requestsAvailable() >= this.slotsOf(q.backlog.lenAt(0))) this.endStall(q, now, 'guest-refill', fx);
    if (late) {
      q.stats.lateNotifies++;
      this.notifyDue(q, now, 0, 0, fx, false);
    }
    if (this.pass === null) this.startPass(now, fx);
  }

  /** Ring slots a packet of `len` frame bytes fills: its pages, plus the hash's extra-info slot. */
  private slotsOf(len: number): number {
    return rxDataSlots(len) + this.cfg.extraSlots;
  }

  /**
   * Start the next copy pass (xenvif_rx_action): round-robin over served queues that have packets and room
   * on the ring for the first of them. A pass takes packets while the ring has slots for the next one, up
   * to the pass rule's limit; their grant copies are flushed every `copyBatch` ops.
   */
  private startPass(now: Nanos, fx: Effects): void {
    const n = this.qs.length;
    for (let k = 0; k < n; k++) {
      const i = (this.rr + k) % n;
      const q = this.qs[i] as QueueState;
      if (q.backlog.length === 0 || q.disabled) continue;
      const avail = q.ring.requestsAvailable();
      if (avail < this.slotsOf(q.backlog.lenAt(0))) {
        // Ring full for the next packet: ask the front end to notify us at its next posted buffer and wait.
        q.stats.ringFullStalls++;
        q.ring.finalCheckRequests(this.slotsOf(q.backlog.lenAt(0)));
        this.watchStall(q, now, fx);
        continue;
      }
      this.takePass(q, avail, null, now, fx);
      return;
    }
    this.pass = null;
  }

  /**
   * Begin a pass of queue q (`avail`: its ring's requests available): take packets while the ring has slots for the
   * next one, up to the pass rule's limit, and book its first flush. The packets come from the head of the guest-RX
   * queue, or (`incoming`, the queue empty) from the batch that has just arrived, whose packets beyond the pass join
   * the queue.
   */
  private takePass(q: QueueState, avail: number, incoming: MutableBatch | null, now: Nanos, fx: Effects): void {
    const rule = this.cfg.pass;
    const w = this.cfg.costs.worker;
    const ps = this.passState;
    const { flushEnd, flushCost, flushSlots, flushBytes } = ps;
    const lens = incoming === null ? null : incoming.len;
    const count = incoming === null ? q.backlog.length : incoming.count;
    const extra = this.cfg.extraSlots;
    let flushes = 0;
    let slots = 0;
    let skbBytes = 0;
    let bytes = 0;
    let opsInFlush = 0;
    let cost = w.perPass + w.perFlush;
    let copyOps = 0;
    let m = 0;
    // Slots and copy ops depend on the frame length only: the last length's are kept (frames of one size are the rule).
    let lastLen = -1;
    let need = 0;
    let ops = 0;
    while (m < count && m < rule.maxPackets) {
      const len = lens === null ? q.backlog.lenAt(m) : (lens[m] as number);
      if (len !== lastLen) {
        lastLen = len;
        need = rxDataSlots(len) + extra;
        ops = rxCopyOps(len);
      }
      if (slots + need > avail) break;
      for (let op = 0; op < ops; op++) {
        if (opsInFlush === rule.copyBatch) {
          // xenvif_rx_copy_add: the batch is full, flush it before adding this op; the flush pushes
          // the packets completed so far.
          flushEnd[flushes] = m;
          flushSlots[flushes] = slots;
          flushBytes[flushes] = bytes;
          flushCost[flushes++] = cost;
          cost = w.perFlush;
          opsInFlush = 0;
        }
        opsInFlush++;
      }
      cost += w.perPacket + (ops - 1) * w.perCopyOp + len * w.perByte;
      copyOps += ops;
      slots += need;
      bytes += len;
      skbBytes += len - ETH_FCS_LEN;
      m++;
      // Legacy netback: a ring's worth per pass (count + MAX_SKB_FRAGS >= ring size ends it).
      if (rule.ringSlack > 0 && slots + rule.ringSlack >= q.ring.size) break;
    }
    flushEnd[flushes] = m;
    flushSlots[flushes] = slots;
    flushBytes[flushes] = bytes;
    flushCost[flushes++] = cost;
    q.stats.copyOps += copyOps;
    let batch: PacketBatch;
    if (incoming === null) batch = q.backlog.shiftBatch(m, this.pool);
    else {
      if (m < incoming.count) {
        q.backlog.pushBatch(incoming, m, incoming.count);
        incoming.count = m;
      }
      batch = incoming;
    }
    q.backlogBytes -= skbBytes;
    q.ring.produce(slots);
    q.stats.passes++;
    q.stats.slots += slots;
    const n = this.qs.length;
    this.rr = (q.index + 1) % n;
    ps.queue = q.index;
    ps.batch = batch;
    ps.flushes = flushes;
    ps.next = 0;
    ps.published = 0;
    this.pass = ps;
    // The pass took its packets: the guest-RX queue may be below rx_queue_max again.
    this.wake(q, now);
    this.bookFlush(now, fx);
  }

  /** Run the work up to the pass's next flush on this core; the flush happens when it is done. */
  private bookFlush(now: Nanos, fx: Effects): void {
    const p = this.pass as Pass;
    const cost = (p.flushCost[p.next] as number) * this.costFactor;
    if (this.cfg.sched) {
      // A pass's first part follows a scheduling point (cond_resched between passes); the rest continues it.
      this.submit(now, fx, cost, p.next > 0, -1);
      return;
    }
    const done = this.core.run(now, cost, 'copy');
    fx.timer(done, KIND_FLUSH);
  }

  /**
   * xenvif_rx_copy_flush: the copies are done; publish the responses of the packets completed so far
   * (RING_PUSH_RESPONSES_AND_CHECK_NOTIFY) and notify if the guest asked. Then the pass goes on, or ends.
   */
  private flush(now: Nanos, fx: Effects): void {
    const p = this.pass;
    if (p === null) return;
    const q = this.qs[p.queue] as QueueState;
    const upTo = p.flushEnd[p.next] as number;
    p.next++;
    const last = p.next >= p.flushes;
    if (p.batch !== null) {
      q.stats.flushes++;
      const count = upTo - p.published;
      const f = p.next - 1;
      const slots = (p.flushSlots[f] as number) - (f > 0 ? (p.flushSlots[f - 1] as number) : 0);
      const bytes = (p.flushBytes[f] as number) - (f > 0 ? (p.flushBytes[f - 1] as number) : 0);
      // The whole pass in one flush (the usual case) sends its batch as it is; a split pass sends slices.
      const part = p.published === 0 && last ? p.batch : slice(this.pool, p.batch, p.published, upTo);
      p.published = upTo;
      q.stats.copied += count;
      q.stats.bytes += bytes;
      const notify = q.ring.pushResponses(slots);
      fx.send(q.served.frontend, { kind: 'rsp', vm: q.served.vm, queue: q.served.queue, rspProd: q.ring.rspProd, reqEvent: q.ring.reqEvent, batch: part }, now);
      if (notify) this.notifyDue(q, now, count, bytes, fx, true);
      else if (q.owed) {
        q.stats.held++;
        q.addOwed(now, count, bytes);
        this.reconsider(q, now, fx, true);
      } else q.stats.suppressed++;
      if (last && part !== p.batch) this.pool.release(p.batch);
    }
    if (!last && p.batch !== null) {
      this.bookFlush(now, fx);
      return;
    }
    this.pass = null;
    this.startPass(now, fx);
  }

  /**
   * The ring says the front end wants a notification. Without back-end coalescing it goes at once;
   * with it, the notification is held until the policy's count or timer fires.
   */
  private notifyDue(q: QueueState, now: Nanos, count: number, bytes: number, fx: Effects, inPass: boolean): void {
    const c = q.coalescer;
    if (c === null) {
      this.notify(q, now, fx, inPass);
      return;
    }
    if (q.owed) q.stats.held++;
    q.owed = true;
    q.addOwed(now, count > 0 ? count : 1, bytes);
    this.reconsider(q, now, fx, inPass);
  }

  /** `inPass`: called at a flush, so a notification sent now is part of the pass (no scheduling point before it). */
  private reconsider(q: QueueState, now: Nanos, fx: Effects, inPass: boolean): void {
    const c = q.coalescer as Coalescer;
    // Buffers the guest still has posted, in packets (the policy's unit): a packet takes 1 + extraSlots slots.
    const free = Math.floor(q.ring.outstandingRequests() / (1 + this.cfg.extraSlots));
    const t = c.fireAt(q, q.lastFireAt, free);
    if (t <= now) {
      this.notify(q, now, fx, inPass);
    } else if (t !== Infinity) {
      q.coalesceGen++;
      fx.timer(t, KIND_COALESCE + 4 * (q.index + this.qs.length * q.coalesceGen));
    }
  }

  /**
   * The ring is full with packets waiting: start netback's rx stall timer for this queue (armed
   * lazily, so a run where nothing stalls has no extra events). Xen: xenvif_rx_queue_stalled().
   */
  private watchStall(q: QueueState, now: Nanos, fx: Effects): void {
    const timeout = this.cfg.rxStallTimeout ?? 0;
    if (timeout <= 0) return;
    if (q.stallSince < 0) {
      q.stallSince = now;
      q.kicksThisStall = 0;
    }
    if (!q.stallTimerArmed) {
      q.stallTimerArmed = true;
      fx.timer(q.stallSince + timeout > now ? q.stallSince + timeout : now, KIND_STALL + 4 * q.index);
    }
  }

  private stallCheck(q: QueueState, now: Nanos, fx: Effects): void {
    q.stallTimerArmed = false;
    const timeout = this.cfg.rxStallTimeout ?? 0;
    if (q.stallSince < 0 || q.disabled) return;
    if (q.backlog.length === 0 || q.ring.requestsAvailable() >= this.slotsOf(q.backlog.lenAt(0))) {
      this.endStall(q, now, 'guest-refill', fx);
      return;
    }
    // Compared with the deadline itself, not `now - stallSince < timeout`: with fractional ns times the two
    // can disagree by a rounding, and a timer re-armed at a deadline that is already `now` fires forever.
    const deadline = q.stallSince + timeout;
    if (now < deadline) {
      q.stallTimerArmed = true;
      fx.timer(deadline, KIND_STALL + 4 * q.index);
      return;
    }
    if (!q.stallDeclared) {
      q.stallDeclared = true;
      q.stats.stallsDetected++;
      fx.event('netback-stall-detected', {
        vm: q.served.vm,
        queue: q.served.queue,
        since: q.stallSince,
        by: 'netback-rx-stall-timer',
        backlog: q.backlog.length,
      });
    }
    if (this.cfg.stallKick !== false) {
      // The guest may have missed a notification: send it again (it merges with any pending one).
      q.stats.stallKicks++;
      q.kicksThisStall++;
      fx.event('netback-stall-kick', { vm: q.served.vm, queue: q.served.queue });
      this.notify(q, now, fx);
    }
    q.stallTimerArmed = true;
    fx.timer(now + timeout, KIND_STALL + 4 * q.index);
  }

  private endStall(q: QueueState, now: Nanos, cause: string, fx: Effects): void {
    if (q.stallSince < 0) return;
    if (q.stallDeclared) {
      fx.event('netback-stall-end', {
        vm: q.served.vm,
        queue: q.served.queue,
        since: q.stallSince,
        by: 'netback-rx-stall-timer',
        endedBy: cause === 'guest-refill' && q.kicksThisStall > 0 ? 'netback-stall-kick' : cause,
        kicks: q.kicksThisStall,
      });
    }
    q.stallSince = -1;
    q.stallDeclared = false;
    q.kicksThisStall = 0;
  }

  /**
   * A req_prod more than a ring ahead of req_cons: Xen's netback reports "Impossible number of
   * requests" and disables the vif (xenvif_fatal_tx_err). Here the queue stops being served and its
   * packets are dropped (`vif-disabled`) until the front end reconnects.
   */
  private disable(q: QueueState, reqProd: number, now: Nanos, fx: Effects): void {
    q.stats.ringErrors++;
    q.disabled = true;
    // The vif's carrier goes off (xenvif_carrier_off): its guest-RX queue and its qdisc are emptied.
    const lost = this.emptyQueue(q);
    q.stats.dropsVifDisabled += lost;
    this.endStall(q, now, 'vif-disabled', fx);
    fx.event('ring-corrupt', {
      vm: q.served.vm,
      queue: q.served.queue,
      reqProd: reqProd >>> 0,
      reqCons: q.ring.reqCons,
      size: q.ring.size,
      dropped: lost,
      detail: `req_prod ${reqProd >>> 0} is more than a ring (${q.ring.size}) ahead of req_cons ${q.ring.reqCons}: queue disabled`,
    });
  }

  /**
   * The front end set up a new ring (a restarted netfront): the packets this queue held for the old
   * one — its guest-RX queue, its qdisc, and a copy in progress into the old ring's buffers — are
   * discarded, as netback purges a VIF's rx queue (and the carrier going off resets the qdisc) when the
   * front end disconnects. Counted (`purgedOldRing`): they are packets lost to the front end's crash.
   */
  private purgeOldRing(q: QueueState): number {
    let n = this.emptyQueue(q);
    const p = this.pass;
    if (p !== null && p.batch !== null && p.queue === q.index) {
      n += p.batch.count - p.published;
      this.pool.release(p.batch);
      p.batch = null; // its remaining flushes publish nothing
    }
    q.stats.purgedOldRing += n;
    return n;
  }

  /** Discard what waits for a queue (guest-RX queue and qdisc) and let its transmit queue run again. */
  private emptyQueue(q: QueueState): number {
    const n = q.backlog.length;
    q.backlog.discard(n);
    q.backlogBytes = 0;
    q.txStopped = false;
    return n + q.qdisc.reset();
  }

  /**
   * The notify hypercall: costs this core, then the event reaches the guest's event channel. On a scheduled
   * vCPU it is the worker's work (`inPass`: part of the pass in progress) and the event goes when it is done.
   */
  private notify(q: QueueState, now: Nanos, fx: Effects, inPass = false): void {
    if (this.cfg.sched) {
      this.notified(q, now);
      this.submit(now, fx, this.cfg.costs.worker.notify, inPass, q.index);
      return;
    }
    const t = this.core.run(now, this.cfg.costs.worker.notify, 'notify');
    this.notified(q, now);
    fx.send(q.served.frontend, { kind: 'evt', vm: q.served.vm, port: q.served.queue }, t);
  }

  /** A notification is sent: count it, tell the back-end coalescer, and nothing is owed any more. */
  private notified(q: QueueState, now: Nanos): void {
    q.stats.notifies++;
    if (q.coalescer) {
      q.coalescer.onFire(now, q.known, q.owedBytes);
      q.lastFireAt = now;
      q.coalesceGen++; // cancels a pending coalescing timer
    }
    q.clearOwed();
  }
}

/** Packets [from, to) of a batch as a batch of their own (from the pool). */
function slice(pool: BatchPool, b: PacketBatch, from: number, to: number): PacketBatch {
  const out = pool.take(to - from);
  for (let k = from; k < to; k++) {
    copyPacket(b, k, out, k - from);
  }
  out.count = to - from;
  return out;
}
