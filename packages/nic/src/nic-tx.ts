// The physical NIC's transmit side: TX queues of descriptors, DMA, the wire at line rate, TX-completion interrupts under moderation.
import { copyPacket, createCoalescer, doubleFields, InTransit, PacketFifo, TCP_HAS_SEGMENT, wireTimeNs } from '@splitnet/model';
import type {
  ActorRef,
  ArrivalView,
  BatchPool,
  Coalescer,
  Effects,
  Nanos,
  NicFabricReport,
  PacketBatch,
  PolicySpec,
  TcpColumns,
  TxReport,
} from '@splitnet/model';

export interface NicTxConfig {
  readonly queues: number;
  /** TX descriptors per queue (ixgbe's default 512, like the RX ring; `ethtool -G` sets both). */
  readonly ringSize: number;
  /**
   * Frames the stack queues in front of a TX queue whose descriptors are all taken (the physical device's qdisc:
   * pfifo_fast's tx_queue_len, 1000 for Ethernet); a frame beyond both is dropped (`nic-tx-queue-full`).
   */
  readonly queueLen: number;
  readonly linkGbps: number;
  /** From the tail write to the frame's first bit on the wire: the descriptor and data DMA reads. */
  readonly dma: Nanos;
  /** TX-completion interrupt moderation: the NIC's policy, one instance per TX queue (as on RX). */
  readonly policy: PolicySpec;
  /** The driver that cleans completed descriptors. */
  readonly backend: ActorRef;
  /** The host's link to a switch (a multi-host scenario): which flows' frames go there, and the cable's propagation delay. */
  readonly fabric?: NicTxFabric;
}

/** Where the frames of some flows go when they leave: to the switch port at the other end of the host's cable. */
export interface NicTxFabric {
  /** Per flow: 1 when its frames go to the switch (a guest on another host receives them). */
  readonly flows: Uint8Array;
  /** The cable's propagation delay (the runtime's delay on the NIC → switch link). */
  readonly delay: Nanos;
  /** Sends frame k of batch b, whose last bit leaves at `leave`, to the switch (in a message that leaves then). */
  readonly send: (b: PacketBatch, k: number, leave: Nanos, fx: Effects) => void;
  /** Tells the switch now that the frames of `b` (each with its leave time), sent ahead by `send`, never leave. */
  readonly void: (b: PacketBatch, now: Nanos, fx: Effects) => void;
}

/** Frames of one TX queue: posted and not yet gone (`queued`), gone and not yet cleaned by the driver (`gone`). */
class TxQueue implements ArrivalView {
  /** Each frame's `at` is when its last bit leaves (known when it is posted: the wire is a FIFO). */
  readonly queued = new PacketFifo(64);
  readonly gone = new PacketFifo(64);
  lastFireAt = -Infinity;
  irqs = 0;
  constructor(readonly coalescer: Coalescer) {}
  get known(): number {
    return this.gone.length + this.queued.length;
  }
  arrivalAt(k: number): Nanos {
    const g = this.gone.length;
    return k < g ? this.gone.atAt(k) : this.queued.atAt(k - g);
  }
}

/** Tags of TX timers are negative (the RX side's are not): −1 − generation. */
export function isTxTimer(tag: number): boolean {
  return tag < 0;
}

export class NicTx {
  private readonly qs: TxQueue[] = [];
  /** When the wire is free for the next frame: all TX queues share one MAC, which sends a frame at a time. */
  private wireFreeAt: Nanos = 0;
  private timerGen = 0;
  private timerAt = Infinity;
  onWire = 0;
  onWireBytes = 0;
  dropsQueueFull = 0;
  /** The link is down (a link-flap fault): no frame leaves; frames posted meanwhile are dropped (`link-down`). */
  private linkDown = false;
  /** Frames lost to a link that went down: flushed from the TX queues as it went, or posted while it was down. */
  dropsLinkDown = 0;
  /** Frames posted and not yet gone when the driver domain died (see crashRelease). */
  dropsLostInCrash = 0;
  /** Sum over the frames on the wire of (last bit on the wire − the application's send), ns. */
  latencySum = 0;
  /**
   * Told of every frame carrying a TCP segment as it is posted, with the time its last bit will leave (the far end's
   * arrival): its header is entry `i` of `tcp` (valid during the call only).
   */
  onLeave: ((flow: number, tcp: TcpColumns, i: number, leave: Nanos, fx: Effects) => void) | null = null;
  /** Frames that left toward the switch, their bytes, and those still on the cable. */
  fabricOut = 0;
  fabricOutBytes = 0;
  private readonly onCable = new InTransit();
  /** Each frame's application send time, kept beside its leave time (the FIFO's `at` holds the latter). */
  private readonly sentAt: PacketFifo[] = [];

