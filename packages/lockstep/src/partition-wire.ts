// A lockstep partition on a Transport: its messages as the live runtime's frames on the data subjects, its promises on the promise subjects, and what arrives handed to its engine.
import type { Message, Nanos } from '@splitnet/model';
import { senderRulesFor } from '@splitnet/controller';
import {
  decodeLockstepPromise,
  encodeEnvelopeBody,
  encodeFrameHeader,
  encodeLockstepPromise,
  EnvelopeDecoder,
  isLockstepPromise,
  Subjects,
} from '@splitnet/transport';
import type { RejectKind, Subscription, Transport } from '@splitnet/transport';
import type { CompiledScenario } from '@splitnet/scenario';
import { DirectLinks } from './direct-links.js';
import { decodeSetup, encodeDecline, isDirectSetup } from './direct-setup.js';
import type { DirectOffer, DirectPlace } from './direct-setup.js';
import { describeWaiting } from './direct-waiting.js';
import { fabricDecoderLimits, fabricSenderRule } from './fabric-rules.js';
import { PartitionEngine } from './partition-engine.js';
import type { LinkSeq, PartitionPorts, PartitionShot } from './partition-engine.js';
import { WindowTiming } from './window-timing.js';
import type { WindowTimes } from './window-timing.js';
import { WindowTrace } from './window-trace.js';

/**
 * Samples a partition holds before it publishes them to the controller, which keeps them for the end of the run
 * anyway (its progress comes from the heartbeats). Published as they came, a sample's sealing here, its routing in
 * the server and its opening in the controller took the shared cores while a neighbour ran its window and the bus
 * carried its promise: a promise's hop took 1.5–2 × longer (docs/lockstep.md#how-fast). The default 100 samples of
 * a run are all held; a run with more publishes them 256 at a time, in a turn of their own after a window's promises.
 */
const SAMPLES_HELD = 256;

/** What one link (an actor here → an actor of another partition) has to publish at the end of a window. */
interface LinkOut {
  readonly subject: string;
  readonly fromRef: number;
  readonly toRef: number;
  readonly header: Uint8Array;
  readonly parts: Uint8Array[];
  bytes: number;
}

/** Why the wire refused what came (the decoders' kinds, and promises that do not open). */
export interface WireRefusals {
  readonly envelopes: Partial<Record<RejectKind, number>>;
  readonly promises: number;
  /** Messages out of window or for an actor elsewhere (the engine refused them). */
  readonly outOfWindow: number;
  /** The first reason seen, for the log. */
  readonly first: string;
}

/**
 * Runs one partition's engine over a Transport: every arrival may move its safe time, so after each it runs as
 * many windows as it can, one per turn of the event loop, publishing each window's frames and then its promises.
 */
export class PartitionWire {
  readonly engine: PartitionEngine;
  private readonly subjects: Subjects;
  private readonly ids: readonly string[];
  private readonly outs = new Map<string, LinkOut>();
  private readonly dirty: LinkOut[][] = [];
  private readonly decoders = new Map<number, EnvelopeDecoder>();
  private readonly subs: Subscription[] = [];
  private promisesRefused = 0;
  private firstRefusal = '';
  private scheduled = false;
  private started = false;
  private resolveDone: () => void = () => {};
  /** Wall time (ms, performance.now) it started, spent waiting for a promise so far, and since when it waits now (-1: running). */
  private startMs = 0;
  private waitMs = 0;
  private blockedSince = -1;
  /** When the first arrival since it blocked came (-1: none yet), and the least lookahead into it (short windows). */
  private wokenAt = -1;
  private readonly leastLookahead: number;
  readonly timing = new WindowTiming();
  /** Its timeline of windows and promises, when SPLITNET_LOCKSTEP_TRACE asks for one (window-trace.ts). */
  private readonly trace: WindowTrace | null;
  /** Samples taken so far and not yet published: held until the end of the run, or until SAMPLES_HELD are (then published while it waits). */
  private readonly samples: { t: Nanos; shot: PartitionShot }[] = [];
  private samplesScheduled = false;
  /** Direct links to and from its neighbours (direct-links.ts), when asked for; null: every message goes by the bus. */
  private readonly direct: DirectLinks | null;
  /** Why it has no direct links (when it has none). */
  private readonly noDirect: string;
  private offerTimer: NodeJS.Timeout | undefined;
  /** Resolves when the partition has run to the end of the run. */
  readonly done = new Promise<void>((resolve) => (this.resolveDone = resolve));

