// netback's transmit side for the vif queues a worker serves: TX NAPI over the guest TX ring, header copy and grant map, the credit scheduler, dealloc and TX responses.
import { ETH_FCS_LEN, NotificationFault, PacketFifo, Prng, pushNeedsNotify, TxRingBack, txCopyOnly, txSlots, XEN_NETBACK_TX_COPY_LEN } from '@splitnet/model';
import type { ActorRef, BatchPool, Core, CostProfile, Effects, FaultCommand, Nanos, PacketBatch, TxCosts, TxReport } from '@splitnet/model';

/** The vif's `rate=` limit (xenstore `rate`: bytes per credit_usec), as xen_net_read_rate reads it. */
export interface TxCredit {
  readonly bytes: number;
  /** credit_usec, in ns. */
  readonly interval: Nanos;
}

export interface NetbackTxQueue {
  readonly vm: number;
  readonly queue: number;
  readonly frontend: ActorRef;
  readonly ringSize: number;
  /** The event channel port netback notifies for TX responses: the queue's TX port with split event channels, else its only one. */
  readonly port: number;
}

export interface NetbackTxConfig {
  readonly queues: readonly NetbackTxQueue[];
  /** The bridge (the backend actor) the vif's frames go to. */
  readonly backend: ActorRef;
  readonly costs: CostProfile;
  /** NAPI weight of the vif queue's TX poll (XENVIF_NAPI_WEIGHT, 64). */
  readonly budget: number;
  /** The credit scheduler's limit, null when the vif has no `rate=` (credit_bytes = ~0: unlimited). */
  readonly credit: TxCredit | null;
  readonly pool: BatchPool;
}

/**
 * Timer tags of the transmit side are negative: −1 − (kind + KINDS · queue index); below those, a guest's kick a
 * delay-tx-notifications fault held back: −1 − (KINDS · queues + queue index).
 */
const KINDS = 2;
const KIND_POLL_END = 0;
const KIND_CREDIT = 1;
/** tx_add_credit lets a burst reach at least 128 KiB, so that a jumbo frame never seizes the vif up. */
const MIN_BURST = 131072;

class TxQueue {
  readonly ring: TxRingBack;
  /** The frames of requests netfront has published and netback has not taken, in ring order. */
  readonly frames = new PacketFifo(64);
  /** NAPI is scheduled or polling (xenvif_tx_interrupt → napi_schedule). */
  napi = false;
  remainingCredit: number;
  creditWindowStart: Nanos = 0;
  creditTimer = false;
  rateLimited = false;
  disabled = false;
  /** Slots whose grant map awaits the frame's transmission (answered by the dealloc). */
  mappedSlots = 0;
  notifies = 0;
  responses = 0;
  deallocResponses = 0;
  polls = 0;
  creditWaits = 0;
  dropsDisabled = 0;
  reqNotifies = 0;
  /** rsp_prod when netback last notified: a notification already covers every response published up to it. */
  notifiedProd = -1;
  /** Frames the last poll took (a full budget polls again). */
  lastPollCount = 0;
  /** Fault state: the guest's kicks on this queue's TX event channel lost / delayed with a probability. */
  readonly notify = new NotificationFault();
  kicksLost = 0;
  kicksDelayed = 0;
  constructor(
    readonly index: number,
    readonly spec: NetbackTxQueue,
    credit: TxCredit | null,
  ) {
    this.ring = new TxRingBack(spec.ringSize);
    this.remainingCredit = credit === null ? Infinity : credit.bytes;
  }
}

export function isTxTimer(tag: number): boolean {
  return tag < 0;
}

export class NetbackTx {
  private readonly qs: TxQueue[] = [];
  private readonly byKey = new Map<number, TxQueue>();
  private readonly tx: TxCosts;

  constructor(
    private readonly cfg: NetbackTxConfig,
    private readonly core: Core,
  ) {
    cfg.queues.forEach((spec, i) => {
      const q = new TxQueue(i, spec, cfg.credit);
      this.qs.push(q);
      this.byKey.set(spec.vm * 65536 + spec.queue, q);
    });
    const tx = cfg.costs.tx;
    if (tx === undefined) throw new Error('NetbackTx needs the cost profile of the transmit path (costs.tx)');
    this.tx = tx;
  }

