// The long (tidy) time series behind timeseries.csv: per sample, one value per entity (the datapath, a NIC queue, a core, a VM, a guest queue) and metric.
import { portSample, sourceSample } from './fabric-summary.js';
import { sig, totalVirqs, txColumns } from './metrics.js';
import type { Snapshot, TxSampleColumns } from './metrics.js';

/** One value of the time series: `metric` of `entity` over the sample interval ending at `tMs` (rates) or at `tMs` (levels). */
export interface SeriesPoint {
  readonly tMs: number;
  readonly entity: string;
  readonly metric: SeriesMetric;
  readonly value: number;
}

/**
 * The metrics, each named with its unit. Rates (`…_per_s`, `…_gbps`, `cpu_frac`) are over the sample
 * interval; `ring_occupancy_responses` and `backlog_packets` are levels at its end; `dropped_packets`
 * counts from the start of the run.
 */
export type SeriesMetric =
  | 'throughput_gbps'
  | 'packets_per_s'
  | 'offered_gbps'
  | 'virqs_per_s'
  | 'timer_polls_per_s'
  | 'physical_irqs_per_s'
  | 'notifies_sent_per_s'
  | 'ring_occupancy_responses'
  | 'backlog_packets'
  | 'dropped_packets'
  | 'cpu_frac'
  | 'queue_bytes'
  | TxSeriesMetric;

/** The transmit path's metrics (entity `all`), present when a guest sends: as metrics.jsonl's tx* columns. */
export type TxSeriesMetric =
  | 'tx_throughput_gbps'
  | 'tx_packets_per_s'
  | 'tx_wire_gbps'
  | 'tx_virqs_per_s'
  | 'tx_guest_notifies_per_s'
  | 'tx_notifies_sent_per_s'
  | 'tx_nic_irqs_per_s'
  | 'tx_completions_per_s'
  | 'tx_dropped_packets'
  | 'tx_acks_per_s';

/** Each transmit metric and the metrics.jsonl column it has the value of. */
const TX_SERIES: readonly (readonly [TxSeriesMetric, keyof TxSampleColumns])[] = [
  ['tx_throughput_gbps', 'txGbps'],
  ['tx_packets_per_s', 'txPps'],
  ['tx_wire_gbps', 'txWireGbps'],
  ['tx_virqs_per_s', 'txVirqPerSec'],
  ['tx_guest_notifies_per_s', 'txGuestNotifyPerSec'],
  ['tx_notifies_sent_per_s', 'txNotifyPerSec'],
  ['tx_nic_irqs_per_s', 'txNicIrqPerSec'],
  ['tx_completions_per_s', 'txCompletionsPerSec'],
  ['tx_dropped_packets', 'txDropsTotal'],
  ['tx_acks_per_s', 'txAckPerSec'],
];

/** The entity of the whole datapath (every VM, queue and core together). */
export const ALL_ENTITY = 'all';

/** Where a series point goes: `metric` of `entity`, over the interval or at its end. */
type Put = (entity: string, metric: SeriesMetric, value: number) => void;

/**
 * The series points of the interval (a.t, b.t]. Entities in a fixed order — `all` (its transmit metrics after the
 * receive ones, when a guest sends), `nic.q<q>`, the
 * driver domain's cores (`dom0.nic<q>`, `dom0.worker<k>`), then per VM `vm<v>`, its queues
 * `vm<v>.q<q>` and its vCPUs `vm<v>.vcpu<q>`, and in a multi-host run the switch's ports `switch.port<i>` last — so
 * the file is byte-identical for the same run. In a multi-host run `all` is the whole cluster and every other
 * entity is one host's, named under it (`h1.nic.q0`, `h1.dom0.worker0`, `h1.vm3`), host after host.
 */
export function seriesPoints(a: Snapshot, b: Snapshot): SeriesPoint[] {
  const dt = (b.t - a.t) / 1e9;
  const tMs = sig(b.t / 1e6);
  const out: SeriesPoint[] = [];
  const put: Put = (entity, metric, value) => {
    out.push({ tMs, entity, metric, value });
  };
  putWhole(a, b, dt, put);
  if (b.hosts === undefined) putHost(a, b, dt, '', put);
  else b.hosts.forEach((h, i) => putHost(a.hosts?.[i] ?? h, h, dt, `h${i}.`, put));
  putSwitchPorts(a, b, dt, put);
  return out;
}

/** The `all` entity: the whole datapath (every host's, in a multi-host run). */
function putWhole(a: Snapshot, b: Snapshot, dt: number, put: Put): void {
  const gbps = (bytes: number) => sig((bytes * 8) / dt / 1e9);
  const rate = (n: number) => sig(n / dt);
  let drops = 0;
  for (const v of Object.values(b.drops)) drops += v;
  put(ALL_ENTITY, 'throughput_gbps', gbps(b.deliveredBytes - a.deliveredBytes));
  put(ALL_ENTITY, 'packets_per_s', rate(b.delivered - a.delivered));
  put(ALL_ENTITY, 'offered_gbps', gbps(b.emittedBytes - a.emittedBytes));
  put(ALL_ENTITY, 'virqs_per_s', rate(totalVirqs(b) - totalVirqs(a)));
  put(ALL_ENTITY, 'timer_polls_per_s', rate(b.timerPolls - a.timerPolls));
  put(ALL_ENTITY, 'physical_irqs_per_s', rate(b.physicalIrqs - a.physicalIrqs));
  put(ALL_ENTITY, 'notifies_sent_per_s', rate(b.notifies - a.notifies));
  put(ALL_ENTITY, 'ring_occupancy_responses', b.ringOccupancy);
  put(ALL_ENTITY, 'backlog_packets', b.backlog);
  put(ALL_ENTITY, 'dropped_packets', drops);
  const tx = txColumns(a, b, dt);
  if (tx !== null) {
    for (const [metric, column] of TX_SERIES) {
      const v = tx[column];
      if (v !== undefined) put(ALL_ENTITY, metric, v);
    }
  }
}

