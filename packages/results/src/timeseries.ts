// The long (tidy) time series behind timeseries.csv: per sample, one value per entity (the datapath, a NIC queue, a core, a VM, a guest queue) and metric.
import { portSample, sourceSample } from './fabric-summary.js';
import { sig, totalVirqs, txColumns } from './metrics.js';
import type { QueueCounters, Snapshot, TxSampleColumns } from './metrics.js';

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
 * entity is one host's, named under it (`h1.nic.q0`, `h1.dom0.worker0`, `h1.vm3`), host after host. The points are
 * appended to `out` (a run's series: no array per sample), which is returned.
 */
export function seriesPoints(a: Snapshot, b: Snapshot, out: SeriesPoint[] = []): SeriesPoint[] {
  const dt = (b.t - a.t) / 1e9;
  const tMs = sig(b.t / 1e6);
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
 * The entity names of the time series, built once per name and kept: every sample names the same entities, and
 * building each name (and parsing each core's) again at every sample was a good part of a sample's work.
 */
class EntityNames {
  /** Per prefix: `<prefix>nic.q<q>` by q, `<prefix>vm<v>` by v, `<prefix>vm<v>.q<q>` by v and q, `<prefix><core>` by core. */
  private readonly nic = new Map<string, string[]>();
  private readonly vm = new Map<string, string[]>();
  private readonly vmQueue = new Map<string, string[][]>();
  private readonly core = new Map<string, Map<string, string>>();
  /** Per core name: the VM of a guest vCPU's core (`vm<v>.…`), −1 for the driver domain's. */
  private readonly coreVm = new Map<string, number>();

  nicQueue(prefix: string, q: number): string {
    let row = this.nic.get(prefix);
    if (row === undefined) this.nic.set(prefix, (row = []));
    return (row[q] ??= `${prefix}nic.q${q}`);
  }

  vmEntity(prefix: string, v: number): string {
    let row = this.vm.get(prefix);
    if (row === undefined) this.vm.set(prefix, (row = []));
    return (row[v] ??= `${prefix}vm${v}`);
  }

  guestQueue(prefix: string, v: number, q: number): string {
    let rows = this.vmQueue.get(prefix);
    if (rows === undefined) this.vmQueue.set(prefix, (rows = []));
    const row = (rows[v] ??= []);
    return (row[q] ??= `${this.vmEntity(prefix, v)}.q${q}`);
  }

  coreEntity(prefix: string, core: string): string {
    let names = this.core.get(prefix);
    if (names === undefined) this.core.set(prefix, (names = new Map()));
    let name = names.get(core);
    if (name === undefined) names.set(core, (name = prefix + core));
    return name;
  }

  vmOfCore(core: string): number {
    let v = this.coreVm.get(core);
    if (v === undefined) {
      const m = /^vm(\d+)\./.exec(core);
      this.coreVm.set(core, (v = m === null ? -1 : Number(m[1])));
    }
    return v;
  }
}

const names = new EntityNames();

/**
 * One host's entities, each name after `prefix` (`h<i>.` in a multi-host run, else nothing): its NIC queues, its
 * driver domain's cores, its VMs with their queues and vCPUs. `a` and `b` are the host's own snapshots, its cores
 * under their names on the host (`dom0.worker0`).
 */
function putHost(a: Snapshot, b: Snapshot, dt: number, prefix: string, put: Put): void {
  const nicIrqs = b.nicQueueIrqs;
  for (let q = 0; q < nicIrqs.length; q++) put(names.nicQueue(prefix, q), 'physical_irqs_per_s', sig(((nicIrqs[q] as number) - (a.nicQueueIrqs[q] ?? 0)) / dt));

  const span = b.t - a.t;
  const cpu = (core: string) => sig(((b.busy.get(core) ?? 0) - (a.busy.get(core) ?? 0)) / span);
  // A guest vCPU's core is shown under its VM, after the VM's queues: per VM, its cores in the snapshot's order.
  const vmCores: string[][] = [];
  let vms = Math.max(b.queues.length, b.virqs.length);
  for (const core of b.busy.keys()) {
    const v = names.vmOfCore(core);
    if (v >= 0) {
      (vmCores[v] ??= []).push(core);
      if (v + 1 > vms) vms = v + 1;
      continue;
    }
    const entity = names.coreEntity(prefix, core);
    put(entity, 'cpu_frac', cpu(core));
    const backlog = b.workerBacklogs.get(core);
    if (backlog !== undefined) put(entity, 'backlog_packets', backlog);
  }

  for (let v = 0; v < vms; v++) {
    putVm(a, b, dt, prefix, v, put);
    for (const core of vmCores[v] ?? []) put(names.coreEntity(prefix, core), 'cpu_frac', cpu(core));
  }
}

/** VM v's entity and its queues' (`vm<v>`, `vm<v>.q<q>`, after `prefix`). */
function putVm(a: Snapshot, b: Snapshot, dt: number, prefix: string, v: number, put: Put): void {
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
  let vmVirqs = 0;
  for (let q = 0; q < virqs.length; q++) vmVirqs = vmVirqs + (virqs[q] as number) - (virqsBefore[q] ?? 0);
  const entity = names.vmEntity(prefix, v);
  put(entity, 'throughput_gbps', sig((((b.bytesPerVm[v] ?? 0) - (a.bytesPerVm[v] ?? 0)) * 8) / dt / 1e9));
  put(entity, 'packets_per_s', sig(((b.deliveredPerVm[v] ?? 0) - (a.deliveredPerVm[v] ?? 0)) / dt));
  put(entity, 'virqs_per_s', sig(vmVirqs / dt));
  if (queues.length > 0) {
    put(entity, 'ring_occupancy_responses', ring);
    put(entity, 'backlog_packets', backlog);
  }
  for (let q = 0; q < queues.length; q++) {
    const c = queues[q] as QueueCounters;
    const was = before[q];
    const name = names.guestQueue(prefix, v, q);
    put(name, 'throughput_gbps', sig(((c.bytes - (was?.bytes ?? 0)) * 8) / dt / 1e9));
    put(name, 'packets_per_s', sig((c.delivered - (was?.delivered ?? 0)) / dt));
    put(name, 'virqs_per_s', sig(((virqs[q] ?? 0) - (virqsBefore[q] ?? 0)) / dt));
    put(name, 'ring_occupancy_responses', c.ringOccupancy);
    put(name, 'backlog_packets', c.backlog);
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
