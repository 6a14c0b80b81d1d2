// The figures of a sweep: each metric against each axis (mean and error bars over repetitions, the other axes as series), and the study's own plots when their axes are present.
import { barChart, lineChart } from './charts.js';
import type { BarSeries, XYSeries } from './charts.js';
import { figure } from './figure.js';
import type { ReportItem } from './figure.js';
import { CPU_COLUMN, SUMMARY_COLUMNS } from '@splitnet/results';
import type { SweepAxis, SweepData, TableRow } from './load.js';
import { errorOf, estimate } from './stats.js';
import type { ErrorBars, Estimate } from './stats.js';

/** A metric of a sweep row: a table column, or one derived from several. */
export interface Metric {
  /** Names the metric in figure ids (stable: the .svg files keep their names). */
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

/**
 * The metric in table column `column` (summary.csv's name, from @splitnet/results' SUMMARY_COLUMNS). `key`
 * names it in figure ids, and is the column tables had before summary.csv became one row of unit-named
 * columns (summary.json's fields joined with dots), so older sweeps still report.
 */
function columnMetric(key: string, column: string, label: string): Metric {
  return { key, label, value: (r) => cell(r, column) ?? cell(r, key) };
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
    const pps = METRICS.pps.value(r);
    // A multi-host run's cores are named under their host (cpu_h1_dom0_worker0_frac): every host's dom0 counts.
    let cores = Object.keys(r).filter((k) => /^(?:h\d+_)?dom0_/.test(CPU_COLUMN.exec(k)?.[1] ?? ''));
    // Older tables: summary.json's cpu map joined with dots.
    if (cores.length === 0) cores = Object.keys(r).filter((k) => k.startsWith('cpu.dom0.'));
    if (pps === undefined || pps <= 0 || cores.length === 0) return undefined;
    return (cores.reduce((a, k) => a + (cell(r, k) ?? 0), 0) / pps) * 1e6;
  },
};

const C = SUMMARY_COLUMNS;

export const METRICS = {
  gbps: columnMetric('throughput.gbps', C.throughputGbps, 'delivered throughput (Gbit/s)'),
  pps: columnMetric('throughput.pps', C.packetsPerSec, 'delivered packets (packets/s)'),
  lineRate: columnMetric('throughput.lineRateGbps', C.lineRateGbps, 'line rate (Gbit/s)'),
  virq: columnMetric('interrupts.virqPerSec', C.virqsPerSec, 'virtual interrupts (1/s)'),
  p99: columnMetric('latencyUs.p99', C.latencyP99Us, 'p99 one-way latency (µs)'),
  dom0: DOM0_CPU_PER_PACKET,
  drops: columnMetric('drops.total', C.droppedPackets, 'drops (packets, whole run)'),
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
  'traffic.0.name': 'traffic',
  'traffic.0.protocol': 'protocol',
  'topology.link': 'link',
  coalescing: 'coalescing (NIC, back-end, front-end)',
  'coalescing.nic': 'NIC interrupt moderation',
  'coalescing.backend': 'back-end coalescing',
  'coalescing.frontend': 'front-end coalescing',
  'coalescing.frontend.policy': 'front-end coalescing policy',
  'coalescing.backend.policy': 'back-end coalescing policy',
  'netback.threading': "netback's threading (tasklets, kernel threads, SCHED_FIFO threads)",
  'topology.dom0.vcpus': 'dom0 vCPUs',
  'topology.dom0.softirq.ksoftirqd': 'softirq deferral to ksoftirqd',
};

/** How an axis is named on a plot: the known ones in words, others by their scenario path. */
export function axisName(path: string): string {
  return AXIS_NAMES[path] ?? path;
}

