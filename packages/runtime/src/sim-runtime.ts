// The deterministic `sim` runtime: every actor in one process, driven by a discrete-event loop in virtual time.
import { BatchPool, packetsIn, SplitnetError, txPacketsIn, zerocopyRelease } from '@splitnet/model';
import type { Actor, ActorRef, Effects, FaultCommand, Message, Nanos, PacketBatch, TxOrigin } from '@splitnet/model';
import { EventQueue, MAX_ACTORS, originOf, originSeq } from './event-queue.js';
import { MAX_EVENTS_AT_ONE_INSTANT, stuckError } from './stuck.js';
import { ROUTE_DROP, ROUTE_DUPLICATE } from './link-faults.js';
import type { LinkFaults } from './link-faults.js';

export interface RuntimeEvent {
  readonly t: Nanos;
  readonly actor: string;
  readonly kind: string;
  readonly detail: Record<string, unknown>;
}

export interface SimOptions {
  /** One-way delay added to every message from actor `from` to actor `to`. */
  readonly linkDelay: (from: ActorRef, to: ActorRef) => Nanos;
  /** Message-path faults consulted on every send (absent: none). */
  readonly linkFaults?: LinkFaults;
  /**
   * Sees every message as it is sent, before delivery (e.g. to put it through the wire codec). It
   * must not keep or change the message: the runtime delivers the same object.
   */
  readonly tap?: (from: ActorRef, to: ActorRef, msg: Message, at: Nanos, due: Nanos) => void;
  /** The batch pool the actors use: a message the runtime drops gives its batch back there (default: one of the runtime's own). */
  readonly pool?: BatchPool;
  /** Lockstep: this runtime runs one partition of the run's actors (absent: all of them). */
  readonly partition?: PartitionOptions;
  /**
   * Where the frames guests send come from (a run with guests that send): a message with such frames sent to a
   * dead actor, and the frames a dying actor held (Actor.crashRelease), give their slots back to the sender's
   * netback dealloc, as freeing their skbs runs the zero-copy callback. In a multi-host run each host numbers its
   * flows its own way: `of` gives the origin of the dead actor's host (undefined: a host without guests that send).
   */
  readonly txOrigin?: TxOrigin | { readonly of: (ref: ActorRef) => TxOrigin | undefined };
}

/**
 * One partition of a run (lockstep, docs/lockstep.md): the runtime starts and runs only the actors it owns;
 * what they send to the others goes to `remote` (which must copy it: the batch goes back to the pool after),
 * and what the others send them comes in through `deliver`.
 */
export interface PartitionOptions {
  /** Per actor ref: whether this partition runs it. */
  readonly owned: readonly boolean[];
  /** A message to an actor of another partition: `seq` is its sequence number on the link from → to. */
  readonly remote: (from: ActorRef, to: ActorRef, msg: Message, at: Nanos, due: Nanos, seq: number) => void;
}

/**
 * Where a log entry falls in sim's order of a run: the greatest ordering key among the events its partition had
 * run when it was written (time, destination, origin; an actor's start is (0, -1, its ref)). Sim runs every
 * partition's events interleaved by the key of each partition's next event; merging the partitions' logs by this
 * running maximum gives exactly that order (docs/lockstep.md#the-event-log).
 */
export interface LogKey {
  readonly t: Nanos;
  readonly dst: number;
  readonly origin: number;
}

/** Give a dropped message's packet batch back to the pool. */
function releaseCarried(pool: BatchPool, msg: Message): void {
  if (msg.kind === 'dma' || msg.kind === 'rx' || msg.kind === 'rsp') pool.release(msg.batch);
}

export interface RunHooks {
  /** Called at every multiple of `sampleInterval` (before events at later times run). */
  readonly sampleInterval?: Nanos;
  readonly onSample?: (t: Nanos) => void;
}

/**
 * Executes actors' effects in virtual time. Events with equal times run in the order of the ordering key
 * (destination, source, the source's sequence number on that link: event-queue.ts), so the same actors and
 * inputs always give the same run, and a partition of the actors (lockstep) runs its events in sim's order.
 */
