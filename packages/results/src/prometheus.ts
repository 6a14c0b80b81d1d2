// The run's metrics for Prometheus: every splitnet_* metric (name, type, labels, help) and one registry of them filled from a snapshot of the datapath (live scrapes, metrics.prom).
import type { Counter, Gauge, Registry } from 'prom-client';
import type { SwitchPortReport, SwitchSourceReport } from '@splitnet/model';
import type { FaultOccurrence } from '@splitnet/scenario';
import { FABRIC_DROP_REASONS } from './fabric-summary.js';
import { DROP_REASONS } from './metrics.js';
import type { Snapshot } from './metrics.js';
import { TX_DROP_REASONS, TX_RESTART_DROP_REASONS } from './tx-summary.js';
import type { TxSnapshot } from './tx-summary.js';
import type { RunResult, Summary, Verdict } from './summary.js';

/** The host every series is labelled with: one today; with several Xen hosts (DESIGN §9) each will have its own. */
export const METRICS_HOST = 'h0';

/** The file a run's final metrics go to in its results directory. */
export const METRICS_FILE = 'metrics.prom';

type Label = 'vm' | 'queue' | 'nic_queue' | 'worker' | 'core' | 'reason' | 'statistic' | 'scenario' | 'runtime' | 'seed' | 'port';

/**
 * One metric: what docs/results.md lists and the registry holds. `when`: every run, live runs only, a live run's end only,
 * runs where a guest sends, multi-host runs (a switch: its ports), or multi-host runs with external sources (`from: external`).
 */
export interface MetricSpec {
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  readonly labels: readonly Label[];
  readonly help: string;
  readonly when: 'always' | 'live' | 'live-end' | 'tx' | 'fabric' | 'sources';
}

