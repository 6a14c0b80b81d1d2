// The physical NIC actor: traffic on the wire, hardware RSS into RX queues, physical interrupt moderation, the NAPI handshake with the driver.
import { BatchPool, ClosedLoopEnds, copyPacket, createCoalescer, doubleFields, PacketFifo, TCP_HAS_SEGMENT, TrafficSource, wireTimeNs } from '@splitnet/model';
import type {
  Actor,
  ActorRef,
  ArrivalView,
  Coalescer,
  Effects,
  FaultCommand,
  ClosedLoopFlow,
  GeneratorSpec,
  Message,
  PacketBatch,
  TcpColumns,
  TcpHeader,
  Nanos,
  NicReport,
  PacketTap,
  PolicySpec,
} from '@splitnet/model';
import { isTxTimer, NicTx, type NicTxConfig } from './nic-tx.js';

export interface NicConfig {
  readonly id: string;
  /** The driver-domain back-end that receives DMA batches. */
  readonly backend: ActorRef;
  readonly queues: number;
  /**
   * Hardware RX descriptors per queue. A descriptor is taken when a frame arrives and given back
   * when the driver has processed the batch that carried it; a frame arriving while every
   * descriptor is taken is dropped (`nic-ring-full`).
   */
  readonly ringSize: number;
  /** NAPI budget of the driver's poll: the most frames one DMA batch carries; a batch this full keeps the poll going. */
  readonly budget: number;
  readonly linkGbps: number;
  readonly generators: readonly GeneratorSpec[];
  readonly flowCount: number;
  /** Hardware RSS result per flow: the RX queue (Toeplitz hash → indirection table). */
  readonly flowQueue: Uint16Array;
  /** Physical interrupt moderation policy (one instance per queue). */
  readonly policy: PolicySpec;
  /** Builds queue q's instance of the policy; `createCoalescer(policy)` unless given (a test passes one that records what it is told). */
  readonly moderation?: (queue: number) => Coalescer;
  readonly seed: number;
  /**
   * How far ahead of the current time frames are generated. Frames are emitted at exact times;
   * looking ahead only lets moderation decisions ("the 32nd frame arrives at t") be computed
   * without waking at every frame. Any value gives the same results; it trades events for memory.
   */
  readonly lookahead: Nanos;
  /** The batch pool this actor shares with the actors it passes batches to in memory (default: one of its own). */
  readonly pool?: BatchPool;
  /** A packet capture told of every frame that reaches the NIC (absent: none, and no call). */
  readonly tap?: PacketTap;
  /** The transmit side, when a guest sends (absent: the NIC only receives). */
  readonly tx?: Omit<NicTxConfig, 'backend' | 'linkGbps' | 'policy'>;
  /** Closed-loop flows whose far ends (TCP senders, TCP_RR clients) sit behind the wire (absent: none). */
  readonly closedLoop?: readonly ClosedLoopFlow[];
  /** The host's cable to a switch port (a multi-host scenario; absent: the wire beyond the NIC is a sink). */
  readonly fabric?: NicFabric;
}

/** A host NIC's place on the fabric. */
export interface NicFabric {
  readonly switch: ActorRef;
  /** The switch port at the other end of the cable (the host's index). */
  readonly port: number;
  /** Per flow: 1 when the frames the host's guests send on it go to the switch (their receiver is on another host). */
  readonly flows: Uint8Array;
  /** The cable's propagation delay. */
  readonly delay: Nanos;
}

/** A far end's frame on its way to the NIC, taken over by a restarted NIC. */
interface FarFrame {
  readonly flow: number;
  readonly seq: number;
  readonly len: number;
  readonly at: Nanos;
  readonly header: TcpHeader;
}

/** What a restarted NIC takes over from its dead incarnation (NicActor.inherit). */
interface FarHandover {
  readonly far: ClosedLoopEnds;
  readonly frames: readonly FarFrame[];
  /** The dead incarnation's guest segments on their way to the far ends: those that had left by `diedAt` arrive. */
  readonly toFar: PacketFifo;
  readonly diedAt: Nanos;
}

