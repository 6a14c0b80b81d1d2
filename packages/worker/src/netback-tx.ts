// netback's transmit side for the vif queues a worker serves: TX NAPI over the guest TX ring, header copy and grant map, the credit scheduler, dealloc and TX responses, on the worker's core or its scheduled vCPU.
import { ETH_FCS_LEN, NotificationFault, PacketFifo, Prng, pushNeedsNotify, TxRingBack, txCopyOnly, txSlots, XEN_NETBACK_TX_COPY_LEN } from '@splitnet/model';
import type {
  ActorRef,
  BatchPool,
  Core,
  CostProfile,
  CpuAccount,
  CpuSource,
  DeallocMessage,
  Effects,
  FaultCommand,
  Job,
  Nanos,
  PacketBatch,
  TxCosts,
  TxReport,
  Vcpu,
} from '@splitnet/model';

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
 * Scheduled dom0 vCPUs: the vCPU of the worker that serves these vif queues, where each queue's TX event channel
 * interrupt is bound, its TX NAPI polls in NET_RX softirq context and its dealloc kernel thread runs; all of it is
 * charged to the worker's account (`dom0.worker<k>`), as it is to the worker's core with dedicated cores.
 */
export interface NetbackTxSched {
  readonly vcpu: Vcpu;
  readonly account: CpuAccount;
  /** The dealloc threads are SCHED_FIFO, as netback's RX threads are (`netback.threading: kthread-rt`). */
  readonly rt: boolean;
}

/**
 * Timer tags of the transmit side are negative: −1 − (kind + KINDS · queue index); below those, a guest's kick a
 * delay-tx-notifications fault held back: −1 − (KINDS · queues + queue index); below those, on scheduled vCPUs,
 * the look at work the vCPU may have finished: −1 − (KINDS · queues + queues).
 */
const KINDS = 2;
const KIND_POLL_END = 0;
const KIND_CREDIT = 1;
/** tx_add_credit lets a burst reach at least 128 KiB, so that a jumbo frame never seizes the vif up. */
const MIN_BURST = 131072;

/** Where a piece of netback's TX work runs: the vif queue's TX NAPI poll (softirq), or its dealloc thread. */
const IN_NAPI = 0;
const IN_DEALLOC = 1;
type TxContext = typeof IN_NAPI | typeof IN_DEALLOC;

/** What to do when a piece of work is done, at its finish time (`fx`: the effects of the handler that sees it done). */
type Then = (at: Nanos, fx: Effects) => void;

/** Work on a scheduled vCPU not yet seen done, and what follows it. */
interface PendingTx {
  readonly job: Job;
  readonly then: Then;
}

class TxQueue {
  ring: TxRingBack;
  /** Which ring of the guest this is: a reconnect re-creates it (work begun on an older ring answers nothing on this one). */
  gen = 0;
  /**
   * Slots of an older ring that netback had grant-mapped and handed out when the ring was re-created: the first
   * deallocs to come are theirs (xenvif_disconnect_data lets the dealloc thread unmap what is in flight before the
   * ring goes), so they answer nothing on the new ring.
   */
  staleSlots = 0;
  /**
   * The ring before the last reconnect after the guest crashed: ring writes the dead guest had under way (stamped
   * after its death: its vCPU was behind) come after the new ring's state, and are judged against it.
   */
  oldRing: TxRingBack | null = null;
  /** The frames of requests netfront has published and netback has not taken, in ring order. */
  readonly frames = new PacketFifo(64);
  /** The TX slots those frames take: fewer than the requests not consumed only when a ring write was lost on the bus. */
  frameSlots = 0;
  /** Frames and slots handed to the bridge so far (XmitMessage.sentFrames, sentSlots). */
  xmitFrames = 0;
  xmitSlots = 0;
  /** Slots the bridge's deallocs (those with DeallocMessage.freed) brought so far. */
  bridgeGot = 0;
  /** The same per worker whose guest this queue's guest sends to (DeallocMessage.from): their zero-copy releases. */
  readonly workerGot = new Map<number, number>();
  /** The workers' releases (the sum of workerGot) when the bridge last restarted: those before it are not its. */
  workerGotBase = 0;
  /** Slots other deallocs brought so far: frames dropped on the way (a release without a count). */
  peerGot = 0;
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
  /** Frames of requests on a ring that went away (see NetbackTx.reconnectRing, dropRequests), by reason. */
  dropsLostInCrash = 0;
  dropsReleased = 0;
  /** Messages of a ring that went away, ignored: TX ring writes netback could not serve, deallocs of its slots. */
  staleMessages = 0;
  reqNotifies = 0;
  /** rsp_prod when netback last notified: a notification already covers every response published up to it. */
  notifiedProd = -1;
  /** Frames the last poll took (a full budget polls again). */
  lastPollCount = 0;
  /** Fault state: the guest's kicks on this queue's TX event channel lost / delayed with a probability. */
  readonly notify = new NotificationFault();
  kicksLost = 0;
  kicksDelayed = 0;
  /** Frames a poll on a scheduled vCPU took and has not handed to the bridge yet (its work is not done). */
  inPoll = 0;
  /** Scheduled vCPUs: the queue's TX NAPI instance (xenvif_poll) and its dealloc thread (xenvif_dealloc_kthread). */
  napiSrc: CpuSource | null = null;
  deallocSrc: CpuSource | null = null;
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
  /** Scheduled vCPU: work submitted and not yet seen done, in submission order. */
  private work: PendingTx[] = [];
  private alarm: ((at: Nanos) => void) | null = null;