// Counters count from the start of the run in emulated units; Prometheus' rate() divides by wall seconds, so a
// rate per emulated second is rate(x) / rate(splitnet_emulated_seconds_total) (docs/results.md).
/** Every metric, in the order the text lists them (the transmit path's are registered at the first snapshot that has them, before the live end's). */
export const METRIC_SPECS: readonly MetricSpec[] = [
  { name: 'splitnet_run_info', type: 'gauge', labels: ['scenario', 'runtime', 'seed'], help: 'Always 1: what the run is.', when: 'always' },
  { name: 'splitnet_run_complete', type: 'gauge', labels: [], help: '1 once the run ended and these are its final values, else 0.', when: 'always' },
  { name: 'splitnet_emulated_seconds_total', type: 'counter', labels: [], help: 'Emulated time the values are at (seconds since the run started).', when: 'always' },
  { name: 'splitnet_packets_emitted_total', type: 'counter', labels: [], help: 'Frames that reached the NIC.', when: 'always' },
  { name: 'splitnet_bytes_emitted_total', type: 'counter', labels: [], help: 'Frame bytes that reached the NIC.', when: 'always' },
  { name: 'splitnet_packets_delivered_total', type: 'counter', labels: ['vm', 'queue'], help: 'Packets delivered to a guest, per netfront queue.', when: 'always' },
  { name: 'splitnet_bytes_delivered_total', type: 'counter', labels: ['vm', 'queue'], help: 'Frame bytes delivered to a guest, per netfront queue.', when: 'always' },
  { name: 'splitnet_packets_dropped_total', type: 'counter', labels: ['reason'], help: 'Packets dropped, by reason (as summary.json drops).', when: 'always' },
  { name: 'splitnet_virtual_interrupts_total', type: 'counter', labels: ['vm', 'queue'], help: 'Virtual interrupts (event-channel upcalls) delivered, per netfront queue.', when: 'always' },
  { name: 'splitnet_physical_interrupts_total', type: 'counter', labels: ['nic_queue'], help: 'Physical interrupts raised by the NIC, per hardware queue.', when: 'always' },
  { name: 'splitnet_timer_polls_total', type: 'counter', labels: [], help: 'NAPI polls started by a front-end coalescing timer tick that found work.', when: 'always' },
  { name: 'splitnet_notifications_sent_total', type: 'counter', labels: [], help: 'Notify hypercalls by netback workers to the guests.', when: 'always' },
  { name: 'splitnet_notifications_suppressed_total', type: 'counter', labels: [], help: 'Response pushes after which the event index said no notification was needed.', when: 'always' },
  { name: 'splitnet_notifications_held_total', type: 'counter', labels: [], help: 'Pushes whose notification the back-end coalescer absorbed into one it held.', when: 'always' },
  { name: 'splitnet_backend_timer_interrupts_total', type: 'counter', labels: [], help: 'Driver-domain timer interrupts of back-end coalescing.', when: 'always' },
  { name: 'splitnet_cpu_busy_seconds_total', type: 'counter', labels: ['core'], help: 'Emulated busy time of each emulated core (core names as summary.json cpu).', when: 'always' },
  { name: 'splitnet_ring_occupancy_responses', type: 'gauge', labels: ['vm', 'queue'], help: 'Responses published on a guest RX ring and not yet consumed.', when: 'always' },
  { name: 'splitnet_backlog_packets', type: 'gauge', labels: ['vm', 'queue'], help: "Packets waiting in front of a guest ring (netback's guest-RX queue and the vif's qdisc).", when: 'always' },
  { name: 'splitnet_worker_backlog_packets', type: 'gauge', labels: ['worker'], help: 'Packets in the backlogs of the queues a netback worker serves.', when: 'always' },
  { name: 'splitnet_faults_injected_total', type: 'counter', labels: [], help: 'Fault occurrences that started.', when: 'always' },
  { name: 'splitnet_faults_active', type: 'gauge', labels: [], help: 'Fault occurrences in effect (started, lasting, not yet ended).', when: 'always' },
  { name: 'splitnet_live_tdf', type: 'gauge', labels: [], help: 'Time dilation factor: wall seconds per emulated second.', when: 'live' },
  { name: 'splitnet_live_lag_bound_seconds', type: 'gauge', labels: [], help: 'The validity bound on the p99 processing lag (emulated seconds).', when: 'live' },
  {
    name: 'splitnet_live_sample_delay_seconds',
    type: 'gauge',
    labels: [],
    help: "How late the latest sample was complete at the controller: its clock's emulated time then minus the sample's (emulated seconds); while the run goes.",
    when: 'live',
  },
  { name: 'splitnet_tx_packets_sent_total', type: 'counter', labels: [], help: 'Frames the guests sent (their applications\' sends).', when: 'tx' },
  { name: 'splitnet_tx_bytes_sent_total', type: 'counter', labels: [], help: 'Frame bytes the guests sent.', when: 'tx' },
  { name: 'splitnet_tx_packets_on_wire_total', type: 'counter', labels: [], help: 'Frames the guests sent that left on the wire.', when: 'tx' },
  { name: 'splitnet_tx_virtual_interrupts_total', type: 'counter', labels: [], help: 'Guest TX virtual interrupts (xennet_tx_interrupt upcalls).', when: 'tx' },
  { name: 'splitnet_tx_guest_notifications_total', type: 'counter', labels: [], help: 'TX notifications from the guests to netback.', when: 'tx' },
  { name: 'splitnet_tx_notifications_sent_total', type: 'counter', labels: [], help: 'TX notifications from netback to the guests (TX responses).', when: 'tx' },
  { name: 'splitnet_tx_nic_interrupts_total', type: 'counter', labels: [], help: 'NIC TX-completion interrupts.', when: 'tx' },
  { name: 'splitnet_tx_completions_total', type: 'counter', labels: [], help: 'TX responses netback gave the guests.', when: 'tx' },
  { name: 'splitnet_tx_packets_dropped_total', type: 'counter', labels: ['reason'], help: 'Frames the guests sent that were dropped, by reason (as summary.json tx.drops).', when: 'tx' },
  {
    name: 'splitnet_switch_port_packets_forwarded_total',
    type: 'counter',
    labels: ['port'],
    help: 'Frames whose last bit left a switch port toward the host on it, by port (port i: host h<i>).',
    when: 'fabric',
  },
  { name: 'splitnet_switch_port_bytes_forwarded_total', type: 'counter', labels: ['port'], help: 'Frame bytes that left a switch port toward its host, by port.', when: 'fabric' },
  {
    name: 'splitnet_switch_port_queued_bytes',
    type: 'gauge',
    labels: ['port'],
    help: "Bytes in a switch port's output queue (waiting, or being serialized), by port.",
    when: 'fabric',
  },
  {
    name: 'splitnet_switch_port_packets_dropped_total',
    type: 'counter',
    labels: ['port', 'reason'],
    help: 'Frames dropped at a switch port, by port and reason (as summary.json fabric.ports[].drops).',
    when: 'fabric',
  },
  {
    name: 'splitnet_switch_source_packets_sent_total',
    type: 'counter',
    labels: ['port'],
    help: 'Frames an external source (from: external) put on its cable toward the switch, by its switch port.',
    when: 'sources',
  },
  {
    name: 'splitnet_switch_source_bytes_sent_total',
    type: 'counter',
    labels: ['port'],
    help: 'Frame bytes an external source put on its cable toward the switch, by its switch port.',
    when: 'sources',
  },
  { name: 'splitnet_live_processing_lag_seconds', type: 'gauge', labels: ['statistic'], help: 'Processing lag over the run (p50, p99, max; emulated seconds), at its end.', when: 'live-end' },
  { name: 'splitnet_live_valid', type: 'gauge', labels: [], help: '1 if the run is valid (lag within its bound, bus never down), 0 if not; at its end.', when: 'live-end' },
  { name: 'splitnet_live_tainted', type: 'gauge', labels: [], help: '1 if the bus carried traffic the run did not send or refused, else 0; at its end.', when: 'live-end' },
];

