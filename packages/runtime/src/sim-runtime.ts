// The deterministic `sim` runtime: every actor in one process, driven by a discrete-event loop in virtual time.
import { BatchPool, packetsIn, SplitnetError, txPacketsIn } from '@splitnet/model';
import type { Actor, ActorRef, Effects, FaultCommand, Message, Nanos } from '@splitnet/model';
import { EventQueue } from './event-queue.js';
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
 * Executes actors' effects in virtual time. Events with equal times run in the order they were
 * scheduled, so the same actors and inputs always give the same run.
 */
export class SimRuntime {
  private readonly actors: Actor[] = [];
  private readonly effects: Effects[] = [];
  private readonly queue = new EventQueue();
  private readonly delays: Nanos[][] = [];
  private _now: Nanos = 0;
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
  /** Per actor: down (killed, not restarted yet), paused (SIGSTOP), and the first event sequence of its current incarnation. */
  private readonly down: boolean[] = [];
  private readonly paused: boolean[] = [];
  private readonly incarnationSeq: number[] = [];
  /** Events that came due for a paused actor, replayed in order when it resumes. */
  private readonly deferred: { target: ActorRef; msg: Message | null; tag: number }[] = [];
  /** Set once an actor was killed or paused: only then does the event loop check process state. */
  private processFaults = false;

  /** Where batches of messages the runtime drops go back to. */
  private readonly pool: BatchPool;

  constructor(private readonly options: SimOptions) {
    this.pool = options.pool ?? new BatchPool();
  }

  get now(): Nanos {
    return this._now;
  }

  /** Register an actor; the returned ref is how other actors address it. */
  add(actor: Actor): ActorRef {
    if (this.started) throw new SplitnetError('E_INTERNAL', 'cannot add actors after the run started');
    const ref = this.actors.length;
    this.actors.push(actor);
    const queue = this.queue;
    const log = this.log;
    const delays = this.delays;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the hot closures below read the runtime through one local
    const self = this;
    const lf = this.options.linkFaults !== undefined && this.options.linkFaults.active ? this.options.linkFaults : null;
    const tap = this.options.tap ?? null;
    this.down.push(false);
    this.paused.push(false);
    this.incarnationSeq.push(0);
    this.effects.push({
      send(to: ActorRef, msg: Message, at: Nanos): void {
        const row = delays[ref];
        const d = row === undefined ? 0 : (row[to] ?? 0);
        let due = at + d;
        if (lf !== null) {
          const verdict = lf.route(ref, to, msg, at, due);
          if (verdict === ROUTE_DROP) {
            self.linkDropped += packetsIn(msg);
            releaseCarried(self.pool, msg);
            return;
          }
          due = lf.due;
          if (verdict === ROUTE_DUPLICATE) queue.push(due, to, msg, 0);
        }
        self.packetsOnLinks += packetsIn(msg);
        self.txPacketsOnLinks += txPacketsIn(msg);
        if (tap !== null) tap(ref, to, msg, at, due);
        queue.push(due, to, msg, 0);
      },
      timer(at: Nanos, tag: number): void {
        queue.push(at, ref, null, tag);
      },
      event(kind: string, detail: Record<string, unknown>): void {
        log.push({ t: self._now, actor: actor.id, kind, detail });
      },
    });
    return ref;
  }

  /** The event log so far, in the order events happened. */
  get events(): readonly RuntimeEvent[] {
    return this.log;
  }

  /** An event of whoever drives the run (the controller, the fault injector), at the current emulated time. */
  record(actor: string, kind: string, detail: Record<string, unknown>): void {
    this.log.push({ t: this._now, actor, kind, detail });
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
   * The actor's process dies: what it held is lost, and so is everything sent to it until `restart`
   * (counted in `lostInCrash`); its pending timers die with it. Its counters are brought to the instant
   * of death first (`report(now)`: an actor that counts lazily, as the NIC counts arrivals, catches up),
   * so that what it holds then is what is lost. Returns the dead incarnation (undefined if it was down).
   */
  kill(ref: ActorRef): Actor | undefined {
    if (!this.started) this.start();
    if (this.down[ref]) return undefined;
    this.processFaults = true;
    const dead = this.actor(ref);
    dead.report(this._now, false);
    this.lostInCrash += dead.heldPackets();
    this.down[ref] = true;
    this.paused[ref] = false;
    this.incarnationSeq[ref] = this.queue.nextSequence;
    return dead;
  }

  /** The supervisor restarts a killed actor with fresh state: it reconnects to its peers (or starts, if it has no `reconnect`). */
  restart(ref: ActorRef, fresh: Actor): void {
    if (!this.down[ref]) throw new SplitnetError('E_INTERNAL', `restart of ${fresh.id}, which is not down`);
    this.actors[ref] = fresh;
    this.down[ref] = false;
    this.incarnationSeq[ref] = this.queue.nextSequence;
    const fx = this.effects[ref] as Effects;
    if (fresh.reconnect) fresh.reconnect(this._now, fx);
    else fresh.start(this._now, fx);
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

  /** SIGCONT: everything that came due while paused is processed now, in its original order. */
  resume(ref: ActorRef): void {
    if (!this.paused[ref]) return;
    this.paused[ref] = false;
    const keep: typeof this.deferred = [];
    for (const e of this.deferred) {
      if (e.target === ref) this.queue.push(this._now, ref, e.msg, e.tag);
      else keep.push(e);
    }
    this.deferred.length = 0;
    this.deferred.push(...keep);
  }

  /** Packets in messages scheduled but not yet delivered. */
  inFlightOnLinks(): number {
    return this.packetsOnLinks; // includes messages waiting for a paused actor
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
    }
    for (let a = 0; a < n; a++) (this.actors[a] as Actor).start(0, this.effects[a] as Effects);
  }

  /**
   * Run until virtual time `until` (events at exactly `until` are left for a later call).
   * Samples fire at k·sampleInterval for every k with k·interval ≤ until.
   */
  run(until: Nanos, hooks: RunHooks = {}): void {
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
      const slot = q.pop();
      this._now = t;
      const target = q.slotTarget(slot);
      const msg = q.slotMsg(slot);
      const tag = q.slotTag(slot);
      const seq = q.slotSeq(slot);
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
      if (msg !== null) {
        this.packetsOnLinks -= packetsIn(msg);
        this.txPacketsOnLinks -= txPacketsIn(msg);
      }
      if (this.processFaults) {
        if (this.down[target] === true) {
          // A dead process: its inbox is gone, its timers died with it.
          if (msg !== null) {
            this.lostInCrash += packetsIn(msg);
            releaseCarried(this.pool, msg);
          }
          continue;
        }
        if (msg === null && seq < (this.incarnationSeq[target] as number)) continue; // a timer of a previous incarnation
        if (this.paused[target] === true) {
          if (msg !== null) {
            this.packetsOnLinks += packetsIn(msg);
            this.txPacketsOnLinks += txPacketsIn(msg);
          }
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
  }
}
