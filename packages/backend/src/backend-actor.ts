// The netback actor in the driver domain: NIC driver NAPI, bridge demux to VIFs and vRSS steering to workers.
import { BatchPool, copyPacket, Core, txSlots } from '@splitnet/model';
import type { CpuAccount, CpuSource, Job, MutableBatch, Vcpu } from '@splitnet/model';
import type { Actor, ActorRef, BackendReport, CoreBusy, CostProfile, Effects, Message, Nanos, PacketBatch } from '@splitnet/model';

/** Scheduled dom0 vCPUs: where each NIC queue's interrupt and NAPI poll run (instead of a dedicated core each). */
export interface BackendSched {
  /** Per NIC queue: its vCPU, its NAPI instance there, and the account its work is charged to (`dom0.nic<q>`). */
  readonly queues: readonly { readonly vcpu: Vcpu; readonly napi: CpuSource; readonly account: CpuAccount }[];
  /** Every dom0 vCPU: this actor reports their ksoftirqd switches (`dom0.ksoftirqd<i>`) and scheduler counters. */
  readonly vcpus: readonly Vcpu[];
}

/** A DMA batch whose driver work is on a scheduled vCPU: forwarded, and given back, when the work is done. */
interface PendingBatch {
  readonly job: Job;
  readonly vcpu: Vcpu;
  readonly batch: PacketBatch;
  readonly nicQueue: number;
  readonly issuedAt: Nanos;
}

/** A TX-completion batch whose clean-up is on a scheduled vCPU: its slots go back to netback's dealloc when it is done. */
interface PendingClean {
  readonly job: Job;
  readonly vcpu: Vcpu;
  readonly batch: PacketBatch;
}

/** Timer tag: look at the batches whose driver work may be done. */
const TAG_WORK = 1;

/**
 * A guest queue ("gq") is one RX queue of one VM's VIF. Flows are steered to a gq (bridge → VIF,
 * then vRSS → queue); every gq is served by exactly one worker, which keeps a flow's packets in order.
 */
export interface BackendConfig {
  readonly id: string;
  readonly nic: ActorRef;
  readonly nicQueues: number;
  readonly budget: number;
  readonly costs: CostProfile;
  /** Steering result per flow: its guest queue index. */
  readonly flowGq: Uint32Array;
  readonly gqWorker: readonly ActorRef[];
  readonly gqVm: readonly number[];
  readonly gqQueue: readonly number[];
  /** The batch pool this actor shares with the actors it passes batches to in memory (default: one of its own). */
  readonly pool?: BatchPool;
  /** Scheduled dom0 vCPUs (absent: a dedicated core per NIC queue, nothing scheduled). */
  readonly sched?: BackendSched;
  /** The transmit path, when a guest sends (absent: frames only come from the NIC). */
  readonly tx?: BackendTx;
}

/** Where the bridge sends a guest's frames, and where their completions go back. */
export interface BackendTx {
  /** Per flow: the physical NIC's TX queue the driver posts it on (the flow hash's queue, skb_tx_hash). */
  readonly flowNicQueue: Uint16Array;
  /** Per flow: the sending guest's TX queue (its netfront's xennet_select_queue). */
  readonly flowGuestQueue: Uint16Array;
  /** Per flow: the sending VM (−1: a flow from the wire). */
  readonly flowVm: Int32Array;
  /** Per flow: the guest on this host it goes to through the bridge (−1: out to the wire, or a flow from the wire). */
  readonly flowReceiver: Int32Array;
  /** Per VM, per queue: the worker running that vif queue's netback (its TX NAPI and dealloc). */
  readonly vifWorker: readonly (readonly ActorRef[])[];
}

export interface BackendStats {
  batches: number;
  packets: number;
  irqsHandled: number;
  /** TX-completion interrupts the driver handled. */
  txIrqsHandled: number;
  /** Batches that used the whole budget, so that the NAPI poll went on. */
  polls: number;
}

