// A netback worker (one driver-domain core): the producer side of the guest RX rings it serves, grant copy, notify.
import { BatchPool, Core, createCoalescer, doubleFields, PacketFifo, RxRingBack } from '@splitnet/model';
import type {
  Actor,
  ActorRef,
  ArrivalView,
  Coalescer,
  CostProfile,
  Effects,
  FaultCommand,
  Message,
  Nanos,
  PacketBatch,
  PolicySpec,
  WorkerReport,
} from '@splitnet/model';

export interface ServedQueue {
  readonly vm: number;
  readonly queue: number;
  readonly frontend: ActorRef;
  readonly ringSize: number;
}

export interface WorkerConfig {
  readonly id: string;
  readonly index: number;
  readonly costs: CostProfile;
  /** Packets copied per pass at most (netback's 64). */
  readonly batch: number;
  /** netback's per-queue backlog: packets waiting for ring space or CPU beyond this are dropped. */
  readonly backlog: number;
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
  dropsRingFull: number;
  dropsBacklog: number;
  /** Passes that found packets but no posted RX buffers. */
  ringFullStalls: number;
  maxBacklog: number;
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

const KIND_PASS_END = 0;
const KIND_COALESCE = 1;
const KIND_STALL = 2;

/** Per served queue: netback's queue state. Also the view of pushed-but-unannounced responses for the coalescer. */
class QueueState implements ArrivalView {
  readonly backlog = new PacketFifo(256);
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

  constructor(readonly index: number, readonly served: ServedQueue, policy: PolicySpec) {
    this.ring = new RxRingBack(served.ringSize);
    this.coalescer = policy.kind === 'none' ? null : createCoalescer(policy);
    this.stats = doubleFields({
      vm: served.vm, queue: served.queue, received: 0, copied: 0, bytes: 0, passes: 0, notifies: 0,
      suppressed: 0, held: 0, lateNotifies: 0, timerNotifies: 0, reqNotifies: 0, dropsRingFull: 0,
      dropsBacklog: 0, ringFullStalls: 0, maxBacklog: 0, dropsVifDisabled: 0, ringErrors: 0, staleWrites: 0,
      stallsDetected: 0, stallKicks: 0, purgedOldRing: 0, staleRingStates: 0,
    }, ['bytes']); // a byte counter passes 2^30 within seconds
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
    this.runAt.length = 0;
    this.runCount.length = 0;
    this.owedTotal = 0;
    this.owedBytes = 0;
    this.owed = false;
  }
}

export class WorkerActor implements Actor {
  readonly id: string;
  readonly core: Core;
  private readonly qs: QueueState[] = [];
  private readonly byKey = new Map<number, number>();
  private passActive = false;
  private rr = 0;
  /** The pass in progress: which queue and the packets being copied. */
  private passQueue = -1;
  private passBatch: PacketBatch | null = null;
  private passBytes = 0;
  /** A slow-worker fault multiplies this core's copy cost. */
  private costFactor = 1;

  /** Where this actor's packet batches come from and go back to. */
  private readonly pool: BatchPool;

  constructor(private readonly cfg: WorkerConfig) {
    this.id = cfg.id;
    this.pool = cfg.pool ?? new BatchPool();
    this.core = new Core(`dom0.worker${cfg.index}`);
    cfg.served.forEach((s, i) => {
      this.qs.push(new QueueState(i, s, cfg.policy));
      this.byKey.set(s.vm * 65536 + s.queue, i);
    });
  }

  queueStats(): readonly WorkerQueueStats[] {
    return this.qs.map((q) => q.stats);
  }

  heldPackets(): number {
    let n = this.passBatch ? this.passBatch.count : 0;
    for (const q of this.qs) n += q.backlog.length;
    return n;
  }

  backlogPackets(): number {
    let n = 0;
    for (const q of this.qs) n += q.backlog.length;
    return n;
  }

  /** A slow-worker fault starts (cost × factor) or ends. */
  fault(cmd: FaultCommand, _now: Nanos, fx: Effects): void {
    if (cmd.action !== 'slow-worker') return;
    this.costFactor = cmd.phase === 'start' ? (cmd.params.factor ?? 1) : 1;
    fx.event(cmd.phase === 'start' ? 'worker-slowed' : 'worker-restored', { factor: this.costFactor });
  }

  drops(): { ringFull: number; backlog: number } {
    let ringFull = 0;
    let backlog = 0;
    for (const q of this.qs) {
      ringFull += q.stats.dropsRingFull;
      backlog += q.stats.dropsBacklog;
    }
    return { ringFull, backlog };
  }

  start(_now: Nanos, _fx: Effects): void {}

  /** A restarted worker has fresh rings: ask each front end it serves for the ring's state. */
  reconnect(now: Nanos, fx: Effects): void {
    for (const q of this.qs) {
      q.ringAt = -1; // serves no ring until a front end's state arrives
      this.askRingState(q, now, fx);
    }
  }

