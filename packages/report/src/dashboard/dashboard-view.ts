// What the live dashboard shows: a run's samples as they come (drawn with the report's own figures), then its finished results as the report draws them.
import type { ReportItem } from '../figure.js';
import { items, kpis } from '../html.js';
import type { Kpi } from '../html.js';
import type { MetricsRow, RunData, RunEvent } from '../load.js';
import { runKpis } from '../report.js';
import {
  cpuOverTimeFigure,
  cpuPerCoreFigure,
  dropsFigure,
  endOf,
  finite,
  interruptsFigure,
  overTime,
  referenceLine,
  ringsFigure,
  runFigures,
  throughputFigure,
  timeline,
  txInterruptsFigures,
} from '../run-figures.js';
import { clusterFigures, switchPortFigures } from '../fabric-figures.js';
import type { Timeline } from '../run-figures.js';
import { formatValue } from '../scale.js';
import { esc } from '../svg.js';

/** The run being watched, as known before it starts. */
export interface DashboardRun {
  readonly name: string;
  readonly runId: string;
  readonly runtime: 'sim' | 'live';
  readonly durationMs: number;
  readonly warmupMs: number;
  /** The line rate at the first generator's frame size (Gbit/s), drawn on the throughput figure. */
  readonly lineRateGbps?: number;
  /** Live: the lag bound the run is judged against (µs emulated), drawn on the lag figure. */
  readonly maxLagUs?: number;
  readonly tdf?: number;
}

/** One sample instant of a running run: its metrics.jsonl row, and the counters behind the figures that are not rates. */
export interface DashboardSample {
  readonly row: MetricsRow;
  /** Packets dropped since the start, by reason. */
  readonly drops: Readonly<Record<string, number>>;
  /** Busy ns of each emulated core since the start. */
  readonly busyNs: Readonly<Record<string, number>>;
  /** How far behind emulated time the sample reached the controller (µs emulated); live only. */
  readonly lagUs?: number;
  /** The run's event log so far (faults are shaded). */
  readonly events: readonly RunEvent[];
}

export type DashboardStatus = 'starting' | 'running' | 'finished' | 'failed';

/** What the page shows at one moment: pushed to every open page, and served to a page (re)loaded. */
export interface DashboardFrame {
  readonly seq: number;
  readonly status: DashboardStatus;
  /** Emulated time reached (ms). */
  readonly tMs: number;
  readonly title: string;
  /** The page's main part (KPIs and figures). */
  readonly html: string;
}

/** Lag points (µs) by emulated time (ms): what a live run's samples said; kept for the end state too. */
interface LagPoint {
  readonly x: number;
  readonly y: number;
}

/** The dashboard's state: what arrived so far, and the frame it makes. */
export class DashboardView {
  private readonly samples: MetricsRow[] = [];
  private readonly lag: LagPoint[] = [];
  private last: DashboardSample | undefined;
  /** The counters at the first sample at or after the warm-up's end: busy time is shown over the window from there. */
  private windowStart: { readonly tMs: number; readonly busyNs: Readonly<Record<string, number>> } | undefined;
  private progressMs = 0;
  private status: DashboardStatus = 'starting';
  private finished: { readonly run: RunData; readonly verdict: string } | undefined;
  private failure: string | undefined;
  private seq = 0;
  /** The KPIs and figures drawn for the samples so far: drawn again only when a sample (or the end) came, not on every tick of progress. */
  private drawn: string | undefined;

  constructor(readonly run: DashboardRun) {}

  sample(s: DashboardSample): void {
    if (this.status === 'finished' || this.status === 'failed') return;
    this.status = 'running';
    this.drawn = undefined;
    this.samples.push(s.row);
    this.last = s;
    this.progressMs = Math.max(this.progressMs, s.row.tMs);
    if (s.lagUs !== undefined) this.lag.push({ x: s.row.tMs, y: s.lagUs });
    if (this.windowStart === undefined && this.run.warmupMs > 0 && s.row.tMs >= this.run.warmupMs) this.windowStart = { tMs: s.row.tMs, busyNs: s.busyNs };
  }

  /** Emulated time reached, between samples (a sim run's progress). */
  progress(tMs: number): void {
    if (this.status === 'starting') this.status = 'running';
    this.progressMs = Math.max(this.progressMs, tMs);
  }

  /** The run ended and its results were written: from now on the page is the report's view of them, and `verdict` says how it ended. */
  finish(run: RunData, verdict: string): void {
    this.finished = { run, verdict };
    this.status = 'finished';
    this.drawn = undefined;
    this.progressMs = endOf(run);
  }

  /** The run failed with no results: the page keeps what it showed, and says why. */
  fail(message: string): void {
    if (this.status === 'finished') return;
    this.status = 'failed';
    this.failure = message;
  }

  frame(): DashboardFrame {
    const title = `${this.kind()}: ${this.run.name} — splitnet dashboard`;
    return { seq: ++this.seq, status: this.status, tMs: this.progressMs, title, html: this.body() };
  }

  /** The kind shown before the title: a live run, or a sim run. */
  kind(): string {
    return this.run.runtime === 'live' ? 'Live run' : 'Run';
  }

  private body(): string {
    const now = this.finished !== undefined ? `finished — ${this.finished.verdict}` : this.statusText();
    this.drawn ??= this.draw();
    return `${this.statusLine(now)}${this.drawn}`;
  }

