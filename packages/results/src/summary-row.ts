// summary.csv's one wide row: the run's identification, then every figure of the summary as a plain number in a column named with its unit.
import { DROP_REASONS } from './metrics.js';
import type { Summary } from './summary.js';
import { putClusterColumns } from './cluster-view.js';

/** A cell of the row: a number, an identification string (scenario, runtime, placement), or null (no value: an empty cell). */
export type SummaryCell = number | string | null;

/** The row in column order, as `[column, value]` pairs. */
export type SummaryRow = readonly (readonly [string, SummaryCell])[];

/** The identification columns: everything else in the row is a number (or empty). */
export const SUMMARY_ID_COLUMNS: readonly string[] = ['scenario', 'seed', 'runtime', 'placement'];

/** An entity or reason as a column-name part: `dom0.worker0` → `dom0_worker0`, `nic-ring-full` → `nic_ring_full`. */
export function columnPart(name: string): string {
  return name.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, '');
}

/** Columns every row has, by what they hold: readers (report, analysis scripts in TypeScript) name them through this, never by hand. */
export const SUMMARY_COLUMNS = {
  throughputGbps: 'throughput_gbps',
  packetsPerSec: 'packets_per_s',
  lineRateGbps: 'line_rate_gbps',
  virqsPerSec: 'virqs_per_s',
  latencyP99Us: 'latency_p99_us',
  droppedPackets: 'dropped_packets',
} as const;

/** An emulated core's busy-fraction column (`dom0.worker0` → `cpu_dom0_worker0_frac`). */
export function cpuColumn(core: string): string {
  return `cpu_${columnPart(core)}_frac`;
}

/** A busy-fraction column, and the core it names as a column part (`cpu_dom0_worker0_frac` → `dom0_worker0`). */
export const CPU_COLUMN = /^cpu_(.+)_frac$/;

const flag = (b: boolean | undefined): number | null => (b === undefined ? null : b ? 1 : 0);

/**
 * The summary as one row. Names are `<quantity>[_<entity>][_<statistic>]_<unit>`, e.g. `throughput_gbps`,
 * `virqs_vm0_q1_per_s`, `cpu_dom0_worker0_frac`, `latency_p99_us`; entities as in timeseries.csv with
 * `.` written `_`; booleans are 1/0. Sections a run does not have (live, faults) add no columns, so
 * every sim run of a scenario has the same columns. Strings that only summary.json can hold (the
 * fault timeline, stall causes, a live run's invalid reason) stay there.
 */
