// The figures of a sweep: each metric against each axis (mean and error bars over repetitions, the other axes as series), and the study's own plots when their axes are present.
import { barChart, lineChart } from './charts.js';
import type { BarSeries, XYSeries } from './charts.js';
import { figure } from './figure.js';
import type { ReportItem } from './figure.js';
import type { SweepAxis, SweepData, TableRow } from './load.js';
import { errorOf, estimate } from './stats.js';
import type { ErrorBars, Estimate } from './stats.js';

/** A metric of a sweep row: a table column, or one derived from several. */
export interface Metric {
  readonly key: string;
  /** Axis label, with unit. */
  readonly label: string;
  readonly value: (row: TableRow) => number | undefined;
}

function cell(row: TableRow, key: string): number | undefined {
  const v = row[key];
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

function columnMetric(key: string, label: string): Metric {
  return { key, label, value: (r) => cell(r, key) };
}

/**
 * Driver-domain CPU time per delivered packet, in µs: the dom0 cores' busy fractions summed (core
 * seconds per second) ÷ packets delivered per second. What the paper's "CPU cost" comparisons of
 * placements come down to.
 */
export const DOM0_CPU_PER_PACKET: Metric = {
  key: 'dom0CpuUsPerPacket',
  label: 'driver-domain CPU per delivered packet (µs)',
  value: (r) => {
    const pps = cell(r, 'throughput.pps');
    const cores = Object.keys(r).filter((k) => k.startsWith('cpu.dom0.'));
    if (pps === undefined || pps <= 0 || cores.length === 0) return undefined;
    return (cores.reduce((a, k) => a + (cell(r, k) ?? 0), 0) / pps) * 1e6;
  },
};

export const METRICS = {
  gbps: columnMetric('throughput.gbps', 'delivered throughput (Gbit/s)'),
  pps: columnMetric('throughput.pps', 'delivered packets (packets/s)'),
  lineRate: columnMetric('throughput.lineRateGbps', 'line rate (Gbit/s)'),
  virq: columnMetric('interrupts.virqPerSec', 'virtual interrupts (1/s)'),
  p99: columnMetric('latencyUs.p99', 'p99 one-way latency (µs)'),
  dom0: DOM0_CPU_PER_PACKET,
  drops: columnMetric('drops.total', 'drops (packets, whole run)'),
} as const;

/** The metrics drawn against every axis. */
const KEY_METRICS: readonly Metric[] = [METRICS.gbps, METRICS.virq, METRICS.p99, METRICS.dom0, METRICS.drops];

const AXIS_NAMES: Readonly<Record<string, string>> = {
  'traffic.0.size': 'packet size (bytes)',
  'traffic.0.rate': 'offered rate',
  'traffic.0.flows': 'flows',
  'topology.workers': 'netback workers (vRSS)',
  'topology.vms.count': 'VMs',
  'topology.vms.queues': 'queues per VM',
  'topology.vrss': 'netback threading (vRSS mode)',
  'traffic.0.pattern': 'arrival pattern',
  'coalescing': 'coalescing (NIC, back-end, front-end)',
  'coalescing.nic': 'NIC interrupt moderation',
  'coalescing.backend': 'back-end coalescing',
  'coalescing.frontend': 'front-end coalescing',
  'coalescing.frontend.policy': 'front-end coalescing policy',
  'coalescing.backend.policy': 'back-end coalescing policy',
};

/** How an axis is named on a plot: the known ones in words, others by their scenario path. */
export function axisName(path: string): string {
  return AXIS_NAMES[path] ?? path;
}

/** Short form for series names: `coalescing.frontend.policy` → `frontend.policy`. */
function shortName(path: string): string {
  const known: Readonly<Record<string, string>> = { 'traffic.0.size': 'size', 'topology.workers': 'workers', 'topology.vms.count': 'VMs' };
  if (known[path]) return known[path];
  const parts = path.split('.').filter((p) => !/^\d+$/.test(p));
  return parts.slice(-2).join('.');
}

export function valueLabel(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined ? '—' : JSON.stringify(v);
}

const keyOf = (v: unknown) => JSON.stringify(v);

/** One point of the sweep: its axis values and the rows (repetitions) that ran it. */
export interface SweepPoint {
  readonly id: string;
  readonly values: ReadonlyMap<string, unknown>;
  readonly rows: readonly TableRow[];
}

export function sweepPoints(data: SweepData): SweepPoint[] {
  const byId = new Map<string, { values: Map<string, unknown>; rows: TableRow[] }>();
  for (const row of data.table) {
    const values = new Map(data.sweep.axes.map((a) => [a.path, row[a.path]] as const));
    const id = row['point'] !== undefined ? valueLabel(row['point']) : keyOf([...values.values()]);
    let p = byId.get(id);
    if (!p) byId.set(id, (p = { values, rows: [] }));
    p.rows.push(row);
  }
  return [...byId].map(([id, p]) => ({ id, values: p.values, rows: p.rows }));
}

export function pointEstimate(p: SweepPoint, m: Metric): Estimate {
  return estimate(p.rows.map(m.value).filter((v): v is number => v !== undefined));
}

/** The distinct values of an axis that occur, in sweep.json's order (values only in the table come last). */
function axisValues(axis: SweepAxis, points: readonly SweepPoint[]): unknown[] {
  const seen = new Map<string, unknown>();
  for (const v of axis.values) seen.set(keyOf(v), v);
  const present = new Set(points.map((p) => keyOf(p.values.get(axis.path))));
  for (const p of points) {
    const v = p.values.get(axis.path);
    if (!seen.has(keyOf(v))) seen.set(keyOf(v), v);
  }
  return [...seen].filter(([k]) => present.has(k)).map(([, v]) => v);
}

/** Points grouped by their values on `axes` (in order of first appearance), with a name for each group. */
function groupBy(points: readonly SweepPoint[], axes: readonly SweepAxis[]): { name: string; points: SweepPoint[] }[] {
  const groups = new Map<string, { name: string; points: SweepPoint[] }>();
  for (const p of points) {
    const k = keyOf(axes.map((a) => p.values.get(a.path)));
    let g = groups.get(k);
    if (!g) {
      const name = axes.map((a) => `${shortName(a.path)}=${valueLabel(p.values.get(a.path))}`).join(', ');
      groups.set(k, (g = { name: name === '' ? 'all' : name, points: [] }));
    }
    g.points.push(p);
  }
  return [...groups.values()];
}

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase();
}

