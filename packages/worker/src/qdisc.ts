// The queueing discipline in front of one VIF transmit queue: pfifo_fast (tx_queue_len) or fq_codel (flows, DRR, CoDel).
import type { Nanos, TcpHeader } from '@splitnet/model';

/** One packet as a qdisc holds it: its descriptor and when it was enqueued (CoDel's sojourn time). */
export interface QueuedPacket {
  flow: number;
  seq: number;
  len: number;
  emittedAt: Nanos;
  enqueuedAt: Nanos;
  /** The TCP header of a closed-loop flow's frame. */
  tcp?: TcpHeader;
}

/** Where a qdisc's drops are counted: at its limit on enqueue, or by its AQM on dequeue. */
export interface QdiscDrops {
  /** Refused or evicted because the qdisc was at its limit (SKB_DROP_REASON_QDISC_OVERLIMIT). */
  overlimit: number;
  /** Dropped by CoDel on dequeue: sojourn above target for an interval (SKB_DROP_REASON_QDISC_CONGESTED). */
  congested: number;
}

export interface Qdisc {
  readonly length: number;
  readonly drops: QdiscDrops;
  /** Queue a packet; the qdisc may drop it or others (counted in `drops`). `hash` is skb_get_hash's value. */
  enqueue(p: QueuedPacket, hash: number): void;
  /** The next packet to transmit, or undefined when empty; AQM drops on the way are counted. */
  dequeue(now: Nanos): QueuedPacket | undefined;
  /** Everything queued is discarded (qdisc_reset); returns how many packets. */
  reset(): number;
}

/** A FIFO of objects on a growable power-of-two ring: no per-operation allocation, no unbounded head index. */
class Deque<T> {
  private items: (T | undefined)[] = new Array<T | undefined>(8);
  private head = 0;
  private n = 0;

  get length(): number {
    return this.n;
  }
  push(item: T): void {
    if (this.n === this.items.length) this.grow();
    this.items[(this.head + this.n) & (this.items.length - 1)] = item;
    this.n++;
  }
  shift(): T | undefined {
    if (this.n === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.n--;
    return item;
  }
  clear(): void {
    this.items = new Array<T | undefined>(8);
    this.head = 0;
    this.n = 0;
  }
  private grow(): void {
    const next = new Array<T | undefined>(this.items.length * 2);
    for (let k = 0; k < this.n; k++) next[k] = this.items[(this.head + k) & (this.items.length - 1)];
    this.items = next;
    this.head = 0;
  }
}

/** XENVIF_QUEUE_LENGTH: netback sets the vif's tx_queue_len to 32 (interface.c, xenvif_alloc). */
export const XENVIF_QUEUE_LENGTH = 32;

/**
 * pfifo_fast: one FIFO per priority band, each as long as the device's tx_queue_len; every packet here
 * has the default priority, so one band: tail drop at tx_queue_len packets (sch_generic.c).
 */
export class PfifoFast implements Qdisc {
  readonly drops: QdiscDrops = { overlimit: 0, congested: 0 };
  private readonly q = new Deque<QueuedPacket>();

  constructor(private readonly limit: number = XENVIF_QUEUE_LENGTH) {}

  get length(): number {
    return this.q.length;
  }

  enqueue(p: QueuedPacket): void {
    if (this.q.length >= this.limit) {
      this.drops.overlimit++;
      return;
    }
    this.q.push(p);
  }

  dequeue(): QueuedPacket | undefined {
    return this.q.shift();
  }

  reset(): number {
    const n = this.q.length;
    this.q.clear();
    return n;
  }
}

/** fq_codel's defaults (sch_fq_codel.c fq_codel_init, codel.h codel_params_init). */
export const FQ_CODEL = {
  /** sch->limit: packets across all flows. */
  limit: 10 * 1024,
  /** flows_cnt: hash buckets. */
  flows: 1024,
  /** drop_batch_size: at most this many packets dropped from the fattest flow per overlimit. */
  dropBatch: 64,
  /** quantum and CoDel's mtu: psched_mtu = MTU 1500 + Ethernet header 14. */
  quantum: 1514,
  /** CoDel target sojourn time and interval. */
  target: 5_000_000,
  interval: 100_000_000,
} as const;

/** One fq_codel bucket: a FIFO, its DRR deficit, its CoDel state (struct fq_codel_flow, codel_vars). */
class FqFlow {
  readonly q = new Deque<QueuedPacket>();
  bytes = 0;
  deficit = 0;
  /** On new_flows (1), old_flows (2) or neither (0). */
  list = 0;
  // codel_vars
  count = 0;
  lastCount = 0;
  dropping = false;
  firstAboveTime = 0;
  dropNext = 0;
}

/**
 * fq_codel (sch_fq_codel.c, codel_impl.h): packets hashed into 1024 buckets by reciprocal_scale(skb hash);
 * new flows are served before old ones, deficit round robin with a one-MTU quantum; each bucket runs
 * CoDel on dequeue (drop when the sojourn time stayed above 5 ms for 100 ms, then at interval/√count);
 * over the 10240-packet limit, up to 64 packets are dropped from the head of the fattest bucket, until
 * half its bytes are gone. Not modelled: ECN marking (the traffic is not ECN-capable, so CoDel drops),
 * the 32 MB memory limit (10240 frames stay under it unless each skb's truesize exceeds 3.2 KB), and the
 * Newton-step approximation of 1/√count (computed exactly here).
 */
export class FqCodel implements Qdisc {
  readonly drops: QdiscDrops = { overlimit: 0, congested: 0 };
  /** Buckets by index, made when first used (most of the 1024 stay empty with a few flows). */
  private readonly flows: (FqFlow | undefined)[] = new Array<FqFlow | undefined>(FQ_CODEL.flows);
  private readonly newFlows: FqFlow[] = [];
  private readonly oldFlows: FqFlow[] = [];
  private qlen = 0;
  private backlogBytes = 0;