export class SimRuntime {
  private readonly actors: Actor[] = [];
  private readonly effects: Effects[] = [];
  private readonly queue = new EventQueue();
  private readonly delays: Nanos[][] = [];
  /**
   * Per source, per destination: the last sequence number on that link (a timer is on the actor's link to
   * itself). The ordering key's last part, and in lockstep the sequence number of the link's envelopes.
   */
  private readonly linkSeq: number[][] = [];
  private _now: Nanos = 0;
  /** Lockstep: end the current run() once the instant running now is done (stopAfterInstant). */
  private stopAsked = false;
  private started = false;
  /** Packets carried by messages that are scheduled but not yet delivered. */
  private packetsOnLinks = 0;
  /** Frames a guest sent, in messages on their way out (the transmit path's accounting). */
  private txPacketsOnLinks = 0;
  /** Events processed so far. */
  eventsProcessed = 0;
  /** The run's event log: what actors reported (Effects.event) and what the run's driver recorded (`record`). */
  private readonly log: RuntimeEvent[] = [];
  /** Packets in messages a message-path fault dropped. */
  linkDropped = 0;
  /** Packets held by a killed actor, or sent to it while it was down (the process model's `lost-in-crash`). */
  lostInCrash = 0;
  /**
   * The same two counts per actor: link drops by the receiver the message was for, crash losses by the dead actor
   * (a multi-host run splits them by host; summed they are linkDropped and lostInCrash).
   */
  readonly linkDroppedTo: number[] = [];
  readonly lostInCrashAt: number[] = [];
  /**
   * Frames a guest sent, in messages to an actor that was down: on a TX ring to a dead netback (`txreq`: netfront
   * frees them when it re-creates the ring, xennet_release_tx_bufs), and on their way out to a dead driver domain.
   */
  txReleasedInCrash = 0;
  txLostInCrash = 0;
  /** Frames a guest sent, in messages a partition dropped (`txreq` to netback, `xmit` to the bridge): `link-drop`. */
  txLinkDropped = 0;
  /** The same per actor, by the receiver the message was for (a multi-host run splits it by host). */
  readonly txLinkDroppedTo: number[] = [];
  /** The two crash counts above per actor, by the dead actor (a multi-host run splits them by host). */
  readonly txReleasedInCrashAt: number[] = [];
  readonly txLostInCrashAt: number[] = [];
  /**
   * Per actor, the fabric's frames (downlinks from the switch) that reached it while it was down, and their bytes: a
   * dead NIC's, lost there (the multi-host run counts them as reaching the host and lost in the crash).
   */
  readonly fabricLostAt: number[] = [];
  readonly fabricLostBytesAt: number[] = [];
  /** Per actor: down (killed, not restarted yet), paused (SIGSTOP), and the first timer sequence of its current incarnation. */
  private readonly down: boolean[] = [];
  private readonly paused: boolean[] = [];
  /** Per actor: down with its guests' rings (a whole host crashed): frames on a TX ring to it are lost, not freed by a netfront that re-creates the ring. */
  private readonly ringsLost: boolean[] = [];
  private readonly incarnationSeq: number[] = [];
  /** Events that came due for a paused actor, replayed in order when it resumes. */
  private readonly deferred: { target: ActorRef; msg: Message | null; tag: number }[] = [];
  /** Set once an actor was killed or paused: only then does the event loop check process state. */
  private processFaults = false;

  /** Where batches of messages the runtime drops go back to. */
  private readonly pool: BatchPool;
  /** Lockstep: the running maximum of the ordering keys of the events run so far, and each log entry's (see LogKey). */
  private maxT = -1;
  private maxDst = -1;
  private maxOrigin = -1;
  private readonly logKeys: LogKey[] = [];
  private readonly partitioned: boolean;
  /** From the options, read on every send: active link faults (else null), the tap, the partition's owned actors and remote. */
  private readonly lf: LinkFaults | null;
  private readonly tap: NonNullable<SimOptions['tap']> | null;
  private readonly owned: readonly boolean[] | null;
  private readonly remote: PartitionOptions['remote'] | null;

  constructor(private readonly options: SimOptions) {
    this.pool = options.pool ?? new BatchPool();
    this.partitioned = options.partition !== undefined;
    this.lf = options.linkFaults !== undefined && options.linkFaults.active ? options.linkFaults : null;
    this.tap = options.tap ?? null;
    this.owned = options.partition?.owned ?? null;
    this.remote = options.partition?.remote ?? null;
  }