  constructor(
    private readonly cfg: NetbackTxConfig,
    private readonly core: Core,
    private readonly sched: NetbackTxSched | null = null,
  ) {
    cfg.queues.forEach((spec, i) => {
      const q = new TxQueue(i, spec, cfg.credit);
      if (sched !== null) {
        const name = `vif${spec.vm}.${spec.queue}`;
        q.napiSrc = sched.vcpu.napi(`${name}-tx`, sched.account);
        q.deallocSrc = sched.vcpu.thread(`${name}-dealloc`, sched.account, sched.rt);
      }
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
    for (const q of this.qs) n += q.frames.length + q.inPoll;
    return n;
  }

  /** Whether it holds no guest frame: none in published requests not taken yet, none in a poll whose work is not done, no work pending. */
  idle(): boolean {
    return this.held() === 0 && this.work.length === 0;
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
    let crashed = 0;
    let released = 0;
    let stale = 0;
    for (const q of this.qs) {
      crashed += q.dropsLostInCrash;
      released += q.dropsReleased;
      stale += q.staleMessages;
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
      // A restart's reasons only once they counted a frame: results of runs without such faults keep their shape.
      drops: {
        'vif-disabled': disabled,
        ...(crashed > 0 ? { 'lost-in-crash': crashed } : {}),
        ...(released > 0 ? { 'release-tx-bufs': released } : {}),
      },
      notifies,
      responses,
      deallocResponses,
      polls,
      creditWaits,
      ...(lost + delayed > 0 ? { notificationsLost: lost, notificationsDelayed: delayed } : {}),
      ...(stale > 0 ? { staleMessages: stale } : {}),
    };
  }

  /**
   * The guest's TX ring of queue (vm, queue) is re-created (talk_to_netback → xenvif_connect_data: a new ring from
   * index 0, BACK_RING_INIT), because the guest restarted (`guestCrashed`) or this netback did. Before that,
   * xenvif_disconnect_data stopped the queue's TX NAPI (xenvif_tx_action runs no more on the old ring) and its
   * dealloc thread unmapped the grants still in flight: the requests netback had not taken are gone with the old
   * ring — frames of a guest that crashed (`lost-in-crash`), or frames netfront frees itself as it re-creates the
   * ring (xennet_release_tx_bufs: `release-tx-bufs`) — and the slots it had mapped and handed out answer nothing on
   * the new ring. A vif disabled by a fatal error serves again. Returns the frames dropped.
   */
  reconnectRing(vm: number, queue: number, guestCrashed: boolean, now: Nanos, fx: Effects): number {
    const q = this.byKey.get(vm * 65536 + queue);
    if (q === undefined) return 0;
    const n = q.frames.length;
    q.frames.clear();
    q.frameSlots = 0;
    if (guestCrashed) q.dropsLostInCrash += n;
    else q.dropsReleased += n;
    q.staleSlots += q.mappedSlots;
    q.mappedSlots = 0;
    q.oldRing = guestCrashed ? q.ring : null;
    q.ring = new TxRingBack(q.spec.ringSize);
    q.gen++;
    q.disabled = false;
    q.notifiedProd = -1;
    fx.event('vif-tx-ring-reconnected', { vm, queue, dropped: n, staleSlots: q.staleSlots, at: now });
    return n;
  }

  /**
   * TX ring writes for a queue whose ring state this (restarted) netback has not connected yet: requests on the
   * ring of the netback that died, which netfront frees as it re-creates the ring (xennet_release_tx_bufs).
   */
  dropRequests(vm: number, queue: number, b: PacketBatch): void {
    const q = this.byKey.get(vm * 65536 + queue);
    if (q !== undefined) {
      q.dropsReleased += b.count;
      q.staleMessages++;
    }
    this.cfg.pool.release(b);
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
    if (q.oldRing !== null && q.ring.judgeRequests(reqProd) !== 'ok' && q.oldRing.judgeRequests(reqProd) === 'ok') {
      // A write of the crashed guest's ring (see oldRing): its frames went with the guest.
      q.dropsLostInCrash += count;
      q.staleMessages++;
      if (b) this.cfg.pool.release(b);
      return;
    }
    if (q.disabled || q.ring.judgeRequests(reqProd) === 'overflow') {
      if (!q.disabled) {
        q.disabled = true;
        fx.event('vif-tx-fatal-error', { vm, queue, reqProd, reqCons: q.ring.reqCons, dropped: q.frames.length + count });
        q.dropsDisabled += q.frames.length;
        q.frames.clear();
        q.frameSlots = 0;
      }
      q.dropsDisabled += count;
      if (b) this.cfg.pool.release(b);
      return;
    }
    if (b) {
      for (let k = 0; k < b.count; k++) q.frameSlots += txSlots(b.len[k] as number);
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
    if (kicked) this.interrupt(now);
    // The late-event rule (see TxRingBack.onRequests), once per rsp_prod: a notification sent since the last
    // push already reaches netfront after those responses, and its handler reclaims them all.
    const late = q.ring.onRequests(reqProd, rspEvent, rspProdSeen) && q.notifiedProd !== q.ring.rspProd;
    if (late) this.notify(q, now, fx, IN_NAPI, false);
    // Requests published whose frames never came: only a live run's bus loses a ring write (never in sim).
    const missing = q.ring.unconsumed() - q.frameSlots;
    if (missing > 0) this.lostRequests(q, missing, now, fx);
    if (kicked && !q.napi && !q.rateLimited && q.frames.length > 0) this.poll(q, now, fx);
  }

  /**
   * Requests netfront published whose ring write (a `txreq` with their frames) the bus lost — an emulation
   * artefact: on Xen the requests are on the shared page. netback consumes them and answers each slot with an
   * error response, as xenvif_tx_err does for a request it cannot use (make_tx_response with XEN_NETIF_RSP_ERROR),
   * so netfront's xennet_tx_buf_gc frees them and no slot waits for good. The frames themselves were counted sent
   * and never reached netback: the run counts them lost-in-transport (a bus outage) or link-drop (a partition). A
   * repair, not modelled work: no core time. Outside a poll, netback then checks the ring as a poll ends
   * (RING_FINAL_CHECK_FOR_REQUESTS in xenvif_napi_schedule_or_enable_events): it re-arms req_event, or netfront's
   * later pushes, behind an old req_event, would never notify again; or polls the requests that wait.
   */
  private lostRequests(q: TxQueue, slots: number, now: Nanos, fx: Effects): void {
    q.ring.consume(slots);
    q.ring.respond(slots);
    q.ring.pushResponses();
    q.responses += slots;
    const more = !q.napi && q.ring.finalCheckRequests();
    fx.event('vif-tx-requests-lost', { vm: q.spec.vm, queue: q.spec.queue, slots, reqCons: q.ring.reqCons });
    this.announce(q, now, fx);
    if (more && !q.rateLimited && q.frames.length > 0) this.poll(q, now, fx);
  }

  /**
   * After a bus outage (Actor.resync): per vif queue, the TX responses published so far (rsp_prod, req_event) and a
   * notification on its TX port, since a `txrsp` or `evt` the bus lost would leave netfront with slots it never
   * reclaims; and a poll if frames wait without one (their kick lost). Not a modelled hypercall: no core time.
   */
  resync(now: Nanos, fx: Effects): void {
    for (const q of this.qs) {
      if (q.disabled) continue;
      this.announce(q, now, fx);
      if (!q.napi && !q.rateLimited && q.frames.length > 0) this.poll(q, now, fx);
      // To the bridge, what it should have had from us (so it frees the slots of frames the bus lost; BackendActor.resync
      // does the reverse for its deallocs). After our xmits in progress on a dedicated core, which it must not overtake.
      const s = q.spec;
      const at = this.sched === null && this.core.busyUntil > now ? this.core.busyUntil : now;
      fx.send(this.cfg.backend, { kind: 'xmit', vm: s.vm, queue: s.queue, batch: this.cfg.pool.take(0), sentFrames: q.xmitFrames, sentSlots: q.xmitSlots }, at);
    }
  }

  /**
   * rsp_prod and req_event as published, and a kick on the TX port, without cost (resync and lost requests). On a
   * dedicated core, stamped no earlier than the work in progress there, whose responses rsp_prod already counts.
   */
  private announce(q: TxQueue, now: Nanos, fx: Effects): void {
    const s = q.spec;
    const at = this.sched === null && this.core.busyUntil > now ? this.core.busyUntil : now;
    q.notifiedProd = q.ring.rspProd;
    fx.send(s.frontend, { kind: 'txrsp', vm: s.vm, queue: s.queue, rspProd: q.ring.rspProd, reqEvent: q.ring.reqEvent }, at);
    fx.send(s.frontend, { kind: 'evt', vm: s.vm, port: s.port }, at);
  }

  /** The dealloc thread: unmap the slots of frames that have been sent and answer them (xenvif_tx_dealloc_action). */
  onDealloc(msg: DeallocMessage, now: Nanos, fx: Effects): void {
    const { vm, queue, freed } = msg;
    const q = this.byKey.get(vm * 65536 + queue);
    if (q === undefined) return;
    let { frames, slots } = msg;
    const from = msg.from;
    if (freed === undefined) q.peerGot += slots;
    else if (freed === 0 && frames === 0 && from === undefined) {
      this.bridgeRestarted(q, now, fx);
      return;
    } else {
      const got = (from === undefined ? q.bridgeGot : (q.workerGot.get(from) ?? 0)) + slots;
      // The sender's count after a bus outage or a partition (BackendActor.resync, WorkerActor.resync), stamped after
      // its earlier deallocs: slots it freed that never came were lost on the way, and come back now.
      const lost = frames === 0 ? freed - got : 0;
      if (from === undefined) q.bridgeGot = lost > 0 ? freed : got;
      else q.workerGot.set(from, lost > 0 ? freed : got);
      if (lost > 0) {
        fx.event('vif-tx-deallocs-lost', { vm, queue, slots: lost, ...(from === undefined ? {} : { from: `worker.${from}` }) });
        slots = lost;
        frames = 1;
      }
    }
    if (frames === 0) return;
    this.dealloc(q, slots, now, fx);
  }

  /**
   * A restarted driver domain's bridge holds none of this queue's slots (live only: BackendActor.rejoined): the slots
   * of every frame handed to the dead one whose dealloc never came — on the NIC's TX queues, in completions not
   * cleaned, on their way to it — are unmapped and answered now, as the zero-copy callbacks of their freed skbs would
   * have had the dealloc thread do. Then both ends count from 0: an `xmit` of none with sentSlots 0 tells the bridge,
   * after every batch handed to the dead one (stamped after the work in progress on a dedicated core).
   */
  private bridgeRestarted(q: TxQueue, now: Nanos, fx: Effects): void {
    let workers = 0;
    for (const n of q.workerGot.values()) workers += n;
    const held = q.xmitSlots - q.bridgeGot - q.peerGot - (workers - q.workerGotBase);
    q.workerGotBase = workers;
    q.xmitFrames = 0;
    q.xmitSlots = 0;
    q.bridgeGot = 0;
    q.peerGot = 0;
    const s = q.spec;
    fx.event('vif-tx-bridge-restarted', { vm: s.vm, queue: s.queue, slots: held });
    const at = this.sched === null && this.core.busyUntil > now ? this.core.busyUntil : now;
    fx.send(this.cfg.backend, { kind: 'xmit', vm: s.vm, queue: s.queue, batch: this.cfg.pool.take(0), sentFrames: 0, sentSlots: 0 }, at);
    if (held > 0) this.dealloc(q, held, now, fx);
  }

  /**
   * A restarted netback (live only: WorkerActor.rejoined) counts what it hands the bridge from 0: it says so, as
   * bridgeRestarted does, so that the bridge's counts of its batches and deallocs start again too.
   */
  rejoined(now: Nanos, fx: Effects): void {
    for (const q of this.qs) {
      fx.send(this.cfg.backend, { kind: 'xmit', vm: q.spec.vm, queue: q.spec.queue, batch: this.cfg.pool.take(0), sentFrames: 0, sentSlots: 0 }, now);
    }
  }

  /** The dealloc thread unmaps `slots` slots of queue `q` and answers them (see onDealloc). */
  private dealloc(q: TxQueue, slots: number, now: Nanos, fx: Effects): void {
    // The slots of a ring that went away come first (see reconnectRing). (A restarted netback has mapped none of
    // the dead one's: what exceeds its own mapped slots is not answered, as the slots of copy-only frames are not.)
    const old = Math.min(slots, q.staleSlots);
    q.staleSlots -= old;
    const n = Math.min(slots - old, q.mappedSlots);
    if (old > 0) {
      q.staleMessages++;
      if (n === 0) return;
    }
    q.mappedSlots -= n;
    const gen = q.gen;
    // The zero-copy callback wakes the queue's dealloc thread, which unmaps the slots and answers them.
    this.run(q, IN_DEALLOC, now, this.tx.deallocPerBatch + n * this.tx.deallocPerSlot, false, 0, 'tx-dealloc', fx, (done, fx2) => {
      if (q.gen !== gen) return; // the ring these slots were on went away meanwhile
      q.deallocResponses += n;
      this.respond(q, n, done, fx2, IN_DEALLOC);
    });
  }

  timer(tag: number, now: Nanos, fx: Effects): void {
    const rest = -1 - tag;
    if (rest === (KINDS + 1) * this.qs.length) {
      this.workDone(now, fx);
      return;
    }
    if (rest >= KINDS * this.qs.length) {
      // A held-back kick arrives: xenvif_tx_interrupt schedules NAPI, unless it already runs or is rate-limited.
      const q = this.qs[rest - KINDS * this.qs.length];
      if (q) {
        this.interrupt(now);
        if (!q.napi && !q.rateLimited && q.frames.length > 0) this.poll(q, now, fx);
      }
      return;
    }
    const kind = rest % KINDS;
    const q = this.qs[Math.floor(rest / KINDS)];
    if (!q) return;
    if (kind === KIND_POLL_END) this.pollEnd(q, now, fx);
    else {
      // xenvif_tx_credit_callback: new credit, then xenvif_napi_schedule_or_enable_events. On a scheduled vCPU the
      // timer tick is a hard interrupt there (the callback runs in its TIMER_SOFTIRQ, not charged: see interrupt).
      this.interrupt(now);
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
    q.frameSlots -= slots;
    q.mappedSlots += slots - copyOnlySlots;
    const batch = n > 0 ? f.shiftBatch(n, this.cfg.pool) : null;
    q.lastPollCount = n;
    q.inPoll = n;
    const gen = q.gen;
    // The poll's packets count against net_rx_action's budget on a scheduled vCPU (xenvif_poll returns work_done).
    this.run(q, IN_NAPI, now, cost, false, n, 'tx-poll', fx, (done, fx2) => {
      q.inPoll = 0;
      if (batch !== null) {
        q.xmitFrames += n;
        q.xmitSlots += slots;
        fx2.send(this.cfg.backend, { kind: 'xmit', vm: q.spec.vm, queue: q.spec.queue, batch }, done);
      }
      if (copyOnlySlots > 0 && q.gen === gen) this.respond(q, copyOnlySlots, done, fx2, IN_NAPI);
      // Dedicated core: the poll ends at its finish (a timer); scheduled: it ended now, when the vCPU says so.
      if (this.sched === null) fx2.timer(done, -1 - (KIND_POLL_END + KINDS * q.index));
      else this.pollEnd(q, done, fx2);
    });
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

  /**
   * make_tx_response for n slots, then push_tx_responses: publish, and notify netfront if its rsp_event says so.
   * `ctx`: the context it runs in (the poll or the dealloc thread), which the notify hypercall continues.
   */
  private respond(q: TxQueue, n: number, at: Nanos, fx: Effects, ctx: TxContext): void {
    if (n === 0) return;
    q.ring.respond(n);
    q.responses += n;
    const notify = q.ring.pushResponses();
    const s = q.spec;
    fx.send(s.frontend, { kind: 'txrsp', vm: s.vm, queue: s.queue, rspProd: q.ring.rspProd, reqEvent: q.ring.reqEvent }, at);
    if (notify) this.notify(q, at, fx, ctx, true);
  }

  /** The notify hypercall (notify_remote_via_irq); the event reaches netfront when it is done. */
  private notify(q: TxQueue, at: Nanos, fx: Effects, ctx: TxContext, cont: boolean): void {
    q.notifies++;
    q.notifiedProd = q.ring.rspProd;
    this.run(q, ctx, at, this.cfg.costs.worker.notify, cont, 0, 'tx-notify', fx, (done, fx2) => {
      fx2.send(q.spec.frontend, { kind: 'evt', vm: q.spec.vm, port: q.spec.port }, done);
    });
  }

  /**
   * Run `cost` of work for queue `q` in context `ctx`, then `then` at its finish. A dedicated core runs it at once
   * (its finish is known now). On a scheduled vCPU a poll is work of the queue's TX NAPI instance (`packets`: what
   * net_rx_action's budget counts) and a dealloc work of its thread; `cont`: it continues the work that just
   * finished there without a scheduling point (a notify after the responses); `then` runs when the vCPU says the
   * work is done (the alarm timer, then `workDone`).
   */
  private run(q: TxQueue, ctx: TxContext, now: Nanos, cost: Nanos, cont: boolean, packets: number, label: string, fx: Effects, then: Then): void {
    const s = this.sched;
    if (s === null) {
      then(this.core.run(now, cost, label), fx);
      return;
    }
    const src = (ctx === IN_NAPI ? q.napiSrc : q.deallocSrc) as CpuSource;
    const tag = -1 - (KINDS + 1) * this.qs.length;
    const alarm = (this.alarm ??= (at: Nanos) => fx.timer(at, tag));
    this.work.push({ job: s.vcpu.submit(src, now, cost, cont, packets, alarm), then });
  }

  /**
   * A hard interrupt on the scheduled vCPU: the guest's kick on the queue's TX event channel (xenvif_tx_interrupt,
   * whose handler only schedules the queue's NAPI: the softirq then runs at the interrupt's exit) or the tick of the
   * credit timer. Its handler's cost is not charged [assumption: as on a dedicated core, where neither is charged;
   * the poll's tx.netbackPerPoll holds the per-poll work], so it only orders the work and wakes a blocked vCPU.
   */
  private interrupt(now: Nanos): void {
    const s = this.sched;
    if (s !== null) s.vcpu.hardirq(now, 0, s.account, null);
  }

  /** The vCPU says some work may be done: what follows each finished piece runs, in the order it was submitted. */
  private workDone(now: Nanos, fx: Effects): void {
    const s = this.sched;
    if (s === null) return;
    const list = this.work;
    this.work = [];
    const keep: PendingTx[] = [];
    for (const w of list) {
      if (s.vcpu.check(w.job, now)) w.then(now, fx);
      else keep.push(w);
    }
    this.work = keep.concat(this.work);
  }
}