/** Timer tags of the far TCP ends start here (the RX side's generations stay far below; the TX side's are negative). */
const FAR_TCP_TAG_BASE = 2 ** 44;
/** The timer tag at which segments the guests sent reach their far ends. */
const FAR_TCP_ARRIVAL_TAG = FAR_TCP_TAG_BASE - 1;

export interface NicQueueStats {
  irqs: number;
  /** Batches handed over without an interrupt: the driver's NAPI poll went on after a full budget. */
  polls: number;
  dmaBatches: number;
  dmaFrames: number;
  dropsRingFull: number;
}

/**
 * One hardware RX queue: frames still on the wire (known future arrivals), frames in the descriptor
 * ring not yet handed to the driver, and the NAPI state of its interrupt vector.
 */
class HwQueue implements ArrivalView {
  readonly wire = new PacketFifo(256);
  readonly ring = new PacketFifo(256);
  /** The vector is unmasked: no NAPI poll is running for this queue. */
  irqEnabled = true;
  lastFireAt = -Infinity;
  /** The batch in the driver's hands: when it was issued (its identity; NaN when none) and its frames, whose descriptors stay taken. */
  batchAt = Number.NaN;
  inDriver = 0;
  /** Frames and bytes of this NAPI cycle's batches (ixgbe's `q_vector->rx.total_packets/bytes`), given to the policy when the poll completes. */
  cyclePackets = 0;
  cycleBytes = 0;
  /** Frames ever put on the wire, and ever taken off it (settled): positions in the wire's history. */
  pushed = 0;
  settled = 0;
  /** Where ring-full-storm frames sit in the wire's history: [first position, count, frame length] triples, oldest first. */
  readonly storms: number[] = [];
  readonly stats: NicQueueStats = { irqs: 0, polls: 0, dmaBatches: 0, dmaFrames: 0, dropsRingFull: 0 };
  constructor(readonly coalescer: Coalescer) {}

  get known(): number {
    return this.ring.length + this.wire.length;
  }
  arrivalAt(k: number): Nanos {
    const r = this.ring.length;
    return k < r ? this.ring.atAt(k) : this.wire.atAt(k - r);
  }
}

export class NicActor implements Actor {
  readonly id: string;
  private readonly source: TrafficSource;
  private readonly hw: HwQueue[] = [];
  private timerGen = 0;
  private timerAt = Infinity;
  /** Frames that have reached the NIC (settled arrivals). */
  emitted = 0;
  emittedBytes = 0;
  /** Every frame arriving up to this time has been generated. */
  private generatedTo: Nanos = -Infinity;
  /** A link-flap fault holds the link down: frames arriving now are lost on the wire (`link-down`). */
  private linkDown = false;
  dropsLinkDown = 0;
  /** Frames a ring-full-storm fault put on the wire, and their bytes. */
  injected = 0;
  injectedBytes = 0;
  /** Frames the far ends of closed-loop flows put on the wire, and their bytes (farArrived tells which have arrived). */
  private farSent = 0;
  private farSentBytes = 0;
  /** Storm frames among `emitted` (arrived), and their bytes: the rest of `emitted` came from the traffic source. */
  stormArrived = 0;
  stormArrivedBytes = 0;

  /** Where this actor's packet batches come from and go back to. */
  private readonly pool: BatchPool;
  /** The transmit side (null: none). */
  private readonly tx: NicTx | null;
  /** The far ends of the closed-loop flows (null: none). */
  private far: ClosedLoopEnds | null;
  /** What this NIC took over from its dead incarnation (inherit), for reconnect to put in place; null: nothing. */
  private inherited: FarHandover | null = null;
  /** When the far hosts' link is free: their frames are serialized one after another at line rate. */
  private farWireFree: Nanos = 0;
  /** Segments the guests sent, on their way to the far ends: flow, leave time (`at`) and TCP fields, in leave order. */
  private readonly toFar = new PacketFifo(16);

