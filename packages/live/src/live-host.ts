// The `live` runtime: hosts actors of one process in wall-clock-driven emulated time, exchanging messages over a Transport.
import { BatchPool, LatencyHistogram, packetsIn, SplitnetError, txPacketsIn } from '@splitnet/model';
import type { Actor, ActorRef, ActorReport, Effects, FaultCommand, HistogramJson, Message, Nanos } from '@splitnet/model';
import { encodeEnvelopeBody, encodeFrameHeader, EnvelopeDecoder, Subjects } from '@splitnet/transport';
import type { RejectKind, Subscription, Transport } from '@splitnet/transport';
import { ArrivalOrderQueue, MAX_EVENTS_AT_ONE_INSTANT, stuckError } from '@splitnet/runtime';
import type { LinkFaults } from '@splitnet/runtime';
import { DilatedClock } from './dilated-clock.js';
import type { WallClock } from './dilated-clock.js';
import { faultSend } from './host-link-faults.js';
import type { LiveDiagnostics } from './live-diagnostics.js';

/** Internal event tag, below every actor's own timer tag (the receive path's are ≥ 0, the transmit path's negative). */
const TAG_START = Number.MIN_SAFE_INTEGER;

/**
 * A frame is flushed early once it holds this many bytes (NATS refuses payloads over its
 * max_payload, 1 MiB by default; PERF.md measured messages beyond ~16 KiB as no faster).
 */
const MAX_FRAME_BYTES = 32 * 1024;

/** One sender→receiver link to a remote actor: its sequence, and what this pump has sent on it (published as one frame). */
interface Outbox {
  readonly subject: string;
  /** The frame header (run, sender), encoded once. */
  readonly header: Uint8Array;
  /** Envelope bodies waiting for the end of the pump. */
  readonly parts: Uint8Array[];
  bytes: number;
  /** Last sequence number used on the link. */
  seq: number;
  /** The receiver's id, and the packets sent to it on this link (bus accounting). */
  readonly to: string;
  packets: number;
}

/**
 * An actor's Effects in a live host. A class, not an object of closures: every host's effects then
 * call the same prototype methods, so code optimised while the warm-up's hosts ran stays valid for the
 * run's (closures made per host were new call targets at the run's first events, and V8 deoptimised
 * every actor function that sends or sets timers).
 */
class HostEffects implements Effects {
  /**
   * Per receiver ref: this sender's outbox on that link (created on first use). Sized to every actor of
   * the run up front: a read past the end would deoptimise the send path optimised in the warm-up.
   */
  readonly links: (Outbox | undefined)[];
  constructor(
    private readonly host: LiveHost,
    readonly from: ActorRef,
    readonly fromId: string,
    actors: number,
  ) {
    this.links = Array.from({ length: actors }, () => undefined);
  }

  send(to: ActorRef, msg: Message, at: Nanos): void {
    this.host.sendFrom(this, to, msg, at);
  }

  timer(at: Nanos, tag: number): void {
    this.host.timerFor(this.from, at, tag);
  }

  event(kind: string, detail: Record<string, unknown>): void {
    this.host.eventFrom(this.fromId, kind, detail);
  }
}