  get now(): Nanos {
    return this._now;
  }

  /** Register an actor; the returned ref is how other actors address it. */
  add(actor: Actor): ActorRef {
    if (this.started) throw new SplitnetError('E_INTERNAL', 'cannot add actors after the run started');
    const ref = this.actors.length;
    if (ref >= MAX_ACTORS) throw new SplitnetError('E_INTERNAL', `a run holds at most ${MAX_ACTORS} actors`);
    this.actors.push(actor);
    this.down.push(false);
    this.paused.push(false);
    this.incarnationSeq.push(0);
    this.effects.push(new SimEffects(this, ref, actor.id));
    return ref;
  }

  /**
   * An actor's send (Effects.send of actor `from`): link faults, accounting, the tap, then the queue or the partition's
   * remote. `filtered` false: past the link faults (the zero-copy release of a batch they dropped, see LinkFaults.zerocopy).
   */
  sendFrom(from: ActorRef, to: ActorRef, msg: Message, at: Nanos, filtered = true): void {
    this.sendCounted(from, to, msg, at, packetsIn(msg), txPacketsIn(msg), filtered);
  }

  /**
   * sendFrom with the message's `packetsIn` and `txPacketsIn` already read: SimEffects.send reads them where the
   * actor made the message, whose shape is known there (read here, behind one call site for every kind of
   * message, each read was a megamorphic property load).
   */
  sendCounted(from: ActorRef, to: ActorRef, msg: Message, at: Nanos, carried: number, txCarried: number, filtered = true): void {
    const row = this.delays[from];
    const d = row === undefined ? 0 : (row[to] ?? 0);
    const seqs = this.linkSeq[from] as number[];
    let due = at + d;
    const lf = this.lf;
    if (lf !== null && filtered) {
      const verdict = lf.route(from, to, msg, at, due);
      if (verdict === ROUTE_DROP) {
        this.linkDropped += carried;
        this.linkDroppedTo[to] = (this.linkDroppedTo[to] ?? 0) + carried;
        this.txLinkDropped += txCarried;
        if (txCarried > 0) this.txLinkDroppedTo[to] = (this.txLinkDroppedTo[to] ?? 0) + txCarried;
        lf.zerocopy(msg, (worker, dealloc) => this.sendFrom(from, worker, dealloc, at, false), from);
        releaseCarried(this.pool, msg);
        return;
      }
      due = lf.due;
      if (verdict === ROUTE_DUPLICATE) {
        const dupSeq = (seqs[to] = (seqs[to] as number) + 1);
        // Lockstep: a duplicate for an actor of another partition goes there too (never a batch: packets are not duplicated).
        if (this.owned !== null && this.owned[to] !== true) (this.remote as PartitionOptions['remote'])(from, to, msg, at, due, dupSeq);
        else this.queue.push(due, to, msg, 0, originOf(from, dupSeq), carried, txCarried);
      }
    }
    this.packetsOnLinks += carried;
    this.txPacketsOnLinks += txCarried;
    if (this.tap !== null) this.tap(from, to, msg, at, due);
    const owned = this.owned;
    if (owned !== null && owned[to] !== true) {
      // Counted on the links here until the partition that owns `to` delivers it (the sum over partitions is sim's).
      (this.remote as PartitionOptions['remote'])(from, to, msg, at, due, (seqs[to] = (seqs[to] as number) + 1));
      return;
    }
    this.queue.push(due, to, msg, 0, originOf(from, (seqs[to] = (seqs[to] as number) + 1)), carried, txCarried);
  }

  /** An actor's timer (Effects.timer of actor `ref`): an event on its link to itself. */
  timerFrom(ref: ActorRef, at: Nanos, tag: number): void {
    const seqs = this.linkSeq[ref] as number[];
    this.queue.push(at, ref, null, tag, originOf(ref, (seqs[ref] = (seqs[ref] as number) + 1)));
  }

  /** An actor's event (Effects.event): into the log, with its place in sim's order when partitioned. */
  eventFrom(actor: string, kind: string, detail: Record<string, unknown>): void {
    this.log.push({ t: this._now, actor, kind, detail });
    if (this.partitioned) this.logKeys.push({ t: this.maxT, dst: this.maxDst, origin: this.maxOrigin });
  }