/** Short form for series names: `coalescing.frontend.policy` → `frontend.policy`. */
function shortName(path: string): string {
  const known: Readonly<Record<string, string>> = {
    'traffic.0.size': 'size',
    'traffic.0.rate': 'rate',
    'traffic.0.name': 'traffic',
    'traffic.0.pattern': 'pattern',
    'traffic.0.protocol': 'protocol',
    'traffic.0.flows': 'flows',
    'topology.workers': 'workers',
    'topology.vms.count': 'VMs',
    'topology.vms.queues': 'queues',
    'topology.vrss': 'vrss',
    'topology.link': 'link',
    'coalescing.frontend': 'frontend',
    'coalescing.backend': 'backend',
    'coalescing.nic': 'NIC',
    'netback.threading': 'threading',
    'topology.dom0.vcpus': 'dom0 vCPUs',
    'topology.dom0.softirq.ksoftirqd': 'ksoftirqd',
  };
  if (known[path]) return known[path];
  const parts = path.split('.').filter((p) => !/^\d+$/.test(p));
  return parts.slice(-2).join('.');
}

function isPlainObject(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A swept value as a short label: strings and numbers as written; a map without JSON punctuation, so
 * a coalescing policy `{ policy: static, usecs: 50, frames: 32 }` reads `static 50 µs/32` and
 * `{ onoff: { on: 200us, off: 800us } }` reads `onoff (on 200us, off 800us)`.
 */
export function valueLabel(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined) return '—';
  if (!isPlainObject(v)) return JSON.stringify(v);
  const entries = Object.entries(v);
  const policy = v['policy'];
  if (typeof policy === 'string') {
    const rest = entries.filter(([k]) => k !== 'policy');
    // A coalescing policy's bounds in the order written, the time bound with its unit: `static 50 µs/32`.
    return rest.length === 0 ? policy : `${policy} ${rest.map(([k, x]) => (k === 'usecs' ? `${valueLabel(x)} µs` : valueLabel(x))).join('/')}`;
  }
  const only = entries.length === 1 ? entries[0] : undefined;
  if (only && isPlainObject(only[1]))
    return `${only[0]} (${Object.entries(only[1])
      .map(([k, x]) => `${k} ${valueLabel(x)}`)
      .join(', ')})`;
  return entries.map(([k, x]) => `${k} ${valueLabel(x)}`).join(', ');
}

const keyOf = (v: unknown) => JSON.stringify(v);

/**
 * Axes that advance together (one `zip` of the sweep file: one x position per zip position, never
 * their product) or a single free axis. Plots put a group, not an axis, on x or into the series.
 */
export interface AxisGroup {
  readonly axes: readonly SweepAxis[];
  /**
   * The member whose value names each position: the first whose values all differ (a zip of workers
   * and queues is named by its workers); undefined when none does (each position is named by every
   * member, e.g. back-end none / static × front-end static / none).
   */
  readonly key: SweepAxis | undefined;
}

/** The sweep's axes as groups: members of a zip (same `zip` in sweep.json) together, in order. */
export function axisGroups(axes: readonly SweepAxis[]): AxisGroup[] {
  const groups: SweepAxis[][] = [];
  for (const a of axes) {
    const last = groups[groups.length - 1];
    if (a.zip !== undefined && last !== undefined && last[0]?.zip === a.zip) last.push(a);
    else groups.push([a]);
  }
  return groups.map((members) => ({
    axes: members,
    key: members.length === 1 ? members[0] : members.find((a) => new Set(a.values.map(keyOf)).size === a.values.length),
  }));
}

/** How a group is named on a plot: its key axis (and what moves with it), or every member. */
export function groupName(g: AxisGroup): string {
  if (g.key === undefined) return g.axes.map((a) => axisName(a.path)).join(' × ');
  const rest = g.axes.filter((a) => a !== g.key);
  return rest.length === 0 ? axisName(g.key.path) : `${axisName(g.key.path)} (with ${rest.map((a) => axisName(a.path)).join(', ')})`;
}

/** A group's value at a point, as a label: the key's value, or every member's (`backend none, frontend static 50 µs/32`), joined by `sep`. */
function groupLabel(g: AxisGroup, p: SweepPoint, sep = ', '): string {
  if (g.key !== undefined) return valueLabel(p.values.get(g.key.path));
  return g.axes.map((a) => `${shortName(a.path)} ${valueLabel(p.values.get(a.path))}`).join(sep);
}