export interface LiveHostOptions {
  readonly runId: string;
  readonly transport: Transport;
  readonly clock: WallClock;
  /** Time dilation factor: emulated time runs `tdf` times slower than wall time. */
  readonly tdf: number;
  /** Every actor of the run, by ref (ids address subjects). */
  readonly actorIds: readonly string[];
  /** The actors this process hosts. */
  readonly local: readonly { readonly ref: ActorRef; readonly actor: Actor }[];
  readonly linkDelay: (from: ActorRef, to: ActorRef) => Nanos;
  readonly limits: { readonly flows: number; readonly maxBatch: number };
  /** The batch pool of the local actors (their graph's): decoded batches come from it, sent ones go back to it (default: the host's own). */
  readonly pool?: BatchPool;
  readonly duration: Nanos;
  /** Lag is measured for events at or after this time (the warm-up absorbs start-up transients such as JIT compilation). */
  readonly measureFrom: Nanos;
  readonly sampleInterval: Nanos;
  /**
   * Least wall time between two pumps, in ms (default 0). A pump publishes one frame per receiver,
   * so a longer window means fewer, larger NATS messages and less CPU per packet, while every
   * message waits up to the window longer (÷ TDF in emulated time: the lateness figures show it).
   */
  readonly batchWindowMs?: number;
  /** Local actors' reports at each sample time (k · sampleInterval ≤ duration). */
  readonly onSample?: (t: Nanos, reports: readonly ActorReport[]) => void;
  /**
   * Every this many samples, the reports are full ones (`report(t, true)`: with the front ends' latency
   * histograms), so that a process that dies leaves its latency samples up to then (default 0: never).
   */
  readonly fullReportEvery?: number;
  /** Message-path faults consulted on every send (see host-link-faults.ts). */
  readonly linkFaults?: LinkFaults;
  /** Local actors' events (stalls, ring errors, fault effects), for the run's event log. */
  readonly onEvent?: (t: Nanos, actor: string, kind: string, detail: Record<string, unknown>) => void;
  /**
   * The datapath's sender rules (controller's senderRulesFor): a reason to refuse a message `from` sends `to`,
   * or undefined. Absent: every well-formed message from a known actor is taken.
   */
  readonly admit?: (from: string, to: string, m: Message) => string | undefined;
  /** This host's actors restarted in the middle of the run: their senders' sequences are under way (EnvelopeDecoderOptions.resumed). */
  readonly resumed?: boolean;
  /** Which restart of its process this host is (0: the first incarnation; Actor.rejoined gets it). */
  readonly incarnation?: number;
  /** Where the lag comes from (wake-ups, passes, GC…), measured only when given (live-diagnostics.ts). */
  readonly diagnostics?: LiveDiagnostics;
  /**
   * Waits shorter than this (wall ms) are polled with setImmediate instead of a timer (default 0: never).
   * libuv's timers fire on whole milliseconds, so a wait of 30 µs becomes about 1 ms; polling keeps the
   * wake-up near the due time at the price of a core spinning while it waits.
   */
  readonly pollBelowMs?: number;
  /**
   * Arm timers this long (wall ms) before the due time and poll the rest with setImmediate (default 0: arm for
   * the due time). libuv fires a timer up to ~1 ms after it is due; armed early, the wake-up lands near the due
   * time, at the price of a core spinning for up to this long per timed wake-up — not while idle between them.
   */
  readonly wakeEarlyMs?: number;
  /**
   * Per flow, the guest that sends it (−1: a flow from the wire; TxOrigin.flowVm): the frames of `rx` batches this
   * host takes that a guest sent are the bridge's guest-to-guest handoffs, counted per sender (HostFinal.guestFramesFrom).
   * Absent: no guest sends.
   */
  readonly flowVm?: Int32Array;
  /**
   * State changes of local actors at emulated instants, in time order (a multi-host run's switch-port faults in the
   * switch's process: fabric-faults.ts). Each runs before the events of its instant, as sim's fault steps; a host
   * that rejoins late runs those already due at once.
   */
  readonly steps?: readonly TimedStep[];
  /**
   * The instants this host's actors resync at (partition ends), when not every partition's (linkFaults.resyncTimes):
   * a multi-host run's processes resync at their own host's partitions' ends only, as sim's steps do.
   */
  readonly resyncTimes?: readonly Nanos[];
}

/** A state change of a local actor at an emulated instant (LiveHostOptions.steps). */
export interface TimedStep {
  readonly t: Nanos;
  readonly apply: (now: Nanos) => void;
}

/** One side's counts of a link between two actors over the bus (HostFinal.links). */
export interface LinkCounts {
  sent?: number;
  received?: number;
  rejected?: number;
  gaps?: number;
}

/** Everything a host knows at the end of its run; the controller combines these across processes. */
export interface HostFinal {
  readonly reports: readonly ActorReport[];
  /** Packets in messages that reached this host but were due after the end (in flight in the model). */
  readonly pendingPackets: number;
  /** Packets sent to / received from each peer actor id (bus accounting). */
  readonly sentTo: Record<string, number>;
  readonly receivedFrom: Record<string, number>;
  /**
   * Frames guests sent (the transmit path), in messages this host put on the bus, accepted from it, and holds
   * due after the end: the transmit accounting's frames on the bus (a guest that sends runs fault-free).
   */
  /**
   * A multi-host run's fabric frames due by the end (uplinks to the switch, downlinks to a NIC), per receiver id: those
   * this host sent it, and those it handled (as the receiver). Sent − handled over every host is what the bus still
   * held, or a receiver had not handled, at the end: on the cables as far as the fabric's accounting goes.
   */
  readonly fabric?: Readonly<Record<string, { readonly sent: number; readonly done: number }>>;
  readonly txSent?: number;
  readonly txReceived?: number;
  readonly txPending?: number;
  /** Of txSent / txReceived: frames a guest sent, to / from each peer actor id (the transmit path's bus accounting). */
  readonly txSentTo?: Record<string, number>;
  readonly txReceivedFrom?: Record<string, number>;
  readonly rejected: Record<RejectKind, number>;
  readonly gaps: number;
  readonly lastRejection: string;
  /**
   * Per link `<from>><to>` between actors over the bus, what this host knows of it: as the sender, the packets it
   * sent; as the receiver, the packets it accepted and refused (see EnvelopeDecoder.rejectedPackets) and the
   * sequence numbers missing (lost on the bus, or refused here).
   */
  readonly links?: Record<string, LinkCounts>;
  /** The first refusal of each kind, one line each: what a tainted run's verdict names. */
  readonly rejections?: Partial<Record<RejectKind, string>>;
  /** Times this process's NATS connection was lost (messages may have been lost with it: gaps it explains). */
  readonly disconnects?: number;
  /** Control messages the process refused (forged, replayed, another controller's), and the first reason (actor-process.ts adds them). */
  readonly controlRefused?: number;
  readonly controlRefusal?: string;
  /** How late inputs arrived relative to their modeled delivery time (emulated ns). */
  readonly inputLateness: HistogramJson;
  /** How far behind emulated time events were processed (emulated ns). */
  readonly processingLag: HistogramJson;
  /**
   * The same, split into the first and second halves of the measured window: set side by side,
   * they tell a lag that stays bounded from one that grows over the run (a host falling behind).
   */
  readonly processingLagEarly?: HistogramJson;
  readonly processingLagLate?: HistogramJson;
  readonly eventsProcessed: number;
  /** Pumps run (each processes the events due, then publishes what they sent). */
  readonly pumps: number;
  /** Frames (NATS messages) published and the envelopes they carried: their ratio is the batching the load produced. */
  readonly framesSent: number;
  readonly envelopesSent: number;
  /** Packets in messages a message-path fault dropped at this host's send path. */
  readonly linkDropped?: number;
  /** Frames a guest sent in messages a partition dropped at this host's send path (absent: none). */
  readonly txLinkDropped?: number;
  /**
   * Of receivedFrom: the frames a guest sent in the `rx` batches this host took, and their bytes, per sender (the
   * bridge's guest-to-guest handoffs: LiveHostOptions.flowVm). A restarted bridge's count of them died with it; the
   * receivers' survives (collect.ts, withBridgeHandoffs). Absent: none.
   */
  readonly guestFramesFrom?: Record<string, { readonly frames: number; readonly bytes: number }>;
}