  /** Frames of published requests netback has not taken (waiting for a poll, or for credit). */
  held(): number {
    let n = 0;
    for (const q of this.qs) n += q.frames.length;
    return n;
  }

  report(): TxReport {
    let notifies = 0;
    let responses = 0;
    let deallocResponses = 0;
    let polls = 0;
    let creditWaits = 0;
    let disabled = 0;
    let lost = 0;
    let delayed = 0;
    for (const q of this.qs) {
      lost += q.kicksLost;
      delayed += q.kicksDelayed;
      notifies += q.notifies;
      responses += q.responses;
      deallocResponses += q.deallocResponses;
      polls += q.polls;
      creditWaits += q.creditWaits;
      disabled += q.dropsDisabled;
    }
    return {
      held: this.held(),
      drops: { 'vif-disabled': disabled },
      notifies,
      responses,
      deallocResponses,
      polls,
      creditWaits,
      ...(lost + delayed > 0 ? { notificationsLost: lost, notificationsDelayed: delayed } : {}),
    };
  }

  /**
   * lose- / delay-tx-notifications on guest `cmd.vm`'s queues: the guest's kicks (the notify hypercall after
   * RING_PUSH_REQUESTS_AND_CHECK_NOTIFY) reach this netback's TX event channel with that probability lost, or
   * `delay` later. A lost kick leaves netback idle with requests on the ring: netfront notifies only when a push
   * crosses req_event, which netback re-arms only when it polls, so nothing polls that ring again.
   */
  fault(cmd: FaultCommand): void {
    const on = cmd.phase === 'start';
    const prng = on ? new Prng(cmd.seed) : null;
    for (const q of this.qs) {
      if (q.spec.vm !== cmd.vm || (cmd.queues !== undefined && !cmd.queues.includes(q.spec.queue))) continue;
      if (cmd.action === 'lose-tx-notifications') {
        q.notify.setLoss(on, cmd.params.probability, prng);
      } else if (cmd.action === 'delay-tx-notifications') {
        q.notify.setDelay(on, cmd.params.probability, cmd.params.delay, prng);
      }
    }
  }

  /**
   * netfront's TX ring writes arrived. A req_prod more than a ring ahead of req_cons is what xenvif_tx_build_gops
   * calls an "Impossible number of requests": xenvif_fatal_tx_err disables the vif, and its frames are lost. A
   * notification (or a poll already scheduled) runs the TX NAPI; without one the requests wait, as netfront
   * only notifies when netback's req_event asks for it.
   */
  onRequests(
    vm: number,
    queue: number,
    reqProd: number,
    rspEvent: number,
    rspProdSeen: number,
    notified: boolean,
    b: PacketBatch | null,
    now: Nanos,
    fx: Effects,
  ): void {
    const q = this.byKey.get(vm * 65536 + queue);
    const count = b?.count ?? 0;
    if (q === undefined) {
      if (b) this.cfg.pool.release(b);
      return;
    }
    if (q.disabled || q.ring.judgeRequests(reqProd) === 'overflow') {
      if (!q.disabled) {
        q.disabled = true;
        fx.event('vif-tx-fatal-error', { vm, queue, reqProd, reqCons: q.ring.reqCons, dropped: q.frames.length + count });
        q.dropsDisabled += q.frames.length;
        q.frames.clear();
      }
      q.dropsDisabled += count;
      if (b) this.cfg.pool.release(b);
      return;
    }
    if (b) {
      q.frames.pushBatch(b);
      this.cfg.pool.release(b);
    }
    // netfront pushed before our re-armed req_event reached it: on a shared page either its push would have seen
    // the new req_event and notified, or our RING_FINAL_CHECK_FOR_REQUESTS re-read would have seen the request.
    // A req_prod that crosses our req_event is therefore taken as a notification.
    const crossed = !notified && pushNeedsNotify(q.ring.reqProd, reqProd, q.ring.reqEvent);
    // A fault may lose or hold back the guest's kick (a crossing stands for one); the requests are on the ring all the same.
    let kicked = notified || crossed;
    if (kicked && q.notify.loses()) {
      q.kicksLost++;
      kicked = false;
    } else if (kicked && q.notify.delays()) {
      q.kicksDelayed++;
      kicked = false;
      fx.timer(now + q.notify.delayNs, -1 - (KINDS * this.qs.length + q.index));
    }
    if (notified && kicked) q.reqNotifies++;
    // The late-event rule (see TxRingBack.onRequests), once per rsp_prod: a notification sent since the last
    // push already reaches netfront after those responses, and its handler reclaims them all.
    const late = q.ring.onRequests(reqProd, rspEvent, rspProdSeen) && q.notifiedProd !== q.ring.rspProd;
    if (late) this.notify(q, now, fx);
    if (kicked && !q.napi && !q.rateLimited && q.frames.length > 0) this.poll(q, now, fx);
  }

