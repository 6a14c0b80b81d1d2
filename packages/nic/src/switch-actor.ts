// The fabric's switch: output-queued, drop-tail per port (bounded in bytes), store-and-forward at each port's link speed.
import { copyPacket, InTransit, PacketFifo, Prng, wireTimeNs } from '@splitnet/model';
import type { Actor, ActorRef, BatchPool, Effects, Message, Nanos, PacketBatch, SwitchPortReport, SwitchReport } from '@splitnet/model';

/** One switch port: the host NIC at the other end of its cable, and the port's output side. */
export interface SwitchPortConfig {
  /** The NIC on this port's cable. */
  readonly nic: ActorRef;
  /** The port's (and its cable's) line rate. */
  readonly gbps: number;
  /** Output queue capacity in bytes (frames waiting plus the one being serialized); a frame that does not fit is dropped. */
  readonly queueBytes: number;
  /** The cable's propagation delay toward the NIC (the runtime's delay on the switch → NIC link). */
  readonly delay: Nanos;
}

export interface SwitchConfig {
  readonly id: string;
  readonly ports: readonly SwitchPortConfig[];
  /**
   * The forwarding table: per ingress port, per flow id of the host on that port, the egress port (−1: none) and
   * the flow's id on the egress port's host (each host numbers its own flows; the switch translates).
   */
  readonly routes: readonly { readonly port: Int32Array; readonly flow: Uint32Array }[];
  readonly seed: number;
  readonly pool: BatchPool;
}

/** Drop reasons at a switch port. */
export const SWITCH_DROP_REASONS = ['switch-queue-full', 'switch-port-down', 'switch-port-loss', 'switch-no-route'] as const;
export type SwitchDropReason = (typeof SWITCH_DROP_REASONS)[number];

class Port {
  /** Frames in the output queue, each with the time its last bit leaves the port. */
  readonly queue = new PacketFifo(64);
  queuedBytes = 0;
  peakQueueBytes = 0;
  /** When the port's transmitter is free: frames leave one after another at line rate. */
  freeAt: Nanos = 0;
  received = 0;
  enqueued = 0;
  enqueuedBytes = 0;
  forwarded = 0;
  forwardedBytes = 0;
  readonly onCable = new InTransit();
  readonly drops: Record<SwitchDropReason, number> = { 'switch-queue-full': 0, 'switch-port-down': 0, 'switch-port-loss': 0, 'switch-no-route': 0 };
  /** Faults on the port: down (link-flap), losing frames with a probability, an extra delay on its cable. */
  down = false;
  lossProbability = 0;
  loss: Prng | null = null;
  extraDelay: Nanos = 0;
  constructor(readonly cfg: SwitchPortConfig) {}

  /** Frames whose last bit has left by t are forwarded (and on the cable until they reach the NIC). */
  settle(t: Nanos): void {
    const q = this.queue;
    while (q.length > 0 && q.atAt(0) <= t) {
      const len = q.lenAt(0);
      this.forwarded++;
      this.forwardedBytes += len;
      this.queuedBytes -= len;
      // The frame's downlink message was sent to leave at this instant; the extra delay was fixed when it was sent.
      this.onCable.add(q.atAt(0) + this.cfg.delay + q.seqAt(0));
      q.discard(1);
    }
  }
}

export class SwitchActor implements Actor {
  readonly id: string;
  private readonly ports: Port[];

  constructor(private readonly cfg: SwitchConfig) {
    this.id = cfg.id;
    this.ports = cfg.ports.map((p) => new Port(p));
  }

  start(): void {}

  /**
   * Lockstep's promises: the switch sends a frame toward a NIC only while it takes one in (uplink), at its port's
   * departure time; on its own, never (the partition bounds its inputs: partition-engine.ts).
   */
  earliestTransmit(): Nanos {
    return Infinity;
  }

  /** Frames queued in output ports (waiting or being serialized). */
  heldPackets(): number {
    let n = 0;
    for (const p of this.ports) n += p.queue.length;
    return n;
  }

