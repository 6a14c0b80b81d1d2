// The figures of a multi-host run: each switch port over time (throughput, output queue, drops) and the hosts' summaries side by side.
import { barChart } from './charts.js';
import type { XYSeries } from './charts.js';
import { figure } from './figure.js';
import type { ReportItem } from './figure.js';
import type { FabricSummary, HostSummary, Summary } from '@splitnet/results';
import type { MetricsRow } from './load.js';
import { finite, overTime, referenceLine } from './run-figures.js';
import type { Timeline } from './run-figures.js';

/** One port of a metrics.jsonl row's `switchPorts` (a multi-host run), as far as the row is well formed. */
interface PortCell {
  readonly port: number;
  readonly forwardedGbps?: unknown;
  readonly queuedBytes?: unknown;
  readonly dropsTotal?: unknown;
}

function portsOf(row: MetricsRow): readonly PortCell[] {
  const p = row['switchPorts'];
  return Array.isArray(p) ? p.filter((x): x is PortCell => x !== null && typeof x === 'object' && typeof (x as PortCell).port === 'number') : [];
}

/** Whether the samples carry the switch ports (a multi-host run). */
export function hasSwitchPorts(samples: readonly MetricsRow[]): boolean {
  return samples.some((r) => portsOf(r).length > 0);
}

/** One series per port of `field` over time, named `port <i> → h<i>`. */
function perPort(samples: readonly MetricsRow[], field: keyof Omit<PortCell, 'port'>): XYSeries[] {
  const series = new Map<number, { x: number; y: number }[]>();
  for (const r of samples) {
    for (const p of portsOf(r)) {
      const v = p[field];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      const pts = series.get(p.port) ?? [];
      pts.push({ x: r.tMs, y: v });
      series.set(p.port, pts);
    }
  }
  return [...series].sort(([a], [b]) => a - b).map(([port, points]) => ({ name: `port ${port} → h${port}`, points }));
}

/** The switch ports over time (metrics.jsonl's `switchPorts`), with the summary's port settings as reference lines; none in a one-host run. */
export function switchPortFigures(c: Timeline, fabric: FabricSummary | undefined): ReportItem[] {
  if (!hasSwitchPorts(c.samples)) return [];
  const first = c.samples[0]?.tMs ?? 0;
  const link = finite(fabric?.ports[0]?.linkGbps);
  const queue = finite(fabric?.ports[0]?.queueBytes);
  const same = (pick: (p: FabricSummary['ports'][number]) => number) =>
    (fabric?.ports ?? []).every((p) => pick(p) === pick(fabric?.ports[0] as FabricSummary['ports'][number]));
  return [
    overTime(
      c,
      'switch-throughput',
      'Switch ports: throughput toward each host',
      'Frame bits that left each switch port toward its host in each sample interval (metrics.jsonl’s switchPorts). The dashed grey line is the ports’ link rate.',
      'throughput (Gbit/s)',
      () => [
        ...perPort(c.samples, 'forwardedGbps'),
        ...(link !== undefined && same((p) => p.linkGbps) ? [referenceLine('port link rate', link, first, c.endMs)] : []),
      ],
    ),
    overTime(
      c,
      'switch-queues',
      'Switch ports: output queues over time',
      'Bytes in each switch port’s output queue (waiting, or being serialized) at each sample time. The dashed grey line is the queue’s capacity (fabric.queueBytes): a port that reaches it drops frames (switch-queue-full).',
      'queued (bytes)',
      () => {
        const series = perPort(c.samples, 'queuedBytes');
        if (!series.some((s) => s.points.some((p) => p.y > 0))) return 'every switch port’s output queue was empty at every sample';
        return [...series, ...(queue !== undefined && same((p) => p.queueBytes) ? [referenceLine('queue capacity', queue, first, c.endMs)] : [])];
      },
    ),
    overTime(
      c,
      'switch-drops',
      'Switch ports: drops over time',
      'Frames dropped at each switch port since the start of the run (every reason: full output queue, port down, a lossy port); fabric.ports[].drops in summary.json has them by reason. Ports that dropped nothing are left out.',
      'dropped since the start (frames)',
      () => {
        const series = perPort(c.samples, 'dropsTotal').filter((s) => s.points.some((p) => p.y > 0));
        return series.length > 0 ? series : 'no switch port dropped a frame in this run';
      },
    ),
  ];
}