  private readonly onSample: PartitionPorts['sample'];

  constructor(
    s: CompiledScenario,
    private readonly runId: string,
    index: number,
    private readonly transport: Transport,
    onSample: PartitionPorts['sample'],
    /** After each burst of windows: the emulated time reached and the share of wall time spent waiting (progress). */
    private readonly onAdvance: (reached: Nanos, waitShare: number) => void = () => {},
    /**
     * Frames and promises to and from its neighbours on direct links, listening and offering where this says (the
     * processes of one machine: loopback; containers: their networks), not through the NATS server; or why not.
     */
    direct: DirectPlace | string = 'direct links not asked for',
    /**
     * Wall time (µs) a partition that must wait keeps polling for an arrival, one turn of the event loop after
     * another, before it sleeps in it (0: it sleeps at once): a sleeping process takes ~100 µs more to wake to a
     * promise on a busy machine (docs/lockstep.md#how-fast). Only where every partition has a core of its own.
     */
    readonly spinUs = 0,
  ) {
    this.subjects = new Subjects(runId);
    const ports: PartitionPorts = {
      send: (to, from, toRef, seq, at, due, msg) => this.send(to, from, toRef, seq, at, due, msg),
      promise: (to, promise, links) => this.promise(to, promise, links),
      sample: (t, shot) => this.samples.push({ t, shot }),
    };
    this.engine = new PartitionEngine(s, index, ports);
    this.trace = WindowTrace.fromEnv(index);
    this.onSample = onSample;
    this.leastLookahead = Math.min(...this.engine.hearsFrom.map((p) => this.engine.plan.lookahead[p]?.[index] ?? Infinity));
    const g = this.engine.g;
    this.ids = g.all.map((a) => a.id);
    this.engine.plan.partitions.forEach(() => this.dirty.push([]));
    const admit = 'hosts' in g ? fabricSenderRule : senderRulesFor(g);
    const limits = fabricDecoderLimits(s);
    const refOf = new Map(this.ids.map((id, ref) => [id, ref]));
    for (const ref of this.engine.plan.partitions[index]?.refs ?? []) {
      const self = this.ids[ref] as string;
      this.decoders.set(ref, new EnvelopeDecoder({ run: runId, limits, pool: g.pool, self, admit: (from: string, m: Message) => admit(from, self, m) }));
    }
    const neighbours = this.engine.sendsTo.length + this.engine.hearsFrom.length > 0;
    this.direct = typeof direct !== 'string' && neighbours ? this.directLinksAt(direct) : null;
    this.noDirect = typeof direct === 'string' ? direct : 'no neighbours';
    const take = (ref: number, id: string, data: Uint8Array, sender: string | undefined, subject: string): void => {
      this.timing.messagesIn++;
      this.trace?.add({ k: 'm', at: WindowTrace.now() });
      if (isLockstepPromise(data)) this.onPromise(data, id, sender);
      else {
        const envs = (this.decoders.get(ref) as EnvelopeDecoder).decodeFrame(data, sender ?? subject);
        for (const e of envs) this.engine.deliver(refOf.get(e.from) ?? -1, ref, e.seq, e.at, e.m);
      }
    };
    // Subscribed at once: nothing a neighbour sends once started may be missed (the controller starts all after every hello).
    for (const ref of this.decoders.keys()) {
      const id = this.ids[ref] as string;
      this.subs.push(
        transport.subscribe(this.subjects.dataInbox(id), (data, subject) => {
          const sender = this.subjects.senderOf(id, subject);
          if (isDirectSetup(data)) return this.onSetup(data, id, sender, take);
          take(ref, id, data, sender, subject);
          this.arrived();
        }),
      );
    }
    if (this.direct !== null) this.offerTimer = setInterval(() => this.offer(), 100);
  }