export class BackendActor implements Actor {
  readonly id: string;
  /** One driver-domain core per NIC queue (each hardware queue's interrupt is bound to its own core). */
  readonly cores: Core[] = [];
  readonly stats: BackendStats = { batches: 0, packets: 0, irqsHandled: 0, txIrqsHandled: 0, polls: 0 };
  private readonly counts: Uint32Array;
  /** forward's scratch: each frame's guest queue, from the counting loop to the scattering one (grown as needed). */
  private frameGq = new Int32Array(64);
  private readonly touched: number[] = [];
  private readonly parts: (MutableBatch | undefined)[] = [];
  /** split's scratch: each frame's key and part, and the parts' keys, sizes and batches (grown as needed, never shrunk). */
  private readonly splitKeys: number[] = [];
  private readonly partOf: number[] = [];
  private readonly partKeys: number[] = [];
  private readonly partCounts: number[] = [];
  private readonly partBatches: (MutableBatch | undefined)[] = [];

  /** Where this actor's packet batches come from and go back to. */
  private readonly pool: BatchPool;
  /** Frames (and bytes) the bridge forwarded from one guest's vif to another's (guest to guest). */
  private toGuests = 0;
  private toGuestsBytes = 0;
  /** Scheduled vCPUs: batches whose driver work is not done yet, in the order they came. */
  private pending: PendingBatch[] = [];
  /** Scheduled vCPUs: TX completions whose clean-up is not done yet, in the order they came. */
  private cleaning: PendingClean[] = [];
  private alarm: ((at: Nanos) => void) | null = null;
  /**
   * Per sending vif queue (vm · 65536 + queue): the frames and slots its netback's batches brought, and the slots
   * this bridge has freed to its dealloc (DeallocMessage.freed).
   */
  private readonly bridged = new Map<number, { frames: number; slots: number }>();
  private readonly freedTo = new Map<number, number>();
  /**
   * A restarted bridge (live: see rejoined), per sending vif queue whose netback has not yet said it counts from 0
   * again: the frames of its batches dropped meanwhile (sent to the driver domain that died).
   */
  private readonly awaiting = new Map<number, number>();

  constructor(private readonly cfg: BackendConfig) {
    this.id = cfg.id;
    this.pool = cfg.pool ?? new BatchPool();
    if (cfg.sched === undefined) for (let q = 0; q < cfg.nicQueues; q++) this.cores.push(new Core(`dom0.nic${q}`));
    this.counts = new Uint32Array(cfg.gqWorker.length);
  }

  /**
   * Lockstep's promises: the bridge forwards a guest's frames (xmit, which the runtime bounds itself) to the NIC;
   * on scheduled vCPUs a batch whose work is not done waits here (now; its direction is not looked at).
   */
  earliestTransmit(now: Nanos): Nanos {
    return this.pending.length > 0 ? now : Infinity;
  }

  heldPackets(): number {
    // Dedicated cores: work is forwarded at its finish time, so its packets are on the links. Scheduled vCPUs:
    // a batch stays here until its work is done (its descriptors are still taken in the NIC ring).
    let n = 0;
    for (const p of this.pending) n += p.batch.count;
    return n;
  }

  /**
   * The driver domain dies: TX completions whose clean-up was not done hold sent frames' skbs, freed with it (their
   * zero-copy callbacks the runtime runs, see Actor.crashRelease).
   */
  crashRelease(_now: Nanos): readonly PacketBatch[] {
    const out = this.cleaning.map((p) => p.batch);
    this.cleaning = [];
    return out;
  }

  /**
   * Live only: this driver domain's process died and was restarted. The skbs the dead one held (frames on the NIC's TX
   * queues, completions not cleaned, frames on their way to it) were freed with it, and in the model freeing them runs
   * their zero-copy callbacks as a driver's reset of the device does (sim's runtime runs them at the death:
   * crashRelease), but no dead process sends a dealloc. So the restarted bridge tells each vif queue's netback that
   * it holds none of its slots (a dealloc of none with `freed` 0: a new count), and netback answers those it handed
   * over whose dealloc never came (NetbackTx.bridgeRestarted). Until that netback says it counts from 0 again (an
   * `xmit` of none with sentSlots 0, after every batch it handed to the dead bridge), its batches are of frames sent
   * to the dead driver domain, whose slots it has answered: dropped (the run infers them lost-in-crash).
   */
  rejoined(now: Nanos, fx: Effects): void {
    const tx = this.cfg.tx;
    if (tx === undefined) return;
    tx.vifWorker.forEach((workers, vm) =>
      workers.forEach((worker, queue) => {
        this.awaiting.set(vm * 65536 + queue, 0);
        fx.send(worker, { kind: 'dealloc', vm, queue, frames: 0, slots: 0, freed: 0 }, now);
      }),
    );
    fx.event('bridge-restarted', { vifQueues: this.awaiting.size });
  }

