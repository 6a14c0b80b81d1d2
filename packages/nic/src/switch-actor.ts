// The fabric's switch: output-queued, drop-tail per port (bounded in bytes), store-and-forward at each port's link speed.
import { copyPacket, InTransit, PacketFifo, Prng, TrafficSource, wireTimeNs } from '@splitnet/model';
import type {
  Actor,
  ActorRef,
  BatchPool,
  Effects,
  GeneratorSpec,
  Message,
  Nanos,
  PacketBatch,
  SwitchPortReport,
  SwitchReport,
  SwitchSourceReport,
} from '@splitnet/model';

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

/** A traffic source outside the cluster on a port of its own: its frames go to the output port toward one host. */
export interface SwitchSourceConfig {
  readonly name: string;
  /** Its own port's number (after the hosts' ports). */
  readonly port: number;
  /** The host port its frames are queued at, and the generator that makes them (flow ids: that host's). */
  readonly egress: number;
  readonly generator: GeneratorSpec;
  readonly flowCount: number;
  /** Its cable's line rate (its frames are serialized on it) and delay to the switch. */
  readonly gbps: number;
  readonly delay: Nanos;
  readonly seed: number;
}

export interface SwitchConfig {
  readonly id: string;
  readonly ports: readonly SwitchPortConfig[];
  /** External traffic sources on ports of their own (absent: none). */
  readonly sources?: readonly SwitchSourceConfig[];
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

/** A frame of an uplink as the switch tells it from the others: its flow, seq and leave time (the NIC's). */
function voidKey(b: PacketBatch, k: number): string {
  return `${b.flow[k] as number}:${b.seq[k] as number}:${b.emittedAt[k] as number}`;
}

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
  /** The NIC on the port is dead (its driver domain killed, not restarted yet): no carrier, so frames toward it are dropped (`switch-port-down`). */
  noCarrier = false;
  /** Frames the NIC on this port flushed before they left (UplinkMessage.voided), by flow, seq and leave time: their uplinks, still to come, are ignored. */
  readonly voided = new Set<string>();
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

/** An external source's frames: made by its generator, each on its cable until its last bit reaches the switch. */
class Source {
  readonly gen: TrafficSource;
  /** Frames taken from the generator whose last bit has not reached the switch yet (at: when it reaches the switch). */
  readonly onCable = new PacketFifo(16);
  sent = 0;
  sentBytes = 0;
  /** Frames that reached the switch. */
  received = 0;
  /** Faults on the source's own port (switch:port:<its port>): down, losing the frames it sends, an extra delay on its cable. */
  down = false;
  lossProbability = 0;
  loss: Prng | null = null;
  extraDelay: Nanos = 0;
  /** When the last frame on its cable reaches the switch: a cable delivers in order, so a frame never overtakes one ahead of it. */
  private lastArrival: Nanos = -Infinity;
  /** Frames dropped at its port, by reason; null until a fault first acts on the port (other runs' reports keep their shape). */
  drops: Record<SwitchDropReason, number> | null = null;
  constructor(readonly cfg: SwitchSourceConfig) {
    this.gen = new TrafficSource([cfg.generator], cfg.flowCount, cfg.gbps, cfg.seed);
  }

  /**
   * Take every frame whose last bit has left the source by t − ahead (onto its cable; ahead: its delay, for those at
   * the switch by t). Each reaches the switch after the cable's delay and the extra delay in force now (a fault's:
   * portFault takes the frames that left before it changes), and not before the frame ahead of it.
   */
  pull(t: Nanos, ahead = 0): void {
    const g = this.gen;
    // As sums (not t − ahead): a frame is taken exactly when nextArrival said it arrives.
    while (g.peek() + ahead <= t) {
      g.take();
      const due = g.at + this.cfg.delay + this.extraDelay;
      const arrival = due > this.lastArrival ? due : this.lastArrival;
      this.lastArrival = arrival;
      this.onCable.push(g.flow, g.seq, g.len, arrival);
      this.sent++;
      this.sentBytes += g.len;
    }
  }

  /**
   * When the next frame reaches the switch (Infinity: the source has stopped): the first on its cable, else the
   * earliest the next one can (without an extra delay; with one, the timer then finds it on the cable and waits for it).
   */
  nextArrival(): Nanos {
    return this.onCable.length > 0 ? this.onCable.atAt(0) : this.gen.peek() + this.cfg.delay;
  }

  /** A frame from the source reached the switch: false if its port's fault drops it there (counted under the port). */
  admit(): boolean {
    const drops = this.drops;
    if (drops === null) return true;
    if (this.down) drops['switch-port-down']++;
    else if (this.loss !== null && this.loss.next() < this.lossProbability) drops['switch-port-loss']++;
    else return true;
    return false;
  }
}

export class SwitchActor implements Actor {
  readonly id: string;
  private readonly ports: Port[];
  private readonly sources: Source[];

  constructor(private readonly cfg: SwitchConfig) {
    this.id = cfg.id;
    this.ports = cfg.ports.map((p) => new Port(p));
    this.sources = (cfg.sources ?? []).map((c) => new Source(c));
  }