  constructor(private readonly cfg: NicConfig) {
    this.id = cfg.id;
    this.pool = cfg.pool ?? new BatchPool();
    const fabric = cfg.fabric;
    const toSwitch =
      fabric === undefined ? {} : { fabric: { flows: fabric.flows, delay: fabric.delay, send: this.uplink.bind(this), void: this.voidUplinks.bind(this) } };
    this.tx = cfg.tx ? new NicTx({ ...cfg.tx, backend: cfg.backend, linkGbps: cfg.linkGbps, policy: cfg.policy, ...toSwitch }, this.pool) : null;
    doubleFields(this, ['emittedBytes', 'fabricInBytes']); // passes 2^30 within a second at 10 Gbit/s
    this.source = new TrafficSource(cfg.generators, cfg.flowCount, cfg.linkGbps, cfg.seed);
    const flows = cfg.closedLoop ?? [];
    this.far = flows.length === 0 ? null : new ClosedLoopEnds(flows, 'far', FAR_TCP_TAG_BASE, 1, (f, len, h, at) => this.farSend(f, len, h, at));
    if (this.far !== null && this.tx !== null) this.tx.onLeave = (flow, tcp, i, leave, fx) => this.toFarEnd(flow, tcp, i, leave, fx);
    for (let q = 0; q < cfg.queues; q++) this.hw.push(new HwQueue(cfg.moderation?.(q) ?? createCoalescer(cfg.policy)));
  }

  queueStats(): readonly NicQueueStats[] {
    return this.hw.map((h) => h.stats);
  }

  /** Frames that arrived from the switch, and their bytes. */
  fabricIn = 0;
  fabricInBytes = 0;

  /** Frame k of b leaves at `leave` on the cable to the switch: one message per frame, leaving then. */
  private uplink(b: PacketBatch, k: number, leave: Nanos, fx: Effects): void {
    const f = this.cfg.fabric as NicFabric;
    const one = this.pool.take(1);
    copyPacket(b, k, one, 0);
    one.emittedAt[0] = leave;
    one.count = 1;
    fx.send(f.switch, { kind: 'uplink', port: f.port, batch: one }, leave);
  }

  /** The frames of b, whose uplinks were sent ahead, never leave (NicTxFabric.void): the switch is told now, on the same cable. */
  private voidUplinks(b: PacketBatch, now: Nanos, fx: Effects): void {
    const f = this.cfg.fabric as NicFabric;
    fx.send(f.switch, { kind: 'uplink', port: f.port, batch: b, voided: true }, now);
  }

  /**
   * Frames from the switch: their last bit arrives now, and they join their RX queues' wire in arrival order
   * (among the frames generated ahead), to be taken into the rings as any frame from the wire is.
   */
  private downlink(b: PacketBatch, now: Nanos, fx: Effects): void {
    this.generate(now);
    for (let k = 0; k < b.count; k++) {
      const flow = b.flow[k] as number;
      const h = this.hw[this.cfg.flowQueue[flow] ?? 0] as HwQueue;
      const len = b.len[k] as number;
      h.wire.insertByTime(flow, this.source.claimSeq(flow), len, now, b.tcp, k);
      h.pushed++;
      this.fabricIn++;
      this.fabricInBytes += len;
    }
    this.pool.release(b);
    // settle looks at the wires every time, so the frames just added are taken even if this instant was settled before.
    this.settle(now);
    this.decide(now, fx);
  }

  /** Frames currently held in hardware rings (arrived, not yet handed to the driver; those in the driver's hands travel in messages). */
  /**
   * Lockstep's promises: the NIC sends a frame to the switch only while it takes a TX descriptor (txpost, which the
   * runtime bounds itself), at the time its last bit leaves; on its own, never.
   */
  earliestTransmit(): Nanos {
    return Infinity;
  }

  heldPackets(): number {
    let n = 0;
    for (const h of this.hw) n += h.ring.length;
    return n;
  }

  /** Frames dropped because a hardware ring was full. */
  drops(): number {
    let n = 0;
    for (const h of this.hw) n += h.stats.dropsRingFull;
    return n;
  }

  start(now: Nanos, fx: Effects): void {
    this.far?.start(now, fx);
    this.wake(now, fx);
  }