  /** A restarted back end starts with no driver work queued on its vCPUs. */
  start(now: Nanos, _fx: Effects): void {
    for (const q of this.cfg.sched?.queues ?? []) q.vcpu.discard(q.napi, now);
  }

  report(t: Nanos): BackendReport {
    const busy: CoreBusy = {};
    for (const c of this.cores) busy[c.name] = c.busyThrough(t);
    const s = this.cfg.sched;
    const tx = this.cfg.tx === undefined ? {} : { tx: { held: 0, toGuests: this.toGuests, toGuestsBytes: this.toGuestsBytes } };
    if (s === undefined) return { role: 'backend', id: this.id, t, busy, held: 0, ...tx };
    // Frames of TX completions still being cleaned are on the wire already: the transmit accounting has them.
    for (const q of s.queues) busy[q.account.name] = q.account.busyThrough(t);
    const sched = { switches: 0, deferrals: 0, wakeups: 0 };
    for (const v of s.vcpus) {
      busy[v.ksoftirqd.account.name] = v.ksoftirqd.account.busyThrough(t);
      sched.switches += v.stats.switches;
      sched.deferrals += v.stats.deferrals;
      sched.wakeups += v.stats.wakeups;
    }
    return { role: 'backend', id: this.id, t, busy, held: this.heldPackets(), sched, ...tx };
  }

  timer(tag: number, now: Nanos, fx: Effects): void {
    if (tag !== TAG_WORK) return;
    // Batches finish in any order across NIC queues; each one is forwarded when its own work is done.
    const keep: PendingBatch[] = [];
    for (const p of this.pending) {
      if (!p.vcpu.check(p.job, now)) {
        keep.push(p);
        continue;
      }
      this.forward(p.batch, now, fx);
      fx.send(this.cfg.nic, { kind: 'poll', nicQueue: p.nicQueue, issuedAt: p.issuedAt }, now);
    }
    this.pending = keep;
    if (this.cleaning.length === 0) return;
    const still: PendingClean[] = [];
    for (const p of this.cleaning) {
      if (p.vcpu.check(p.job, now)) this.deallocate(p.batch, now, fx);
      else still.push(p);
    }
    this.cleaning = still;
  }

  receive(msg: Message, now: Nanos, fx: Effects): void {
    if (msg.kind === 'xmit') {
      if (this.cfg.tx !== undefined && !this.handedOver(msg, now, fx)) this.pool.release(msg.batch);
      else this.bridgeOut(msg.batch, now, fx);
      return;
    }
    if (msg.kind === 'txdone') {
      this.txClean(msg.nicQueue, msg.batch, now, fx);
      return;
    }
    if (msg.kind !== 'dma') return;
    if (this.cfg.sched !== undefined) {
      this.receiveScheduled(msg, now, fx);
      return;
    }
    const core = this.cores[msg.nicQueue];
    if (!core) return;
    const c = this.cfg.costs;
    const b = msg.batch;
    const cost = (msg.irq ? c.nic.irq : 0) + c.backend.perBatch + b.count * c.backend.perPacket;
    const done = core.run(now, cost, msg.irq ? 'irq+rx' : 'rx');
    this.stats.batches++;
    this.stats.packets += b.count;
    if (msg.irq) this.stats.irqsHandled++;
    if (b.count >= this.cfg.budget) this.stats.polls++;
    const { nicQueue, issuedAt } = msg;
    this.forward(b, done, fx);
    // The poll has processed the batch: its descriptors go back to the NIC, which goes on with the
    // next batch (full budget: ixgbe_poll returns the budget) or unmasks the queue's interrupt
    // (napi_complete_done). Until then no other batch of this queue reaches this core.
    fx.send(this.cfg.nic, { kind: 'poll', nicQueue, issuedAt }, done);
  }