interface PlotOptions {
  readonly id?: string;
  readonly title?: string;
  readonly caption?: string;
  /** A reference series drawn dashed (e.g. the line rate against packet size). */
  readonly reference?: Metric;
}

/**
 * `metric` against the axes `xs` (one axis: its values; several: each combination, as categories),
 * the remaining axes as series. Numeric single axes are drawn as lines, everything else as grouped bars.
 */
function metricAgainst(data: SweepData, points: readonly SweepPoint[], xs: readonly SweepAxis[], metric: Metric, bars: ErrorBars, o: PlotOptions = {}): ReportItem {
  const others = data.sweep.axes.filter((a) => !xs.includes(a));
  const xName = xs.map((a) => axisName(a.path)).join(' × ');
  const id = o.id ?? `sweep-${slug(metric.key)}-vs-${slug(xs.map((a) => a.path).join('-'))}`;
  const what = metric.label.replace(/ \(.*\)$/, '');
  const title = o.title ?? `${what.charAt(0).toUpperCase()}${what.slice(1)} vs ${xName}`;
  const caption =
    o.caption ??
    `${metric.label.charAt(0).toUpperCase()}${metric.label.slice(1)} against ${xName}${others.length > 0 ? `; one series per value of ${others.map((a) => axisName(a.path)).join(', ')}` : ''}.`;
  return figure(id, title, caption, () => {
    if (!data.table.some((r) => metric.value(r) !== undefined)) return `table.json has no values for ${metric.key}`;
    if (metric === METRICS.drops && data.table.every((r) => (metric.value(r) ?? 0) === 0)) return 'no packet was dropped at any point of the sweep';
    const groups = groupBy(points, others);
    const single = xs.length === 1 ? xs[0] : undefined;
    const numeric = single !== undefined && axisValues(single, points).every((v) => typeof v === 'number');
    if (single && numeric) {
      const ticks = axisValues(single, points) as number[];
      const series: XYSeries[] = groups.map((g) => ({
        name: g.name,
        points: g.points
          .map((p) => ({ x: p.values.get(single.path) as number, e: pointEstimate(p, metric) }))
          .filter((q) => q.e.n > 0)
          .sort((a, b) => a.x - b.x)
          .map((q) => ({ x: q.x, y: q.e.mean, err: errorOf(q.e, bars) })),
      }));
      if (o.reference) {
        const ref = o.reference;
        const byX = new Map<number, number[]>();
        for (const p of points) {
          const v = pointEstimate(p, ref);
          if (v.n > 0) byX.set(p.values.get(single.path) as number, [...(byX.get(p.values.get(single.path) as number) ?? []), v.mean]);
        }
        const refPts = [...byX].sort((a, b) => a[0] - b[0]).map(([x, ys]) => ({ x, y: ys.reduce((a, b) => a + b, 0) / ys.length }));
        if (refPts.length > 0) series.push({ name: ref.label.replace(/ \(.*\)$/, ''), reference: true, points: refPts });
      }
      return lineChart({ id, title, xLabel: axisName(single.path), yLabel: metric.label, series, xTicksAt: ticks });
    }
    // Categories: each combination of the x axes' values that occurs, in sweep order.
    const combos = groupBy(
      [...points].sort((a, b) => {
        for (const ax of xs) {
          const order = axisValues(ax, points).map(keyOf);
          const d = order.indexOf(keyOf(a.values.get(ax.path))) - order.indexOf(keyOf(b.values.get(ax.path)));
          if (d !== 0) return d;
        }
        return 0;
      }),
      xs,
    );
    const categories = combos.map((c) => (xs.length === 1 ? valueLabel(c.points[0]?.values.get(xs[0]?.path ?? '')) : c.name));
    const series: BarSeries[] = groups.map((g) => {
      const ests = combos.map((c) => {
        const p = c.points.find((q) => g.points.includes(q));
        return p ? pointEstimate(p, metric) : undefined;
      });
      return {
        name: g.name,
        values: ests.map((e) => (e && e.n > 0 ? e.mean : undefined)),
        errs: ests.map((e) => (e && e.n > 0 ? errorOf(e, bars) : undefined)),
      };
    });
    return barChart({ id, title, xLabel: xName, yLabel: metric.label, categories, series });
  });
}