  receive(msg: Message, now: Nanos, fx: Effects): void {
    if (msg.kind !== 'uplink') return;
    const b = msg.batch;
    const ingress = this.ports[msg.port];
    for (let k = 0; k < b.count; k++) this.forward(msg.port, ingress, b, k, now, fx);
    this.cfg.pool.release(b);
  }

  /** Frame k of b came in on port `from`: look up its egress port and queue it there, or drop it (drop-tail). */
  private forward(from: number, ingress: Port | undefined, b: PacketBatch, k: number, now: Nanos, fx: Effects): void {
    if (ingress === undefined) return;
    ingress.received++;
    const flow = b.flow[k] as number;
    const route = this.cfg.routes[from];
    const to = route?.port[flow] ?? -1;
    const egress = this.ports[to];
    if (egress === undefined || route === undefined) {
      ingress.drops['switch-no-route']++;
      return;
    }
    if (ingress.down) {
      ingress.drops['switch-port-down']++;
      return;
    }
    egress.settle(now);
    if (egress.down) {
      egress.drops['switch-port-down']++;
      return;
    }
    if (egress.loss !== null && egress.loss.next() < egress.lossProbability) {
      egress.drops['switch-port-loss']++;
      return;
    }
    const len = b.len[k] as number;
    if (egress.queuedBytes + len > egress.cfg.queueBytes) {
      egress.drops['switch-queue-full']++;
      return;
    }
    // Store and forward: the whole frame is in (its last bit arrived now); it leaves after the frames ahead of it.
    const start = now > egress.freeAt ? now : egress.freeAt;
    const leave = start + wireTimeNs(len, egress.cfg.gbps);
    egress.freeAt = leave;
    egress.enqueued++;
    egress.enqueuedBytes += len;
    egress.queuedBytes += len;
    if (egress.queuedBytes > egress.peakQueueBytes) egress.peakQueueBytes = egress.queuedBytes;
    // The queue entry's seq column keeps the extra cable delay the frame was sent with (for counting it on the cable).
    egress.queue.push(flow, egress.extraDelay, len, leave);
    const one = this.cfg.pool.take(1);
    copyPacket(b, k, one, 0);
    one.flow[0] = route.flow[flow] as number;
    one.emittedAt[0] = leave;
    one.count = 1;
    fx.send(egress.cfg.nic, { kind: 'downlink', batch: one }, leave + egress.extraDelay);
  }

  /**
   * A fault on switch port `port` starts (`on`) or ends: down drops every frame toward or from the port, loss drops
   * each frame toward it with `value` as probability (drawn from `seed`), delay holds each frame `value` ns longer on
   * its cable. Frames already on their way out of the port when it goes down still reach the NIC.
   */
  portFault(port: number, kind: 'down' | 'loss' | 'delay', on: boolean, value: number, seed: number, now: Nanos): void {
    const p = this.ports[port];
    if (p === undefined) return;
    p.settle(now);
    if (kind === 'down') p.down = on;
    else if (kind === 'loss') {
      p.lossProbability = on ? value : 0;
      p.loss = on ? new Prng(seed) : null;
    } else p.extraDelay = on ? value : 0;
  }

  timer(): void {}

  report(t: Nanos): SwitchReport {
    const ports: SwitchPortReport[] = this.ports.map((p, port) => {
      p.settle(t);
      return {
        port,
        received: p.received,
        enqueued: p.enqueued,
        enqueuedBytes: p.enqueuedBytes,
        forwarded: p.forwarded,
        forwardedBytes: p.forwardedBytes,
        onLink: p.onCable.at(t),
        queued: p.queue.length,
        queuedBytes: p.queuedBytes,
        peakQueueBytes: p.peakQueueBytes,
        drops: { ...p.drops },
      };
    });
    return { role: 'switch', id: this.id, t, ports };
  }
}