  /** The event log so far, in the order events happened. */
  get events(): readonly RuntimeEvent[] {
    return this.log;
  }

  /** Lockstep: where each entry of `events` falls in sim's order (one per entry; empty unless partitioned). */
  get eventKeys(): readonly LogKey[] {
    return this.logKeys;
  }

  /**
   * Lockstep: a message from an actor of another partition, sent on link from → to with sequence number `seq`.
   * False (and not applied) when it comes too late: due before this partition's time, which the safe-time
   * protocol rules out; the caller counts it.
   */
  deliver(from: ActorRef, to: ActorRef, msg: Message, due: Nanos, seq: number): boolean {
    if (!this.started) this.start();
    if (due < this._now || this.options.partition?.owned[to] !== true) return false;
    this.queue.push(due, to, msg, 0, originOf(from, seq), packetsIn(msg), txPacketsIn(msg));
    return true;
  }

  /**
   * Lockstep's promises (docs/lockstep.md#promises): a lower bound on the time of the next event at which an actor
   * of this partition may pass on a guest's frame toward the wire — the earliest pending message that carries such
   * frames, and each owned actor's `earliestTransmit` (absent: now) — and, for actor `watch` (the switch), the
   * earliest pending message to it. Never before now. Events waiting for a paused actor run at its resume, which
   * may be now: with any, now.
   */
  transmitBounds(watch: ActorRef): { readonly transmit: Nanos; readonly watched: Nanos } {
    const now = this._now;
    if (this.deferred.length > 0) return { transmit: now, watched: now };
    const q = this.queue.earliestTxAndFor(watch);
    let t = q.tx;
    const owned = this.owned;
    for (let a = 0; a < this.actors.length && t > now; a++) {
      if ((owned !== null && owned[a] !== true) || this.down[a] === true) continue;
      const actor = this.actors[a] as Actor;
      const e = actor.earliestTransmit === undefined ? now : actor.earliestTransmit(now);
      if (e < t) t = e;
    }
    return { transmit: t > now ? t : now, watched: q.target > now ? q.target : now };
  }

  /** The time of the earliest pending event (Infinity when none). */
  nextEventTime(): Nanos {
    return this.queue.peekTime();
  }

  /** An event of whoever drives the run (the controller, the fault injector), at the current emulated time. */
  record(actor: string, kind: string, detail: Record<string, unknown>): void {
    this.log.push({ t: this._now, actor, kind, detail });
    if (this.partitioned) this.logKeys.push({ t: this.maxT, dst: this.maxDst, origin: this.maxOrigin });
  }

  /**
   * Lockstep: the run's driver acts now (a fault step, between the events before `now` and those at it, as sim
   * applies it), as its step `origin` of the run: the log entries it causes take the key (now, −1, origin), which
   * sorts after every event before now and before every event at now (docs/lockstep.md#faults).
   */
  driverStep(origin: number): void {
    this.maxT = this._now;
    this.maxDst = -1;
    this.maxOrigin = origin;
  }

  actor(ref: ActorRef): Actor {
    const a = this.actors[ref];
    if (!a) throw new SplitnetError('E_INTERNAL', `no actor with ref ${ref}`);
    return a;
  }

  /** Deliver a datapath fault command to an actor now (between events at the current time). */
  injectFault(ref: ActorRef, cmd: FaultCommand): void {
    if (!this.started) this.start();
    const a = this.actor(ref);
    if (this.down[ref]) return;
    a.fault?.(cmd, this._now, this.effects[ref] as Effects);
  }

  /**
   * The actor announces its shared ring state again (Actor.resync), now, between events: after a partition, whose
   * dropped messages may have left its peers with a stale view (as after a live run's NATS outage). Not a down or
   * paused one: it sends nothing.
   */
  resync(ref: ActorRef): void {
    if (!this.started) this.start();
    const a = this.actor(ref);
    if (this.down[ref] || this.paused[ref]) return;
    a.resync?.(this._now, this.effects[ref] as Effects);
  }