/**
 * The options with every key present, in one order. Callers leave out different optional keys (the
 * warm-up's hosts have no event sink or link faults, the run's may), which gave their options objects
 * different hidden classes: code optimised in the warm-up was thrown away at the run's first pump
 * ("wrong map"). Optional keys stay undefined here.
 */
function normalized(o: LiveHostOptions): LiveHostOptions {
  const n: { -readonly [K in keyof LiveHostOptions]-?: LiveHostOptions[K] | undefined } = {
    runId: o.runId,
    transport: o.transport,
    clock: o.clock,
    tdf: o.tdf,
    actorIds: o.actorIds,
    local: o.local,
    linkDelay: o.linkDelay,
    limits: o.limits,
    pool: o.pool,
    duration: o.duration,
    measureFrom: o.measureFrom,
    sampleInterval: o.sampleInterval,
    batchWindowMs: o.batchWindowMs ?? 0,
    onSample: o.onSample,
    fullReportEvery: o.fullReportEvery ?? 0,
    linkFaults: o.linkFaults,
    onEvent: o.onEvent,
    admit: o.admit,
    resumed: o.resumed ?? false,
    incarnation: o.incarnation ?? 0,
    diagnostics: o.diagnostics,
    pollBelowMs: o.pollBelowMs ?? 0,
    wakeEarlyMs: o.wakeEarlyMs ?? 0,
    flowVm: o.flowVm,
    steps: o.steps ?? [],
    resyncTimes: o.resyncTimes,
  };
  return n as LiveHostOptions;
}

/**
 * One process's share of a live run. Messages are published as soon as an actor sends them, stamped
 * with the emulated time they are due; the receiver holds each until that time (so transport latency
 * is hidden up to the modeled delay) and processes events in time order. An event processed after
 * its time is late: the lag is measured, never hidden.
 */
export class LiveHost {
  private readonly queue = new ArrivalOrderQueue();
  /** Events queued so far: events of one instant run in the order they were queued (ArrivalOrderQueue). */
  private pushed = 0;
  private readonly subjects: Subjects;
  /** One decoder per local actor: sequence numbers are per sender→receiver link. */
  private readonly decoders = new Map<ActorRef, EnvelopeDecoder>();
  private readonly effects = new Map<ActorRef, Effects>();
  private readonly actors = new Map<ActorRef, Actor>();
  /** Outboxes holding bodies not yet published. */
  private readonly dirty: Outbox[] = [];
  private readonly subs: Subscription[] = [];
  private readonly sentTo: Record<string, number> = {};
  private readonly receivedFrom: Record<string, number> = {};
  private txSent = 0;
  private txReceived = 0;
  private readonly txSentTo: Record<string, number> = {};
  private readonly txReceivedFrom: Record<string, number> = {};
  private readonly guestFramesFrom: Record<string, { frames: number; bytes: number }> = {};
  /** A multi-host run's fabric frames due by the end, per receiver id: sent to it from here, and handled here (HostFinal.fabric). */
  private readonly fabric: Record<string, { sent: number; done: number }> = {};
  private readonly refById = new Map<string, ActorRef>();
  private readonly inputLateness = new LatencyHistogram();
  /** Processing lag in the first and second halves of the measured window (the whole is their merge). */
  private readonly processingLagEarly = new LatencyHistogram();
  private readonly processingLagLate = new LatencyHistogram();
  /** Start of the second half of the measured window. */
  private readonly lateFrom: Nanos;
  /** Wall ↔ emulated time of this host (the run's epoch once started). */
  private readonly time: DilatedClock;
  /** Where the local actors' packet batches come from and go back to. */
  private readonly pool: BatchPool;
  private now: Nanos = 0;
  private nextSample: Nanos;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private finished = false;
  private resolveDone: (() => void) | null = null;
  private rejectDone: ((err: Error) => void) | null = null;
  /** The emulated instant of the last event, and how many events it has had (livelock guard). */
  private instant = -1;
  private atInstant = 0;
  eventsProcessed = 0;
  private pumps = 0;
  private framesSent = 0;
  private envelopesSent = 0;
  /** Packets in messages a message-path fault dropped (see host-link-faults.ts). */
  linkDropped = 0;
  txLinkDropped = 0;
  /** The instants partitions end (LinkFaults.resyncTimes), and how many of them this host's actors have resynced at. */
  private readonly resyncTimes: readonly Nanos[];
  private resyncsDone = 0;
  /** The state changes at emulated instants (LiveHostOptions.steps), and how many have run. */
  private readonly steps: readonly TimedStep[];
  private stepsDone = 0;
  /** True while a duplicate is being sent (host-link-faults.ts), so that it is not routed and duplicated again. */
  resending = false;
  /** Resolves when emulated time reaches the duration. */
  readonly done: Promise<void>;