  /**
   * Its direct links: to each neighbour it sends to, offered unless that neighbour has no channel back to this
   * partition (on which it would decline, if it cannot connect: the pair must agree on one path).
   */
  private directLinksAt(place: DirectPlace): DirectLinks {
    const me = this.engine.index;
    const onBus = new Map<number, string>();
    for (const q of this.engine.sendsTo) if (this.engine.plan.channel[q]?.[me] === undefined) onBus.set(q, 'no channel back from it to decline a link on');
    return new DirectLinks(this.engine.sendsTo, place, (why) => this.refusePromise(why), onBus);
  }

  /** Whether it may say hello: its direct links (if any) are all made or declined. */
  get ready(): boolean {
    return this.direct?.isReady ?? true;
  }

  /** The neighbours it sends to on direct links (0: all by the bus). */
  get directLinks(): number {
    return this.engine.sendsTo.filter((q) => this.direct?.has(q) === true).length;
  }

  /** Its direct links not made yet, one line each (direct-waiting.ts); empty without direct links or once all are made. */
  waitingOn(): string[] {
    if (this.direct === null) return [];
    const parts = this.engine.plan.partitions;
    return describeWaiting(this.direct.waiting(), this.engine.hearsFrom, (p) => parts[p]?.name ?? `#${p}`);
  }

  /**
   * Which path each neighbour's messages take, by partition name: to those it sends to (its choice, as the receiver
   * agreed) and from those it hears from; 'direct', or why on the bus.
   */
  linkPaths(): { readonly to: Record<string, string>; readonly from: Record<string, string> } {
    const names = this.engine.plan.partitions.map((p) => p.name);
    const paths = this.direct?.paths();
    const of = (list: readonly number[], got: ReadonlyMap<number, string> | undefined, none: string): Record<string, string> =>
      Object.fromEntries(list.map((q) => [names[q] as string, got === undefined ? this.noDirect : (got.get(q) ?? none)]));
    return { to: of(this.engine.sendsTo, paths?.to, 'not offered'), from: of(this.engine.hearsFrom, paths?.from, 'it offered no direct link') };
  }

  /** Resolves once it is ready (at once without direct links). */
  get whenReady(): Promise<void> {
    return this.direct?.ready ?? Promise.resolve();
  }

  /** Its offers to the receivers that have not connected yet (again and again: a receiver may subscribe late). */
  private offer(): void {
    const d = this.direct as DirectLinks;
    const pending = d.pending();
    if (pending.length === 0 || this.started) return clearInterval(this.offerTimer);
    for (const q of pending) {
      const o = d.offer(q);
      const [a, b] = this.engine.plan.channel[this.engine.index]?.[q] as readonly [number, number];
      if (o !== null) this.transport.publish(this.subjects.data(this.ids[b] as string, this.ids[a] as string), o);
    }
  }

  /**
   * A direct link's set-up from `sender`, taken if it comes on a channel into this partition (the bus vouched for the
   * subject): its offer (connect; decline on the channel back if that fails) or its decline of this one's offer.
   */
  private onSetup(
    data: Uint8Array,
    to: string,
    sender: string | undefined,
    take: (ref: number, id: string, data: Uint8Array, sender: string, subject: string) => void,
  ): void {
    const plan = this.engine.plan;
    const me = this.engine.index;
    const fromRef = sender === undefined ? -1 : this.ids.indexOf(sender);
    const p = plan.partOf[fromRef];
    const channel = p === undefined ? undefined : plan.channel[p]?.[me];
    const setup = decodeSetup(data);
    if (this.direct === null || p === undefined || channel === undefined || channel[0] !== fromRef || this.ids[channel[1]] !== to || typeof setup === 'string')
      return this.refusePromise(
        `a direct link's set-up from ${sender ?? '?'} to ${to} (${typeof setup === 'string' ? setup : setup.kind}), not on a channel into this partition that asked for direct links`,
      );
    if (setup.kind === 'decline') {
      const refused = this.direct.declined(p, setup);
      return refused === undefined ? undefined : this.refusePromise(refused);
    }
    this.takeOffer(p, setup, take);
  }