/** A grouped bar chart with one category per host. */
function perHost(
  hosts: readonly HostSummary[],
  id: string,
  title: string,
  caption: string,
  yLabel: string,
  series: readonly (readonly [string, (h: HostSummary) => number | undefined])[],
): ReportItem {
  return figure(id, title, caption, () =>
    barChart({
      id,
      title,
      xLabel: 'host',
      yLabel,
      categories: hosts.map((h) => h.host),
      series: series.map(([name, pick]) => ({ name, values: hosts.map((h) => finite(pick(h))) })),
    }),
  );
}

/** The mean busy fraction of a host's cores whose name matches `kind`, in % (undefined: it has none). */
function meanBusy(h: HostSummary, kind: RegExp): number | undefined {
  const xs = Object.entries(h.cpu)
    .filter(([core]) => kind.test(core))
    .map(([, v]) => finite(v))
    .filter((v): v is number => v !== undefined);
  return xs.length === 0 ? undefined : (xs.reduce((a, b) => a + b, 0) / xs.length) * 100;
}

/** Each host's summary figures side by side (summary.json's `hosts[]`); none in a one-host run. */
export function hostFigures(hosts: readonly HostSummary[] | undefined): ReportItem[] {
  if (hosts === undefined || hosts.length === 0) return [];
  return [
    perHost(
      hosts,
      'hosts-throughput',
      'Hosts: throughput',
      'Per host over the measurement window: frame bits delivered to its guests’ applications, offered at its NIC (from the wire and the switch), and sent by its guests (transmit path, when they send).',
      'throughput (Gbit/s)',
      [
        ['delivered', (h) => h.throughput.gbps],
        ['offered at the NIC', (h) => h.throughput.offeredGbps],
        ...(hosts.some((h) => h.tx !== undefined) ? [['guests sent (TX)', (h: HostSummary) => h.tx?.sentGbps] as const] : []),
      ],
    ),
    perHost(
      hosts,
      'hosts-interrupts',
      'Hosts: interrupts',
      'Per host over the measurement window: virtual interrupts delivered to its guests and physical interrupts raised by its NIC, per second.',
      'rate (1/s)',
      [
        ['virtual interrupts', (h) => h.interrupts.virqPerSec],
        ['physical interrupts (NIC)', (h) => h.interrupts.physicalIrqPerSec],
      ],
    ),
    perHost(
      hosts,
      'hosts-cpu',
      'Hosts: CPU utilization',
      'Per host, the mean busy time over the measurement window of its driver domain’s NIC queue cores, its netback workers and its guests’ vCPUs (each host’s cores in summary.json’s hosts[].cpu).',
      'mean busy (% of the window)',
      [
        ['dom0 NIC queue cores', (h) => meanBusy(h, /^dom0\.nic\d+$/)],
        ['dom0 netback workers', (h) => meanBusy(h, /^dom0\.worker\d+$/)],
        ['guest vCPUs', (h) => meanBusy(h, /^vm\d+\.vcpu\d+$/)],
      ],
    ),
    perHost(
      hosts,
      'hosts-latency',
      'Hosts: one-way latency',
      'Per host, the one-way latency of the packets its guests received in the measurement window (NIC to the end of the guest’s per-packet work).',
      'latency (µs)',
      [
        ['p50', (h) => h.latencyUs.p50],
        ['p99', (h) => h.latencyUs.p99],
      ],
    ),
    perHost(
      hosts,
      'hosts-drops',
      'Hosts: drops',
      'Per host, packets dropped inside it over the whole run (NIC ring, netback, qdisc, …; hosts[].drops), and frames its guests’ transmit path dropped. Drops at the switch are in the switch port figures.',
      'dropped (packets)',
      [
        ['receive path', (h) => h.drops.total],
        ...(hosts.some((h) => h.tx !== undefined) ? [['transmit path', (h: HostSummary) => h.tx?.drops.total] as const] : []),
      ],
    ),
  ];
}

/** A multi-host run's own figures: the switch ports over time, then the hosts side by side (none in a one-host run). */
export function clusterFigures(c: Timeline, s: Pick<Summary, 'fabric' | 'hosts'>): ReportItem[] {
  return [...switchPortFigures(c, s.fabric), ...hostFigures(s.hosts)];
}
