// What the actor processes of a live run report to the controller: periodic samples, their actors' events, and final reports.
import type { ActorReport, Nanos } from '@splitnet/model';
import { combine } from '@splitnet/results';
import type { Snapshot } from '@splitnet/results';
import type { Subscription, Transport } from '@splitnet/transport';
import type { Subjects } from '@splitnet/transport';
import type { ControlPlane } from './control-plane.js';
import { Incarnations } from './incarnations.js';
import type { HostFinal } from './live-host.js';
import type { RunLog } from './run-log.js';

/** One process's reports at one sample time, and the incarnation that sent them. */
export interface SampleOf {
  readonly incarnation: number;
  readonly reports: readonly ActorReport[];
}

function withoutLatency(r: ActorReport): ActorReport {
  const { latency: _, ...rest } = r as ActorReport & { latency?: unknown };
  return rest as ActorReport;
}

/** Collects the stats subjects of a run's processes; `allFinal` resolves once every process sent its final report. */
export class ReportInbox {
  /** Per sample time, per process: the reports and the incarnation that sent them. */
  readonly samples = new Map<Nanos, Map<string, SampleOf>>();
  /** Per process: each incarnation's latest sample (a restarted incarnation's counters continue from its predecessor's). */
  readonly incarnations: ReadonlyMap<string, Incarnations>;
  readonly finals = new Map<string, HostFinal>();
  readonly finalIncarnation = new Map<string, number>();
  readonly allFinal: Promise<void>;
  private resolveAllFinal: () => void = () => {};
  private readonly sub: Subscription;

  constructor(
    private readonly names: readonly string[],
    transport: Transport,
    subjects: Subjects,
    private readonly log: RunLog,
    /** Opens the processes' sealed messages; counts what it refuses. */
    private readonly control: ControlPlane,
    /** Called when every process has sent its sample for instant t (only a run that publishes snapshots asks). */
    private readonly onComplete?: (t: Nanos) => void,
  ) {
    this.incarnations = new Map(names.map((n) => [n, new Incarnations()]));
    this.allFinal = new Promise<void>((resolve) => {
      this.resolveAllFinal = resolve;
    });
    this.sub = transport.subscribe(subjects.statsAll(), (data, subject) => this.onStats(data, subject));
  }

  /**
   * A process's sample, event or final report, sealed with its key: it must name the process that sealed it
   * (a process cannot report for another), and come from one of the run's.
   */
  private onStats(data: Uint8Array, subject: string): void {
    const opened = this.control.open(data, subject);
    if (!opened.ok) return;
    const { name, m } = opened.value;
    if (!this.names.includes(name) || ('id' in m && m.id !== name))
      return this.control.refuse(`${name}: a ${m.kind} ${'id' in m ? `for ${m.id} ` : ''}on its stats subject`);
    if (m.kind === 'sample') {
      const incarnation = m.incarnation ?? 0;
      let row = this.samples.get(m.t);
      if (!row) this.samples.set(m.t, (row = new Map()));
      // A restarted process must not overwrite the past. The time series has no use for the latency
      // histograms some samples carry (for a crash: see Incarnations), so rows are kept without them.
      const first = !row.has(m.id);
      if (first) row.set(m.id, { incarnation, reports: m.reports.map((r) => (r.role === 'frontend' && r.latency ? withoutLatency(r) : r)) });
      this.incarnations.get(m.id)?.sampled(incarnation, m.t, m.reports);
      if (first && row.size === this.names.length) this.onComplete?.(m.t);
    } else if (m.kind === 'event') {
      this.log.fromActor(m.t, m.actor, m.event, m.detail);
    } else if (m.kind === 'final') {
      this.finals.set(m.id, m.final);
      this.finalIncarnation.set(m.id, m.incarnation ?? 0);
      if (this.finals.size === this.names.length) this.resolveAllFinal();
    } else {
      this.control.refuse(`${name}: a ${m.kind} on its stats subject`);
    }
  }

  /** The processes that have not sent their final report. */
  missingFinals(): string[] {
    return this.names.filter((n) => !this.finals.has(n));
  }

  /** Reports of process `name`'s incarnation, continued from its dead predecessors' counters (incarnations.ts). */
  continued(name: string, incarnation: number, reports: readonly ActorReport[]): readonly ActorReport[] {
    return (this.incarnations.get(name) as Incarnations).continued(incarnation, reports);
  }

  /** The datapath at sample instant t, if every process reported it: their reports combined, counters continued across restarts. */
  combinedAt(t: Nanos): Snapshot | undefined {
    const reports = this.reportsAt(t);
    return reports === undefined ? undefined : combine(reports, t);
  }

  /** Every actor's report at sample instant t, if every process reported it (counters continued across restarts). */
  reportsAt(t: Nanos): ActorReport[] | undefined {
    const row = this.samples.get(t);
    if (row === undefined || row.size !== this.names.length) return undefined;
    return [...row].flatMap(([name, r]) => this.continued(name, r.incarnation, r.reports));
  }

  close(): void {
    this.sub.unsubscribe();
  }
}