  /** Partition `p`'s offer: connect; what comes on the link is checked as the bus's is; a failure to connect is said back on the bus. */
  private takeOffer(p: number, offer: DirectOffer, take: (ref: number, id: string, data: Uint8Array, sender: string, subject: string) => void): void {
    const plan = this.engine.plan;
    const back = plan.channel[this.engine.index]?.[p];
    (this.direct as DirectLinks).take(
      p,
      offer,
      (from, toRef, payload) => {
        const toId = this.ids[toRef];
        if (plan.partOf[from] !== p || toId === undefined || !this.decoders.has(toRef))
          return this.refusePromise(`a message on partition ${p}'s direct link from ref ${from} to ref ${toRef}: not from that partition to this one`);
        take(toRef, toId, payload, this.ids[from] as string, '');
      },
      () => this.arrived(),
      // On the channel back (the sender offers only to partitions that have one): the sender then keeps the pair on the bus.
      (why) => {
        if (back !== undefined)
          this.transport.publish(this.subjects.data(this.ids[back[1]] as string, this.ids[back[0]] as string), encodeDecline(offer.tokenIn, why));
      },
    );
  }

  /** A promise on the data subject of actor `to` here from `sender`: applied if it is one of a partition this one hears from, on their channel. */
  private onPromise(data: Uint8Array, to: string, sender: string | undefined): void {
    const p = decodeLockstepPromise(data);
    if (typeof p === 'string') return this.refusePromise(p);
    const plan = this.engine.plan;
    const me = this.engine.index;
    const fromRef = sender === undefined ? -1 : this.ids.indexOf(sender);
    const from = plan.partOf[fromRef];
    const channel = from === undefined ? undefined : plan.channel[from]?.[me];
    if (p.run !== this.runId || p.from !== sender || p.to !== to || channel === undefined || this.ids[channel[0]] !== p.from || this.ids[channel[1]] !== to)
      return this.refusePromise(`a promise from ${p.from} to ${p.to} (run ${p.run}) on ${sender ?? '?'}'s subject to ${to}, not a channel into this partition`);
    // The hop from the sender's publish to here (one machine's processes share the clock; elsewhere it says nothing).
    if (p.sentAtMs !== undefined && p.sentAtMs > 0) this.timing.hop(performance.timeOrigin + performance.now() - p.sentAtMs);
    this.trace?.add({ k: 'r', at: WindowTrace.now(), sent: p.sentAtMs ?? 0, promise: p.promise });
    this.engine.promise(from as number, p.promise, p.links);
  }

  private refusePromise(why: string): void {
    if (this.promisesRefused++ === 0) this.firstRefusal = `promise: ${why}`;
  }

  /** Start running (every partition of the run is subscribed by now). */
  start(): void {
    this.started = true;
    this.direct?.start();
    this.startMs = performance.now();
    this.kick();
  }

  private send(to: number, from: number, toRef: number, seq: number, at: Nanos, due: Nanos, msg: Message): void {
    const key = `${from}>${toRef}`;
    let out = this.outs.get(key);
    if (out === undefined) {
      const fromId = this.ids[from] as string;
      const toId = this.ids[toRef] as string;
      const header = encodeFrameHeader(this.runId, fromId, toId);
      out = { subject: this.subjects.data(toId, fromId), fromRef: from, toRef, header, parts: [], bytes: header.byteLength };
      this.outs.set(key, out);
    }
    const body = encodeEnvelopeBody(seq, at, due, msg);
    if (out.parts.length === 0) (this.dirty[to] as LinkOut[]).push(out);
    out.parts.push(body);
    out.bytes += body.byteLength;
  }

