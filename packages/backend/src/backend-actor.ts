// The netback actor in the driver domain: NIC driver NAPI, bridge demux to VIFs and vRSS steering to workers.
import { BatchPool, Core } from '@splitnet/model';
import type { MutableBatch } from '@splitnet/model';
import type { Actor, ActorRef, BackendReport, CoreBusy, CostProfile, Effects, Message, Nanos, PacketBatch } from '@splitnet/model';

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
}

export interface BackendStats {
  batches: number;
  packets: number;
  irqsHandled: number;
  /** Batches that used the whole budget, so that the NAPI poll went on. */
  polls: number;
}

export class BackendActor implements Actor {
  readonly id: string;
  /** One driver-domain core per NIC queue (each hardware queue's interrupt is bound to its own core). */
  readonly cores: Core[] = [];
  readonly stats: BackendStats = { batches: 0, packets: 0, irqsHandled: 0, polls: 0 };
  private readonly counts: Uint32Array;
  private readonly touched: number[] = [];
  private readonly parts: (MutableBatch | undefined)[] = [];

  /** Where this actor's packet batches come from and go back to. */
  private readonly pool: BatchPool;

  constructor(private readonly cfg: BackendConfig) {
    this.id = cfg.id;
    this.pool = cfg.pool ?? new BatchPool();
    for (let q = 0; q < cfg.nicQueues; q++) this.cores.push(new Core(`dom0.nic${q}`));
    this.counts = new Uint32Array(cfg.gqWorker.length);
  }

  heldPackets(): number {
    return 0; // work is forwarded at its finish time; packets in those messages are on the links
  }

  start(_now: Nanos, _fx: Effects): void {}

  report(t: Nanos): BackendReport {
    const busy: CoreBusy = {};
    for (const c of this.cores) busy[c.name] = c.busyThrough(t);
    return { role: 'backend', id: this.id, t, busy, held: 0 };
  }

  timer(_tag: number, _now: Nanos, _fx: Effects): void {}

  receive(msg: Message, now: Nanos, fx: Effects): void {
    if (msg.kind !== 'dma') return;
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

  /** Split a batch by guest queue (order within each flow is kept) and send each part to its worker. */
  private forward(b: PacketBatch, at: Nanos, fx: Effects): void {
    const n = b.count;
    if (n === 0) return;
    const flowGq = this.cfg.flowGq;
    const counts = this.counts;
    const touched = this.touched;
    touched.length = 0;
    for (let i = 0; i < n; i++) {
      const g = flowGq[b.flow[i] as number] as number;
      if (counts[g] === 0) touched.push(g);
      counts[g] = (counts[g] as number) + 1;
    }
    if (touched.length === 1) {
      const g = touched[0] as number;
      counts[g] = 0;
      this.sendTo(g, b, at, fx);
      return;
    }
    // Scatter in one pass into one pooled batch per guest queue (order within each flow is kept).
    const parts = this.parts;
    for (const g of touched) {
      parts[g] = this.pool.take(counts[g] as number);
      counts[g] = 0;
    }
    for (let i = 0; i < n; i++) {
      const f = b.flow[i] as number;
      const part = parts[flowGq[f] as number] as MutableBatch;
      const k = part.count++;
      part.flow[k] = f;
      part.seq[k] = b.seq[i] as number;
      part.len[k] = b.len[i] as number;
      part.emittedAt[k] = b.emittedAt[i] as number;
    }
    this.pool.release(b);
    for (const g of touched) {
      this.sendTo(g, parts[g] as MutableBatch, at, fx);
      parts[g] = undefined;
    }
  }

  private sendTo(g: number, batch: PacketBatch, at: Nanos, fx: Effects): void {
    fx.send(
      this.cfg.gqWorker[g] as ActorRef,
      { kind: 'rx', vm: this.cfg.gqVm[g] as number, queue: this.cfg.gqQueue[g] as number, batch },
      at,
    );
  }
}