  constructor(
    private readonly cfg: NicTxConfig,
    private readonly pool: BatchPool,
  ) {
    doubleFields(this, ['onWireBytes', 'latencySum', 'fabricOutBytes']);
    for (let q = 0; q < cfg.queues; q++) {
      this.qs.push(new TxQueue(createCoalescer(cfg.policy)));
      this.sentAt.push(new PacketFifo(64));
    }
  }

  /** Frames posted and not yet on the wire. */
  held(): number {
    let n = 0;
    for (const q of this.qs) n += q.queued.length;
    return n;
  }

  report(t: Nanos): TxReport {
    this.settle(t);
    let irqs = 0;
    for (const q of this.qs) irqs += q.irqs;
    return {
      onWire: this.onWire,
      onWireBytes: this.onWireBytes,
      held: this.held(),
      drops: {
        'nic-tx-queue-full': this.dropsQueueFull,
        'link-down': this.dropsLinkDown,
        ...(this.dropsLostInCrash > 0 ? { 'lost-in-crash': this.dropsLostInCrash } : {}),
      },
      irqs,
      latencySum: this.latencySum,
    };
  }

  /**
   * The driver domain dies at `now` (Actor.crashRelease): the frames posted and not yet gone are lost
   * (`lost-in-crash`), and with those gone and not yet cleaned their skbs are freed, whose zero-copy callbacks
   * the runtime runs (the sender's netback gets its slots back). Returns their batches, the caller's to release.
   * Those posted toward the switch never leave: their uplinks, sent as they were posted, are void (`fx`: the dying
   * NIC's effects, as setLink's flush does).
   */
  crashRelease(now: Nanos, fx: Effects): PacketBatch[] {
    this.settle(now);
    const out: PacketBatch[] = [];
    this.qs.forEach((q, i) => {
      if (q.gone.length > 0) out.push(q.gone.shiftBatch(q.gone.length, this.pool));
      const n = q.queued.length;
      if (n === 0) return;
      this.dropsLostInCrash += n;
      (this.sentAt[i] as PacketFifo).discard(n);
      const lost = q.queued.shiftBatch(n, this.pool);
      this.voidFabric(lost, now, fx);
      out.push(lost);
    });
    return out;
  }

  /** The switch side's counters at t (after report(t) settled the frames that left by then); `in` is the receive side's. */
  fabricReport(t: Nanos): Pick<NicFabricReport, 'out' | 'outBytes' | 'onLink'> {
    return { out: this.fabricOut, outBytes: this.fabricOutBytes, onLink: this.onCable.at(t) };
  }

  /**
   * The driver posts frames on TX queue `nicQueue` (ixgbe_xmit_frame, then the tail write). Each takes a
   * descriptor; with every descriptor taken the frame waits in the device's qdisc, beyond that it is dropped.
   * Its leave time follows at once: DMA, then the wire after every frame posted before it on any queue.
   */
  post(nicQueue: number, b: PacketBatch, now: Nanos, fx: Effects): void {
    this.settle(now);
    if (this.linkDown) {
      // With the carrier off the stack's qdisc is the noop one (dev_deactivate): the frames are freed at once,
      // and their zero-copy callbacks give the sender's slots back (the driver's clean-up, as for a completion).
      this.dropsLinkDown += b.count;
      fx.send(this.cfg.backend, { kind: 'txdone', nicQueue, batch: b }, now);
      return;
    }
    const q = this.qs[nicQueue] ?? (this.qs[0] as TxQueue);
    const sentAt = this.sentAt[nicQueue] ?? (this.sentAt[0] as PacketFifo);
    const cfg = this.cfg;
    for (let k = 0; k < b.count; k++) {
      if (q.queued.length >= cfg.ringSize + cfg.queueLen) {
        this.dropsQueueFull++;
        continue;
      }
      const len = b.len[k] as number;
      const ready = now + cfg.dma;
      const start = ready > this.wireFreeAt ? ready : this.wireFreeAt;
      const leave = start + wireTimeNs(len, cfg.linkGbps);
      this.wireFreeAt = leave;
      q.queued.pushWithTcp(b.flow[k] as number, b.seq[k] as number, len, leave, b.tcp, k);
      sentAt.push(b.flow[k] as number, b.seq[k] as number, len, b.emittedAt[k] as number);
      if (cfg.fabric !== undefined && cfg.fabric.flows[b.flow[k] as number] === 1) cfg.fabric.send(b, k, leave, fx);
      const tcp = b.tcp;
      if (this.onLeave !== null && tcp !== undefined && ((tcp.flags[k] as number) & TCP_HAS_SEGMENT) !== 0)
        this.onLeave(b.flow[k] as number, tcp, k, leave, fx);
    }
    this.pool.release(b);
    this.decide(now, fx);
  }

