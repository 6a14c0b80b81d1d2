// A live run's counters as its controller sees them while it runs: one snapshot per sample instant once every process reported it, for whoever watches (the dashboard).
import type { Logger, Nanos } from '@splitnet/model';
import { combine, sampleRow } from '@splitnet/results';
import type { RunEvent, Snapshot } from '@splitnet/results';
import type { DilatedClock } from './dilated-clock.js';
import type { ReportInbox } from './report-inbox.js';
import type { RunLog } from './run-log.js';

export interface LiveSnapshot {
  /** Emulated time of the sample (ns), and the run's duration. */
  readonly t: Nanos;
  readonly duration: Nanos;
  /** Every process's counters at `t`, combined: cumulative since the start, continued across restarts. */
  readonly counters: Snapshot;
  /** The sample's row as metrics.jsonl has it: rates over the interval since the previous snapshot, levels at `t`. */
  readonly row: { readonly tMs: number } & Readonly<Record<string, unknown>>;
  /**
   * How far behind emulated time the controller was when the last process's sample for `t` reached it (emulated ns):
   * the run's lag as seen from outside, the bus's latency included (summary.live's lag is the actors' own, at the end).
   */
  readonly lagNs: Nanos;
  /** The run's event log so far (lifecycle, faults), in time order. */
  readonly events: readonly RunEvent[];
}

export type SnapshotSubscriber = (s: LiveSnapshot) => void;

/** Makes a snapshot of each sample instant every process reported, in time order, and hands it to the subscribers. */
export class SnapshotSource {
  private prev: Snapshot = combine([], 0);

  constructor(
    private readonly subscribers: readonly SnapshotSubscriber[],
    private readonly run: {
      readonly inbox: ReportInbox;
      readonly clock: DilatedClock;
      readonly log: RunLog;
      readonly duration: Nanos;
      readonly logger: Logger;
    },
  ) {}

  /** Every process reported for `t` (a restarted process's late sample of an instant already shown is not shown again). */
  readonly complete = (t: Nanos): void => {
    if (t <= this.prev.t) return;
    const { inbox, clock, log } = this.run;
    const row = inbox.samples.get(t);
    if (row === undefined) return;
    const counters = combine(
      [...row].flatMap(([name, r]) => inbox.continued(name, r.incarnation, r.reports)),
      t,
    );
    const snap: LiveSnapshot = {
      t,
      duration: this.run.duration,
      counters,
      row: sampleRow(this.prev, counters) as LiveSnapshot['row'],
      lagNs: Math.max(0, clock.now() - t),
      events: log.sorted(),
    };
    this.prev = counters;
    for (const subscriber of this.subscribers) {
      try {
        subscriber(snap);
      } catch (err) {
        // A watcher's bug must not end the run it watches.
        this.run.logger.warn('a live snapshot subscriber failed', { error: err instanceof Error ? err.message : String(err) });
      }
    }
  };
}