  /**
   * On a scheduled vCPU: the interrupt (if one started the poll) is a hard interrupt; the poll is NET_RX softirq
   * work of the queue's NAPI instance, which net_rx_action's budget counts in packets. The batch is forwarded and
   * given back when that work is done, which the vCPU tells this actor by a timer.
   */
  private receiveScheduled(msg: Extract<Message, { kind: 'dma' }>, now: Nanos, fx: Effects): void {
    const q = (this.cfg.sched as BackendSched).queues[msg.nicQueue];
    if (!q) return;
    const c = this.cfg.costs;
    const b = msg.batch;
    this.stats.batches++;
    this.stats.packets += b.count;
    if (msg.irq) this.stats.irqsHandled++;
    if (b.count >= this.cfg.budget) this.stats.polls++;
    const alarm = (this.alarm ??= (at: Nanos) => fx.timer(at, TAG_WORK));
    if (msg.irq) q.vcpu.hardirq(now, c.nic.irq, q.account, null);
    const job = q.vcpu.submit(q.napi, now, c.backend.perBatch + b.count * c.backend.perPacket, false, b.count, alarm);
    this.pending.push({ job, vcpu: q.vcpu, batch: b, nicQueue: msg.nicQueue, issuedAt: msg.issuedAt });
  }

  /** Split a batch by guest queue (order within each flow is kept) and send each part to its worker. */
  private forward(b: PacketBatch, at: Nanos, fx: Effects): void {
    const n = b.count;
    if (n === 0) return;
    const flowGq = this.cfg.flowGq;
    const counts = this.counts;
    // The guest queues this batch touches, in the order first seen: touched[0, nTouched) (the array keeps its room;
    // emptying it with `length = 0` would free its store on every batch).
    const touched = this.touched;
    if (this.frameGq.length < n) this.frameGq = new Int32Array(2 * n);
    const frameGq = this.frameGq;
    const flow = b.flow;
    let nTouched = 0;
    for (let i = 0; i < n; i++) {
      const g = flowGq[flow[i] as number] as number;
      frameGq[i] = g;
      if (counts[g] === 0) touched[nTouched++] = g;
      counts[g] = (counts[g] as number) + 1;
    }
    if (nTouched === 1) {
      const g = touched[0] as number;
      counts[g] = 0;
      this.sendTo(g, b, at, fx);
      return;
    }
    // Scatter in one pass into one pooled batch per guest queue (order within each flow is kept).
    const parts = this.parts;
    for (let j = 0; j < nTouched; j++) {
      const g = touched[j] as number;
      parts[g] = this.pool.take(counts[g] as number);
      counts[g] = 0;
    }
    if (b.tcp === undefined) {
      // No TCP headers (the parts, fresh from the pool, carry none either): the four columns, frame by frame.
      const { seq, len, emittedAt } = b;
      for (let i = 0; i < n; i++) {
        const part = parts[frameGq[i] as number] as MutableBatch;
        const j = part.count++;
        part.flow[j] = flow[i] as number;
        part.seq[j] = seq[i] as number;
        part.len[j] = len[i] as number;
        part.emittedAt[j] = emittedAt[i] as number;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const part = parts[frameGq[i] as number] as MutableBatch;
        copyPacket(b, i, part, part.count++);
      }
    }
    this.pool.release(b);
    for (let j = 0; j < nTouched; j++) {
      const g = touched[j] as number;
      this.sendTo(g, parts[g] as MutableBatch, at, fx);
      parts[g] = undefined;
    }
  }

  private sendTo(g: number, batch: PacketBatch, at: Nanos, fx: Effects): void {
    fx.send(this.cfg.gqWorker[g] as ActorRef, { kind: 'rx', vm: this.cfg.gqVm[g] as number, queue: this.cfg.gqQueue[g] as number, batch }, at);
  }

  /**
   * The bridge forwards a guest's frames (br_forward → dev_queue_xmit): to the physical port, each on its flow's
   * TX queue of the NIC, or to another guest's vif on this host, whose netback RX path takes it as it takes
   * frames from the NIC (the vif queue its steering picks). That work runs in netback's TX NAPI on the sending
   * worker's core, which charges it (tx.netbackPerPacket); here the frames only change hands.
   */
  private bridgeOut(b: PacketBatch, at: Nanos, fx: Effects): void {
    const tx = this.cfg.tx;
    if (tx === undefined) {
      this.pool.release(b);
      return;
    }
    // Keys: a guest queue (≥ 0) for a frame to a guest, −1 − the NIC TX queue for one to the wire.
    const keys = this.splitKeys;
    const flowGq = this.cfg.flowGq;
    for (let i = 0; i < b.count; i++) {
      const f = b.flow[i] as number;
      keys[i] = (tx.flowReceiver[f] as number) >= 0 ? (flowGq[f] as number) : -1 - (tx.flowNicQueue[f] ?? 0);
    }
    const n = this.split(b);
    for (let j = 0; j < n; j++) {
      const k = this.partKeys[j] as number;
      const part = this.partBatches[j] as MutableBatch;
      this.partBatches[j] = undefined;
      if (k < 0) {
        fx.send(this.cfg.nic, { kind: 'txpost', nicQueue: -1 - k, batch: part }, at);
        continue;
      }
      this.toGuests += part.count;
      for (let i = 0; i < part.count; i++) this.toGuestsBytes += part.len[i] as number;
      this.sendTo(k, part, at, fx);
    }
  }

