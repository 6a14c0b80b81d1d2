// What a live run's controller publishes while the run goes: the datapath at each sample every process has reported, to whoever subscribed (metrics, a dashboard).
import type { Nanos } from '@splitnet/model';
import { combine, sampleRow } from '@splitnet/results';
import type { RunEvent, Snapshot } from '@splitnet/results';
import type { CompiledScenario, FaultOccurrence } from '@splitnet/scenario';

/** The live run at one sample instant, as the controller knows it then. */
export interface LiveSnapshot {
  readonly runId: string;
  readonly scenario: CompiledScenario;
  /** Every process's counters at the sample instant `snapshot.t`, combined (continued across restarts). */
  readonly snapshot: Snapshot;
  /** The snapshot published before this one (the zero snapshot at first): rates are over (previous.t, snapshot.t]. */
  readonly previous: Snapshot;
  /** The controller's emulated time when the last process's sample for this instant arrived (≥ snapshot.t). */
  readonly completeAt: Nanos;
  /** Fault occurrences so far (the scenario's schedule and ad-hoc `splitnet fault` requests). */
  readonly occurrences: readonly FaultOccurrence[];
  /** The run's event log so far (lifecycle, faults), in time order. */
  readonly events: readonly RunEvent[];
  /** The sample's row as metrics.jsonl has it: rates over (previous.t, snapshot.t], levels at snapshot.t. */
  readonly row: { readonly tMs: number } & Readonly<Record<string, unknown>>;
  /**
   * How far behind emulated time the controller was when the last process's sample for this instant reached it
   * (completeAt − snapshot.t, emulated ns): the run's lag as seen from outside, the bus's latency included
   * (summary.live's lag is the actors' own, at the end).
   */
  readonly lagNs: Nanos;
}

/** What the run hands the feed; the feed adds what follows from the previous snapshot. */
export type LiveSnapshotInput = Omit<LiveSnapshot, 'previous' | 'row' | 'lagNs'>;

export type SnapshotSubscriber = (s: LiveSnapshot) => void;

/**
 * The subscribers of a live run's snapshots. The run combines the processes' reports into a snapshot only
 * when someone subscribed (`wanted`), once per sample interval: a run nobody watches pays nothing.
 */
export class SnapshotFeed {
  private readonly subscribers: SnapshotSubscriber[] = [];
  private last: Snapshot = combine([], 0);

  /** Call `fn` with every snapshot from now on; returns the unsubscribe. */
  onSnapshot(fn: SnapshotSubscriber): () => void {
    this.subscribers.push(fn);
    return () => {
      const i = this.subscribers.indexOf(fn);
      if (i >= 0) this.subscribers.splice(i, 1);
    };
  }

  get wanted(): boolean {
    return this.subscribers.length > 0;
  }

  /**
   * The run's next snapshot. Samples complete in time order almost always; one that completes after a later
   * one (a process's late sample) is not published, so subscribers see time move forward only.
   */
  publish(s: LiveSnapshotInput): void {
    if (s.snapshot.t <= this.last.t) return;
    const full: LiveSnapshot = {
      ...s,
      previous: this.last,
      row: sampleRow(this.last, s.snapshot) as LiveSnapshot['row'],
      lagNs: Math.max(0, s.completeAt - s.snapshot.t),
    };
    this.last = s.snapshot;
    for (const fn of [...this.subscribers]) {
      try {
        fn(full);
      } catch (err) {
        // A watcher's bug must not end the run it watches: said once per failure, on stderr.
        process.stderr.write(`splitnet: a live snapshot subscriber failed: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
  }
}