  /**
   * A restarted NIC resumes at `now`. The traffic on the wire does not depend on the NIC: it is
   * deterministic from the seed, so the frames that arrived before `now` — while the dead NIC ran
   * and while it was down — are replayed from the traffic source and counted as emitted without
   * entering a ring. `emitted` is thereby exact, and each flow's sequence numbers go on from where
   * the wire is (the sink sees no reordering). Where those frames went (forwarded by the dead
   * incarnation, held in its rings, or lost on a dead NIC) is for the controller's bus accounting.
   */
  reconnect(now: Nanos, fx: Effects): void {
    const src = this.source;
    const before = this.emitted;
    while (src.peek() <= now) {
      src.take();
      this.emitted++;
      this.emittedBytes += src.len;
    }
    fx.event('nic-resumed', { replayedFrames: this.emitted - before });
    this.takeOverFarEnds(now, fx);
    this.wake(now, fx);
  }

  /**
   * The supervisor restarts this NIC in place of `dead`, which died at `diedAt`: it takes over the far hosts'
   * closed-loop ends, which are not the driver domain's (a remote host does not reboot when ours does), with
   * what of theirs is on its way — their frames still on the far hosts' link and the wire (those that arrive
   * before the restart meet a dead NIC), and the guests' segments that had left on the wire before the death
   * (those posted and not yet gone died with the TX queues). Each flow's sequence numbers go on. A modelling
   * device (docs/model.md §12 "Restarts"): the far hosts live in the NIC actor for convenience.
   */
  inherit(dead: Actor, diedAt: Nanos): void {
    if (!(dead instanceof NicActor)) return;
    this.continueFabricSeqs(dead);
    if (dead.far === null || this.far === null) return;
    const far = dead.far;
    dead.far = null; // its ghost reports them no more: they are this incarnation's
    const frames: FarFrame[] = [];
    for (const h of dead.hw) {
      const w = h.wire;
      for (let k = 0; k < w.length; k++) {
        const header = w.tcpAt(k);
        const flow = w.flowAt(k);
        if (header !== undefined && far.has(flow)) frames.push({ flow, seq: w.seqAt(k), len: w.lenAt(k), at: w.atAt(k), header });
      }
    }
    for (const flow of far.outFlows()) this.source.continueSeq(flow, dead.source);
    this.farWireFree = dead.farWireFree;
    this.inherited = { far, frames, toFar: dead.toFar, diedAt };
  }

  /**
   * The frames from the switch are numbered as they reach the NIC (downlink), a modelling device for the receiving
   * guest's order check: they come from another host, not from this NIC, so a restarted NIC numbers each crossing
   * flow's next frames on from the dead one's (else its guests would count every frame up to the old number as reordered).
   */
  private continueFabricSeqs(dead: NicActor): void {
    const flows = this.cfg.fabric?.flows;
    if (flows === undefined) return;
    for (let flow = 0; flow < flows.length; flow++) if (flows[flow] === 1) this.source.continueSeq(flow, dead.source);
  }

  /** Reconnect's part for the far ends taken over (inherit): their frames, the guests' segments, their timers. */
  private takeOverFarEnds(now: Nanos, fx: Effects): void {
    const inh = this.inherited;
    if (inh === null) return;
    this.inherited = null;
    this.far = inh.far;
    for (const f of inh.frames) {
      // Far frames of this incarnation's now (farArrived): those that arrived while it was down, and the rest as they arrive.
      this.farSent++;
      this.farSentBytes += f.len;
      if (f.at <= now) {
        // It reached the NIC while it was down: emitted, and lost there (the controller counts it lost-in-crash).
        this.emitted++;
        this.emittedBytes += f.len;
        continue;
      }
      const h = this.hw[this.cfg.flowQueue[f.flow] ?? 0] as HwQueue;
      h.wire.insertHeaderByTime(f.flow, f.seq, f.len, f.at, f.header);
      h.pushed++;
    }
    const src = inh.toFar;
    for (let k = 0; k < src.length; k++) if (src.atAt(k) <= inh.diedAt) this.toFar.pushFrom(src, k);
    if (this.toFar.length > 0) fx.timer(now, FAR_TCP_ARRIVAL_TAG);
    inh.far.handTo((flow, len, h, at) => this.farSend(flow, len, h, at), now, fx);
    fx.event('far-ends-taken-over', { flows: inh.far.size, framesOnTheirWay: inh.frames.length });
  }