export interface SweepFigures {
  /** Plots of the study's questions, when the sweep has their axes. */
  readonly highlights: ReportItem[];
  /** Every key metric against every axis (those not already among the highlights). */
  readonly perAxis: ReportItem[];
}

export function sweepFigures(data: SweepData, bars: ErrorBars): SweepFigures {
  const points = sweepPoints(data);
  const axes = data.sweep.axes;
  const find = (path: string) => axes.find((a) => a.path === path);
  const highlights: ReportItem[] = [];
  const done = new Set<string>();
  const mark = (axis: SweepAxis, m: Metric) => done.add(`${axis.path}|${m.key}`);

  const size = find('traffic.0.size');
  if (size) {
    highlights.push(
      metricAgainst(data, points, [size], METRICS.gbps, bars, {
        title: 'Throughput vs packet size',
        caption: 'Delivered throughput against the frame size; the dashed grey line is the link’s line rate at that size (frame bits, without preamble and inter-frame gap).',
        reference: METRICS.lineRate,
      }),
      metricAgainst(data, points, [size], METRICS.pps, bars, {
        title: 'Packet rate vs packet size',
        caption: 'Delivered packets per second against the frame size: small frames are bound by per-packet costs, large ones by the link.',
      }),
    );
    mark(size, METRICS.gbps);
  }
  const coalescing = axes.filter((a) => a.path === 'coalescing' || a.path.startsWith('coalescing.'));
  if (coalescing.length > 0) {
    const what = coalescing.map((a) => axisName(a.path)).join(' × ');
    highlights.push(
      metricAgainst(data, points, coalescing, METRICS.virq, bars, {
        id: 'sweep-virq-per-coalescing',
        title: 'Virtual interrupts per coalescing policy and placement',
        caption: `Virtual interrupts per second delivered to the guests, for each ${what}.`,
      }),
      metricAgainst(data, points, coalescing, METRICS.p99, bars, {
        id: 'sweep-latency-per-coalescing',
        title: 'Latency cost of coalescing (p99)',
        caption: `The 99th percentile of one-way latency for each ${what}: what holding interrupts back costs.`,
      }),
      metricAgainst(data, points, coalescing, METRICS.dom0, bars, {
        id: 'sweep-dom0-cpu-per-coalescing',
        title: 'Driver-domain CPU per delivered packet',
        caption: `Busy time of the driver domain’s cores (NIC queues and netback workers) per packet delivered, for each ${what}.`,
      }),
    );
    if (coalescing.length === 1) for (const m of [METRICS.virq, METRICS.p99, METRICS.dom0]) mark(coalescing[0] as SweepAxis, m);
  }
  const workers = find('topology.workers');
  if (workers) {
    highlights.push(
      metricAgainst(data, points, [workers], METRICS.gbps, bars, {
        title: 'vRSS scaling: throughput vs netback workers',
        caption: 'Delivered throughput against the number of netback worker threads (one dom0 core each) that vRSS spreads the flows over.',
      }),
    );
    mark(workers, METRICS.gbps);
  }
  const vrss = find('topology.vrss');
  if (vrss) {
    highlights.push(
      metricAgainst(data, points, [vrss], METRICS.gbps, bars, {
        title: 'Throughput per netback threading mode',
        caption: 'Delivered throughput with one netback thread for everything (single), one thread per VIF (per-vif), and per-flow virtual RSS over the workers (per-flow).',
      }),
      metricAgainst(data, points, [vrss], METRICS.dom0, bars, {
        title: 'Driver-domain CPU per delivered packet, per netback threading mode',
        caption: 'Busy time of the driver domain’s cores per packet delivered, for each netback threading mode.',
      }),
    );
    mark(vrss, METRICS.gbps);
    mark(vrss, METRICS.dom0);
  }
  const vms = find('topology.vms.count');
  if (vms) {
    highlights.push(
      metricAgainst(data, points, [vms], METRICS.gbps, bars, {
        title: 'Scaling with the number of VMs',
        caption: 'Delivered throughput, all VMs together, against the number of guest VMs sharing the driver domain.',
      }),
    );
    mark(vms, METRICS.gbps);
  }
  if (coalescing.length === 0 && axes[0] && !done.has(`${axes[0].path}|${METRICS.dom0.key}`)) {
    // Without coalescing axes, the CPU-per-packet question is asked of the first axis.
    highlights.push(metricAgainst(data, points, [axes[0]], METRICS.dom0, bars, { title: `Driver-domain CPU per delivered packet vs ${axisName(axes[0].path)}` }));
    mark(axes[0], METRICS.dom0);
  }

  const perAxis: ReportItem[] = [];
  for (const a of axes) {
    for (const m of KEY_METRICS) {
      if (done.has(`${a.path}|${m.key}`)) continue;
      perAxis.push(metricAgainst(data, points, [a], m, bars));
    }
  }
  return { highlights, perAxis };
}