  /** Publish the window's frames to partition `to`, then its promise. */
  private promise(to: number, promise: Nanos, links: readonly LinkSeq[]): void {
    const t0 = performance.now();
    this.trace?.add({ k: 's', at: performance.timeOrigin + t0, to, promise });
    if (this.direct?.has(to) === true) return this.promiseDirect(to, promise, links, t0);
    const dirty = this.dirty[to] as LinkOut[];
    for (const out of dirty) {
      this.transport.publish(out.subject, takeFrame(out));
      this.timing.messagesOut++;
    }
    dirty.length = 0;
    const [a, b] = this.engine.plan.channel[this.engine.index]?.[to] as readonly [number, number];
    const from = this.ids[a] as string;
    const toId = this.ids[b] as string;
    this.transport.publish(
      this.subjects.data(toId, from),
      encodeLockstepPromise({ run: this.runId, from, to: toId, promise, links, sentAtMs: performance.timeOrigin + performance.now() }),
    );
    this.timing.messagesOut++;
    this.timing.publishMs += performance.now() - t0;
  }

  /** The window's frames to partition `to` and then its promise, in one write on their direct link. */
  private promiseDirect(to: number, promise: Nanos, links: readonly LinkSeq[], t0: number): void {
    const parts: { to: number; from: number; payload: Uint8Array }[] = [];
    const dirty = this.dirty[to] as LinkOut[];
    for (const out of dirty) {
      parts.push({ to: out.toRef, from: out.fromRef, payload: takeFrame(out) });
    }
    dirty.length = 0;
    const [a, b] = this.engine.plan.channel[this.engine.index]?.[to] as readonly [number, number];
    const from = this.ids[a] as string;
    const toId = this.ids[b] as string;
    const payload = encodeLockstepPromise({ run: this.runId, from, to: toId, promise, links, sentAtMs: performance.timeOrigin + performance.now() });
    parts.push({ to: b, from: a, payload });
    (this.direct as DirectLinks).send(to, parts);
    this.trace?.add({ k: 'x', at: WindowTrace.now(), to, promise });
    this.timing.messagesOut += parts.length;
    this.timing.publishMs += performance.now() - t0;
  }

  /**
   * Something arrived: run a window as soon as the client has handed over the rest of what it read with it (a
   * microtask, not a turn of the event loop: the bus's hop is most of a window's wall time already).
   */
  private arrived(): void {
    if (this.blockedSince >= 0 && this.wokenAt < 0) this.wokenAt = performance.now();
    if (this.scheduled || !this.started) return;
    this.scheduled = true;
    queueMicrotask(this.pump);
  }

  /** Run the next window at the next turn of the event loop: the client writes what was published before it. */
  private kick(): void {
    if (this.scheduled || !this.started) return;
    this.scheduled = true;
    setImmediate(this.pump);
  }