  /**
   * Live: this NIC's process died and was restarted (after `reconnect`, which replayed the wire's open-loop frames).
   * The far hosts' TCP ends lived in the dead process, and no `inherit` hands them over: the new ones find their
   * connections gone (ClosedLoopEnds.lostWithProcess) — the guests' ends get an RST or a SYN and the connections open
   * again [a live-only difference: sim and lockstep hand the ends over whole]. docs/faults.md#the-transmit-path-a-guest-that-sends.
   */
  rejoined(now: Nanos, fx: Effects): void {
    if (this.far === null) return;
    this.far.lostWithProcess(now, fx);
    fx.event('far-ends-lost', { flows: this.far.size });
    this.decide(now, fx);
  }

  /**
   * The far ends' frames that have arrived at `t` (settled: each counted in `emitted` then), and their bytes: those put
   * on the wire less those still on it. Live carries them over a restart (the successor replays only the open-loop
   * frames: live/src/incarnations.ts).
   */
  private farArrived(): { readonly frames: number; readonly bytes: number } {
    let frames = this.farSent;
    let bytes = this.farSentBytes;
    const far = this.far;
    if (far === null) return { frames, bytes };
    for (const h of this.hw) {
      const w = h.wire;
      const tcp = w.tcpColumns;
      if (tcp === undefined) continue; // no frame on this wire ever carried a segment
      for (let k = 0; k < w.length; k++) {
        if (((tcp.flags[w.tcpIndex(k)] as number) & TCP_HAS_SEGMENT) !== 0 && far.has(w.flowAt(k))) {
          frames--;
          bytes -= w.lenAt(k);
        }
      }
    }
    return { frames, bytes };
  }

  /**
   * The driver domain dies: the frames guests sent that its TX queues hold (NicTx.crashRelease); those bound for the
   * switch never leave, so their uplinks, sent ahead, are void (told to the switch at once on the cable, as at a link-flap).
   */
  crashRelease(now: Nanos, fx: Effects): readonly PacketBatch[] {
    return this.tx === null ? [] : this.tx.crashRelease(now, fx);
  }

  /** Frames that left toward the switch and are still on the cable at t (a dead incarnation's too: they left before it died). */
  cableAt(t: Nanos): number {
    return this.tx === null ? 0 : this.tx.fabricReport(t).onLink;
  }

  report(t: Nanos, final = false): NicReport {
    this.settle(t);
    let irqs = 0;
    for (const h of this.hw) irqs += h.stats.irqs;
    // The optional fields are added after, in this order: an object literal with spreads is built field by field.
    const r: { -readonly [K in keyof NicReport]: NicReport[K] } = {
      role: 'nic',
      id: this.id,
      t,
      emitted: this.emitted,
      emittedBytes: this.emittedBytes,
      physicalIrqs: irqs,
      dropsNicRingFull: this.drops(),
      held: this.heldPackets(),
      dropsLinkDown: this.dropsLinkDown,
      injected: this.injected,
      injectedBytes: this.injectedBytes,
      queueIrqs: this.hw.map((h) => h.stats.irqs),
    };
    if (this.tx) r.tx = this.tx.report(t);
    if (this.far) {
      r.closedLoop = this.far.report(t, final);
      const a = this.farArrived();
      r.farArrived = a.frames;
      r.farArrivedBytes = a.bytes;
    }
    if (this.cfg.fabric !== undefined) {
      r.fabric = { out: 0, outBytes: 0, onLink: 0, ...this.tx?.fabricReport(t), in: this.fabricIn, inBytes: this.fabricInBytes };
    }
    return r;
  }

