// The human-readable end-of-run summary table.
import type { LagBound, Summary } from './summary.js';
import { addClusterLines } from './cluster-view.js';

function fmt(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && a < 0.01) return x.toExponential(1);
  if (a >= 1e6) return `${(x / 1e6).toFixed(digits)} M`;
  if (a >= 1e4) return `${(x / 1e3).toFixed(1)} k`;
  if (a >= 100) return x.toFixed(0);
  return x.toFixed(digits);
}

/**
 * A live run's lag bound in words, naming the constant it was judged against: `5 µs, auto: 0.1 × the
 * shortest modelled constant, frontend coalescing (…) 50 µs`, or `5000 µs, set by live.maxLag (…)`.
 */
export function lagBoundText(b: LagBound): string {
  const c = b.constant === null ? undefined : `${b.constant.what} ${microseconds(b.constant.us)}`;
  const bound = microseconds(b.us);
  if (b.rule === 'set') return `${bound}, set by live.maxLag (shortest modelled constant: ${c ?? 'none'})`;
  if (c === undefined || b.constant === null) return `${bound}, auto: the scenario has no modelled time constant (no traffic reaches a guest)`;
  const f = b.fraction ?? 0;
  return b.constant.us * f < b.us ? `${bound}, auto: the floor (${f} × the shortest modelled constant, ${c}, is less)` : `${bound}, auto: ${f} × the shortest modelled constant, ${c}`;
}

/** A duration given in µs, to 3 significant digits, in ms from 1 ms: `5 µs`, `8.6 µs`, `1.26 ms`. */
function microseconds(us: number): string {
  return us >= 1000 ? `${Number((us / 1000).toPrecision(3))} ms` : `${Number(us.toPrecision(3))} µs`;
}