  /**
   * The actor's process dies: what it held is lost, and so is everything sent to it until `restart`
   * (counted in `lostInCrash`); its pending timers die with it. Its counters are brought to the instant
   * of death first (`report(now)`: an actor that counts lazily, as the NIC counts arrivals, catches up),
   * so that what it holds then is what is lost. Returns the dead incarnation (undefined if it was down).
   * `ringsLost`: the guests die with it (a host crash), so the frames on TX rings toward it are lost-in-crash,
   * not released by a netfront that lives on.
   */
  kill(ref: ActorRef, ringsLost = false): Actor | undefined {
    if (!this.started) this.start();
    if (this.down[ref]) return undefined;
    this.ringsLost[ref] = ringsLost;
    this.processFaults = true;
    const dead = this.actor(ref);
    dead.report(this._now, false);
    const held = dead.heldPackets();
    this.lostInCrash += held;
    this.lostInCrashAt[ref] = (this.lostInCrashAt[ref] ?? 0) + held;
    const origin = this.originAt(ref);
    if (origin !== undefined && dead.crashRelease !== undefined) {
      for (const b of dead.crashRelease(this._now, this.effects[ref] as Effects)) {
        zerocopyRelease(b, origin, (worker, dealloc) => this.sendFrom(ref, worker, dealloc, this._now));
        this.pool.release(b);
      }
    }
    this.down[ref] = true;
    this.paused[ref] = false;
    this.incarnationSeq[ref] = this.timerSeq(ref) + 1;
    return dead;
  }

  /** The supervisor restarts a killed actor with fresh state: it reconnects to its peers (or starts, if it has no `reconnect`). */
  restart(ref: ActorRef, fresh: Actor): void {
    if (!this.down[ref]) throw new SplitnetError('E_INTERNAL', `restart of ${fresh.id}, which is not down`);
    this.actors[ref] = fresh;
    this.down[ref] = false;
    this.incarnationSeq[ref] = this.timerSeq(ref) + 1;
    const fx = this.effects[ref] as Effects;
    if (fresh.reconnect) fresh.reconnect(this._now, fx);
    else fresh.start(this._now, fx);
  }

  /**
   * A message with frames a guest sent reached a dead actor: counted (frames on a TX ring, or on their way out), and
   * the skbs of those whose grant-mapped slots the sender's netback still holds are freed — their zero-copy callbacks
   * give the slots back (a frame on a ring to a dead netback holds none: netfront frees it itself).
   */
  private lostTx(dead: ActorRef, msg: Message, txCarried: number, t: Nanos): void {
    if (msg.kind === 'txreq' && this.ringsLost[dead] !== true) {
      this.txReleasedInCrash += txCarried;
      this.txReleasedInCrashAt[dead] = (this.txReleasedInCrashAt[dead] ?? 0) + txCarried;
      this.pool.release(msg.batch);
      return;
    }
    this.txLostInCrash += txCarried;
    if (txCarried > 0) this.txLostInCrashAt[dead] = (this.txLostInCrashAt[dead] ?? 0) + txCarried;
    if (msg.kind === 'txreq') return this.pool.release(msg.batch);
    const origin = this.originAt(dead);
    if (msg.kind !== 'rx' && msg.kind !== 'xmit' && msg.kind !== 'txpost' && msg.kind !== 'txdone') return;
    if (origin !== undefined) zerocopyRelease(msg.batch, origin, (worker, dealloc) => this.sendFrom(dead, worker, dealloc, t));
    if (msg.kind !== 'rx') this.pool.release(msg.batch);
  }

  /** The fabric's frames of batch `b` reached actor `ref` while it was down. */
  private fabricLost(ref: ActorRef, b: PacketBatch): void {
    let bytes = 0;
    for (let k = 0; k < b.count; k++) bytes += b.len[k] as number;
    this.fabricLostAt[ref] = (this.fabricLostAt[ref] ?? 0) + b.count;
    this.fabricLostBytesAt[ref] = (this.fabricLostBytesAt[ref] ?? 0) + bytes;
  }

  /** Where the frames guests sent come from, as actor `ref` numbers its flows (SimOptions.txOrigin). */
  private originAt(ref: ActorRef): TxOrigin | undefined {
    const o = this.options.txOrigin;
    return o === undefined || !('of' in o) ? o : o.of(ref);
  }