  /**
   * The link goes down (`up` false) or comes back. Going down, every frame posted and not yet gone — the one on
   * the wire included — is flushed and dropped (`link-down`): ixgbe's watchdog finds TX work pending with the
   * carrier off and resets the controller (`ixgbe_watchdog_flush_tx`), whose `ixgbe_clean_tx_ring` frees those
   * skbs, and `dev_deactivate` resets the qdisc in front [assumption: at the instant the link goes down; the
   * watchdog runs every 2 s]. The freed frames go to the driver as a completion does, so the zero-copy callbacks
   * return their slots.
   */
  setLink(up: boolean, now: Nanos, fx: Effects): void {
    this.settle(now);
    this.linkDown = !up;
    if (up) return;
    this.qs.forEach((q, i) => {
      const n = q.queued.length;
      if (n === 0) return;
      this.dropsLinkDown += n;
      (this.sentAt[i] as PacketFifo).discard(n);
      const flushed = q.queued.shiftBatch(n, this.pool);
      this.voidFabric(flushed, now, fx);
      fx.send(this.cfg.backend, { kind: 'txdone', nicQueue: i, batch: flushed }, now);
    });
    // Nothing is on the wire any more: a frame posted after the link is back starts at once.
    if (this.wireFreeAt > now) this.wireFreeAt = now;
    this.decide(now, fx);
  }

  /** Flushed frames toward the switch (`b`: their leave times in emittedAt) never leave: their uplinks, sent as they were posted, are void. */
  private voidFabric(b: PacketBatch, now: Nanos, fx: Effects): void {
    const fabric = this.cfg.fabric;
    if (fabric === undefined) return;
    let n = 0;
    for (let k = 0; k < b.count; k++) if (fabric.flows[b.flow[k] as number] === 1) n++;
    if (n === 0) return;
    const out = this.pool.take(n);
    let j = 0;
    for (let k = 0; k < b.count; k++) if (fabric.flows[b.flow[k] as number] === 1) copyPacket(b, k, out, j++);
    out.count = n;
    fabric.void(out, now, fx);
  }

  timer(tag: number, now: Nanos, fx: Effects): void {
    if (tag !== -1 - this.timerGen) return; // superseded
    this.timerAt = Infinity;
    this.settle(now);
    this.decide(now, fx);
  }

  /** Frames whose last bit has left by `now` are on the wire; their descriptors wait for the driver's clean-up. */
  private settle(now: Nanos): void {
    // Indexed loops, not forEach: a closure over `now` would be allocated on every call (every post and timer).
    for (let i = 0; i < this.qs.length; i++) {
      const q = this.qs[i] as TxQueue;
      const sentAt = this.sentAt[i] as PacketFifo;
      while (q.queued.length > 0 && q.queued.atAt(0) <= now) {
        const len = q.queued.lenAt(0);
        const leave = q.queued.atAt(0);
        q.gone.pushFrom(q.queued, 0);
        this.onWire++;
        this.onWireBytes += len;
        this.latencySum += leave - sentAt.atAt(0);
        const fabric = this.cfg.fabric;
        if (fabric !== undefined && fabric.flows[q.queued.flowAt(0)] === 1) {
          this.fabricOut++;
          this.fabricOutBytes += len;
          this.onCable.add(leave + fabric.delay);
        }
        q.queued.discard(1);
        sentAt.discard(1);
      }
    }
  }

  /**
   * Raise the TX-completion interrupts due now (the moderation policy sees the completions as RX sees arrivals)
   * and schedule the next look. An interrupt hands every cleaned-up descriptor's frame to the driver at once
   * [assumption: its TX clean-up takes them all; ixgbe's work limit is 256 per poll].
   */
  private decide(now: Nanos, fx: Effects): void {
    let next = Infinity;
    for (let i = 0; i < this.qs.length; i++) {
      const q = this.qs[i] as TxQueue;
      if (q.known === 0) continue;
      const t = q.coalescer.fireAt(q, q.lastFireAt, this.cfg.ringSize - q.queued.length);
      if (t <= now && q.gone.length > 0) {
        q.irqs++;
        q.lastFireAt = now;
        const n = q.gone.length;
        const bytes = q.gone.bytesOf(n);
        const batch = q.gone.shiftBatch(n, this.pool);
        q.coalescer.onFire(now, n, bytes);
        fx.send(this.cfg.backend, { kind: 'txdone', nicQueue: i, batch }, now);
        if (q.queued.length > 0) next = Math.min(next, Math.max(now + 1, q.queued.atAt(0)));
      } else {
        // Not yet: at the policy's time, or when the next frame has left.
        const first = q.gone.length > 0 ? now + 1 : q.queued.atAt(0);
        const at = t > now ? t : first > now ? first : now + 1;
        if (at < next) next = at;
      }
    }
    if (next !== Infinity && next < this.timerAt) {
      this.timerGen++;
      this.timerAt = next;
      fx.timer(next, -1 - this.timerGen);
    }
  }
}
