// A live run's event log: lifecycle events stamped with the run's emulated time, and what actor processes report.
import type { Logger, Nanos } from '@splitnet/model';
import type { RunEvent } from '@splitnet/results';
import type { DilatedClock } from './dilated-clock.js';

export class RunLog {
  /** In arrival order (events from several processes: see `sorted`). */
  readonly events: RunEvent[] = [];

  constructor(
    private readonly clock: DilatedClock,
    private readonly logger: Logger,
  ) {}

  /** A lifecycle event of the controller's, at emulated time now (0 before the start), also written to the controller's log. */
  log(kind: string, actor: string, detail: Record<string, unknown> = {}): void {
    this.events.push({ t: this.clock.stamp(), actor, kind, detail });
    this.logger.info(kind, { actor, ...detail });
  }

  /** An event at a given emulated time (an actor's, a fault step's). */
  record(t: Nanos, actor: string, kind: string, detail: Record<string, unknown>): void {
    this.events.push({ t: Math.max(0, Math.round(t)), actor, kind, detail });
  }

  /** An actor's event, as its process reported it. */
  fromActor(t: Nanos, actor: string, kind: string, detail: Readonly<Record<string, unknown>>): void {
    this.events.push({ t: Math.round(t), actor, kind, detail: { ...detail } });
  }

  /** Events from before the run (the join step's), at emulated time 0. */
  earlier(events: readonly { readonly actor: string; readonly kind: string; readonly detail: Record<string, unknown> }[]): void {
    for (const e of events) this.events.push({ t: 0, actor: e.actor, kind: e.kind, detail: { ...e.detail } });
  }

  /** The log in time order (stable: events of one instant keep their arrival order). */
  sorted(): RunEvent[] {
    return [...this.events].sort((a, b) => a.t - b.t);
  }
}