/** What the metrics show at one instant: the datapath's counters and the run around them. */
export interface MetricsView {
  readonly snapshot: Snapshot;
  /** Fault occurrences known so far (the scenario's and ad-hoc ones): which started and which are in effect at snapshot.t. */
  readonly occurrences: readonly FaultOccurrence[];
  /** The run ended and these are its final values. */
  readonly complete: boolean;
  /** Live runs: the run's timing and, at its end, its verdict. */
  readonly live?: LiveMetricsView;
}

export interface LiveMetricsView {
  readonly tdf: number;
  readonly lagBoundUs: number;
  /** Emulated ns between the sample's instant and when the controller had it from every process. */
  readonly sampleDelayNs?: number;
  /** At the end: the summary's figures. */
  readonly end?: { readonly processingLagUs: { readonly p50: number; readonly p99: number; readonly max: number }; readonly verdict: Verdict };
}

/** What names a run's series: its run id (every series) and what `splitnet_run_info` says. */
export interface RunIdentity {
  readonly run: string;
  readonly scenario: string;
  readonly runtime: 'sim' | 'live';
  readonly seed: number;
}

type AnyMetric = Counter<string> | Gauge<string>;

/**
 * A registry of every splitnet_* metric for one run, set from a MetricsView at once (a live run: at each
 * sample the controller has from every process; a sim run: once, at the end). Values are set whole, never
 * incremented per packet: nothing in the datapath knows the registry exists.
 */
export class RunMetrics {
  private readonly metrics = new Map<string, AnyMetric>();
  private endRegistered = false;
  private txRegistered = false;
  private fabricRegistered = false;
  private sourcesRegistered = false;