/** A compact table of the figures a researcher looks at first. */
export function formatSummary(s: Summary): string {
  const lines: [string, string][] = [];
  const add = (k: string, v: string) => lines.push([k, v]);
  add('scenario', `${s.scenario} (seed ${s.seed}, ${s.runtime}, window ${s.windowMs[0]}–${s.windowMs[1]} ms)`);
  const stop = s.interrupted;
  if (stop) add('INTERRUPTED', `by ${stop.signal} at ${stop.atMs} ms of ${stop.durationMs} ms emulated: every figure covers the run up to then`);
  add('throughput', `${fmt(s.throughput.gbps)} Gbit/s delivered, ${fmt(s.throughput.pps)} pkt/s (offered ${fmt(s.throughput.offeredGbps)} Gbit/s, line ${fmt(s.throughput.lineRateGbps)})`);
  const cap = s.throughput.offeredCapped;
  if (cap) add('warning', `offered load capped: the traffic asks for ${fmt(cap.requestedGbps)} Gbit/s on a ${fmt(cap.linkGbps)} Gbit/s link (wire rates); the rest was never sent`);
  add('virtual irqs', `${fmt(s.interrupts.virqPerSec)} /s (${fmt(s.interrupts.virqPerPacket, 3)} per packet), timer polls ${fmt(s.interrupts.timerPollsPerSec)} /s`);
  for (const vm of s.interrupts.perVm) {
    const tp = s.throughput.perVm[vm.vm];
    add(`  vm ${vm.vm}`, `${fmt(vm.virqPerSec)} /s  per queue: ${vm.perQueue.map((x) => fmt(x)).join(', ')}${tp ? `  (receives ${fmt(tp.gbps)} Gbit/s)` : ''}`);
  }
  add('physical irqs', `${fmt(s.interrupts.physicalIrqPerSec)} /s (NIC); back-end coalescing timer irqs ${fmt(s.interrupts.backendTimerIrqPerSec)} /s`);
  add('notifications', `sent ${fmt(s.notifications.sentPerSec)} /s, suppressed ${fmt(s.notifications.suppressedPerSec)} /s, held ${fmt(s.notifications.heldPerSec)} /s`);
  add('latency (µs)', `p50 ${fmt(s.latencyUs.p50)}  p99 ${fmt(s.latencyUs.p99)}  p99.9 ${fmt(s.latencyUs.p999)}  max ${fmt(s.latencyUs.max)}  (n=${s.latencyUs.count})`);
  add('ring occupancy', `mean ${fmt(s.ring.meanOccupancy)}, max ${s.ring.maxOccupancy}; netback queues + qdiscs mean ${fmt(s.backlog.mean)}, max ${s.backlog.max}`);
  // Shown whenever non-zero: link-down etc. come from faults, lost-in-transport also from a NATS outage the run lived through, rejected from forged or refused messages.
  const faultDrops = (['link-down', 'link-drop', 'vif-disabled', 'lost-in-transport', 'rejected'] as const).filter((r) => (s.drops[r] ?? 0) > 0).map((r) => `, ${r} ${s.drops[r]}`).join('');
  const qdiscDrops = `qdisc-overlimit ${s.drops['qdisc-overlimit']}${s.drops['qdisc-congested'] > 0 ? `, qdisc-congested ${s.drops['qdisc-congested']}` : ''}`;
  add('drops', `${s.drops.total} (nic-ring-full ${s.drops['nic-ring-full']}, netback-queue-full ${s.drops['netback-queue-full']}, ${qdiscDrops}${s.drops['lost-in-crash'] > 0 ? `, lost-in-crash ${s.drops['lost-in-crash']}` : ''}${faultDrops})`);
  const cpu = Object.entries(s.cpu).map(([k, v]) => `${k} ${(v * 100).toFixed(0)}%`);
  for (let i = 0; i < cpu.length; i += 4) add(i === 0 ? 'cpu' : '', cpu.slice(i, i + 4).join('  '));
  const a = s.accounting;
  const inflight = a.inFlight.nicRings + a.inFlight.links + a.inFlight.workerBacklogs + a.inFlight.guestRings;
  add('accounting', `${a.balanced ? 'ok' : 'BROKEN'}: emitted ${a.emitted} = delivered ${a.delivered} + dropped ${s.drops.total} + in flight ${inflight}${a.balanced ? '' : ` (unaccounted ${a.unaccounted})`}`);
  if (s.tx) addTx(s, add);
  addClusterLines(s, add, fmt);
  addTcp(s, add);
  if (s.live) {
    const l = s.live;
    add('live', `${l.verdict === 'tainted' ? 'TAINTED' : l.valid ? 'valid' : 'INVALID'}: tdf ${l.tdf}, ${l.processes} processes${l.restarts > 0 ? `, ${l.restarts} restarted` : ''}; lag p99 ${fmt(l.processingLagUs.p99)} µs (bound ${fmt(l.maxLagUs)}${l.lagTrend.growing ? `; GROWING: ${fmt(l.lagTrend.firstHalfP99Us)} → ${fmt(l.lagTrend.secondHalfP99Us)} µs from the first half to the second` : ''}), effective resolution ${fmt(l.effectiveResolutionUs)} µs`);
    add('lag bound', lagBoundText(l.lagBound));
    const outages = l.busOutages ?? [];
    if (outages.length > 0) add('bus outages', outages.map((o) => `at ${fmt(o.atMs)} ms for ${o.wallMs === null ? 'the rest of the run' : `${fmt(o.wallMs / 1000)} s`} of wall time`).join('; '));
    const rej = Object.entries(l.wire.rejected).filter(([, v]) => v > 0);
    if (rej.length > 0) add('wire rejects', rej.map(([k, v]) => `${k} ${v}`).join(', '));
    for (const [i, line] of (l.tainted ?? []).entries()) add(i === 0 ? 'tainted' : '', line);
  }
  if (s.faults) {
    const f = s.faults;
    const n = f.notifications;
    add('faults', `${f.timeline.length} injected; notifications lost ${n.lost} (absorbed by final check ${n.absorbedByFinalCheck}), delayed ${n.delayed}; stall kicks ${n.stallKicks}; restarts ${f.restarts}`);
    for (const o of f.timeline) {
      const rec = f.recovery.find((r) => r.id === o['id']);
      const when = o['endMs'] === o['startMs'] ? `at ${String(o['startMs'])} ms` : `${String(o['startMs'])}–${o['endMs'] === null ? 'end' : String(o['endMs'])} ms`;
      const back = rec === undefined ? '' : typeof rec.recoveryMs === 'number' ? `; recovered in ${fmt(rec.recoveryMs)} ms` : `; ${rec.recoveryMs}`;
      // A multi-host run's fault on one host: measured on that host's delivered throughput.
      const on = rec?.host === undefined || back === '' ? '' : ` (on ${rec.host}'s throughput)`;
      add(`  ${String(o['id'])}`, `${String(o['action'])} ${String(o['target'])} ${when}${back}${on}`);
    }
    for (const st of f.stalls.slice(0, 8)) {
      add('  stall', `${st.queue} ${st.cause} from ${st.startMs} ms${st.detectedBy ? `, detected by ${st.detectedBy} at ${String(st.detectedMs)} ms` : ''}, ${st.endedBy === 'not ended' ? 'not ended' : `ended by ${st.endedBy} at ${String(st.endMs)} ms`}`);
    }
    if (f.stalls.length > 8) add('', `… ${f.stalls.length - 8} more stalls in summary.json`);
  }
  if (s.pcap) {
    const p = s.pcap;
    const stop = p.stoppedAtMs === null ? '' : `; STOPPED at --pcap-max (${p.maxBytes} bytes) at ${p.stoppedAtMs} ms, ${p.framesLeftOut} later frames left out`;
    add('pcap', `${p.frames} frames, ${p.bytes} bytes (${p.interfaces.map((i) => `${i.name} ${i.frames}`).join(', ')})${stop}`);
  }
  add('flow order', s.flowOrder.reordered === 0 ? 'no flow reordered' : `${s.flowOrder.reordered} packets out of order`);
  const w = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}