  /**
   * One window per turn: the NATS client writes what a turn published (the window's frames and promises) once the
   * turn ends, so a second window in the same turn would hold the first one's promise back from the neighbour
   * waiting for it. Samples to the controller are held until the end (SAMPLES_HELD).
   */
  private readonly pump = (): void => {
    this.scheduled = false;
    const timing = this.timing;
    const start = performance.now();
    const published = timing.publishMs;
    const from = this.engine.reached;
    const ran = this.engine.advance();
    if (ran) {
      const end = performance.now();
      timing.eventsMs += end - start - (timing.publishMs - published);
      timing.window(this.engine.reached - from, this.leastLookahead);
      this.trace?.add({ k: 'w', s: performance.timeOrigin + start, e: performance.timeOrigin + end, from, to: this.engine.reached });
    }
    if (this.blockedSince >= 0) {
      if (ran) {
        // The wait ends when what let it run arrived; from there to here is the event loop's turn.
        const arrived = this.wokenAt >= 0 ? this.wokenAt : start;
        this.waitMs += arrived - this.blockedSince;
        timing.wakeMs += start - arrived;
        this.blockedSince = -1;
      } else timing.idleWakes++;
      this.wokenAt = -1;
    }
    if (ran) this.onAdvance(this.engine.reached, this.waitShare());
    if (this.engine.done) {
      // The last samples before the end: the controller takes the partition's account after them.
      this.publishSamples();
      this.trace?.write();
      this.resolveDone();
      return;
    }
    if (this.samples.length >= SAMPLES_HELD && !this.samplesScheduled) {
      this.samplesScheduled = true;
      setImmediate(this.publishSamples);
    }
    if (this.engine.safeTime() > this.engine.reached) this.kick();
    else {
      if (this.blockedSince < 0) this.blockedSince = performance.now();
      if (this.spinUs > 0 && !this.spinning) {
        this.spinning = true;
        this.spinUntil = performance.now() + this.spinUs / 1000;
        setImmediate(this.spin);
      }
    }
  };

  private spinning = false;
  private spinUntil = 0;
  /** While it waits, a turn of the event loop at once after another (each polls its sockets without sleeping), up to spinUs. */
  private readonly spin = (): void => {
    if (this.blockedSince < 0 || this.engine.done || performance.now() > this.spinUntil) {
      this.spinning = false;
      return;
    }
    setImmediate(this.spin);
  };

  private readonly publishSamples = (): void => {
    this.samplesScheduled = false;
    if (this.samples.length === 0) return;
    const t0 = performance.now();
    for (const { t, shot } of this.samples) this.onSample(t, shot);
    this.samples.length = 0;
    const ms = performance.now() - t0;
    this.timing.samplesMs += ms;
    // Done while it had no window to run: not waiting for the bus, for the breakdown (the wait share counts it).
    if (this.blockedSince >= 0) this.timing.samplesWhileWaitingMs += ms;
  };

  /** Where its wall time went so far (docs/lockstep.md#how-fast). */
  windowTimes(): WindowTimes {
    return this.timing.times(this.waitMs + (this.blockedSince >= 0 ? performance.now() - this.blockedSince : 0));
  }

  /**
   * The share of wall time since the start it spent waiting: with no window it could run until a neighbour's
   * promise came (the barrier wait of a conservative run; the rest is running events and handling the bus).
   */
  waitShare(): number {
    const now = performance.now();
    const elapsed = now - this.startMs;
    const waiting = this.waitMs + (this.blockedSince >= 0 ? now - this.blockedSince : 0);
    return elapsed > 0 ? waiting / elapsed : 0;
  }

  refusals(): WireRefusals {
    const envelopes: Partial<Record<RejectKind, number>> = {};
    let first = this.firstRefusal;
    for (const d of this.decoders.values()) {
      for (const [k, v] of Object.entries(d.rejected) as [RejectKind, number][]) if (v > 0) envelopes[k] = (envelopes[k] ?? 0) + v;
      if (first === '' && d.lastError) first = d.lastError;
    }
    return { envelopes, promises: this.promisesRefused, outOfWindow: this.engine.final().refused, first };
  }

  close(): void {
    clearInterval(this.offerTimer);
    this.direct?.close();
    for (const s of this.subs) s.unsubscribe();
  }
}

/** A link's window of frames as one message (its header, then the parts in order); the link is left empty. */
function takeFrame(out: LinkOut): Uint8Array {
  const frame = new Uint8Array(out.bytes);
  frame.set(out.header, 0);
  let at = out.header.byteLength;
  for (const p of out.parts) {
    frame.set(p, at);
    at += p.byteLength;
  }
  out.parts.length = 0;
  out.bytes = out.header.byteLength;
  return frame;
}