  /** The last sequence number on actor `ref`'s link to itself (its timers). */
  private timerSeq(ref: ActorRef): number {
    return (this.linkSeq[ref] as number[])[ref] as number;
  }

  isDown(ref: ActorRef): boolean {
    return this.down[ref] === true;
  }

  /** SIGSTOP: the actor processes nothing until `resume`; its inputs wait. */
  pause(ref: ActorRef): void {
    if (!this.started) this.start();
    this.processFaults = true;
    if (!this.down[ref]) this.paused[ref] = true;
  }

  /**
   * SIGCONT: everything that came due while paused is processed now, in its original order (as events of the
   * actor's link to itself, in the order they came due; its timers among them are not from an older incarnation).
   */
  resume(ref: ActorRef): void {
    if (!this.paused[ref]) return;
    this.paused[ref] = false;
    const keep: typeof this.deferred = [];
    const seqs = this.linkSeq[ref] as number[];
    for (const e of this.deferred) {
      if (e.target === ref) {
        const m = e.msg;
        this.queue.push(
          this._now,
          ref,
          m,
          e.tag,
          originOf(ref, (seqs[ref] = (seqs[ref] as number) + 1)),
          m === null ? 0 : packetsIn(m),
          m === null ? 0 : txPacketsIn(m),
        );
      } else keep.push(e);
    }
    this.deferred.length = 0;
    this.deferred.push(...keep);
  }

  /** Packets in messages scheduled but not yet delivered. */
  inFlightOnLinks(): number {
    return this.packetsOnLinks; // includes messages waiting for a paused actor
  }

  /**
   * inFlightOnLinks and txInFlightOnLinks split by where the messages go: `groupOf` puts each actor in a group
   * (a host of a cluster; −1: none), and each group gets the packets on their way to its actors.
   */
  inFlightByGroup(groupOf: (ref: ActorRef) => number, groups: number): { rx: number[]; tx: number[] } {
    const rx = new Array<number>(groups).fill(0);
    const tx = new Array<number>(groups).fill(0);
    const add = (target: number, carried: number, txCarried: number): void => {
      const g = groupOf(target);
      if (g < 0) return;
      rx[g] = (rx[g] as number) + carried;
      tx[g] = (tx[g] as number) + txCarried;
    };
    this.queue.forEachCarried(add);
    for (const e of this.deferred) if (e.msg !== null) add(e.target, packetsIn(e.msg), txPacketsIn(e.msg));
    return { rx, tx };
  }

  /** Frames that messages waiting for a paused actor carry, counted by `count` (e.g. the fabric's, which links do not count). */
  deferredFrames(count: (m: Message) => number): number {
    let n = 0;
    for (const e of this.deferred) if (e.msg !== null) n += count(e.msg);
    return n;
  }

  /** Frames guests sent that are in messages between actors now (the transmit path's in flight). */
  txInFlightOnLinks(): number {
    return this.txPacketsOnLinks;
  }

  private start(): void {
    this.started = true;
    const n = this.actors.length;
    for (let a = 0; a < n; a++) {
      const row: Nanos[] = [];
      for (let b = 0; b < n; b++) row.push(this.options.linkDelay(a, b));
      this.delays.push(row);
      this.linkSeq.push(new Array<number>(n).fill(0));
    }
    const owned = this.options.partition?.owned;
    for (let a = 0; a < n; a++) {
      if (owned !== undefined && owned[a] !== true) continue;
      if (this.partitioned) {
        this.maxT = 0;
        this.maxDst = -1;
        this.maxOrigin = a;
      }
      (this.actors[a] as Actor).start(0, this.effects[a] as Effects);
    }
  }

  /**
   * Lockstep: end the current run() once every event of the instant running now has run, before the next instant
   * (its time is where that run() then ends: every event before it has run). Called from an event (a partition's
   * remote send), so that the partition can promise its neighbours before it runs on (docs/lockstep.md#how-fast).
   */
  stopAfterInstant(): void {
    this.stopAsked = true;
  }