/**
 * One host's entities, each name after `prefix` (`h<i>.` in a multi-host run, else nothing): its NIC queues, its
 * driver domain's cores, its VMs with their queues and vCPUs. `a` and `b` are the host's own snapshots, its cores
 * under their names on the host (`dom0.worker0`).
 */
function putHost(a: Snapshot, b: Snapshot, dt: number, prefix: string, put: Put): void {
  const gbps = (bytes: number) => sig((bytes * 8) / dt / 1e9);
  const rate = (n: number) => sig(n / dt);
  b.nicQueueIrqs.forEach((n, q) => put(`${prefix}nic.q${q}`, 'physical_irqs_per_s', rate(n - (a.nicQueueIrqs[q] ?? 0))));

  const cpu = (core: string) => sig(((b.busy.get(core) ?? 0) - (a.busy.get(core) ?? 0)) / (b.t - a.t));
  const vmCores = new Map<number, string[]>();
  for (const core of b.busy.keys()) {
    const vm = /^vm(\d+)\./.exec(core);
    if (vm !== null) {
      const v = Number(vm[1]);
      vmCores.set(v, [...(vmCores.get(v) ?? []), core]);
      continue;
    }
    put(prefix + core, 'cpu_frac', cpu(core));
    const backlog = b.workerBacklogs.get(core);
    if (backlog !== undefined) put(prefix + core, 'backlog_packets', backlog);
  }

  const vms = Math.max(b.queues.length, b.virqs.length, ...[...vmCores.keys()].map((v) => v + 1));
  for (let v = 0; v < vms; v++) {
    const queues = b.queues[v] ?? [];
    const before = a.queues[v] ?? [];
    const virqs = b.virqs[v] ?? [];
    const virqsBefore = a.virqs[v] ?? [];
    let ring = 0;
    let backlog = 0;
    for (const q of queues) {
      ring += q.ringOccupancy;
      backlog += q.backlog;
    }
    const vmVirqs = virqs.reduce((n, x, q) => n + x - (virqsBefore[q] ?? 0), 0);
    const entity = `${prefix}vm${v}`;
    put(entity, 'throughput_gbps', gbps((b.bytesPerVm[v] ?? 0) - (a.bytesPerVm[v] ?? 0)));
    put(entity, 'packets_per_s', rate((b.deliveredPerVm[v] ?? 0) - (a.deliveredPerVm[v] ?? 0)));
    put(entity, 'virqs_per_s', rate(vmVirqs));
    if (queues.length > 0) {
      put(entity, 'ring_occupancy_responses', ring);
      put(entity, 'backlog_packets', backlog);
    }
    queues.forEach((c, q) => {
      const was = before[q];
      const name = `${entity}.q${q}`;
      put(name, 'throughput_gbps', gbps(c.bytes - (was?.bytes ?? 0)));
      put(name, 'packets_per_s', rate(c.delivered - (was?.delivered ?? 0)));
      put(name, 'virqs_per_s', rate((virqs[q] ?? 0) - (virqsBefore[q] ?? 0)));
      put(name, 'ring_occupancy_responses', c.ringOccupancy);
      put(name, 'backlog_packets', c.backlog);
    });
    for (const core of vmCores.get(v) ?? []) put(prefix + core, 'cpu_frac', cpu(core));
  }
}

/**
 * A multi-host run's switch ports (none otherwise): what left each host's port toward its host, its output queue now,
 * its drops so far; then each external source's port: what the source put on its cable, and (once a fault acted on
 * the port) the source's frames dropped there so far.
 */
function putSwitchPorts(a: Snapshot, b: Snapshot, dt: number, put: Put): void {
  b.fabric?.ports.forEach((p, i) => {
    const x = portSample(a.fabric?.ports[i], p, dt);
    const entity = `switch.port${x.port}`;
    put(entity, 'throughput_gbps', x.forwardedGbps);
    put(entity, 'queue_bytes', x.queuedBytes);
    put(entity, 'dropped_packets', x.dropsTotal);
  });
  b.fabric?.sources.forEach((src, i) => {
    const x = sourceSample(a.fabric?.sources[i], src, dt);
    put(`switch.port${x.port}`, 'offered_gbps', x.sentGbps);
    if (x.dropsTotal !== undefined) put(`switch.port${x.port}`, 'dropped_packets', x.dropsTotal);
  });
}

/** `timeseries.csv`: the header `t_ms,entity,metric,value`, then one line per point. Entity and metric names never need quoting. */
export function timeseriesCsv(points: readonly SeriesPoint[]): string {
  const lines = ['t_ms,entity,metric,value'];
  for (const p of points) lines.push(`${p.tMs},${p.entity},${p.metric},${p.value}`);
  return lines.join('\n') + '\n';
}