  /**
   * The driver finished the batch issued at `msg.issuedAt` (`ixgbe_poll` after `ixgbe_clean_rx_irq`):
   * its descriptors come back. A batch that used the whole budget keeps NAPI scheduled and the next
   * batch goes at once; a shorter one completes the poll (`napi_complete_done`), which reports the
   * cycle to the moderation policy (`ixgbe_set_itr`) and unmasks the vector
   * (`ixgbe_irq_enable_queues`). A poll for any other batch — a duplicate, or one sent to the NIC's
   * previous incarnation — changes nothing.
   */
  receive(msg: Message, now: Nanos, fx: Effects): void {
    if (msg.kind === 'downlink') {
      this.downlink(msg.batch, now, fx);
      return;
    }
    if (msg.kind === 'txpost') {
      if (this.tx) this.tx.post(msg.nicQueue, msg.batch, now, fx);
      else this.pool.release(msg.batch);
      return;
    }
    if (msg.kind !== 'poll') return;
    const q = msg.nicQueue;
    const h = this.hw[q];
    if (!h || h.batchAt !== msg.issuedAt) return;
    this.generate(now);
    // Frames that arrived up to now found those descriptors still taken.
    this.settle(now);
    const full = h.inDriver >= this.cfg.budget;
    h.inDriver = 0;
    h.batchAt = Number.NaN;
    if (full && this.dma(h, q, now, false, fx) > 0) h.stats.polls++;
    // [assumption] A poll that would find the ring empty completes at once, at no cost of its own.
    else this.completeNapi(h, now);
    this.decide(now, fx);
  }

  /** napi_complete_done: the policy sees the cycle's frames and bytes, and the queue's interrupt is unmasked. */
  private completeNapi(h: HwQueue, now: Nanos): void {
    h.coalescer.onFire(now, h.cyclePackets, h.cycleBytes);
    h.cyclePackets = 0;
    h.cycleBytes = 0;
    h.irqEnabled = true;
  }

  /** link-flap: the link goes down (and back up); ring-full-storm: a burst of frames for the target queue's flows. */
  fault(cmd: FaultCommand, now: Nanos, fx: Effects): void {
    // Arrivals up to now happened with the link as it was.
    this.generate(now);
    this.settle(now);
    if (cmd.action === 'link-flap') {
      this.linkDown = cmd.phase === 'start';
      fx.event(this.linkDown ? 'nic-link-down' : 'nic-link-up', {});
      if (this.tx !== null) {
        this.tx.setLink(!this.linkDown, now, fx);
        // The guests' segments flushed with the TX queues never reach their far ends (which were told at post).
        if (this.linkDown) this.dropUnsentSegments(now);
      }
    } else if (cmd.action === 'ring-full-storm' && cmd.phase === 'start') {
      const flows = cmd.flows ?? [];
      const n = flows.length === 0 ? 0 : (cmd.params.packets ?? 0);
      const len = cmd.params.size ?? 1518;
      for (let k = 0; k < n; k++) {
        const flow = flows[k % flows.length] as number;
        const h = this.hw[this.cfg.flowQueue[flow] ?? 0] as HwQueue;
        // Behind the frames already on this queue's wire, so per-queue arrival order stays sorted.
        const tail = h.wire.length > 0 ? h.wire.atAt(h.wire.length - 1) : now;
        h.wire.push(flow, this.source.claimSeq(flow), len, tail > now ? tail : now);
        const s = h.storms;
        const last = s.length - 3;
        if (last >= 0 && (s[last] as number) + (s[last + 1] as number) === h.pushed && s[last + 2] === len) s[last + 1] = (s[last + 1] as number) + 1;
        else s.push(h.pushed, 1, len);
        h.pushed++;
      }
      this.injected += n;
      this.injectedBytes += n * len;
      fx.event('nic-burst', { packets: n, size: len, flows: flows.length });
    }
    this.settle(now);
    this.decide(now, fx);
  }

  timer(tag: number, now: Nanos, fx: Effects): void {
    if (this.far !== null && (tag === FAR_TCP_ARRIVAL_TAG || this.far.ownsTag(tag))) {
      // Frames that arrived up to now did so before the far ends' new ones join the wire behind them.
      this.generate(now);
      this.settle(now);
      if (tag === FAR_TCP_ARRIVAL_TAG) this.arriveAtFar(now, fx);
      else this.far.timer(tag, now, fx);
      this.decide(now, fx);
      return;
    }
    if (isTxTimer(tag)) {
      this.tx?.timer(tag, now, fx);
      return;
    }
    if (tag !== this.timerGen) return; // superseded
    this.timerAt = Infinity;
    this.wake(now, fx);
  }