/** What identifies a group's position at a point (all members' values). */
function groupValue(g: AxisGroup, p: SweepPoint): string {
  return keyOf(g.axes.map((a) => p.values.get(a.path)));
}

function groupPath(g: AxisGroup): string {
  return g.key?.path ?? g.axes.map((a) => a.path).join('-');
}

/** One point of the sweep: its axis values and the rows (repetitions) that ran it. */
export interface SweepPoint {
  readonly id: string;
  readonly values: ReadonlyMap<string, unknown>;
  /** The axes that are numbers (sweep.json's `numeric`, or plain numbers), as numbers: where the point lies on a numeric x axis. */
  readonly numbers: ReadonlyMap<string, number>;
  readonly rows: readonly TableRow[];
}

/** The table's column saying whether a point's repetitions gave identical results (1/0). */
export const REPETITIONS_IDENTICAL = 'repetitions_identical';

export function sweepPoints(data: SweepData): SweepPoint[] {
  const byId = new Map<string, { values: Map<string, unknown>; numbers: Map<string, number>; rows: TableRow[] }>();
  for (const row of data.table) {
    const values = new Map(data.sweep.axes.map((a) => [a.path, row[a.path]] as const));
    const id = row['point'] !== undefined ? valueLabel(row['point']) : keyOf([...values.values()]);
    let p = byId.get(id);
    if (!p) {
      const numbers = new Map<string, number>();
      for (const a of data.sweep.axes) {
        const n = a.numeric !== undefined ? cell(row, a.numeric.column) : typeof row[a.path] === 'number' ? (row[a.path] as number) : undefined;
        if (n !== undefined) numbers.set(a.path, n);
      }
      byId.set(id, (p = { values, numbers, rows: [] }));
    }
    p.rows.push(row);
  }
  return [...byId].map(([id, p]) => ({ id, values: p.values, numbers: p.numbers, rows: p.rows }));
}

/**
 * Whether a point's repetitions gave identical results: the table's `repetitions_identical` (1/0), or
 * for a table without it, every column but run, rep and seed equal. Undefined with one repetition.
 */
export function repetitionsIdentical(p: SweepPoint): boolean | undefined {
  if (p.rows.length < 2) return undefined;
  const marked = p.rows.map((r) => r[REPETITIONS_IDENTICAL]);
  if (marked.every((m) => m === 1 || m === 0)) return marked.every((m) => m === 1);
  const rest = (r: TableRow) => JSON.stringify(Object.entries(r).filter(([k]) => k !== 'run' && k !== 'rep' && k !== 'seed'));
  const first = rest(p.rows[0] as TableRow);
  return p.rows.every((r) => rest(r) === first);
}

export function pointEstimate(p: SweepPoint, m: Metric): Estimate {
  return estimate(p.rows.map(m.value).filter((v): v is number => v !== undefined));
}

/** The positions of a group that occur, in sweep.json's order (positions only in the table come last), each with a point at it. */
function groupPositions(g: AxisGroup, points: readonly SweepPoint[]): { value: string; point: SweepPoint }[] {
  const order = new Map<string, number>();
  const n = Math.max(0, ...g.axes.map((a) => a.values.length));
  for (let i = 0; i < n; i++) {
    const k = keyOf(g.axes.map((a) => a.values[i]));
    if (!order.has(k)) order.set(k, i);
  }
  const present = new Map<string, SweepPoint>();
  for (const p of points) {
    const k = groupValue(g, p);
    if (!present.has(k)) present.set(k, p);
  }
  return [...present]
    .map(([value, point], i) => ({ value, point, rank: order.get(value) ?? n + i }))
    .sort((a, b) => a.rank - b.rank)
    .map(({ value, point }) => ({ value, point }));
}