  /**
   * Run until virtual time `until` (events at exactly `until` are left for a later call), or, if an event asked
   * (stopAfterInstant), until the first instant after it. Returns the time reached: every event before it has run.
   * Samples fire at k·sampleInterval for every k with k·interval ≤ the time reached.
   */
  run(until: Nanos, hooks: RunHooks = {}): Nanos {
    this.stopAsked = false;
    if (!this.started) this.start();
    const q = this.queue;
    const actors = this.actors;
    const effects = this.effects;
    const interval = hooks.sampleInterval ?? 0;
    const onSample = hooks.onSample;
    let nextSample = interval > 0 && onSample ? (Math.floor(this._now / interval) + 1) * interval : Infinity;
    let instant = -1;
    let atInstant = 0;
    for (;;) {
      const t = q.peekTime();
      if (nextSample <= until && nextSample <= t) {
        this._now = nextSample;
        (onSample as (t: Nanos) => void)(nextSample);
        nextSample += interval;
        continue;
      }
      if (t >= until) break;
      // The instant that asked is done (t is later: events run in time order); every event before t has run.
      if (this.stopAsked && t !== instant) return this.stopAt(t);
      const slot = q.pop();
      this._now = t;
      const target = q.slotTarget(slot);
      const msg = q.slotMsg(slot);
      const tag = q.slotTag(slot);
      const origin = q.slotOrigin(slot);
      const carried = q.slotCarried(slot);
      const txCarried = q.slotTxCarried(slot);
      q.release(slot);
      const actor = actors[target] as Actor;
      const fx = effects[target] as Effects;
      if (t !== instant) {
        instant = t;
        atInstant = 0;
      } else if (++atInstant > MAX_EVENTS_AT_ONE_INSTANT) {
        throw stuckError(t, actor.id, msg, tag);
      }
      this.eventsProcessed++;
      this.packetsOnLinks -= carried;
      this.txPacketsOnLinks -= txCarried;
      if (this.partitioned) {
        // Events run in time order (t ≥ maxT): only an equal time compares the rest of the key.
        if (t > this.maxT) {
          this.maxT = t;
          this.maxDst = target;
          this.maxOrigin = origin;
        } else if (target > this.maxDst || (target === this.maxDst && origin > this.maxOrigin)) {
          this.maxDst = target;
          this.maxOrigin = origin;
        }
      }
      if (this.processFaults) {
        if (this.down[target] === true) {
          // A dead process: its inbox is gone, its timers died with it.
          if (msg !== null) {
            if (msg.kind === 'downlink') this.fabricLost(target, msg.batch);
            this.lostInCrash += carried;
            this.lostInCrashAt[target] = (this.lostInCrashAt[target] ?? 0) + carried;
            if (txCarried > 0 || msg.kind === 'rx' || msg.kind === 'txdone') this.lostTx(target, msg, txCarried, t);
            releaseCarried(this.pool, msg);
          }
          continue;
        }
        if (msg === null && originSeq(origin) < (this.incarnationSeq[target] as number)) continue; // a timer of a previous incarnation
        if (this.paused[target] === true) {
          this.packetsOnLinks += carried;
          this.txPacketsOnLinks += txCarried;
          this.deferred.push({ target, msg, tag });
          continue;
        }
      }
      if (msg !== null) {
        actor.receive(msg, t, fx);
      } else {
        actor.timer(tag, t, fx);
      }
    }
    if (until > this._now) this._now = until;
    return until;
  }

  private stopAt(t: Nanos): Nanos {
    this.stopAsked = false;
    this._now = t;
    return t;
  }
}

/**
 * One actor's effects in sim: a class, so that every actor's `fx.send` and `fx.timer` are the same functions (a
 * closure per actor made each call site in the actors polymorphic in its target, one target per instance).
 */
class SimEffects implements Effects {
  constructor(
    private readonly rt: SimRuntime,
    private readonly ref: ActorRef,
    private readonly actorId: string,
  ) {}

  send(to: ActorRef, msg: Message, at: Nanos): void {
    this.rt.sendCounted(this.ref, to, msg, at, packetsIn(msg), txPacketsIn(msg));
  }

  timer(at: Nanos, tag: number): void {
    this.rt.timerFrom(this.ref, at, tag);
  }

  event(kind: string, detail: Record<string, unknown>): void {
    this.rt.eventFrom(this.actorId, kind, detail);
  }
}