  /**
   * A TX-completion interrupt: the driver's clean-up (ixgbe_clean_tx_irq) frees each sent frame's skb on the NIC
   * queue's core, and each skb's zero-copy callback hands its grant-mapped slots to the netback dealloc of the vif
   * queue that sent it (xenvif_zerocopy_callback).
   */
  private txClean(nicQueue: number, b: PacketBatch, now: Nanos, fx: Effects): void {
    const tx = this.cfg.tx;
    const sched = this.cfg.sched;
    const core = this.cores[nicQueue] ?? this.cores[0];
    if (tx === undefined || (core === undefined && sched === undefined)) {
      this.pool.release(b);
      return;
    }
    const c = this.cfg.costs;
    const clean = b.count * (c.tx?.nicCleanPerPacket ?? 0);
    this.stats.txIrqsHandled++;
    if (sched !== undefined) {
      // The interrupt (ixgbe_msix_clean_rings) is a hard interrupt on the queue's vCPU whose handler schedules the
      // queue's NAPI; ixgbe_poll cleans the TX ring (ixgbe_clean_tx_irq) in NET_RX softirq context, work that
      // net_rx_action's budget does not count (only RX work is), so no packets.
      const q = sched.queues[nicQueue] ?? sched.queues[0];
      if (q === undefined) {
        this.pool.release(b);
        return;
      }
      const alarm = (this.alarm ??= (at: Nanos) => fx.timer(at, TAG_WORK));
      q.vcpu.hardirq(now, c.nic.irq, q.account, null);
      this.cleaning.push({ job: q.vcpu.submit(q.napi, now, clean, false, 0, alarm), vcpu: q.vcpu, batch: b });
      return;
    }
    const done = (core as Core).run(now, c.nic.irq + clean, 'tx-clean');
    this.deallocate(b, done, fx);
  }

  /**
   * A batch of a vif queue's frames from netback: counted. netback's count after a bus outage (XmitMessage.sentSlots,
   * NetbackTx.resync, stamped after its earlier batches) tells those that never came: lost on a live run's bus (never
   * in sim, where no message of the transmit path is lost). No skb of theirs exists here, so nothing would free their
   * grant-mapped slots: they go back to the vif queue's dealloc now, or the guest's ring would lose them for good.
   * The frames themselves are counted lost-in-transport by the run (docs/results.md). Returns whether the batch goes
   * on: not a netback's word that it counts from 0 again, nor a batch a restarted bridge drops (see rejoined).
   */
  private handedOver(msg: Extract<Message, { kind: 'xmit' }>, now: Nanos, fx: Effects): boolean {
    const key = msg.vm * 65536 + msg.queue;
    const b = msg.batch;
    if (b.count === 0 && msg.sentSlots === 0) {
      // A netback that counts from 0 (it restarted, or answered a restarted bridge): so do we, for it.
      this.bridged.delete(key);
      this.freedTo.delete(key);
      const dropped = this.awaiting.get(key);
      if (dropped !== undefined) fx.event('bridge-tx-resumed', { vm: msg.vm, queue: msg.queue, dropped });
      this.awaiting.delete(key);
      return false;
    }
    const dropping = this.awaiting.get(key);
    if (dropping !== undefined) {
      this.awaiting.set(key, dropping + b.count);
      return false;
    }
    let got = this.bridged.get(key);
    if (got === undefined) this.bridged.set(key, (got = { frames: 0, slots: 0 }));
    got.frames += b.count;
    for (let i = 0; i < b.count; i++) got.slots += txSlots(b.len[i] as number);
    if (msg.sentSlots === undefined || msg.sentSlots <= got.slots) return true;
    const frames = (msg.sentFrames ?? 0) - got.frames;
    const slots = msg.sentSlots - got.slots;
    got.frames += frames;
    got.slots = msg.sentSlots;
    fx.event('bridge-tx-frames-lost', { vm: msg.vm, queue: msg.queue, frames, slots });
    this.freeSlots(key, Math.max(frames, 1), slots, now, fx);
    return true;
  }