/** Points grouped by their positions on `groups` (in order of first appearance), with a name for each. */
function groupBy(points: readonly SweepPoint[], groups: readonly AxisGroup[]): { name: string; points: SweepPoint[] }[] {
  const out = new Map<string, { name: string; points: SweepPoint[] }>();
  for (const p of points) {
    const k = keyOf(groups.map((g) => groupValue(g, p)));
    let o = out.get(k);
    if (!o) {
      const name = groups.map((g) => (g.key !== undefined ? `${shortName(g.key.path)}=${groupLabel(g, p)}` : groupLabel(g, p))).join(', ');
      out.set(k, (o = { name: name === '' ? 'all' : name, points: [] }));
    }
    o.points.push(p);
  }
  return [...out.values()];
}

function slug(s: string): string {
  return s
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase();
}

interface PlotOptions {
  readonly id?: string;
  readonly title?: string;
  readonly caption?: string;
  /** A reference series drawn dashed (e.g. the line rate against packet size). */
  readonly reference?: Metric;
}

/**
 * `metric` against the axis groups `xs` (one group: its positions; several: each combination, as
 * categories), the remaining groups as series. A single group with a numeric key is drawn as lines,
 * everything else as grouped bars.
 */
// eslint-disable-next-line max-lines-per-function -- the axes, categories and series of one figure are decided together, in the order a reader checks them
function metricAgainst(
  data: SweepData,
  groups: readonly AxisGroup[],
  points: readonly SweepPoint[],
  xs: readonly AxisGroup[],
  metric: Metric,
  bars: ErrorBars,
  o: PlotOptions = {},
): ReportItem {
  const others = groups.filter((g) => !xs.includes(g));
  const xName = xs.map(groupName).join(' × ');
  const id = o.id ?? `sweep-${slug(metric.key)}-vs-${slug(xs.map(groupPath).join('-'))}`;
  const what = metric.label.replace(/ \(.*\)$/, '');
  const title =
    o.title ?? `${what.charAt(0).toUpperCase()}${what.slice(1)} vs ${xs.map((g) => (g.key !== undefined ? axisName(g.key.path) : groupName(g))).join(' × ')}`;
  const written =
    o.caption ??
    `${metric.label.charAt(0).toUpperCase()}${metric.label.slice(1)} against ${xName}${others.length > 0 ? `; one series per value of ${others.map(groupName).join(', ')}` : ''}.`;
  // Bars of zero width would read as "very precise"; say why there are none.
  const identical = points.some((p) => p.rows.length > 1) && points.every((p) => repetitionsIdentical(p) !== false);
  const caption = identical ? `${written} Repetitions identical (the scenario does not depend on the seed): no error bars.` : written;
  return figure(id, title, caption, () => {
    if (!data.table.some((r) => metric.value(r) !== undefined)) return `table.json has no values for ${metric.key}`;
    if (metric === METRICS.drops && data.table.every((r) => (metric.value(r) ?? 0) === 0)) return 'no packet was dropped at any point of the sweep';
    const series0 = groupBy(points, others);
    const single = xs.length === 1 ? xs[0] : undefined;
    const key = single?.key;
    // A numeric axis (sizes, counts, rates in bit/s, durations in µs) is a line over its numbers, never categories.
    const numeric = key !== undefined && points.every((p) => p.numbers.has(key.path));
    if (key && numeric) {
      const xOf = (p: SweepPoint) => p.numbers.get(key.path) as number;
      const ticks = [...new Set(points.map(xOf))].sort((a, b) => a - b);
      // Ticks read as the values were written (`500Mbps`, `50us`): the sweep file's words, placed by their numbers.
      const tickLabels = ticks.map((x) => valueLabel(points.find((p) => xOf(p) === x)?.values.get(key.path)));
      const series: XYSeries[] = series0.map((g) => ({
        name: g.name,
        points: g.points
          .map((p) => ({ x: xOf(p), e: pointEstimate(p, metric) }))
          .filter((q) => q.e.n > 0)
          .sort((a, b) => a.x - b.x)
          .map((q) => ({ x: q.x, y: q.e.mean, err: errorOf(q.e, bars) })),
      }));
      if (o.reference) {
        const ref = o.reference;
        const byX = new Map<number, number[]>();
        for (const p of points) {
          const v = pointEstimate(p, ref);
          const x = xOf(p);
          if (v.n > 0) byX.set(x, [...(byX.get(x) ?? []), v.mean]);
        }
        const refPts = [...byX].sort((a, b) => a[0] - b[0]).map(([x, ys]) => ({ x, y: ys.reduce((a, b) => a + b, 0) / ys.length }));
        if (refPts.length > 0) series.push({ name: ref.label.replace(/ \(.*\)$/, ''), reference: true, points: refPts });
      }
      return lineChart({ id, title, xLabel: xName, yLabel: metric.label, series, xTicksAt: ticks, xTickLabels: tickLabels });
    }
    // Categories: each combination of the x groups' positions that occurs, in sweep order.
    const rank = xs.map((g) => new Map(groupPositions(g, points).map((q, i) => [q.value, i] as const)));
    const combos = groupBy(
      [...points].sort((a, b) => {
        for (const [i, g] of xs.entries()) {
          const d = (rank[i]?.get(groupValue(g, a)) ?? 0) - (rank[i]?.get(groupValue(g, b)) ?? 0);
          if (d !== 0) return d;
        }
        return 0;
      }),
      xs,
    );
    const categories = combos.map((c) => {
      const p = c.points[0];
      // A zip without a key gets one line per member (the bar chart stacks them), which fits under a bar.
      return single !== undefined && p !== undefined ? groupLabel(single, p, '\n') : c.name;
    });
    const series: BarSeries[] = series0.map((g) => {
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

/** The study plots of a sweep: each asks its question of the axes it needs, when the sweep has them. */
class Highlights {
  readonly items: ReportItem[] = [];
  /** Group path | metric key of the study plots against a single group (their per-axis plots are left out). */
  readonly done = new Set<string>();
  readonly points: SweepPoint[];
  readonly groups: AxisGroup[];

  constructor(
    private readonly data: SweepData,
    private readonly bars: ErrorBars,
  ) {
    this.points = sweepPoints(data);
    this.groups = axisGroups(data.sweep.axes);
  }

  /**
   * A study plot asks its question of an axis that names its own positions: a free axis, or the key of a
   * zip (vrss-workers' workers, zipped with as many queues) — never a member that repeats values in step
   * with another (the packet size of a zip of traffic kinds).
   */
  find(path: string): AxisGroup | undefined {
    return this.groups.find((g) => g.key?.path === path);
  }

  /** A study plot; one against a single group stands in for that group's plot of the metric among the per-axis ones. */
  add(xs: readonly AxisGroup[], m: Metric, o?: PlotOptions): void {
    this.items.push(metricAgainst(this.data, this.groups, this.points, xs, m, this.bars, o));
    const only = xs.length === 1 ? xs[0] : undefined;
    if (only) this.done.add(`${groupPath(only)}|${m.key}`);
  }

  packetSize(): void {
    const size = this.find('traffic.0.size');
    if (!size) return;
    this.add([size], METRICS.gbps, {
      title: 'Throughput vs packet size',
      caption:
        'Delivered throughput against the frame size; the dashed grey line is the link’s line rate at that size (frame bits, without preamble and inter-frame gap).',
      reference: METRICS.lineRate,
    });
    this.add([size], METRICS.pps, {
      title: 'Packet rate vs packet size',
      caption: 'Delivered packets per second against the frame size: small frames are bound by per-packet costs, large ones by the link.',
    });
  }

  /** The coalescing axes (policies and where they act); returns them. */
  coalescing(): AxisGroup[] {
    const coalescing = this.groups.filter((g) => g.axes.every((a) => a.path === 'coalescing' || a.path.startsWith('coalescing.')));
    if (coalescing.length === 0) return coalescing;
    const what = coalescing.map(groupName).join(' × ');
    this.add(coalescing, METRICS.virq, {
      id: 'sweep-virq-per-coalescing',
      title: 'Virtual interrupts per coalescing policy and placement',
      caption: `Virtual interrupts per second delivered to the guests, for each ${what}.`,
    });
    this.add(coalescing, METRICS.p99, {
      id: 'sweep-latency-per-coalescing',
      title: 'Latency cost of coalescing (p99)',
      caption: `The 99th percentile of one-way latency for each ${what}: what holding interrupts back costs.`,
    });
    this.add(coalescing, METRICS.dom0, {
      id: 'sweep-dom0-cpu-per-coalescing',
      title: 'Driver-domain CPU per delivered packet',
      caption: `Busy time of the driver domain’s cores (NIC queues and netback workers) per packet delivered, for each ${what}.`,
    });
    return coalescing;
  }

  /**
   * Offered packet rates (`traffic.0.rate` in pps): delivered packets against offered ones — where a curve
   * that falls as the offered load rises past capacity shows receive livelock.
   */
  offeredPackets(): void {
    const rate = this.find('traffic.0.rate');
    if (!rate || !rate.axes.every((a) => a.values.every((v) => typeof v === 'string' && /pps$/.test(v)))) return;
    this.add([rate], METRICS.pps, {
      title: 'Delivered vs offered packets',
      caption:
        'Delivered packets per second against the offered packet rate. Past the capacity of what does the work, a curve that falls as more is offered is receive livelock: work spent on packets that are dropped later.',
    });
  }

  /** netback's threading variants on scheduled dom0 vCPUs: throughput and the driver domain's CPU per packet. */
  threading(): void {
    const threading = this.find('netback.threading');
    if (!threading) return;
    this.add([threading], METRICS.gbps, {
      title: 'Throughput per netback threading variant',
      caption:
        "Delivered throughput with netback's work as tasklets (softirq context), as normal kernel threads, or as SCHED_FIFO kernel threads, on shared dom0 vCPUs.",
    });
    this.add([threading], METRICS.dom0, {
      title: 'Driver-domain CPU per delivered packet, per netback threading variant',
      caption: "Busy time of the driver domain (the NIC's softirq, netback's work, context switches) per packet delivered, for each threading variant.",
    });
  }

  /** vRSS: workers, threading mode, and the number of VMs sharing the driver domain. */
  scaling(): void {
    const workers = this.find('topology.workers');
    if (workers) {
      this.add([workers], METRICS.gbps, {
        title: 'vRSS scaling: throughput vs netback workers',
        caption: 'Delivered throughput against the number of netback worker threads (one dom0 core each) that vRSS spreads the flows over.',
      });
    }
    const vrss = this.find('topology.vrss');
    if (vrss) {
      this.add([vrss], METRICS.gbps, {
        title: 'Throughput per netback threading mode',
        caption:
          'Delivered throughput with one netback thread for everything (single), one thread per VIF (per-vif), and per-flow virtual RSS over the workers (per-flow).',
      });
      this.add([vrss], METRICS.dom0, {
        title: 'Driver-domain CPU per delivered packet, per netback threading mode',
        caption: 'Busy time of the driver domain’s cores per packet delivered, for each netback threading mode.',
      });
    }
    const vms = this.find('topology.vms.count');
    if (vms) {
      this.add([vms], METRICS.gbps, {
        title: 'Scaling with the number of VMs',
        caption: 'Delivered throughput, all VMs together, against the number of guest VMs sharing the driver domain.',
      });
    }
  }
}

export function sweepFigures(data: SweepData, bars: ErrorBars): SweepFigures {
  const h = new Highlights(data, bars);
  const { points, groups, done } = h;
  h.packetSize();
  h.offeredPackets();
  const coalescing = h.coalescing();
  h.scaling();
  h.threading();
  const first = groups[0];
  if (coalescing.length === 0 && first && !done.has(`${groupPath(first)}|${METRICS.dom0.key}`)) {
    // Without coalescing axes, the CPU-per-packet question is asked of the first axis.
    h.add([first], METRICS.dom0, { title: `Driver-domain CPU per delivered packet vs ${axisName(groupPath(first))}` });
  }
  const highlights = h.items;

  const perAxis: ReportItem[] = [];
  for (const g of groups) {
    for (const m of KEY_METRICS) {
      if (done.has(`${groupPath(g)}|${m.key}`)) continue;
      perAxis.push(metricAgainst(data, groups, points, [g], m, bars));
    }
  }
  return { highlights, perAxis };
}