  /** The options, every key present in one order: one hidden class for every host (see normalized). */
  private readonly o: LiveHostOptions;

  constructor(options: LiveHostOptions) {
    const o = normalized(options);
    this.o = o;
    this.time = new DilatedClock(o.clock, o.tdf);
    this.pool = o.pool ?? new BatchPool();
    this.subjects = new Subjects(o.runId);
    this.nextSample = o.sampleInterval > 0 ? o.sampleInterval : Infinity;
    this.resyncTimes = o.resyncTimes ?? o.linkFaults?.resyncTimes ?? [];
    this.steps = o.steps ?? [];
    this.lateFrom = o.measureFrom + (o.duration - o.measureFrom) / 2;
    o.actorIds.forEach((id, ref) => this.refById.set(id, ref));
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    for (const { ref, actor } of o.local) {
      this.actors.set(ref, actor);
      const admit = o.admit;
      const to = actor.id;
      this.decoders.set(
        ref,
        new EnvelopeDecoder({
          run: o.runId,
          limits: o.limits,
          pool: this.pool,
          self: to,
          resumed: o.resumed === true,
          ...(admit ? { admit: (from: string, m: Message) => admit(from, to, m) } : {}),
        }),
      );
      this.effects.set(ref, this.makeEffects(ref));
    }
  }

  /**
   * Subscribe the local actors' inboxes (call before announcing readiness): everything sent to each, from any
   * sender. The subject names the sender (and the bus's permissions, where it has them, who may send as whom);
   * a frame whose header names another is refused as spoofed.
   */
  attach(): void {
    for (const { ref, actor } of this.o.local) {
      const id = actor.id;
      this.subs.push(
        this.o.transport.subscribe(this.subjects.dataInbox(id), (data, subject) => this.onData(data, ref, this.subjects.senderOf(id, subject) ?? subject)),
      );
    }
  }

  /**
   * Start emulated time 0 at wall time `epochMs` (the same for every process of the run). A host
   * restarted in the middle of a run (`rejoin`) gets the same epoch and joins at the emulated time it
   * is now: its actors reconnect to their peers (`reconnect`, or `start` for an actor without one) at
   * once, before any message that reached it while it waited, and their time starts there. `held`:
   * datapath faults in effect for its actors, which they take at that same instant (a fresh actor
   * would otherwise run without them, e.g. a NIC with its link up in the middle of a link-flap).
   */
  start(epochMs: number, rejoin = false, held: readonly { readonly ref: ActorRef; readonly cmd: FaultCommand }[] = []): void {
    this.time.start(epochMs);
    if (!rejoin) {
      // Actors start at time 0: queue their start as the first events.
      for (const { ref } of this.o.local) this.queue.push(0, ref, null, TAG_START, ++this.pushed);
    } else {
      const now = this.emulatedNow();
      if (now > this.now) this.now = now;
      this.nextSample = Math.max(this.nextSample, Math.ceil(this.now / this.o.sampleInterval) * this.o.sampleInterval);
      for (const { ref, actor } of this.o.local) {
        const fx = this.effects.get(ref) as Effects;
        if (actor.reconnect) actor.reconnect(this.now, fx);
        else actor.start(this.now, fx);
        actor.rejoined?.(this.now, fx, Math.max(1, this.o.incarnation ?? 0));
      }
      this.stepsUpTo(this.now);
      for (const { ref, cmd } of held) {
        const actor = this.actors.get(ref);
        if (actor?.fault) actor.fault(cmd, this.now, this.effects.get(ref) as Effects);
      }
    }
    this.schedule();
  }

  /** A peer actor restarted: its sequence numbers start again at 1. */
  forgetSender(actorId: string): void {
    for (const d of this.decoders.values()) d.forgetSender(actorId);
  }