export function summaryRow(s: Summary): SummaryRow {
  const row: [string, SummaryCell][] = [];
  const put = (column: string, value: SummaryCell | undefined): void => {
    row.push([column, value ?? null]);
  };
  put('scenario', s.scenario);
  put('seed', s.seed);
  put('runtime', s.runtime);
  if (s.live) put('placement', s.live.placement);
  put('window_start_ms', s.windowMs[0]);
  put('window_end_ms', s.windowMs[1]);
  // Only in a run stopped by a signal: where it stopped (every figure covers the run up to there).
  if (s.interrupted) put('interrupted_at_ms', s.interrupted.atMs);

  const tp = s.throughput;
  put(SUMMARY_COLUMNS.throughputGbps, tp.gbps);
  put(SUMMARY_COLUMNS.packetsPerSec, tp.pps);
  put('offered_gbps', tp.offeredGbps);
  put(SUMMARY_COLUMNS.lineRateGbps, tp.lineRateGbps);
  for (const vm of tp.perVm) {
    put(`throughput_vm${vm.vm}_gbps`, vm.gbps);
    put(`packets_vm${vm.vm}_per_s`, vm.pps);
  }

  const irq = s.interrupts;
  put(SUMMARY_COLUMNS.virqsPerSec, irq.virqPerSec);
  put('virqs_per_packet', irq.virqPerPacket);
  put('timer_polls_per_s', irq.timerPollsPerSec);
  put('physical_irqs_per_s', irq.physicalIrqPerSec);
  put('backend_timer_irqs_per_s', irq.backendTimerIrqPerSec);
  put('virqs_while_polling_per_s', irq.virqWhilePollingPerSec);
  put('idle_timer_ticks_per_s', irq.idleTimerTicksPerSec);
  for (const vm of irq.perVm) {
    put(`virqs_vm${vm.vm}_per_s`, vm.virqPerSec);
    vm.perQueue.forEach((v, q) => put(`virqs_vm${vm.vm}_q${q}_per_s`, v));
  }

  const n = s.notifications;
  put('notifies_sent_per_s', n.sentPerSec);
  put('notifies_suppressed_per_s', n.suppressedPerSec);
  put('notifies_held_per_s', n.heldPerSec);
  put('guest_req_notifies_per_s', n.guestReqNotifiesPerSec);

  for (const [core, frac] of Object.entries(s.cpu)) put(cpuColumn(core), frac);

  const lat = s.latencyUs;
  put('latency_packets', lat.count);
  put('latency_mean_us', lat.mean);
  put('latency_p50_us', lat.p50);
  put(SUMMARY_COLUMNS.latencyP99Us, lat.p99);
  put('latency_p999_us', lat.p999);
  put('latency_max_us', lat.max);

  put('ring_occupancy_mean_responses', s.ring.meanOccupancy);
  put('ring_occupancy_max_responses', s.ring.maxOccupancy);
  put('backlog_mean_packets', s.backlog.mean);
  put('backlog_max_packets', s.backlog.max);

  // The reasons the summary shows (the fault-only ones appear in runs with faults).
  for (const reason of DROP_REASONS) {
    const v = (s.drops as Readonly<Record<string, number>>)[reason];
    if (v !== undefined) put(`dropped_${columnPart(reason)}_packets`, v);
  }
  put(SUMMARY_COLUMNS.droppedPackets, s.drops.total);
  put('reordered_packets', s.flowOrder.reordered);

  const acc = s.accounting;
  put('emitted_packets', acc.emitted);
  put('delivered_packets', acc.delivered);
  put('in_flight_nic_rings_packets', acc.inFlight.nicRings);
  put('in_flight_links_packets', acc.inFlight.links);
  put('in_flight_worker_backlogs_packets', acc.inFlight.workerBacklogs);
  put('in_flight_guest_rings_packets', acc.inFlight.guestRings);
  put('unaccounted_packets', acc.unaccounted);
  put('accounting_balanced', flag(acc.balanced));

  if (s.sched?.dom0) {
    put('dom0_context_switches_per_s', s.sched.dom0.contextSwitchesPerSec);
    put('dom0_softirq_deferrals_per_s', s.sched.dom0.softirqDeferralsPerSec);
    put('dom0_vcpu_wakeups_per_s', s.sched.dom0.vcpuWakeupsPerSec);
  }
  if (s.sched?.guestVcpuWakeupsPerSec !== undefined) put('guest_vcpu_wakeups_per_s', s.sched.guestVcpuWakeupsPerSec);
  if (s.tx) txColumns(s.tx, put);
  if (s.tcp) tcpColumns(s.tcp, put);
  if (s.live) liveColumns(s.live, put);
  if (s.faults) faultColumns(s.faults, put);
  putClusterColumns(s, put);
  return row;
}

/** A guest that sends: the transmit path's main figures (summary.json's `tx` holds them all). */
function txColumns(tx: NonNullable<Summary['tx']>, put: Put): void {
  put('tx_sent_gbps', tx.sentGbps);
  put('tx_sent_per_s', tx.sentPps);
  put('tx_on_wire_gbps', tx.onWireGbps);
  put('tx_on_wire_per_s', tx.onWirePps);
  put('tx_to_guests_gbps', tx.toGuestsGbps);
  put('tx_send_latency_mean_us', tx.meanLatencyUs);
  put('tx_virqs_per_s', tx.interrupts.virqPerSec);
  put('tx_nic_irqs_per_s', tx.interrupts.nicIrqPerSec);
  put('tx_guest_notifications_per_s', tx.notifications.guestPerSec);
  put('tx_netback_notifications_per_s', tx.notifications.netbackPerSec);
  put('tx_dropped_packets', tx.drops.total);
  put('tx_accounting_balanced', flag(tx.accounting.balanced));
}