  private draw(): string {
    const counter = { n: 0 };
    if (this.finished !== undefined) {
      const { run } = this.finished;
      const c = timeline(run.samples, run.events, endOf(run), finite(run.summary.windowMs[0]));
      const list = [...runFigures(run), ...this.lagFigure(c), ...clusterFigures(c, run.summary)];
      return `<section id="summary"><h2>Summary</h2>${kpis(runKpis(run.summary))}</section><section id="figures"><h2>Figures</h2>${items(list, counter)}</section>`;
    }
    if (this.last === undefined) return `<p class="omitted">No sample yet: the figures appear with the run's first sample.</p>`;
    const c = timeline(this.samples, this.last.events, this.last.row.tMs, this.run.warmupMs);
    const list: ReportItem[] = [
      throughputFigure(c, this.run.lineRateGbps),
      interruptsFigure(c),
      // A guest that sends: the throughput figure has its side already; its interrupts and notifications beside.
      ...txInterruptsFigures(c),
      this.cpuFigure(),
      cpuOverTimeFigure(c),
      ...this.lagFigure(c),
      dropsFigure({ ...this.last.drops, total: Object.values(this.last.drops).reduce((a, b) => a + b, 0) }),
      ringsFigure(c),
      // A multi-host run: its switch ports over time (the hosts' own summaries come with the results).
      ...switchPortFigures(c, undefined),
    ];
    return `<section id="summary"><h2>Now</h2>${kpis(this.liveKpis(this.last))}</section><section id="figures"><h2>Figures</h2>${items(list, counter)}</section>`;
  }

  private statusText(): string {
    const at = `${formatValue(this.progressMs)} of ${formatValue(this.run.durationMs)} ms emulated`;
    if (this.status === 'failed') return `failed — ${this.failure ?? ''} (the figures show the run up to then)`;
    if (this.status === 'starting') return `starting — waiting for the run's first sample`;
    return `running — ${at}`;
  }

  private statusLine(text: string): string {
    const tdf = this.run.tdf !== undefined ? `, TDF ${formatValue(this.run.tdf)}` : '';
    return `<p class="note" id="status"><b>${esc(text)}</b><br>run <code>${esc(this.run.runId)}</code> (${esc(this.run.runtime)}${esc(tdf)})</p>`;
  }

  private liveKpis(s: DashboardSample): Kpi[] {
    const n = (k: string) => {
      const x = s.row[k];
      return typeof x === 'number' && Number.isFinite(x) ? formatValue(x) : '—';
    };
    const dropped = Object.values(s.drops).reduce((a, b) => a + b, 0);
    const out: Kpi[] = [
      { label: 'emulated time', value: formatValue(s.row.tMs), unit: 'ms' },
      { label: `delivered, last interval (offered ${n('offeredGbps')})`, value: n('gbps'), unit: 'Gbit/s' },
      { label: 'virtual interrupts per second', value: n('virqPerSec'), unit: '/s' },
      { label: 'physical interrupts per second', value: n('physicalIrqPerSec'), unit: '/s' },
      { label: 'packets dropped so far', value: formatValue(dropped), bad: dropped > 0 },
    ];
    // A guest that sends (the row has the transmit columns): what it sent and what left on the wire.
    if (typeof s.row['txGbps'] === 'number') {
      const txDropped = s.row['txDropsTotal'];
      out.push(
        { label: `guests sent (TX), last interval (on the wire ${n('txWireGbps')})`, value: n('txGbps'), unit: 'Gbit/s' },
        { label: 'guest TX virtual interrupts per second', value: n('txVirqPerSec'), unit: '/s' },
        { label: 'frames dropped on the transmit path so far', value: n('txDropsTotal'), bad: typeof txDropped === 'number' && txDropped > 0 },
      );
    }
    if (s.lagUs !== undefined) {
      const bound = this.run.maxLagUs;
      out.push({
        label: `lag behind emulated time${bound !== undefined ? ` (bound ${formatValue(bound)} µs)` : ''}`,
        value: formatValue(s.lagUs),
        unit: 'µs',
        bad: bound !== undefined && s.lagUs > bound,
      });
    }
    return out;
  }

  /** Busy fraction per core over the measurement window so far (from the start, until the warm-up is over). */
  private cpuFigure(): ReportItem {
    const last = this.last as DashboardSample;
    const from = this.windowStart !== undefined && this.windowStart.tMs < last.row.tMs ? this.windowStart : { tMs: 0, busyNs: {} };
    const spanNs = (last.row.tMs - from.tMs) * 1e6;
    const cpu: Record<string, number | null> = {};
    for (const [core, busy] of Object.entries(last.busyNs)) cpu[core] = spanNs > 0 ? (busy - (from.busyNs[core] ?? 0)) / spanNs : null;
    const over =
      from.tMs > 0
        ? `the measurement window so far (${formatValue(from.tMs)}–${formatValue(last.row.tMs)} ms)`
        : `the run so far (0–${formatValue(last.row.tMs)} ms)`;
    return cpuPerCoreFigure(
      cpu,
      `Busy time of each emulated core over ${over}, as a percentage of that time. dom0.nic<q>: the driver domain’s NIC queue core; dom0.worker<k>: netback thread k; vm<v>.vcpu<q>: guest v’s vCPU q.`,
    );
  }

  /** A live run's lag over time against its bound (none for sim, which has no lag). */
  private lagFigure(c: Timeline): ReportItem[] {
    if (this.run.runtime !== 'live') return [];
    const bound = this.run.maxLagUs;
    return [
      overTime(
        c,
        'lag',
        'Lag behind emulated time',
        'How far behind emulated time the controller was when every process had reported a sample (µs of emulated time; the bus’s latency included), with the bound the run is judged against (dashed); summary.live has the actors’ own processing lag.',
        'lag (µs)',
        () => {
          const first = this.lag[0];
          if (first === undefined) return 'no sample reached the controller while the run went';
          return [{ name: 'lag at the controller', points: this.lag }, ...(bound !== undefined ? [referenceLine('lag bound', bound, first.x, c.endMs)] : [])];
        },
      ),
    ];
  }
}
