// The figures of one run: throughput and faults over time, interrupts over time, per-core CPU, latency percentiles and CDF, drops, rings and backlogs.
import { barChart, lineChart } from './charts.js';
import type { Span, VLine, XYSeries } from './charts.js';
import { figure } from './figure.js';
import type { ReportItem } from './figure.js';
import type { Summary } from '@splitnet/results';
import type { LatencyFile, MetricsRow, RunData, RunEvent } from './load.js';
import { formatValue } from './scale.js';

/** A fault that was active over [fromMs, toMs] of emulated time (from events.jsonl's fault-start / fault-end). */
export interface FaultSpan {
  readonly id: string;
  readonly action: string;
  readonly target: string;
  readonly fromMs: number;
  readonly toMs: number;
  /** No fault-end was logged: the fault lasted to the end of the run. */
  readonly open: boolean;
}

function text(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** A summary figure as a number to draw, or undefined (JSON has no NaN or Infinity: a non-finite figure is written as null). */
export function finite(v: number | null | undefined): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Pair fault-start and fault-end events by `detail.id`; a fault never ended lasts until `endMs`. */
export function faultSpans(events: readonly RunEvent[], endMs: number): FaultSpan[] {
  const started = new Map<string, { e: RunEvent; n: number }>();
  const spans: FaultSpan[] = [];
  let n = 0;
  for (const e of events) {
    if (e.kind !== 'fault-start' && e.kind !== 'fault-end') continue;
    const id = text(e.detail['id']) || `fault ${++n}`;
    if (e.kind === 'fault-start') {
      started.set(id, { e, n: spans.length });
      continue;
    }
    const s = started.get(id);
    if (!s) continue; // an end without a start says nothing about when the fault began
    started.delete(id);
    spans.push({ id, action: text(s.e.detail['action']), target: text(s.e.detail['target']), fromMs: s.e.t / 1e6, toMs: e.t / 1e6, open: false });
  }
  for (const [id, s] of started) {
    spans.push({ id, action: text(s.e.detail['action']), target: text(s.e.detail['target']), fromMs: s.e.t / 1e6, toMs: endMs, open: true });
  }
  return spans.sort((a, b) => a.fromMs - b.fromMs || a.id.localeCompare(b.id));
}

function toSpans(faults: readonly FaultSpan[]): Span[] {
  return faults.map((f) => ({
    from: f.fromMs,
    to: f.toMs,
    label: f.id,
    detail: `${f.id}: ${f.action} ${f.target}, ${formatValue(f.fromMs)}–${formatValue(f.toMs)} ms${f.open ? ' (never ended)' : ''}`,
  }));
}

function column(samples: readonly MetricsRow[], key: string): XYSeries['points'] {
  const pts: { x: number; y: number }[] = [];
  for (const r of samples) {
    const v = r[key];
    if (typeof v === 'number' && Number.isFinite(v)) pts.push({ x: r.tMs, y: v });
  }
  return pts;
}

const anyNonZero = (s: XYSeries) => s.points.some((p) => p.y !== 0);

/** Where the run's end is: the last sample, else the window's end. */
export function endOf(run: RunData): number {
  const last = run.samples[run.samples.length - 1];
  return last?.tMs ?? finite(run.summary.windowMs[1]) ?? 0;
}

const MAX_CORE_LINES = 12;

/**
 * The kind of an emulated core: the driver domain's NIC queue cores, its netback workers, or guest vCPUs (anything
 * else by its own name); in a multi-host run, whose cores are named under their host (`h1.dom0.worker0`), the host's.
 */
export function coreKind(core: string): string {
  const m = /^(h\d+)\.(.+)$/.exec(core);
  const [host, own] = m === null ? ['', core] : [`${m[1] as string} `, m[2] as string];
  return /^dom0\.nic\d+$/.test(own)
    ? `${host}dom0 NIC queue cores`
    : /^dom0\.worker\d+$/.test(own)
      ? `${host}dom0 netback workers`
      : /^vm\d+\.vcpu\d+$/.test(own)
        ? `${host}guest vCPUs`
        : core;
}

/** Cores grouped by kind, in order of first appearance. */
function groupCores(cores: readonly string[]): { name: string; cores: string[] }[] {
  const kinds = new Map<string, string[]>();
  for (const c of cores) kinds.set(coreKind(c), [...(kinds.get(coreKind(c)) ?? []), c]);
  return [...kinds].map(([kind, list]) => ({ name: `${kind} (mean)`, cores: list }));
}

/** Latency CDF points from the histogram: one per bucket (fraction at or below its highest value), thinned to ≤ maxPoints. */
export function latencyCdf(lat: LatencyFile, maxPoints = 400): { x: number; y: number }[] {
  const total = lat.buckets.reduce((n, b) => n + b[2], 0);
  if (total === 0) return [];
  const pts: { x: number; y: number }[] = [];
  let seen = 0;
  // Start at the smallest value with fraction 0 so the first step is visible.
  const first = lat.buckets[0];
  if (first) pts.push({ x: first[0], y: 0 });
  for (const [, hi, c] of lat.buckets) {
    seen += c;
    // The last bucket's top may lie above the largest value seen: the CDF reaches 1 at max.
    pts.push({ x: lat.max > 0 ? Math.min(hi, lat.max) : hi, y: seen / total });
  }
  if (pts.length <= maxPoints) return pts;
  // Thin by fraction: keep a point whenever the CDF rose by 1/maxPoints since the last kept one, and keep the tail's last points.
  const out: { x: number; y: number }[] = [];
  let lastY = -1;
  pts.forEach((p, i) => {
    if (p.y - lastY >= 1 / maxPoints || i === pts.length - 1 || p.y > 0.999) {
      out.push(p);
      lastY = p.y;
    }
  });
  return out;
}

/**
 * What the figures over emulated time are drawn with: the samples (metrics.jsonl's rows, or a live run's so far), where
 * the run ends, the faults shaded over time, and the warm-up's end. The live dashboard builds one from what it has.
 */
export interface Timeline {
  readonly samples: readonly MetricsRow[];
  readonly endMs: number;
  readonly faults: readonly FaultSpan[];
  readonly spans: readonly Span[];
  readonly vlines: readonly VLine[];
}

/** The timeline of samples and events that end at `endMs`, with the warm-up's end (ms; none when 0) marked. */
export function timeline(samples: readonly MetricsRow[], events: readonly RunEvent[], endMs: number, warmupMs: number | undefined): Timeline {
  const faults = faultSpans(events, endMs);
  return { samples, endMs, faults, spans: toSpans(faults), vlines: warmupMs !== undefined && warmupMs > 0 ? [{ x: warmupMs, label: 'warm-up end' }] : [] };
}

/** What every figure of a run is drawn with: its timeline, and the run and its summary. */
interface RunContext extends Timeline {
  readonly run: RunData;
  readonly s: Summary;
}

const TIME_LABEL = 'emulated time (ms)';
const NO_SAMPLES = 'metrics.jsonl has no samples';

/** A horizontal reference line (grey, dashed) at `y` from `fromX` to `toX`: a line rate, a bound. */
export function referenceLine(name: string, y: number, fromX: number, toX: number): XYSeries {
  return {
    name,
    reference: true,
    points: [
      { x: fromX, y },
      { x: toX, y },
    ],
  };
}

/** A figure over emulated time, with the faults shaded and the end of the warm-up marked; `series` may say why there is nothing to draw. */
export function overTime(c: Timeline, id: string, title: string, caption: string, yLabel: string, series: () => XYSeries[] | string): ReportItem {
  return figure(id, title, caption, () => {
    if (c.samples.length === 0) return NO_SAMPLES;
    const drawn = series();
    return typeof drawn === 'string'
      ? drawn
      : lineChart({ id, title, xLabel: TIME_LABEL, yLabel, series: drawn, markers: false, spans: c.spans, vlines: c.vlines });
  });
}

/** Delivered and offered throughput over time with the faults shaded, and the line rate when known. */
export function throughputFigure(c: Timeline, lineRateGbps: number | undefined): ReportItem {
  const { samples, faults } = c;
  return figure(
    'throughput',
    faults.length > 0 ? 'Throughput over time, with faults' : 'Throughput over time',
    'Frame bits delivered to the guests’ applications and offered at the NIC in each sample interval' +
      (hasTx(samples) ? '; guests sent (TX): frame bits the guests’ applications sent, and the part of them that left on the wire' : '') +
      (faults.length > 0 ? '; shaded spans: injected faults (fault-start to fault-end in events.jsonl).' : '.') +
      ' The dashed grey line is the line rate at the first generator’s mean frame size.',
    () => {
      if (samples.length === 0) return NO_SAMPLES;
      const series: XYSeries[] = [
        { name: 'delivered', points: column(samples, 'gbps') },
        { name: 'offered', points: column(samples, 'offeredGbps') },
        // A guest that sends: its side beside the receive side (metrics.jsonl has these columns only then).
        ...(hasTx(samples)
          ? [
              { name: 'guests sent (TX)', points: column(samples, 'txGbps') },
              { name: 'TX on the wire', points: column(samples, 'txWireGbps') },
            ]
          : []),
      ];
      const first = samples[0];
      if (lineRateGbps !== undefined && first) series.push(referenceLine('line rate', lineRateGbps, first.tMs, c.endMs));
      return lineChart({
        id: 'throughput',
        title: 'Throughput over time',
        xLabel: TIME_LABEL,
        yLabel: 'throughput (Gbit/s)',
        series,
        markers: false,
        spans: c.spans,
        vlines: c.vlines,
      });
    },
  );
}

/** Rates over time from metrics.jsonl columns ([series name, column]), the series that stayed at zero left out; `none` when all did. */
function ratesOverTime(c: Timeline, id: string, title: string, caption: string, columns: readonly (readonly [string, string])[], none: string): ReportItem {
  return overTime(c, id, title, caption, 'rate (1/s)', () => {
    const series = columns.map(([name, key]) => ({ name, points: column(c.samples, key) })).filter(anyNonZero);
    return series.length > 0 ? series : none;
  });
}

export function interruptsFigure(c: Timeline): ReportItem {
  return ratesOverTime(
    c,
    'interrupts',
    'Interrupts over time',
    'Virtual interrupts (event-channel upcalls to guest vCPUs), physical interrupts raised by the NIC, netback notify hypercalls and front-end coalescing timer polls, per second of emulated time. Series that stayed at zero are left out.',
    [
      ['virtual interrupts', 'virqPerSec'],
      ['physical interrupts (NIC)', 'physicalIrqPerSec'],
      ['notify hypercalls (netback)', 'notifyPerSec'],
      ['timer polls (front-end)', 'timerPollsPerSec'],
    ],
    'no interrupt was raised in this run',
  );
}

/** Whether the samples carry the transmit path's columns (a guest sends). */
function hasTx(samples: readonly MetricsRow[]): boolean {
  return samples.some((r) => typeof r['txGbps'] === 'number');
}

/** The transmit side's interrupts and notifications over time, beside the receive side's (none when no guest sends). */
export function txInterruptsFigures(c: Timeline): ReportItem[] {
  if (!hasTx(c.samples)) return [];
  return [
    ratesOverTime(
      c,
      'tx-interrupts',
      'Transmit path: interrupts and notifications over time',
      'The transmit side, per second of emulated time: guest TX virtual interrupts (xennet_tx_interrupt upcalls), NIC TX-completion interrupts, TX notifications from the guests to netback and from netback to the guests, the TX responses (completions) netback gave the guests, and the pure ACKs the guests’ TCP ends sent. Series that stayed at zero are left out.',
      [
        ['guest TX virtual interrupts', 'txVirqPerSec'],
        ['NIC TX-completion interrupts', 'txNicIrqPerSec'],
        ['TX notifications (guest → netback)', 'txGuestNotifyPerSec'],
        ['TX notifications (netback → guest)', 'txNotifyPerSec'],
        ['TX completions', 'txCompletionsPerSec'],
        ['TCP ACKs sent by guests', 'txAckPerSec'],
      ],
      'no transmit interrupt or notification in this run',
    ),
  ];
}

const CPU_PER_CORE_CAPTION =
  'Busy time of each emulated core over the measurement window, as a percentage of the window. dom0.nic<q>: the driver domain’s NIC queue core; dom0.worker<k>: netback thread k; vm<v>.vcpu<q>: guest v’s vCPU q.';

/** Busy fraction of each emulated core (summary.json's `cpu`, or a live run's so far), grouped by kind; `caption` says over what time. */
export function cpuPerCoreFigure(cpu: Readonly<Record<string, number | null>>, caption = CPU_PER_CORE_CAPTION): ReportItem {
  const cores = Object.keys(cpu);
  return figure('cpu-per-core', 'CPU utilization per emulated core', caption, () => {
    if (cores.length === 0) return 'summary.json has no cpu entries';
    const kinds = [...new Set(cores.map(coreKind))];
    return barChart({
      id: 'cpu-per-core',
      title: 'CPU utilization per emulated core',
      xLabel: '',
      yLabel: 'busy (% of the window)',
      categories: cores,
      series: [{ name: 'busy', values: cores.map((k) => (finite(cpu[k]) ?? Number.NaN) * 100) }],
      categoryGroups: cores.map((k) => kinds.indexOf(coreKind(k))),
      groupNames: kinds,
    });
  });
}

export function cpuOverTimeFigure(c: Timeline): ReportItem {
  const samples = c.samples;
  const coreNames = [...new Set(samples.flatMap((r) => (r['cpu'] !== null && typeof r['cpu'] === 'object' ? Object.keys(r['cpu']) : [])))];
  // Beyond a dozen cores one line each is unreadable: draw the mean of each kind of core instead.
  const grouped = coreNames.length > MAX_CORE_LINES;
  return overTime(
    c,
    'cpu-over-time',
    'CPU utilization over time',
    grouped
      ? `Mean busy fraction of each kind of emulated core (${coreNames.length} cores: NIC queue cores, netback workers, guest vCPUs) in each sample interval (100 % = never idle); the per-core figures are in metrics.jsonl.`
      : 'Busy fraction of each emulated core in each sample interval (100 % = the core never idle).',
    'busy (%)',
    () => {
      const groups = grouped ? groupCores(coreNames) : coreNames.map((k) => ({ name: k, cores: [k] }));
      const series = groups.map((g) => ({
        name: g.name,
        points: samples.flatMap((r) => {
          const cpu = r['cpu'] as Record<string, unknown> | undefined;
          const vals = g.cores.map((k) => cpu?.[k]).filter((v): v is number => typeof v === 'number');
          return vals.length > 0 ? [{ x: r.tMs, y: (vals.reduce((a, b) => a + b, 0) / vals.length) * 100 }] : [];
        }),
      }));
      return series.every((x) => x.points.length === 0) ? 'metrics.jsonl has no cpu column' : series;
    },
  );
}

/** Throughput and virtual interrupts of each VM (drawn when there are several). */
function perVmFigures(c: RunContext): ReportItem[] {
  const { throughput, interrupts } = c.s;
  if (throughput.perVm.length <= 1) return [];
  const categories = throughput.perVm.map((_, v) => `vm${v}`);
  return [
    figure(
      'per-vm',
      'Throughput per VM',
      'Delivered throughput of each guest VM over the measurement window: how evenly the driver domain serves its guests.',
      () =>
        barChart({
          id: 'per-vm',
          title: 'Throughput per VM',
          xLabel: 'guest VM',
          yLabel: 'delivered throughput (Gbit/s)',
          categories,
          series: [{ name: 'delivered', values: throughput.perVm.map((vm) => finite(vm.gbps)) }],
        }),
    ),
    figure(
      'per-vm-virq',
      'Virtual interrupts per VM',
      'Virtual interrupts per second delivered to each guest VM (all its queues) over the measurement window.',
      () =>
        barChart({
          id: 'per-vm-virq',
          title: 'Virtual interrupts per VM',
          xLabel: 'guest VM',
          yLabel: 'virtual interrupts (1/s)',
          categories,
          series: [{ name: 'virq/s', values: throughput.perVm.map((_, v) => finite(interrupts.perVm[v]?.virqPerSec)) }],
        }),
    ),
  ];
}

function latencyPercentilesFigure(c: RunContext): ReportItem {
  const lat = c.s.latencyUs;
  const count = finite(lat.count) ?? 0;
  return figure(
    'latency-percentiles',
    'One-way latency',
    'From the frame’s last bit at the NIC to the end of the guest’s per-packet work in the NAPI poll that delivered it, for packets delivered in the measurement window (HDR histogram, ≤ 0.1 % relative error).',
    () => {
      if (count === 0) return 'no packet was delivered in the measurement window';
      const bars: [number, string][] = [
        [lat.mean, 'mean'],
        [lat.p50, 'p50'],
        [lat.p99, 'p99'],
        [lat.p999, 'p99.9'],
        [lat.max, 'max'],
      ];
      return barChart({
        id: 'latency-percentiles',
        title: 'One-way latency',
        xLabel: `${formatValue(count)} packets`,
        yLabel: 'latency (µs)',
        categories: bars.map(([, l]) => l),
        series: [{ name: 'latency', values: bars.map(([x]) => finite(x)) }],
      });
    },
  );
}

function latencyCdfFigure(c: RunContext): ReportItem {
  const latency = c.run.latency;
  return figure(
    'latency-cdf',
    'Latency distribution (CDF)',
    'Fraction of the window’s packets delivered within a given one-way latency, from latency.json (each step is one histogram bucket).',
    () => {
      if (!latency) return 'latency.json not found (results written by a splitnet that did not record the histogram)';
      const pts = latencyCdf(latency);
      if (pts.length === 0) return 'no packet was delivered in the measurement window';
      return lineChart({
        id: 'latency-cdf',
        title: 'Latency distribution (CDF)',
        xLabel: 'one-way latency (µs)',
        yLabel: 'fraction of packets',
        series: [{ name: 'CDF', points: pts }],
        markers: false,
        step: true,
        yMax: 1,
        yFromZero: true,
      });
    },
  );
}

/** Packets dropped over the whole run (summary.json's `drops`, or a live run's so far), by reason. */
export function dropsFigure(drops: Readonly<Record<string, number>>): ReportItem {
  const reasons = Object.keys(drops).filter((k) => k !== 'total');
  return figure(
    'drops',
    'Drops by reason',
    'Packets dropped over the whole run (not only the window), by reason; see docs/results.md for what each reason means.',
    () => {
      if ((finite(drops['total']) ?? 0) === 0) return 'no packet was dropped in this run';
      return barChart({
        id: 'drops',
        title: 'Drops by reason',
        xLabel: '',
        yLabel: 'dropped (packets)',
        categories: reasons,
        series: [{ name: 'drops', values: reasons.map((r) => finite(drops[r])) }],
      });
    },
  );
}

export function ringsFigure(c: Timeline): ReportItem {
  const samples = c.samples;
  return overTime(
    c,
    'rings',
    'Guest rings and netback backlogs over time',
    'Responses published on the guest RX rings and not yet consumed by netfront (all rings), and packets waiting in netback’s backlogs (all queues), at each sample time.',
    'occupancy',
    () => {
      const series = [
        { name: 'guest RX ring occupancy (responses)', points: column(samples, 'ringOccupancy') },
        { name: 'netback backlog (packets)', points: column(samples, 'backlog') },
      ].filter(anyNonZero);
      return series.length > 0 ? series : 'rings and backlogs stayed empty at every sample';
    },
  );
}

export function runFigures(run: RunData): ReportItem[] {
  const c: RunContext = { ...timeline(run.samples, run.events, endOf(run), finite(run.summary.windowMs[0])), run, s: run.summary };
  return [
    throughputFigure(c, finite(c.s.throughput.lineRateGbps)),
    interruptsFigure(c),
    ...txInterruptsFigures(c),
    cpuPerCoreFigure(c.s.cpu),
    cpuOverTimeFigure(c),
    ...perVmFigures(c),
    latencyPercentilesFigure(c),
    latencyCdfFigure(c),
    dropsFigure(c.s.drops as Readonly<Record<string, number>>),
    ringsFigure(c),
    ...tcpFigures(run),
  ];
}

/** Closed-loop flows (summary.json's `tcp`, cwnd.csv): each flow's cwnd over time, and each TCP_RR flow's transaction latency CDF. */
export function tcpFigures(run: RunData): ReportItem[] {
  const tcp = run.summary.tcp;
  if (tcp === undefined) return [];
  const out: ReportItem[] = [
    figure(
      'tcp-cwnd',
      'TCP congestion window over time',
      'Each closed-loop flow’s far-end cwnd in segments over the whole run, from cwnd.csv (a bounded, evenly spaced trace).',
      () => {
        const rows = run.cwnd ?? [];
        if (rows.length === 0) return 'cwnd.csv not found or empty';
        const flows = [...new Set(rows.map((r) => r.flow))].slice(0, 8);
        return lineChart({
          id: 'tcp-cwnd',
          title: 'TCP congestion window over time',
          xLabel: 'time (ms)',
          yLabel: 'cwnd (segments)',
          series: flows.map((f) => ({ name: `flow ${f}`, points: rows.filter((r) => r.flow === f).map((r) => ({ x: r.ms, y: r.cwnd })) })),
          markers: false,
          step: true,
        });
      },
    ),
  ];
  if (tcp.rr.length > 0) {
    out.push(
      figure(
        'tcp-rr-latency-cdf',
        'TCP_RR transaction latency (CDF)',
        'Fraction of transactions completed within a given latency (request written to the last response byte delivered), from summary.json’s tcp.rr latencyCdfUs.',
        () =>
          lineChart({
            id: 'tcp-rr-latency-cdf',
            title: 'TCP_RR transaction latency (CDF)',
            xLabel: 'transaction latency (µs)',
            yLabel: 'fraction of transactions',
            series: tcp.rr.slice(0, 8).map((r) => ({
              name: `flow ${r.flow}: ${r.transactionsPerSec} transactions/s`,
              points: r.latencyCdfUs.map(([p, us]) => ({ x: us, y: p / 100 })),
            })),
            step: true,
            yMax: 1,
            yFromZero: true,
          }),
      ),
    );
  }
  return out;
}