  /** A dealloc of `slots` slots to the vif queue `key`, with the count of every slot freed to it so far. */
  private freeSlots(key: number, frames: number, slots: number, at: Nanos, fx: Effects): void {
    const vm = Math.floor(key / 65536);
    const queue = key % 65536;
    const worker = (this.cfg.tx as BackendTx).vifWorker[vm]?.[queue];
    if (worker === undefined) return;
    const freed = (this.freedTo.get(key) ?? 0) + slots;
    this.freedTo.set(key, freed);
    fx.send(worker, { kind: 'dealloc', vm, queue, frames, slots, freed }, at);
  }

  /**
   * After a bus outage (Actor.resync): to each vif queue's dealloc, the count of slots freed to it so far (a dealloc
   * with none), since one the bus lost would leave netback waiting for those slots; netback answers what it missed.
   * Stamped after the clean-ups in progress on the dedicated cores, whose deallocs it must not overtake. No core time.
   */
  resync(now: Nanos, fx: Effects): void {
    let at = now;
    for (const c of this.cores) if (c.busyUntil > at) at = c.busyUntil;
    // A count of 0 tells netback nothing it could have missed, and has the form of a restarted bridge's word that it
    // holds none of the queue's slots (rejoined): not sent.
    for (const [key, freed] of this.freedTo) if (freed > 0) this.freeSlots(key, 0, 0, at, fx);
  }

  /** The freed skbs' zero-copy callbacks (xenvif_zerocopy_callback): each sending vif queue's slots go to its dealloc. */
  private deallocate(b: PacketBatch, at: Nanos, fx: Effects): void {
    const tx = this.cfg.tx as BackendTx;
    const keys = this.splitKeys;
    for (let i = 0; i < b.count; i++) {
      const f = b.flow[i] as number;
      keys[i] = (tx.flowVm[f] as number) * 65536 + (tx.flowGuestQueue[f] as number);
    }
    const n = this.split(b);
    for (let j = 0; j < n; j++) {
      const k = this.partKeys[j] as number;
      const part = this.partBatches[j] as MutableBatch;
      this.partBatches[j] = undefined;
      let slots = 0;
      for (let i = 0; i < part.count; i++) slots += txSlots(part.len[i] as number);
      this.freeSlots(k, part.count, slots, at, fx);
      this.pool.release(part);
    }
  }

  /**
   * Split a batch into runs by the keys in `splitKeys[0, count)`, keeping order within each key: returns the number
   * of parts, whose keys (in the order first seen) and batches (owned by the caller) are in `partKeys` and
   * `partBatches`. Reused arrays, not a Map and closures per batch: a guest's ACKs come here a few at a time.
   */
  private split(b: PacketBatch): number {
    const n = b.count;
    if (n === 0) {
      this.pool.release(b);
      return 0;
    }
    const keys = this.splitKeys;
    const partKeys = this.partKeys;
    const partCounts = this.partCounts;
    const of = this.partOf;
    let parts = 0;
    let j = 0;
    for (let i = 0; i < n; i++) {
      const k = keys[i] as number;
      // Runs of one key are the common case: look at the last frame's part first.
      if (partKeys[j] !== k || j >= parts) {
        j = 0;
        while (j < parts && partKeys[j] !== k) j++;
      }
      if (j === parts) {
        partKeys[parts] = k;
        partCounts[parts] = 0;
        parts++;
      }
      partCounts[j] = (partCounts[j] as number) + 1;
      of[i] = j;
    }
    if (parts === 1) {
      this.partBatches[0] = b as MutableBatch;
      return 1;
    }
    for (let j = 0; j < parts; j++) this.partBatches[j] = this.pool.take(partCounts[j] as number);
    for (let i = 0; i < n; i++) {
      const part = this.partBatches[of[i] as number] as MutableBatch;
      copyPacket(b, i, part, part.count++);
    }
    this.pool.release(b);
    return parts;
  }
}