  /**
   * The registry of run `id`. prom-client is loaded here, not when this module is: every process imports
   * @splitnet/results (actor processes too), and loading it costs each ~60 ms of start-up.
   */
  static async create(id: RunIdentity): Promise<RunMetrics> {
    const prom = await import('prom-client');
    return new RunMetrics(id, prom);
  }

  readonly registry: Registry;

  private constructor(
    private readonly id: RunIdentity,
    prom: typeof import('prom-client'),
  ) {
    this.registry = new prom.Registry();
    this.registry.setDefaultLabels({ run: id.run, host: METRICS_HOST });
    for (const spec of METRIC_SPECS) {
      if ((spec.when === 'live' || spec.when === 'live-end') && id.runtime !== 'live') continue;
      const config = { name: spec.name, help: spec.help, labelNames: spec.labels, registers: [] as Registry[] };
      const metric = spec.type === 'counter' ? new prom.Counter(config) : new prom.Gauge(config);
      this.metrics.set(spec.name, metric);
      // End-only metrics are registered with the final values: an unlabelled gauge would read 0 (invalid) before.
      // The transmit path's, the switch ports' and the external sources', once a snapshot has them: other runs' text stays as it was.
      if (spec.when === 'always' || spec.when === 'live') this.registry.registerMetric(metric);
    }
    this.gauge('splitnet_run_info').set({ scenario: id.scenario, runtime: id.runtime, seed: String(id.seed) }, 1);
  }

  /** The text Prometheus scrapes (format 0.0.4). */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every value from `v`. */
  update(v: MetricsView): void {
    const s = v.snapshot;
    const t = s.t;
    this.gauge('splitnet_run_complete').set(v.complete ? 1 : 0);
    this.count('splitnet_emulated_seconds_total', [[{}, t / 1e9]]);
    this.count('splitnet_packets_emitted_total', [[{}, s.emitted]]);
    this.count('splitnet_bytes_emitted_total', [[{}, s.emittedBytes]]);
    const queues = s.queues.flatMap((row, vm) => (row ?? []).map((q, queue) => ({ labels: { vm: String(vm), queue: String(queue) }, q })));
    this.count(
      'splitnet_packets_delivered_total',
      queues.map(({ labels, q }) => [labels, q.delivered]),
    );
    this.count(
      'splitnet_bytes_delivered_total',
      queues.map(({ labels, q }) => [labels, q.bytes]),
    );
    this.count(
      'splitnet_packets_dropped_total',
      DROP_REASONS.map((reason) => [{ reason }, s.drops[reason]]),
    );
    this.count(
      'splitnet_virtual_interrupts_total',
      s.virqs.flatMap((row, vm) => (row ?? []).map((n, queue): Sample => [{ vm: String(vm), queue: String(queue) }, n])),
    );
    this.count(
      'splitnet_physical_interrupts_total',
      s.nicQueueIrqs.map((n, q) => [{ nic_queue: String(q) }, n]),
    );
    this.count('splitnet_timer_polls_total', [[{}, s.timerPolls]]);
    this.count('splitnet_notifications_sent_total', [[{}, s.notifies]]);
    this.count('splitnet_notifications_suppressed_total', [[{}, s.suppressed]]);
    this.count('splitnet_notifications_held_total', [[{}, s.held]]);
    this.count('splitnet_backend_timer_interrupts_total', [[{}, s.backendTimerIrqs]]);
    this.count(
      'splitnet_cpu_busy_seconds_total',
      [...s.busy].map(([core, ns]) => [{ core }, ns / 1e9]),
    );
    this.set(
      'splitnet_ring_occupancy_responses',
      queues.map(({ labels, q }) => [labels, q.ringOccupancy]),
    );
    this.set(
      'splitnet_backlog_packets',
      queues.map(({ labels, q }) => [labels, q.backlog]),
    );
    this.set(
      'splitnet_worker_backlog_packets',
      [...s.workerBacklogs].map(([core, n]) => [{ worker: /worker(\d+)$/.exec(core)?.[1] ?? core }, n]),
    );
    if (s.tx !== null) this.updateTx(s.tx);
    if (s.fabric !== null) this.updatePorts(s.fabric.ports, s.fabric.sources);
    if (s.fabric !== null && s.fabric.sources.length > 0) this.updateSources(s.fabric.sources);
    this.count('splitnet_faults_injected_total', [[{}, v.occurrences.filter((o) => o.start <= t).length]]);
    this.gauge('splitnet_faults_active').set(v.occurrences.filter((o) => !o.instantaneous && o.start <= t && t < o.end).length);
    if (v.live !== undefined) this.updateLive(v.live);
  }