  constructor(private readonly limit: number = FQ_CODEL.limit) {}

  get length(): number {
    return this.qlen;
  }

  enqueue(p: QueuedPacket, hash: number): void {
    // fq_codel_hash: reciprocal_scale(skb_get_hash(skb), flows_cnt) — the hash's top bits.
    const idx = Math.floor(((hash >>> 0) * FQ_CODEL.flows) / 0x1_0000_0000);
    const f = (this.flows[idx] ??= new FqFlow());
    f.q.push(p);
    f.bytes += p.len;
    this.backlogBytes += p.len;
    if (f.list === 0) {
      f.list = 1;
      f.deficit = FQ_CODEL.quantum;
      this.newFlows.push(f);
    }
    if (++this.qlen <= this.limit) return;
    this.dropFattest();
  }

  dequeue(now: Nanos): QueuedPacket | undefined {
    for (;;) {
      const fromNew = this.newFlows.length > 0;
      const list = fromNew ? this.newFlows : this.oldFlows;
      const f = list[0];
      if (f === undefined) return undefined;
      if (f.deficit <= 0) {
        f.deficit += FQ_CODEL.quantum;
        list.shift();
        f.list = 2;
        this.oldFlows.push(f);
        continue;
      }
      const p = this.codelDequeue(f, now);
      if (p === undefined) {
        // Empty: force a pass through old_flows to prevent starvation, or leave the lists.
        list.shift();
        if (fromNew && this.oldFlows.length > 0) {
          f.list = 2;
          this.oldFlows.push(f);
        } else f.list = 0;
        continue;
      }
      f.deficit -= p.len;
      return p;
    }
  }

  reset(): number {
    const n = this.qlen;
    for (const f of this.flows) {
      if (f === undefined) continue;
      if (f.q.length > 0) f.q.clear();
      f.bytes = 0;
      f.list = 0;
      f.count = 0;
      f.lastCount = 0;
      f.dropping = false;
      f.firstAboveTime = 0;
      f.dropNext = 0;
    }
    this.newFlows.length = 0;
    this.oldFlows.length = 0;
    this.qlen = 0;
    this.backlogBytes = 0;
    return n;
  }

  /** fq_codel_drop: the fattest bucket loses packets from its head until half its bytes or 64 packets. */
  private dropFattest(): void {
    let fat: FqFlow | undefined;
    for (const f of this.flows) if (f !== undefined && f.bytes > (fat?.bytes ?? 0)) fat = f;
    if (fat === undefined) return;
    const threshold = Math.floor(fat.bytes / 2);
    let len = 0;
    let i = 0;
    do {
      const p = fat.q.shift();
      if (p === undefined) break;
      len += p.len;
      i++;
    } while (i < FQ_CODEL.dropBatch && len < threshold);
    fat.count += i; // "tell codel to increase its signal strength also"
    fat.bytes -= len;
    this.backlogBytes -= len;
    this.qlen -= i;
    this.drops.overlimit += i;
  }

  private take(f: FqFlow): QueuedPacket | undefined {
    const p = f.q.shift();
    if (p !== undefined) {
      f.bytes -= p.len;
      this.backlogBytes -= p.len;
      this.qlen--;
    }
    return p;
  }

  /** codel_should_drop: sojourn above target (and more than one MTU queued) for at least an interval. */
  private shouldDrop(f: FqFlow, p: QueuedPacket | undefined, now: Nanos): boolean {
    if (p === undefined) {
      f.firstAboveTime = 0;
      return false;
    }
    if (now - p.enqueuedAt < FQ_CODEL.target || this.backlogBytes <= FQ_CODEL.quantum) {
      f.firstAboveTime = 0;
      return false;
    }
    if (f.firstAboveTime === 0) {
      f.firstAboveTime = now + FQ_CODEL.interval;
      return false;
    }
    return now > f.firstAboveTime;
  }

  private controlLaw(t: Nanos, count: number): Nanos {
    return t + FQ_CODEL.interval / Math.sqrt(count);
  }

  /** codel_dequeue on one bucket. */
  private codelDequeue(f: FqFlow, now: Nanos): QueuedPacket | undefined {
    let p = this.take(f);
    if (p === undefined) {
      f.dropping = false;
      return undefined;
    }
    const drop = this.shouldDrop(f, p, now);
    if (f.dropping) {
      if (!drop) f.dropping = false;
      else if (now >= f.dropNext) {
        while (f.dropping && now >= f.dropNext) {
          f.count++;
          this.drops.congested++;
          p = this.take(f);
          if (!this.shouldDrop(f, p, now)) f.dropping = false;
          else f.dropNext = this.controlLaw(f.dropNext, f.count);
        }
      }
    } else if (drop) {
      this.drops.congested++;
      p = this.take(f);
      this.shouldDrop(f, p, now);
      f.dropping = true;
      // Re-entering soon after the last dropping state: resume near the drop rate that controlled it.
      const delta = f.count - f.lastCount;
      f.count = delta > 1 && now - f.dropNext < 16 * FQ_CODEL.interval ? delta : 1;
      f.lastCount = f.count;
      f.dropNext = this.controlLaw(now, f.count);
    }
    return p;
  }
}