  start(_now: Nanos, fx: Effects): void {
    this.sources.forEach((src, i) => {
      const at = src.nextArrival();
      if (at !== Infinity) fx.timer(at, i);
    });
  }

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
    if (msg.voided === true) {
      for (let k = 0; k < b.count; k++) ingress?.voided.add(voidKey(b, k));
    } else {
      for (let k = 0; k < b.count; k++) {
        // A frame its NIC flushed before it left: only its uplink, sent ahead, came (nothing is on the cable).
        if (ingress !== undefined && ingress.voided.size > 0 && ingress.voided.delete(voidKey(b, k))) continue;
        this.forward(msg.port, ingress, b, k, now, fx);
      }
    }
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
    this.toEgress(egress, b, k, route.flow[flow] as number, now, fx);
  }

  /** Frame k of b (in now) goes to output port `egress` as flow `flowOut` of its host: dropped there, or queued and sent. */
  private toEgress(egress: Port, b: PacketBatch, k: number, flowOut: number, now: Nanos, fx: Effects): void {
    egress.settle(now);
    if (egress.down || egress.noCarrier) {
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
    egress.queue.push(flowOut, egress.extraDelay, len, leave);
    const one = this.cfg.pool.take(1);
    copyPacket(b, k, one, 0);
    one.flow[0] = flowOut;
    one.emittedAt[0] = leave;
    one.count = 1;
    fx.send(egress.cfg.nic, { kind: 'downlink', batch: one }, leave + egress.extraDelay);
  }

  /**
   * A fault on switch port `port` starts (`on`) or ends: down drops every frame toward or from the port, loss drops
   * each frame toward it with `value` as probability (drawn from `seed`), delay holds each frame `value` ns longer on
   * its cable. Frames already on their way out of the port when it goes down still reach the NIC. On an external
   * source's port (nothing goes toward it) the same act on the frames from the source as they reach the switch —
   * dropped there while it is down or with the probability, counted under its port — and the delay on those that
   * leave the source while it lasts.
   */
  portFault(port: number, kind: 'down' | 'loss' | 'delay', on: boolean, value: number, seed: number, now: Nanos): void {
    const p = this.ports[port] ?? this.sourceFault(port, now);
    if (p === undefined) return;
    if (p instanceof Port) p.settle(now);
    if (kind === 'down') p.down = on;
    else if (kind === 'loss') {
      p.lossProbability = on ? value : 0;
      p.loss = on ? new Prng(seed) : null;
    } else p.extraDelay = on ? value : 0;
  }

  /**
   * The NIC on host port `port` died (`up` false: its driver domain was killed) or was restarted: a port whose NIC has
   * no carrier drops the frames toward it (`switch-port-down`), as one whose link is down, from `now`; those already
   * leaving it still go (they reach the dead NIC: the runtime counts them). Apart from the port's own faults (a
   * link-flap of the port, a host's pause or kill), which it neither ends nor starts.
   */
  nicCarrier(port: number, up: boolean, now: Nanos): void {
    const p = this.ports[port];
    if (p === undefined) return;
    p.settle(now);
    p.noCarrier = !up;
  }

  /**
   * The source on port `port` (after the hosts'), about to take a fault at `now`: the frames that left it by now go
   * on its cable with the delay they left with, and its drops are counted from here on.
   */
  private sourceFault(port: number, now: Nanos): Source | undefined {
    const src = this.sources.find((x) => x.cfg.port === port);
    if (src === undefined) return undefined;
    src.pull(now);
    src.drops ??= { 'switch-queue-full': 0, 'switch-port-down': 0, 'switch-port-loss': 0, 'switch-no-route': 0 };
    return src;
  }

  /**
   * Source `tag`'s frames arriving now enter the switch (each as one frame in from its port; a fault on the port may
   * drop it there), then its next arrival.
   */
  timer(tag: number, now: Nanos, fx: Effects): void {
    const src = this.sources[tag];
    if (src === undefined) return;
    src.pull(now, src.cfg.delay);
    const fifo = src.onCable;
    const egress = this.ports[src.cfg.egress];
    while (fifo.length > 0 && fifo.atAt(0) <= now) {
      src.received++;
      if (!src.admit()) {
        fifo.discard(1);
        continue;
      }
      const one = this.cfg.pool.take(1);
      one.flow[0] = fifo.flowAt(0);
      one.seq[0] = fifo.seqAt(0);
      one.len[0] = fifo.lenAt(0);
      one.emittedAt[0] = now;
      one.count = 1;
      fifo.discard(1);
      if (egress !== undefined) this.toEgress(egress, one, 0, one.flow[0] as number, now, fx);
      this.cfg.pool.release(one);
    }
    const next = src.nextArrival();
    if (next !== Infinity) fx.timer(next, tag);
  }

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
    if (this.sources.length === 0) return { role: 'switch', id: this.id, t, ports };
    const sources: SwitchSourceReport[] = this.sources.map((src) => {
      src.pull(t);
      // Frames on its cable at t: those whose last bit left the source and has not reached the switch by t.
      let onLink = 0;
      for (let k = 0; k < src.onCable.length; k++) if (src.onCable.atAt(k) > t) onLink++;
      const own = { port: src.cfg.port, name: src.cfg.name, to: src.cfg.egress, sent: src.sent, sentBytes: src.sentBytes, onLink, received: src.received };
      return src.drops === null ? own : { ...own, drops: { ...src.drops } };
    });
    return { role: 'switch', id: this.id, t, ports, sources };
  }
}