  private updateTx(x: TxSnapshot): void {
    if (!this.txRegistered) {
      for (const spec of METRIC_SPECS) if (spec.when === 'tx') this.registry.registerMetric(this.metric(spec.name));
      this.txRegistered = true;
    }
    const totals: readonly (readonly [string, number])[] = [
      ['splitnet_tx_packets_sent_total', x.sent],
      ['splitnet_tx_bytes_sent_total', x.sentBytes],
      ['splitnet_tx_packets_on_wire_total', x.onWire],
      ['splitnet_tx_virtual_interrupts_total', x.virqs],
      ['splitnet_tx_guest_notifications_total', x.guestNotifies],
      ['splitnet_tx_notifications_sent_total', x.netbackNotifies],
      ['splitnet_tx_nic_interrupts_total', x.nicIrqs],
      ['splitnet_tx_completions_total', x.responses],
    ];
    for (const [name, v] of totals) this.count(name, [[{}, v]]);
    this.count(
      'splitnet_tx_packets_dropped_total',
      [
        ...TX_DROP_REASONS.map((reason) => [{ reason }, x.drops[reason]] as const),
        // A restart's reasons only once they counted a frame (a run without such faults keeps its series).
        ...TX_RESTART_DROP_REASONS.filter((reason) => x.drops[reason] !== undefined).map((reason) => [{ reason }, x.drops[reason] ?? 0] as const),
        // A live run whose bus went down (0 or not, as in summary.json's tx.drops).
        ...(x.drops['lost-in-transport'] !== undefined ? [[{ reason: 'lost-in-transport' }, x.drops['lost-in-transport']] as const] : []),
      ],
    );
  }

  /**
   * A multi-host run's switch ports (toward the hosts): what left each, its queue now, its drops by reason (every
   * reason, zeros included); then an external source's port's drops, once a fault acted on it.
   */
  private updatePorts(ports: readonly SwitchPortReport[], sources: readonly SwitchSourceReport[]): void {
    if (!this.fabricRegistered) {
      for (const spec of METRIC_SPECS) if (spec.when === 'fabric') this.registry.registerMetric(this.metric(spec.name));
      this.fabricRegistered = true;
    }
    this.count(
      'splitnet_switch_port_packets_forwarded_total',
      ports.map((p) => [{ port: String(p.port) }, p.forwarded]),
    );
    this.count(
      'splitnet_switch_port_bytes_forwarded_total',
      ports.map((p) => [{ port: String(p.port) }, p.forwardedBytes]),
    );
    this.set(
      'splitnet_switch_port_queued_bytes',
      ports.map((p) => [{ port: String(p.port) }, p.queuedBytes]),
    );
    this.count(
      'splitnet_switch_port_packets_dropped_total',
      [...ports, ...sources].flatMap(({ port, drops }) =>
        drops === undefined ? [] : FABRIC_DROP_REASONS.map((reason): Sample => [{ port: String(port), reason }, drops[reason] ?? 0]),
      ),
    );
  }