  /**
   * A far end sends a frame at `at`: it crosses the far hosts' link at line rate and joins the wire of its RX
   * queue in arrival order, among open-loop frames generated ahead [assumption: the far hosts' frames share one
   * link of their own, which open-loop traffic does not serialize with: together they may exceed the line rate].
   */
  private farSend(flow: number, len: number, header: TcpHeader, at: Nanos): void {
    const h = this.hw[this.cfg.flowQueue[flow] ?? 0] as HwQueue;
    const start = at > this.farWireFree ? at : this.farWireFree;
    const arrive = start + wireTimeNs(len, this.cfg.linkGbps);
    this.farWireFree = arrive;
    this.farSent++;
    this.farSentBytes += len;
    h.wire.insertHeaderByTime(flow, this.source.claimSeq(flow), len, arrive, header);
    h.pushed++;
  }

  /** A guest's segment left on the wire at `leave`: its far end gets it then (no propagation delay). */
  private toFarEnd(flow: number, tcp: TcpColumns, i: number, leave: Nanos, fx: Effects): void {
    if (this.far === null || !this.far.has(flow)) return;
    this.toFar.pushWithTcp(flow, 0, 0, leave, tcp, i);
    if (this.toFar.length === 1) fx.timer(leave, FAR_TCP_ARRIVAL_TAG);
  }

  /** The segments on their way to the far ends that had not left by `now` (the link went down) are lost. */
  private dropUnsentSegments(now: Nanos): void {
    const q = this.toFar;
    let keep = q.length;
    while (keep > 0 && q.atAt(keep - 1) > now) keep--;
    q.truncate(keep);
  }

  private arriveAtFar(now: Nanos, fx: Effects): void {
    const q = this.toFar;
    const cols = q.tcpColumns;
    let n = 0;
    while (n < q.length && q.atAt(n) <= now) {
      if (cols !== undefined) this.far?.onSegmentAt(q.flowAt(n), cols, q.tcpIndex(n), now, fx);
      n++;
    }
    q.discard(n);
    if (q.length > 0 && n > 0) fx.timer(q.atAt(0), FAR_TCP_ARRIVAL_TAG);
  }

  /**
   * Bring arrivals up to `now` (counts emitted frames and ring-full drops exactly). The wires are looked at every
   * time, with no "settled up to" mark to skip them: a live host samples on the wall clock, so a report may settle
   * past the host's `now`, and a far end's frame sent after that, at the host's `now`, can arrive before that point;
   * it is settled once `now` reaches its arrival (with a mark the NIC would wait for a `now` past the report's time,
   * re-arming its timer a nanosecond at a time). In sim a report comes only after every earlier event, so nothing
   * ever arrives before a report's time and this changes nothing.
   */
  settle(now: Nanos): void {
    const ringSize = this.cfg.ringSize;
    const tap = this.cfg.tap;
    for (const h of this.hw) {
      const w = h.wire;
      const n = w.arrivedBy(now);
      if (n === 0) continue;
      if (tap === undefined && !this.linkDown) {
        // No capture and the link up: the first frames fill the ring's free descriptors, the rest meet it full
        // (descriptors come back only at a poll), so the frames move in one copy and the drops are counted at once.
        this.emitted += n;
        this.emittedBytes += w.arrivedBytes;
        const room = ringSize - h.ring.length - h.inDriver;
        const taken = room <= 0 ? 0 : room < n ? room : n;
        h.ring.pushOldest(w, taken);
        h.stats.dropsRingFull += n - taken;
      } else this.settleEach(h, n);
      w.discard(n);
      if (h.storms.length > 0) this.countStormArrivals(h, n);
      h.settled += n;
    }
  }

  /** Settle the n frames at the head of queue h's wire one by one: for the capture, or with the link down. */
  private settleEach(h: HwQueue, n: number): void {
    const ringSize = this.cfg.ringSize;
    const tap = this.cfg.tap;
    const w = h.wire;
    for (let k = 0; k < n; k++) {
      const len = w.lenAt(k);
      if (tap !== undefined)
        tap.nicArrival(
          w.atAt(k),
          w.flowAt(k),
          w.seqAt(k),
          len,
          this.linkDown ? 'link-down' : h.ring.length + h.inDriver >= ringSize ? 'nic-ring-full' : null,
          w.tcpAt(k),
        );
      this.emitted++;
      this.emittedBytes += len;
      if (this.linkDown) {
        this.dropsLinkDown++;
      } else if (h.ring.length + h.inDriver >= ringSize) {
        // Descriptors come back only at a poll, which settles first, so these frames met a full ring.
        h.stats.dropsRingFull++;
      } else {
        h.ring.pushFrom(w, k);
      }
    }
  }

