// The deterministic `sim` runtime: every actor in one process, driven by a discrete-event loop in virtual time.
import { packetsIn, SplitnetError } from '@splitnet/model';
import type { Actor, ActorRef, Effects, Message, Nanos } from '@splitnet/model';
import { EventQueue } from './event-queue.js';

export interface RuntimeEvent {
  readonly t: Nanos;
  readonly actor: string;
  readonly kind: string;
  readonly detail: Record<string, unknown>;
}

export interface SimOptions {
  /** One-way delay added to every message from actor `from` to actor `to`. */
  readonly linkDelay: (from: ActorRef, to: ActorRef) => Nanos;
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
  /** Events processed so far. */
  eventsProcessed = 0;
  readonly log: RuntimeEvent[] = [];

  constructor(private readonly options: SimOptions) {}

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
    const self = this;
    this.effects.push({
      send(to: ActorRef, msg: Message, at: Nanos): void {
        const row = delays[ref];
        const d = row === undefined ? 0 : (row[to] ?? 0);
        self.packetsOnLinks += packetsIn(msg);
        queue.push(at + d, to, msg, 0);
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

  actor(ref: ActorRef): Actor {
    const a = this.actors[ref];
    if (!a) throw new SplitnetError('E_INTERNAL', `no actor with ref ${ref}`);
    return a;
  }

  /** Packets in messages scheduled but not yet delivered. */
  inFlightOnLinks(): number {
    return this.packetsOnLinks;
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
      q.release(slot);
      const actor = actors[target] as Actor;
      const fx = effects[target] as Effects;
      this.eventsProcessed++;
      if (msg !== null) {
        this.packetsOnLinks -= packetsIn(msg);
        actor.receive(msg, t, fx);
      } else {
        actor.timer(tag, t, fx);
      }
    }
    if (until > this._now) this._now = until;
  }
}