/** The closed-loop flows' lines: per TCP flow goodput, RTT, retransmissions; per TCP_RR flow transactions and latency. */
function addTcp(s: Summary, add: (k: string, v: string) => void): void {
  const t = s.tcp;
  if (t === undefined) return;
  const shown = t.flows.slice(0, 8);
  for (const f of shown) {
    add(
      `tcp flow ${f.flow}`,
      `${f.workload}: goodput ${fmt(f.goodputGbps)} Gbit/s, RTT µs min ${fmt(f.rttUs.min)} mean ${fmt(f.rttUs.mean)} p99 ${fmt(f.rttUs.p99)}, retransmissions ${f.retransmissions} (fast ${f.fastRetransmits}, timeouts ${f.timeouts}), cwnd ${f.finalCwnd}${f.resets === undefined ? '' : `; resets ${f.resets}, reconnects ${f.reconnects ?? 0}, RSTs sent ${f.rstSent ?? 0}`}`,
    );
  }
  if (t.flows.length > shown.length) add('tcp flows', `${t.flows.length - shown.length} more in summary.json`);
  for (const r of t.rr.slice(0, 8)) {
    add(
      `tcp rr flow ${r.flow}`,
      `${fmt(r.transactionsPerSec)} transactions/s, latency µs p50 ${fmt(r.latencyUs.p50)} p99 ${fmt(r.latencyUs.p99)}, CPU ${fmt(r.cpuUsPerTransaction)} µs per transaction`,
    );
  }
}

/** The transmit path's lines (a guest that sends), after the receive side's. */
function addTx(s: Summary, add: (k: string, v: string) => void): void {
  const t = s.tx;
  const a = s.accounting.tx;
  if (t === undefined || a === undefined) return;
  add('tx', `${fmt(t.onWireGbps)} Gbit/s on the wire, ${fmt(t.onWirePps)} pkt/s (guests sent ${fmt(t.sentGbps)} Gbit/s); send to wire mean ${fmt(t.meanLatencyUs)} µs`);
  if (a.toGuests > 0) add('tx to guests', `${fmt(t.toGuestsGbps)} Gbit/s, ${fmt(t.toGuestsPps)} pkt/s through the bridge (counted as received above)`);
  add('tx irqs', `guest TX virtual irqs ${fmt(t.interrupts.virqPerSec)} /s, NIC TX-completion irqs ${fmt(t.interrupts.nicIrqPerSec)} /s`);
  add(
    'tx notifications',
    `guest ${fmt(t.notifications.guestPerSec)} /s, netback ${fmt(t.notifications.netbackPerSec)} /s${t.faults ? `; faults lost ${t.faults.notificationsLost}, delayed ${t.faults.notificationsDelayed}` : ''}`,
  );
  add('tx netback', `polls ${fmt(t.netback.pollsPerSec)} /s, responses ${fmt(t.netback.responsesPerSec)} /s (${fmt(t.netback.deallocShare * 100, 0)}% after dealloc), credit waits ${fmt(t.netback.creditWaitsPerSec)} /s`);
  add('tx drops', `${t.drops.total} (guest-qdisc-overlimit ${t.drops['guest-qdisc-overlimit']}, nic-tx-queue-full ${t.drops['nic-tx-queue-full']}${t.drops['vif-disabled'] > 0 ? `, vif-disabled ${t.drops['vif-disabled']}` : ''}${t.drops['link-down'] > 0 ? `, link-down ${t.drops['link-down']}` : ''}${t.drops['release-tx-bufs'] !== undefined ? `, release-tx-bufs ${t.drops['release-tx-bufs']}` : ''}${t.drops['lost-in-crash'] !== undefined ? `, lost-in-crash ${t.drops['lost-in-crash']}` : ''}${t.drops['link-drop'] !== undefined ? `, link-drop ${t.drops['link-drop']}` : ''}${(t.drops['lost-in-transport'] ?? 0) > 0 ? `, lost-in-transport ${t.drops['lost-in-transport']}` : ''})`);
  const f = a.inFlight;
  const inflight = f.guestQdiscs + f.txRings + f.links + f.nicTxQueues;
  let dropped = 0;
  for (const v of Object.values(a.dropped)) dropped += v;
  add('tx accounting', `${a.balanced ? 'ok' : 'BROKEN'}: sent ${a.sent} = on the wire ${a.onWire}${a.toGuests > 0 ? ` + to guests ${a.toGuests}` : ''} + dropped ${dropped} + in flight ${inflight}${a.balanced ? '' : ` (unaccounted ${a.unaccounted})`}`);
  // Frames in a guest's qdisc at the end: one of its TX queues was stopped (ring full) when the run ended. A
  // sender that outruns the path shows it too; one that sends to a stalled queue shows it with little on the wire.
  if (f.guestQdiscs > 0) add('tx stopped', `guest qdiscs hold ${f.guestQdiscs} frames at the end: a TX queue was stopped (its ring full)`);
}