  /** Of the n frames just settled on queue h, count those a storm put on the wire. */
  private countStormArrivals(h: HwQueue, n: number): void {
    const s = h.storms;
    const from = h.settled;
    const to = from + n;
    while (s.length > 0 && (s[0] as number) < to) {
      const start = s[0] as number;
      const end = start + (s[1] as number);
      const k = Math.min(end, to) - Math.max(start, from);
      this.stormArrived += k;
      this.stormArrivedBytes += k * (s[2] as number);
      if (end <= to) s.splice(0, 3);
      else {
        s[1] = end - to;
        s[0] = to;
        break;
      }
    }
  }

  private wake(now: Nanos, fx: Effects): void {
    this.generate(now);
    this.settle(now);
    this.decide(now, fx);
  }

  /** Pull frames from the traffic source into the queues' wire FIFOs up to now + lookahead. */
  private generate(now: Nanos): void {
    const src = this.source;
    const horizon = now + this.cfg.lookahead;
    if (horizon > this.generatedTo) this.generatedTo = horizon;
    const fq = this.cfg.flowQueue;
    while (src.peek() <= horizon) {
      src.take();
      const q = fq[src.flow] ?? 0;
      const h = this.hw[q] as HwQueue;
      h.wire.push(src.flow, src.seq, src.len, src.at);
      h.pushed++;
    }
  }

  /** Raise due interrupts and schedule the next wake-up. */
  private decide(now: Nanos, fx: Effects): void {
    let next = Infinity;
    const hw = this.hw;
    const ringSize = this.cfg.ringSize;
    for (let q = 0; q < hw.length; q++) {
      const h = hw[q] as HwQueue;
      // A masked queue waits for its poll to complete: nothing to schedule for it.
      if (!h.irqEnabled || h.known === 0) continue;
      const t = h.coalescer.fireAt(h, h.lastFireAt, ringSize - h.ring.length - h.inDriver);
      if (t <= now && h.ring.length > 0) {
        // The vector masks itself as it fires (ixgbe's EIAM auto-clear); the handler
        // (ixgbe_msix_clean_rings) only schedules NAPI, whose first poll takes this batch.
        h.stats.irqs++;
        h.lastFireAt = now;
        h.irqEnabled = false;
        this.dma(h, q, now, true, fx);
      } else if (t < next) {
        next = t > now ? t : now + 1;
      }
    }
    // Extend the lookahead when it runs out (or just before the next frame enters it, after a
    // gap): every frame is generated at least one lookahead before it arrives, never frame by frame.
    const p = this.source.peek();
    if (p !== Infinity) {
      const horizon = this.generatedTo;
      const regen = p - this.cfg.lookahead > horizon ? p - this.cfg.lookahead : horizon;
      if (regen < next) next = regen > now ? regen : now + 1;
    }
    if (next !== Infinity && next < this.timerAt) {
      this.timerGen++;
      this.timerAt = next;
      fx.timer(next, this.timerGen);
    }
  }

  /** Hand up to `budget` arrived frames to the driver as one batch (their descriptors stay taken); returns how many. */
  private dma(h: HwQueue, q: number, now: Nanos, irq: boolean, fx: Effects): number {
    const n = Math.min(h.ring.length, this.cfg.budget);
    if (n === 0) return 0;
    const batch = h.ring.shiftBatch(n, this.pool);
    const bytes = h.ring.shiftedBytes;
    h.batchAt = now;
    h.inDriver = n;
    h.cyclePackets += n;
    h.cycleBytes += bytes;
    h.stats.dmaBatches++;
    h.stats.dmaFrames += n;
    fx.send(this.cfg.backend, { kind: 'dma', nicQueue: q, irq, issuedAt: now, batch }, now);
    return n;
  }
}