  /** Ask the queue's front end for its ring state (xenbus reconnect); it answers with a `ring` message. */
  private askRingState(q: QueueState, now: Nanos, fx: Effects): void {
    fx.send(q.served.frontend, { kind: 'reconnect', vm: q.served.vm, queue: q.served.queue }, now);
  }

  report(t: Nanos): WorkerReport {
    const r = {
      role: 'worker' as const, id: this.id, t, busy: { [this.core.name]: this.core.busyThrough(t) },
      held: this.heldPackets(), backlog: this.backlogPackets(), notifies: 0, suppressed: 0, notifiesHeld: 0,
      timerNotifies: 0, reqNotifies: 0, dropsRingFull: 0, dropsBacklogFull: 0, dropsVifDisabled: 0, stallKicks: 0, purgedOldRing: 0,
      queueBacklogs: this.qs.map((q) => [q.served.vm, q.served.queue, q.backlog.length] as const),
    };
    for (const q of this.qs) {
      const s = q.stats;
      r.notifies += s.notifies;
      r.suppressed += s.suppressed;
      r.notifiesHeld += s.held;
      r.timerNotifies += s.timerNotifies;
      r.reqNotifies += s.reqNotifies;
      r.dropsRingFull += s.dropsRingFull;
      r.dropsBacklogFull += s.dropsBacklog;
      r.dropsVifDisabled += s.dropsVifDisabled;
      r.stallKicks += s.stallKicks;
      r.purgedOldRing += s.purgedOldRing;
    }
    return r;
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
        return;
      }
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
      if (!this.passActive) this.startPass(now, fx);
    } else if (msg.kind === 'rx') this.onRx(msg.vm, msg.queue, msg.batch, now, fx);
    else if (msg.kind === 'req') this.onReq(msg.vm, msg.queue, msg.reqProd, msg.rspEvent, msg.rspProdSeen, msg.notify, now, fx);
  }

  timer(tag: number, now: Nanos, fx: Effects): void {
    const kind = tag % 4;
    if (kind === KIND_PASS_END) {
      this.passEnd(now, fx);
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
    const t = this.core.run(now, this.cfg.costs.worker.timer, 'timer');
    q.stats.timerNotifies++;
    this.notify(q, t, fx);
  }

  private onRx(vm: number, queue: number, b: PacketBatch, now: Nanos, fx: Effects): void {
    const i = this.byKey.get(vm * 65536 + queue);
    if (i === undefined) return;
    const q = this.qs[i] as QueueState;
    if (q.disabled) {
      // Netback stopped serving this VIF queue after a fatal ring error: everything for it is dropped.
      q.stats.received += b.count;
      q.stats.dropsVifDisabled += b.count;
      this.pool.release(b);
      return;
    }
    const room = this.cfg.backlog - q.backlog.length;
    const take = room < b.count ? (room > 0 ? room : 0) : b.count;
    q.backlog.pushBatch(b, 0, take);
    q.stats.received += b.count;
    const dropped = b.count - take;
    this.pool.release(b);
    if (dropped > 0) {
      // Name the cause: no posted RX buffers (the guest is behind) vs. the worker's CPU is behind.
      if (q.ring.requestsAvailable() === 0) q.stats.dropsRingFull += dropped;
      else q.stats.dropsBacklog += dropped;
    }
    if (q.backlog.length > q.stats.maxBacklog) q.stats.maxBacklog = q.backlog.length;
    if (!this.passActive) this.startPass(now, fx);
  }

  private onReq(
    vm: number, queue: number, reqProd: number, rspEvent: number, rspProdSeen: number, notified: boolean,
    now: Nanos, fx: Effects,
  ): void {
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
    if (q.stallSince >= 0 && q.ring.requestsAvailable() > 0) this.endStall(q, now, 'guest-refill', fx);
    if (late) {
      q.stats.lateNotifies++;
      this.notifyDue(q, now, 0, 0, fx);
    }
    if (!this.passActive) this.startPass(now, fx);
  }

  /** Start the next copy pass: round-robin over served queues that have packets and posted buffers. */
  private startPass(now: Nanos, fx: Effects): void {
    const n = this.qs.length;
    for (let k = 0; k < n; k++) {
      const i = (this.rr + k) % n;
      const q = this.qs[i] as QueueState;
      if (q.backlog.length === 0 || q.disabled) continue;
      const avail = q.ring.requestsAvailable();
      if (avail === 0) {
        // Ring full: ask the front end to notify us at the next posted buffer (req_event) and wait.
        q.stats.ringFullStalls++;
        q.ring.finalCheckRequests();
        this.watchStall(q, now, fx);
        continue;
      }
      const m = Math.min(q.backlog.length, avail, this.cfg.batch);
      const bytes = q.backlog.bytesOf(m);
      const batch = q.backlog.shiftBatch(m, this.pool);
      q.ring.produce(m);
      const w = this.cfg.costs.worker;
      const done = this.core.run(now, (w.perPass + m * w.perPacket + bytes * w.perByte) * this.costFactor, 'copy');
      this.rr = (i + 1) % n;
      this.passActive = true;
      this.passQueue = i;
      this.passBatch = batch;
      this.passBytes = bytes;
      q.stats.passes++;
      fx.timer(done, KIND_PASS_END);
      return;
    }
    this.passActive = false;
  }

  /** Copies finished: publish the responses (push-and-check-notify), then start the next pass. */
  private passEnd(now: Nanos, fx: Effects): void {
    const q = this.qs[this.passQueue];
    const batch = this.passBatch;
    this.passBatch = null;
    if (q && batch) {
      q.stats.copied += batch.count;
      q.stats.bytes += this.passBytes;
      const notify = q.ring.pushResponses();
      fx.send(
        q.served.frontend,
        { kind: 'rsp', vm: q.served.vm, queue: q.served.queue, rspProd: q.ring.rspProd, reqEvent: q.ring.reqEvent, batch },
        now,
      );
      if (notify) this.notifyDue(q, now, batch.count, this.passBytes, fx);
      else if (q.owed) {
        q.stats.held++;
        q.addOwed(now, batch.count, this.passBytes);
        this.reconsider(q, now, fx);
      } else q.stats.suppressed++;
    }
    this.startPass(now, fx);
  }

  /**
   * The ring says the front end wants a notification. Without back-end coalescing it goes at once;
   * with it, the notification is held until the policy's count or timer fires.
   */
  private notifyDue(q: QueueState, now: Nanos, count: number, bytes: number, fx: Effects): void {
    const c = q.coalescer;
    if (c === null) {
      this.notify(q, now, fx);
      return;
    }
    if (q.owed) q.stats.held++;
    q.owed = true;
    q.addOwed(now, count > 0 ? count : 1, bytes);
    this.reconsider(q, now, fx);
  }

  private reconsider(q: QueueState, now: Nanos, fx: Effects): void {
    const c = q.coalescer as Coalescer;
    const free = q.ring.outstandingRequests();
    const t = c.fireAt(q, q.lastFireAt, free);
    if (t <= now) {
      this.notify(q, now, fx);
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
    if (q.ring.requestsAvailable() > 0 || q.backlog.length === 0) {
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
      fx.event('netback-stall-detected', { vm: q.served.vm, queue: q.served.queue, since: q.stallSince, by: 'netback-rx-stall-timer', backlog: q.backlog.length });
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
        vm: q.served.vm, queue: q.served.queue, since: q.stallSince, by: 'netback-rx-stall-timer',
        endedBy: cause === 'guest-refill' && q.kicksThisStall > 0 ? 'netback-stall-kick' : cause, kicks: q.kicksThisStall,
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
    const lost = q.backlog.length;
    q.stats.dropsVifDisabled += lost;
    q.backlog.discard(lost);
    this.endStall(q, now, 'vif-disabled', fx);
    fx.event('ring-corrupt', {
      vm: q.served.vm, queue: q.served.queue, reqProd: reqProd >>> 0, reqCons: q.ring.reqCons, size: q.ring.size, dropped: lost,
      detail: `req_prod ${reqProd >>> 0} is more than a ring (${q.ring.size}) ahead of req_cons ${q.ring.reqCons}: queue disabled`,
    });
  }

  /**
   * The front end set up a new ring (a restarted netfront): the packets this queue held for the old
   * one — its backlog, and a copy in progress into the old ring's buffers — are discarded, as netback
   * purges a VIF's rx queue when the front end disconnects. Counted (`purgedOldRing`): they are
   * packets lost to the front end's crash.
   */
  private purgeOldRing(q: QueueState): number {
    let n = q.backlog.length;
    q.backlog.discard(n);
    if (this.passBatch !== null && this.passQueue === q.index) {
      n += this.passBatch.count;
      this.pool.release(this.passBatch);
      this.passBatch = null; // passEnd then publishes nothing for it
    }
    q.stats.purgedOldRing += n;
    return n;
  }

  /** The notify hypercall: costs this core, then the event reaches the guest's event channel. */
  private notify(q: QueueState, now: Nanos, fx: Effects): void {
    const t = this.core.run(now, this.cfg.costs.worker.notify, 'notify');
    q.stats.notifies++;
    if (q.coalescer) {
      q.coalescer.onFire(now, q.known, q.owedBytes);
      q.lastFireAt = now;
      q.coalesceGen++; // cancels a pending coalescing timer
    }
    q.clearOwed();
    fx.send(q.served.frontend, { kind: 'evt', vm: q.served.vm, port: q.served.queue }, t);
  }
}