  /** Emulated time now, from the wall clock. */
  emulatedNow(): Nanos {
    return this.time.now();
  }

  private outbox(links: (Outbox | undefined)[], fromId: string, to: ActorRef, toId: string): Outbox {
    const header = encodeFrameHeader(this.o.runId, fromId, toId);
    const box: Outbox = { subject: this.subjects.data(toId, fromId), header, parts: [], bytes: header.byteLength, seq: 0, to: toId, packets: 0 };
    links[to] = box;
    return box;
  }

  private makeEffects(from: ActorRef): Effects {
    return new HostEffects(this, from, this.o.actorIds[from] as string, this.o.actorIds.length);
  }

  /** An actor's send (HostEffects.send): in memory to a co-located actor, else into its link's outbox. */
  sendFrom(fx: HostEffects, to: ActorRef, msg: Message, at: Nanos): void {
    const from = fx.from;
    const toId = this.o.actorIds[to];
    if (toId === undefined) throw new SplitnetError('E_INTERNAL', `${fx.fromId}: send to unknown actor ref ${to}`);
    let due = at + this.o.linkDelay(from, to);
    // Fault injection (drop / delay / duplicate / reorder): logic and counting in host-link-faults.ts.
    if (this.o.linkFaults !== undefined) {
      const d = faultSend(this, this.o.linkFaults, from, to, msg, at, due);
      if (d < 0) return;
      due = d;
    }
    if (this.actors.has(to)) {
      // Co-located actors (e.g. the NIC and its driver) exchange messages in memory, not over the bus.
      this.queue.push(due, to, msg, 0, ++this.pushed);
      this.schedule();
      return;
    }
    const links = fx.links;
    const box = links[to] ?? this.outbox(links, fx.fromId, to, toId);
    const packets = packetsIn(msg);
    this.sentTo[toId] = (this.sentTo[toId] ?? 0) + packets;
    const tx = txPacketsIn(msg);
    if (tx > 0) {
      this.txSent += tx;
      this.txSentTo[toId] = (this.txSentTo[toId] ?? 0) + tx;
    }
    box.packets += packets;
    // Stamped with the instant the actor sends it (not before now): a NIC puts a frame on its cable to the switch at the
    // instant it leaves, ahead of now, and the frame's emittedAt is that instant (the receiver checks emittedAt ≤ t).
    if ((msg.kind === 'uplink' || msg.kind === 'downlink') && due <= this.o.duration) this.fabricOf(toId).sent += msg.batch.count;
    const body = encodeEnvelopeBody(++box.seq, at > this.now ? at : this.now, due, msg);
    // The packets were copied into the envelope: the batch goes back to this process's pool, as the
    // receiver would have released it after copying them out in one process.
    if ('batch' in msg) this.pool.release(msg.batch);
    if (box.bytes + body.byteLength > MAX_FRAME_BYTES && box.parts.length > 0) this.publish(box);
    if (box.parts.length === 0) this.dirty.push(box);
    box.parts.push(body);
    box.bytes += body.byteLength;
  }

  /** An actor's timer (HostEffects.timer). */
  timerFor(from: ActorRef, at: Nanos, tag: number): void {
    this.queue.push(at, from, null, tag, ++this.pushed);
    this.schedule();
  }

  /** An actor's event (HostEffects.event). */
  eventFrom(fromId: string, kind: string, detail: Record<string, unknown>): void {
    this.o.onEvent?.(this.now, fromId, kind, detail);
  }

  /**
   * Publish what the last pump sent, one frame per receiving actor. Batching per pump is what lets
   * live mode keep up: a busy host's pumps cover more emulated time each, so its frames grow with
   * the load and the per-message cost of the bus (publish, route, deliver, parse) is shared by
   * more envelopes. Each envelope keeps its own due time and sequence number, so receivers see
   * exactly the messages, in the order, that unbatched sending would have given them.
   */
  private flush(): void {
    const dirty = this.dirty;
    for (let i = 0; i < dirty.length; i++) this.publish(dirty[i] as Outbox);
    dirty.length = 0;
  }