/** Closed-loop flows: per TCP flow its goodput, RTT and retransmissions; per TCP_RR flow its rate, latency and CPU. */
function tcpColumns(tcp: NonNullable<Summary['tcp']>, put: Put): void {
  for (const f of tcp.flows) {
    put(`tcp_flow${f.flow}_goodput_gbps`, f.goodputGbps);
    put(`tcp_flow${f.flow}_rtt_mean_us`, f.rttUs.mean);
    put(`tcp_flow${f.flow}_rtt_p99_us`, f.rttUs.p99);
    put(`tcp_flow${f.flow}_retransmissions`, f.retransmissions);
  }
  for (const r of tcp.rr) {
    put(`rr_flow${r.flow}_transactions_per_s`, r.transactionsPerSec);
    put(`rr_flow${r.flow}_latency_p50_us`, r.latencyUs.p50);
    put(`rr_flow${r.flow}_latency_p99_us`, r.latencyUs.p99);
    put(`rr_flow${r.flow}_cpu_per_transaction_us`, r.cpuUsPerTransaction);
  }
}

type Put = (column: string, value: SummaryCell | undefined) => void;

function liveColumns(l: NonNullable<Summary['live']>, put: Put): void {
  put('live_tdf', l.tdf);
  put('live_processes', l.processes);
  put('live_restarts', l.restarts);
  put('live_valid', flag(l.valid));
  put('live_verdict', l.verdict);
  put('live_tainted_reasons', l.tainted?.length ?? 0);
  put('live_suggested_tdf', l.suggestedTdf);
  put('live_max_lag_us', l.maxLagUs);
  put('live_lag_bound_rule', l.lagBound.rule);
  put('live_lag_constant_us', l.lagBound.constant?.us);
  put('live_lag_constant', l.lagBound.constant?.what);
  put('live_processing_lag_p50_us', l.processingLagUs.p50);
  put('live_processing_lag_p99_us', l.processingLagUs.p99);
  put('live_processing_lag_max_us', l.processingLagUs.max);
  put('live_lag_first_half_p99_us', l.lagTrend.firstHalfP99Us);
  put('live_lag_second_half_p99_us', l.lagTrend.secondHalfP99Us);
  put('live_lag_growing', flag(l.lagTrend.growing));
  put('live_input_lateness_p50_us', l.inputLatenessUs.p50);
  put('live_input_lateness_p99_us', l.inputLatenessUs.p99);
  put('live_input_lateness_max_us', l.inputLatenessUs.max);
  put('live_effective_resolution_us', l.effectiveResolutionUs);
  put('live_bus_on_bus_at_end_packets', l.bus.onBusAtEnd);
  put('live_bus_pending_at_end_packets', l.bus.pendingAtEnd);
  put('live_bus_lost_in_crash_packets', l.bus.lostInCrash);
  for (const [kind, v] of Object.entries(l.wire.rejected)) put(`live_wire_rejected_${columnPart(kind)}_messages`, v);
  put('live_wire_gaps', l.wire.gaps);
  put('live_wire_bad_control_messages', l.wire.badControl);
  if (l.busOutages) {
    put('live_bus_outages', l.busOutages.length);
    put('live_bus_down_ms', l.busOutages.some((o) => o.wallMs === null) ? null : l.busOutages.reduce((sum, o) => sum + (o.wallMs ?? 0), 0));
  }
}

function faultColumns(f: NonNullable<Summary['faults']>, put: Put): void {
  put('faults_injected', f.timeline.length);
  put('faults_restarts', f.restarts);
  put('faults_stalls', f.stalls.length);
  put('faults_ring_errors', f.ringErrors.length);
  put('notifications_lost', f.notifications.lost);
  put('notifications_lost_absorbed', f.notifications.absorbedByFinalCheck);
  put('notifications_delayed', f.notifications.delayed);
  put('stall_kicks', f.notifications.stallKicks);
  for (const [id, m] of Object.entries(f.messages)) {
    put(`fault_${columnPart(id)}_messages`, m.messages);
    put(`fault_${columnPart(id)}_message_packets`, m.packets);
  }
  put('fault_recovery_resolution_ms', f.recoveryResolutionMs);
  for (const r of f.recovery) {
    const id = columnPart(r.id);
    put(`fault_${id}_pre_fault_gbps`, r.preFaultGbps);
    put(`fault_${id}_min_gbps`, r.minGbps);
    // 'not recovered' and the like are words: summary.json has them; here the cell is empty.
    put(`fault_${id}_recovery_ms`, typeof r.recoveryMs === 'number' ? r.recoveryMs : null);
  }
}