  /** The dealloc thread: unmap the slots of frames that have been sent and answer them (xenvif_tx_dealloc_action). */
  onDealloc(vm: number, queue: number, frames: number, slots: number, now: Nanos, fx: Effects): void {
    const q = this.byKey.get(vm * 65536 + queue);
    if (q === undefined || frames === 0) return;
    const n = Math.min(slots, q.mappedSlots);
    q.mappedSlots -= n;
    const done = this.core.run(now, this.tx.deallocPerBatch + n * this.tx.deallocPerSlot, 'tx-dealloc');
    q.deallocResponses += n;
    this.respond(q, n, done, fx);
  }

  timer(tag: number, now: Nanos, fx: Effects): void {
    const rest = -1 - tag;
    if (rest >= KINDS * this.qs.length) {
      // A held-back kick arrives: xenvif_tx_interrupt schedules NAPI, unless it already runs or is rate-limited.
      const q = this.qs[rest - KINDS * this.qs.length];
      if (q) {
        if (!q.napi && !q.rateLimited && q.frames.length > 0) this.poll(q, now, fx);
      }
      return;
    }
    const kind = rest % KINDS;
    const q = this.qs[Math.floor(rest / KINDS)];
    if (!q) return;
    if (kind === KIND_POLL_END) this.pollEnd(q, now, fx);
    else {
      // xenvif_tx_credit_callback: new credit, then xenvif_napi_schedule_or_enable_events.
      q.creditTimer = false;
      this.addCredit(q);
      if (!q.napi) this.finalCheck(q, now, fx);
    }
  }

  /**
   * One TX NAPI poll (xenvif_poll → xenvif_tx_action): take up to the budget of frames from the ring while the
   * credit allows, grant-copy each one's first XEN_NETBACK_TX_COPY_LEN bytes and grant-map the rest, and hand
   * the frames to the bridge (xenvif_tx_submit). Slots netback only copied are answered at once; mapped ones
   * when the dealloc returns them, after the frame is sent.
   */
  private poll(q: TxQueue, now: Nanos, fx: Effects): void {
    q.napi = true;
    q.polls++;
    const c = this.cfg.costs;
    const tx = this.tx;
    const f = q.frames;
    let n = 0;
    let slots = 0;
    let copyOnlySlots = 0;
    let cost = tx.netbackPerPoll;
    while (n < f.length && n < this.cfg.budget) {
      const len = f.lenAt(n);
      const size = len - ETH_FCS_LEN;
      if (size > q.remainingCredit && this.creditExceeded(q, size, now, fx)) break;
      q.remainingCredit -= size;
      const s = txSlots(len);
      slots += s;
      const copied = Math.min(size, XEN_NETBACK_TX_COPY_LEN);
      // Every slot but a copy-only frame's is mapped (the first slot's rest becomes the first frag).
      const mapped = txCopyOnly(len) ? 0 : s;
      if (mapped === 0) copyOnlySlots += s;
      cost += tx.netbackPerPacket + copied * c.worker.perByte + mapped * tx.netbackPerMappedSlot;
      n++;
    }
    q.ring.consume(slots);
    q.mappedSlots += slots - copyOnlySlots;
    const done = this.core.run(now, cost, 'tx-poll');
    if (n > 0) {
      const batch = f.shiftBatch(n, this.cfg.pool);
      fx.send(this.cfg.backend, { kind: 'xmit', vm: q.spec.vm, queue: q.spec.queue, batch }, done);
    }
    if (copyOnlySlots > 0) this.respond(q, copyOnlySlots, done, fx);
    fx.timer(done, -1 - (KIND_POLL_END + KINDS * q.index));
    q.lastPollCount = n;
  }

