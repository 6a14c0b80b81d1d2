// How a multi-host run's own parts are shown: the text summary's per-host and switch lines, and summary.csv's per-host and per-port columns.
import { FABRIC_DROP_REASONS } from './fabric-summary.js';
import type { SummaryCell } from './summary-row.js';
import { columnPart } from './summary-row.js';
import type { Summary } from './summary.js';

/** The text summary's lines for the hosts and the switch (none for a one-host run). */
export function addClusterLines(s: Summary, add: (k: string, v: string) => void, fmt: (x: number) => string): void {
  for (const h of s.hosts ?? []) {
    const a = h.accounting;
    add(
      `host ${h.host}`,
      `${fmt(h.throughput.gbps)} Gbit/s delivered, drops ${h.drops.total}, latency p99 ${fmt(h.latencyUs.p99)} µs${a.balanced ? '' : ', accounting BROKEN'}`,
    );
  }
  const f = s.fabric;
  if (f === undefined) return;
  for (const p of f.ports) {
    const drops = FABRIC_DROP_REASONS.filter((r) => p.drops[r] > 0).map((r) => `${r} ${p.drops[r]}`);
    add(
      `switch port ${p.port}`,
      `to ${p.host}: ${fmt(p.forwardedGbps)} Gbit/s out of ${fmt(p.linkGbps)}, queue peak ${p.peakQueueBytes} of ${p.queueBytes} B, drops ${p.drops.total}${drops.length > 0 ? ` (${drops.join(', ')})` : ''}`,
    );
  }
  for (const src of f.sources ?? []) {
    const d = src.drops;
    const drops = d === undefined ? '' : `, drops ${d.total}${d.total > 0 ? ` (${FABRIC_DROP_REASONS.filter((r) => d[r] > 0).map((r) => `${r} ${d[r]}`).join(', ')})` : ''}`;
    add(
      `switch port ${src.port}`,
      `external source ${src.name} to ${src.to}: ${fmt(src.sentGbps)} Gbit/s sent on a ${fmt(src.linkGbps)} Gbit/s cable, ${src.sent} frames${drops}`,
    );
  }
  const a = f.accounting;
  const inFlight = a.inFlight.uplinks + a.inFlight.switchQueues + a.inFlight.downlinks + a.inFlight.pausedHosts;
  add('fabric accounting', `${a.balanced ? 'ok' : 'BROKEN'}: sent ${a.sent} = delivered ${a.delivered} + dropped ${f.drops.total} + in flight ${inFlight}${a.balanced ? '' : ` (unaccounted ${a.unaccounted})`}`);
}

/** summary.csv's columns for the hosts and the switch ports (none for a one-host run). */
export function putClusterColumns(s: Summary, put: (column: string, value: SummaryCell | undefined) => void): void {
  for (const h of s.hosts ?? []) {
    put(`${h.host}_throughput_gbps`, h.throughput.gbps);
    put(`${h.host}_dropped_packets`, h.drops.total);
    put(`${h.host}_latency_p99_us`, h.latencyUs.p99);
  }
  const f = s.fabric;
  if (f === undefined) return;
  for (const p of f.ports) {
    const port = `switch_port${p.port}`;
    put(`${port}_forwarded_gbps`, p.forwardedGbps);
    put(`${port}_enqueued_packets`, p.enqueued);
    put(`${port}_peak_queue_bytes`, p.peakQueueBytes);
    for (const r of FABRIC_DROP_REASONS) put(`${port}_dropped_${columnPart(r)}_packets`, p.drops[r]);
  }
  for (const src of f.sources ?? []) {
    put(`switch_port${src.port}_source_sent_gbps`, src.sentGbps);
    put(`switch_port${src.port}_source_sent_packets`, src.sent);
    // Its port's drops, once a fault acted on it (named as a host port's).
    const drops = src.drops;
    if (drops !== undefined) for (const r of FABRIC_DROP_REASONS) put(`switch_port${src.port}_dropped_${columnPart(r)}_packets`, drops[r]);
  }
  put('fabric_dropped_packets', f.drops.total);
  put('fabric_balanced', f.accounting.balanced ? 1 : 0);
}