  private publish(box: Outbox): void {
    const parts = box.parts;
    if (parts.length === 0) return;
    const frame = Buffer.allocUnsafe(box.bytes);
    frame.set(box.header, 0);
    let at = box.header.byteLength;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] as Uint8Array;
      frame.set(p, at);
      at += p.byteLength;
    }
    this.framesSent++;
    this.envelopesSent += parts.length;
    parts.length = 0;
    box.bytes = box.header.byteLength;
    this.o.transport.publish(box.subject, frame);
  }

  private onData(data: Uint8Array, to: ActorRef, subjectSender: string): void {
    const envs = (this.decoders.get(to) as EnvelopeDecoder).decodeFrame(data, subjectSender); // rejects are counted by the decoder
    if (envs.length === 0) return;
    const late0 = this.time.started ? this.emulatedNow() : -Infinity;
    // Every envelope of a frame is from the sender its header names: the frame's packets are counted once.
    let packets = 0;
    let txPackets = 0;
    for (const env of envs) {
      packets += packetsIn(env.m);
      txPackets += txPacketsIn(env.m);
      if (late0 !== -Infinity && env.at >= this.o.measureFrom) {
        const late = late0 - env.at;
        this.inputLateness.record(late > 0 ? late : 0);
      }
      this.queue.push(env.at, to, env.m, 0, ++this.pushed);
    }
    const from = (envs[0] as (typeof envs)[number]).from;
    this.receivedFrom[from] = (this.receivedFrom[from] ?? 0) + packets;
    if (this.o.flowVm !== undefined) this.countGuestFrames(envs, from, this.o.flowVm);
    if (txPackets > 0) {
      this.txReceived += txPackets;
      this.txReceivedFrom[from] = (this.txReceivedFrom[from] ?? 0) + txPackets;
    }
    if (this.o.diagnostics !== undefined && this.dueArrivalMs < 0 && late0 !== -Infinity && late0 >= (envs[0] as (typeof envs)[number]).at)
      this.dueArrivalMs = this.o.clock.nowMs();
    this.schedule();
  }

  /** Of the envelopes `from` sent: the frames a guest sent in `rx` batches (the bridge's handoffs), and their bytes. */
  private countGuestFrames(envs: readonly { readonly m: Message }[], from: string, flowVm: Int32Array): void {
    let frames = 0;
    let bytes = 0;
    for (const env of envs) {
      if (env.m.kind !== 'rx') continue;
      const b = env.m.batch;
      for (let i = 0; i < b.count; i++) {
        if ((flowVm[b.flow[i] as number] ?? -1) < 0) continue;
        frames++;
        bytes += b.len[i] as number;
      }
    }
    if (frames === 0) return;
    const c = (this.guestFramesFrom[from] ??= { frames: 0, bytes: 0 });
    c.frames += frames;
    c.bytes += bytes;
  }

  /**
   * Wake the pump when the next event (or sample, or the end) is due. Waits use timers, never a
   * busy loop: on a machine with more actor processes than cores, spinning processes would starve
   * the ones with work. The price is the timers' ~1 ms granularity in wall time (÷ TDF in emulated
   * time), which the processing-lag figures show.
   */
  private schedule(): void {
    if (this.finished || !this.time.started || this.immediate !== null) return;
    const next = this.queue.peekTime();
    const step = this.steps[this.stepsDone]?.t ?? Infinity;
    const boundary = Math.min(next, this.nextSample, this.resyncTimes[this.resyncsDone] ?? Infinity, step, this.o.duration);
    const wallNow = this.o.clock.nowMs();
    let waitMs = this.time.wallMs(boundary - this.emulatedNow());
    if (this.caughtUp) {
      const paced = this.lastPumpMs + (this.o.batchWindowMs ?? 0) - wallNow;
      if (paced > waitMs) waitMs = paced;
    }
    // Woken early (wakeEarlyMs), the rest of a wait is polled.
    const early = this.o.wakeEarlyMs as number;
    if (this.timer !== null) {
      if (wallNow + waitMs - early >= this.timerAtMs - 0.05) return; // the armed timer fires early enough
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (waitMs <= 0 || waitMs < (this.o.pollBelowMs as number) || waitMs <= early) {
      this.immediateAtMs = wallNow;
      this.immediate = setImmediate(this.pump);
    } else {
      this.timerAtMs = wallNow + waitMs - early;
      this.timer = setTimeout(this.pump, waitMs - early);
    }
  }
  /** Wall time the armed timer fires at. */
  private timerAtMs = Infinity;
  /** Wall time the pending immediate was asked for (diagnostics). */
  private immediateAtMs = -1;
  /** Wall time a frame with messages already due arrived, not yet handled by a pass (diagnostics; −1: none). */
  private dueArrivalMs = -1;
  /** Wall time the last pump started at (pacing by `batchWindowMs`). */
  private lastPumpMs = -Infinity;
  /** The last pump processed every event that was due (else the next one runs at once, unpaced). */
  private caughtUp = true;

  private readonly pump = (): void => {
    const byTimer = this.immediate === null;
    this.immediate = null;
    this.timer = null;
    if (this.finished) return;
    this.pumps++;
    this.lastPumpMs = this.o.clock.nowMs();
    const diag = this.o.diagnostics;
    if (diag !== undefined) this.wokeUp(diag, byTimer);
    const events0 = this.eventsProcessed;
    const emuNow = this.emulatedNow();
    const q = this.queue;
    // A pump yields to I/O after 512 events; the next one follows at once (pacing waits only after a
    // pump that took everything due, or it would cap the events per second a process can handle).
    let budget = 512;
    this.caughtUp = true;
    for (;;) {
      const t = q.peekTime();
      const due = Math.min(t, this.o.duration);
      if (this.nextSample <= due && this.nextSample <= emuNow) {
        this.sample(this.nextSample);
        this.nextSample += this.o.sampleInterval;
        continue;
      }
      const step = this.steps[this.stepsDone];
      if (step !== undefined && step.t <= due && step.t <= emuNow) {
        this.stepsDone++;
        if (step.t > this.now) this.now = step.t;
        step.apply(this.now);
        continue;
      }
      const partitionEnd = this.resyncTimes[this.resyncsDone] ?? Infinity;
      if (partitionEnd <= due && partitionEnd <= emuNow) {
        this.resyncsDone++;
        this.resyncActors(partitionEnd);
        continue;
      }
      if (t >= this.o.duration) {
        if (emuNow >= this.o.duration) {
          this.flush();
          this.finish();
          return;
        }
        break;
      }
      if (t > emuNow) break;
      if (budget-- <= 0) {
        this.caughtUp = false;
        break;
      }
      const slot = q.pop();
      const target = q.slotTarget(slot);
      const msg = q.slotMsg(slot);
      const tag = q.slotTag(slot);
      q.release(slot);
      if (t > this.now) this.now = t;
      if (t >= this.o.measureFrom) {
        (t >= this.lateFrom ? this.processingLagLate : this.processingLagEarly).record(emuNow - t > 0 ? emuNow - t : 0);
      }
      if (diag !== undefined) diag.lag(emuNow - t > 0 ? emuNow - t : 0, t >= this.o.measureFrom);
      const actor = this.actors.get(target);
      const fx = this.effects.get(target);
      if (!actor || !fx) continue;
      if (msg !== null && (msg.kind === 'uplink' || msg.kind === 'downlink')) this.fabricOf(this.o.actorIds[target] as string).done += msg.batch.count;
      if (t !== this.instant) {
        this.instant = t;
        this.atInstant = 0;
      } else if (++this.atInstant > MAX_EVENTS_AT_ONE_INSTANT) {
        // A livelock: the run cannot reach its end. Stop here and say why (the process reports it and exits).
        this.finished = true;
        this.rejectDone?.(stuckError(t, actor.id, msg, tag));
        return;
      }
      this.eventsProcessed++;
      if (msg !== null) actor.receive(msg, this.now, fx);
      else if (tag === TAG_START) actor.start(this.now, fx);
      else actor.timer(tag, this.now, fx);
    }
    this.flush();
    if (diag !== undefined && this.eventsProcessed > events0) diag.passTook(this.o.clock.nowMs() - this.lastPumpMs);
    this.schedule();
  };

  /** Diagnostics of a pass's wake-up: how late its timer fired, or how long its immediate took, and since when due input waited. */
  private wokeUp(diag: LiveDiagnostics, byTimer: boolean): void {
    const wall = this.lastPumpMs;
    if (byTimer) diag.timerFired(this.timerAtMs, wall);
    else if (this.immediateAtMs >= 0) diag.immediateRan(wall - this.immediateAtMs);
    if (this.dueArrivalMs >= 0) diag.arrivalHandled(wall - this.dueArrivalMs);
    this.dueArrivalMs = -1;
  }

  private sample(t: Nanos): void {
    if (!this.o.onSample) return;
    const every = this.o.fullReportEvery ?? 0;
    const full = every > 0 && ++this.samplesTaken % every === 0;
    const reports = this.o.local.map(({ actor }) => actor.report(t, full));
    this.o.onSample(t, reports);
  }
  /** Samples taken (every `fullReportEvery`-th is a full one). */
  private samplesTaken = 0;

  private finish(): void {
    this.finished = true;
    while (this.nextSample <= this.o.duration) {
      this.sample(this.nextSample);
      this.nextSample += this.o.sampleInterval;
    }
    this.resolveDone?.();
  }

  /** Emulated time the run ended at in this host: the duration, or where `halt` stopped it. */
  private endAt: Nanos | undefined;

  /**
   * End the run here now (an interrupted run): no more events, samples or sends; messages that arrive
   * from now on are held and count as in flight. Returns the emulated time it ended at.
   */
  halt(): Nanos {
    if (this.endAt !== undefined) return this.endAt;
    const now = this.time.started ? this.emulatedNow() : 0;
    this.endAt = Math.max(0, Math.min(this.o.duration, Math.max(now, this.now)));
    this.flush();
    this.finished = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    return this.endAt;
  }

  private fabricOf(id: string): { sent: number; done: number } {
    return (this.fabric[id] ??= { sent: 0, done: 0 });
  }

  /** The host's end-of-run account (call after `done` and the drain time, or after `halt`). */
  final(): HostFinal {
    let pending = 0;
    let txPending = 0;
    this.queue.forEachMessage((m) => {
      pending += packetsIn(m);
      txPending += txPacketsIn(m);
    });
    const rejected = {} as Record<RejectKind, number>;
    let gaps = 0;
    let lastRejection = '';
    const links: Record<string, LinkCounts> = {};
    const rejections: Partial<Record<RejectKind, string>> = {};
    const link = (key: string): LinkCounts => (links[key] ??= {});
    for (const fx of this.effects.values()) {
      for (const box of (fx as HostEffects).links) if (box !== undefined) link(`${(fx as HostEffects).fromId}>${box.to}`).sent = box.packets;
    }
    for (const [ref, d] of this.decoders) {
      for (const [k, v] of Object.entries(d.rejected) as [RejectKind, number][]) rejected[k] = (rejected[k] ?? 0) + v;
      gaps += d.gaps;
      if (d.lastError) lastRejection = d.lastError;
      const to = this.o.actorIds[ref] as string;
      for (const [from, v] of d.acceptedPackets()) link(`${from}>${to}`).received = v;
      for (const [from, v] of d.rejectedPackets()) link(`${from}>${to}`).rejected = v;
      for (const [from, v] of d.gapsBySender()) link(`${from}>${to}`).gaps = v;
      for (const [k, line] of d.firstRejections()) rejections[k] ??= line;
    }
    const processingLag = new LatencyHistogram();
    processingLag.merge(this.processingLagEarly);
    processingLag.merge(this.processingLagLate);
    return {
      reports: this.o.local.map(({ actor }) => actor.report(this.endAt ?? this.o.duration, true)),
      pendingPackets: pending,
      sentTo: { ...this.sentTo },
      receivedFrom: { ...this.receivedFrom },
      ...(this.txSent + this.txReceived + txPending > 0
        ? { txSent: this.txSent, txReceived: this.txReceived, txPending, txSentTo: { ...this.txSentTo }, txReceivedFrom: { ...this.txReceivedFrom } }
        : {}),
      ...(Object.keys(this.fabric).length > 0 ? { fabric: structuredClone(this.fabric) } : {}),
      rejected,
      gaps,
      lastRejection,
      links,
      rejections,
      disconnects: this.o.transport.counters.disconnects,
      inputLateness: this.inputLateness.toJSON(),
      processingLag: processingLag.toJSON(),
      processingLagEarly: this.processingLagEarly.toJSON(),
      processingLagLate: this.processingLagLate.toJSON(),
      eventsProcessed: this.eventsProcessed,
      pumps: this.pumps,
      framesSent: this.framesSent,
      envelopesSent: this.envelopesSent,
      linkDropped: this.linkDropped,
      ...(this.txLinkDropped > 0 ? { txLinkDropped: this.txLinkDropped } : {}),
      ...(Object.keys(this.guestFramesFrom).length > 0 ? { guestFramesFrom: structuredClone(this.guestFramesFrom) } : {}),
    };
  }

  /** Deliver a datapath fault command to a local actor now (a scheduled or ad-hoc fault from the controller). */
  applyFault(ref: ActorRef, cmd: FaultCommand): boolean {
    const actor = this.actors.get(ref);
    const fx = this.effects.get(ref);
    if (!actor || !fx || this.finished || !this.time.started) return false;
    const t = this.emulatedNow();
    if (t > this.now) this.now = t;
    actor.fault?.(cmd, this.now, fx);
    this.schedule();
    return true;
  }

  /**
   * The bus was down and is back (the transport reconnected): local actors announce their shared state
   * again (Actor.resync), since messages may have been lost in it. Returns how many actors did.
   */
  resync(): number {
    if (this.finished || !this.time.started) return 0;
    const t = this.emulatedNow();
    if (t > this.now) this.now = t;
    let n = 0;
    for (const { ref, actor } of this.o.local) {
      if (!actor.resync) continue;
      actor.resync(this.now, this.effects.get(ref) as Effects);
      n++;
    }
    this.flush();
    this.schedule();
    return n;
  }

  /**
   * A partition ended at `at` (emulated): every local actor announces its shared state again (Actor.resync), as after a
   * NATS outage, before the events of that instant — sim's fault step (fault-plan.ts) at the same instant.
   */
  private resyncActors(at: Nanos): void {
    if (at > this.now) this.now = at;
    for (const { ref, actor } of this.o.local) actor.resync?.(this.now, this.effects.get(ref) as Effects);
  }

  /** Run the steps due by `t` (a host that rejoins: the state its actors would have by now). */
  private stepsUpTo(t: Nanos): void {
    for (let st = this.steps[this.stepsDone]; st !== undefined && st.t <= t; st = this.steps[++this.stepsDone]) st.apply(t);
  }

  /** Send a message a second time (a duplicate-messages fault); called from host-link-faults.ts. */
  resend(from: ActorRef, to: ActorRef, msg: Message, due: Nanos): void {
    (this.effects.get(from) as Effects).send(to, msg, due - this.o.linkDelay(from, to));
  }

  /** Send as actor `from` (the zero-copy callback of a batch a fault dropped); called from host-link-faults.ts. */
  sendAs(from: ActorRef, to: ActorRef, msg: Message, at: Nanos): void {
    (this.effects.get(from) as Effects).send(to, msg, at);
  }

  /** Stop timers and unsubscribe (the transport itself is the caller's to drain). */
  close(): void {
    this.flush();
    this.finished = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    for (const s of this.subs) s.unsubscribe();
  }
}