  /** End of a poll: a full budget polls again; otherwise napi_complete_done and, unless rate-limited, the final check. */
  private pollEnd(q: TxQueue, now: Nanos, fx: Effects): void {
    if (q.lastPollCount >= this.cfg.budget) {
      this.poll(q, now, fx);
      return;
    }
    q.napi = false;
    if (!q.rateLimited) this.finalCheck(q, now, fx);
  }

  /**
   * xenvif_napi_schedule_or_enable_events: RING_FINAL_CHECK_FOR_REQUESTS, polling again if requests are waiting;
   * otherwise req_event is re-armed at req_cons + 1, a write to the shared page that netfront's next push reads.
   */
  private finalCheck(q: TxQueue, now: Nanos, fx: Effects): void {
    if (q.ring.finalCheckRequests()) {
      if (q.frames.length > 0) this.poll(q, now, fx);
      return;
    }
    const s = q.spec;
    fx.send(s.frontend, { kind: 'txrsp', vm: s.vm, queue: s.queue, rspProd: q.ring.rspProd, reqEvent: q.ring.reqEvent }, now);
  }

  /**
   * tx_credit_exceeded: a frame larger than the remaining credit waits for the next credit window. Past the
   * window's end the credit is replenished first; if it still does not cover the frame, the credit timer is set
   * for the window's end and the queue is rate-limited until it fires.
   */
  private creditExceeded(q: TxQueue, size: number, now: Nanos, fx: Effects): boolean {
    const credit = this.cfg.credit;
    if (credit === null) return false;
    const nextCredit = q.creditWindowStart + credit.interval;
    if (q.creditTimer) {
      q.rateLimited = true;
      return true;
    }
    if (now >= nextCredit) {
      q.creditWindowStart = now;
      this.addCredit(q);
    }
    if (size > q.remainingCredit) {
      q.creditTimer = true;
      q.creditWindowStart = nextCredit;
      q.rateLimited = true;
      q.creditWaits++;
      fx.timer(nextCredit > now ? nextCredit : now, -1 - (KIND_CREDIT + KINDS * q.index));
      return true;
    }
    return false;
  }

  /** tx_add_credit: a window's worth more, capped at a burst of max(128 KiB, credit_bytes). */
  private addCredit(q: TxQueue): void {
    const credit = this.cfg.credit;
    if (credit === null) return;
    const maxBurst = Math.max(MIN_BURST, credit.bytes);
    q.remainingCredit = Math.min(q.remainingCredit + credit.bytes, maxBurst);
    q.rateLimited = false;
  }

  /** make_tx_response for n slots, then push_tx_responses: publish, and notify netfront if its rsp_event says so. */
  private respond(q: TxQueue, n: number, at: Nanos, fx: Effects): void {
    if (n === 0) return;
    q.ring.respond(n);
    q.responses += n;
    const notify = q.ring.pushResponses();
    const s = q.spec;
    fx.send(s.frontend, { kind: 'txrsp', vm: s.vm, queue: s.queue, rspProd: q.ring.rspProd, reqEvent: q.ring.reqEvent }, at);
    if (notify) this.notify(q, at, fx);
  }

  private notify(q: TxQueue, at: Nanos, fx: Effects): void {
    const done = this.core.run(at, this.cfg.costs.worker.notify, 'tx-notify');
    q.notifies++;
    q.notifiedProd = q.ring.rspProd;
    fx.send(q.spec.frontend, { kind: 'evt', vm: q.spec.vm, port: q.spec.port }, done);
  }
}