  /** A multi-host run's external sources, each by its switch port. */
  private updateSources(sources: readonly SwitchSourceReport[]): void {
    if (!this.sourcesRegistered) {
      for (const spec of METRIC_SPECS) if (spec.when === 'sources') this.registry.registerMetric(this.metric(spec.name));
      this.sourcesRegistered = true;
    }
    this.count(
      'splitnet_switch_source_packets_sent_total',
      sources.map((src) => [{ port: String(src.port) }, src.sent]),
    );
    this.count(
      'splitnet_switch_source_bytes_sent_total',
      sources.map((src) => [{ port: String(src.port) }, src.sentBytes]),
    );
  }

  private updateLive(l: LiveMetricsView): void {
    this.gauge('splitnet_live_tdf').set(l.tdf);
    this.gauge('splitnet_live_lag_bound_seconds').set(l.lagBoundUs / 1e6);
    if (l.sampleDelayNs !== undefined) this.gauge('splitnet_live_sample_delay_seconds').set(l.sampleDelayNs / 1e9);
    if (l.end === undefined) return;
    if (!this.endRegistered) {
      // The sample delay is the run's while it goes; the end has the processing lag over the whole run instead.
      this.registry.removeSingleMetric('splitnet_live_sample_delay_seconds');
      for (const spec of METRIC_SPECS) if (spec.when === 'live-end') this.registry.registerMetric(this.metric(spec.name));
      this.endRegistered = true;
    }
    const lag = l.end.processingLagUs;
    this.set('splitnet_live_processing_lag_seconds', [
      [{ statistic: 'p50' }, lag.p50 / 1e6],
      [{ statistic: 'p99' }, lag.p99 / 1e6],
      [{ statistic: 'max' }, lag.max / 1e6],
    ]);
    this.gauge('splitnet_live_valid').set(l.end.verdict === 'valid' ? 1 : 0);
    this.gauge('splitnet_live_tainted').set(l.end.verdict === 'tainted' ? 1 : 0);
  }

  private metric(name: string): AnyMetric {
    const m = this.metrics.get(name);
    if (m === undefined) throw new Error(`metrics: ${name} is not a metric of this ${this.id.runtime} run`);
    return m;
  }

  private gauge(name: string): Gauge<string> {
    return this.metric(name) as Gauge<string>;
  }

  /** A counter set to these values (every label set replaced: a counter is cumulative in the snapshot already). */
  private count(name: string, values: readonly Sample[]): void {
    const c = this.metric(name) as Counter<string>;
    c.reset();
    for (const [labels, v] of values) c.inc(labels, v);
  }

  private set(name: string, values: readonly Sample[]): void {
    const g = this.gauge(name);
    g.reset();
    for (const [labels, v] of values) g.set(labels, v);
  }
}

type Sample = readonly [Readonly<Record<string, string>>, number];

/** The view of a finished run: its final counters, its faults, and (live) its verdict from the summary. */
export function finalView(result: RunResult): MetricsView {
  const live = result.summary.live;
  return {
    snapshot: result.end,
    occurrences: result.occurrences,
    complete: true,
    ...(live !== undefined
      ? { live: { tdf: live.tdf, lagBoundUs: live.maxLagUs, end: { processingLagUs: live.processingLagUs, verdict: live.verdict } } }
      : {}),
  };
}

/** The identity of a run from its summary: `run` as given (a live run's id; for sim, see simRunLabel). */
export function runIdentity(run: string, summary: Summary): RunIdentity {
  return { run, scenario: summary.scenario, runtime: summary.runtime, seed: summary.seed };
}

/**
 * The `run` label of a sim run's metrics.prom: the --run-id given, else `<scenario>-s<seed>` — not the
 * derived run id, which holds the wall-clock time and would make the file differ between repeats.
 */
export function simRunLabel(summary: Summary, runId: string | undefined): string {
  return runId ?? `${summary.scenario}-s${summary.seed}`;
}

/** A finished run's final metrics as text (metrics.prom). */
export async function metricsText(result: RunResult, id: RunIdentity): Promise<string> {
  const m = await RunMetrics.create(id);
  m.update(finalView(result));
  return m.text();
}
