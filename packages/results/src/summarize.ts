// From combined snapshots to a run's summary: rates over the measurement window, the drops a summary shows, and the accounting invariant.
import { summarizeTx, txBalance } from './tx-summary.js';
import { summarizeTcp } from './tcp-summary.js';
import { LatencyHistogram, meanFrameBytes, requestedWireGbps, WIRE_OVERHEAD_BYTES } from '@splitnet/model';
import type { CompiledScenario } from '@splitnet/scenario';
import { BASE_DROP_REASONS, DROP_REASONS, FAULT_DROP_REASONS, sig, totalVirqs } from './metrics.js';
import type { DropReason, Snapshot } from './metrics.js';
import type { Accounting, OfferedCap, SchedSummary, Summary } from './summary.js';

/** The cap of this scenario's traffic, or undefined when the link carries all it asks for. */
export function offeredCapOf(s: CompiledScenario): OfferedCap | undefined {
  const requested = requestedWireGbps(wireGenerators(s));
  // The slack absorbs rounding: 10Gbps of traffic on a 10Gbps link is exactly line rate, not above it.
  return requested > s.topology.linkGbps * (1 + 1e-9) ? { requestedGbps: sig(requested), linkGbps: s.topology.linkGbps } : undefined;
}

/**
 * Drops as results show them, and as the accounting counts them: every reason with packets, always (so every
 * drop is in the balance); the base reasons also when zero, and with faults the fault-only ones too (so
 * fault-free results keep their shape).
 */
export function shownDrops(d: Readonly<Record<DropReason, number>>, withFaults: boolean): Record<DropReason, number> {
  const out = {} as Record<DropReason, number>;
  for (const r of DROP_REASONS) {
    if (BASE_DROP_REASONS.includes(r) || (withFaults && FAULT_DROP_REASONS.includes(r)) || d[r] !== 0) out[r] = d[r];
  }
  return out;
}

/**
 * The accounting invariant: every emitted packet is delivered, dropped with a reason, or in flight. A negative
 * count (packets in flight or dropped below zero) fails it too, even if the sum comes out: it means packets
 * were counted that never existed.
 */
export function balance(
  emitted: number,
  delivered: number,
  dropped: Readonly<Record<DropReason, number>>,
  inFlight: Accounting['inFlight'],
): Accounting {
  const dropSum = Object.values(dropped).reduce((n, v) => n + v, 0);
  const held = inFlight.nicRings + inFlight.links + inFlight.workerBacklogs + inFlight.guestRings;
  const unaccounted = emitted - delivered - dropSum - held;
  const negative = [...Object.values(dropped), ...Object.values(inFlight)].some((v) => v < 0);
  return { emitted, delivered, dropped, inFlight, unaccounted, balanced: unaccounted === 0 && !negative };
}

export function summarize(
  s: CompiledScenario,
  a: Snapshot,
  b: Snapshot,
  inWindow: readonly Snapshot[],
  acc: Accounting,
  withFaults = s.faults.length > 0,
): Summary {
  const dt = (b.t - a.t) / 1e9;
  const rate = (x: number) => sig(x / dt);
  const delivered = b.delivered - a.delivered;
  const virqs = totalVirqs(b) - totalVirqs(a);
  const hist = b.latency ?? new LatencyHistogram();
  const us = (ns: number) => sig(ns / 1000);
  const cpu: Record<string, number> = {};
  for (const [name, v] of b.busy) cpu[name] = sig((v - (a.busy.get(name) ?? 0)) / (b.t - a.t));
  const occ = inWindow.map((x) => x.ringOccupancy);
  const blog = inWindow.map((x) => x.backlog);
  const mean = (xs: readonly number[]) => (xs.length === 0 ? 0 : sig(xs.reduce((p, q) => p + q, 0) / xs.length));
  const max = (xs: readonly number[]) => xs.reduce((p, q) => (q > p ? q : p), 0);
  const mtu = wireGenerators(s).length > 0 ? lineRateGbps(s) : s.topology.linkGbps;
  const drops = shownDrops(b.drops, withFaults);
  const capped = offeredCapOf(s);
  let dropTotal = 0;
  for (const v of Object.values(drops)) dropTotal += v;
  return {
    scenario: s.name,
    seed: s.seed,
    runtime: 'sim',
    windowMs: [sig(a.t / 1e6), sig(b.t / 1e6)],
    throughput: {
      gbps: sig(((b.deliveredBytes - a.deliveredBytes) * 8) / dt / 1e9),
      pps: rate(delivered),
      offeredGbps: sig(((b.emittedBytes - a.emittedBytes) * 8) / dt / 1e9),
      lineRateGbps: sig(mtu),
      ...(capped !== undefined ? { offeredCapped: capped } : {}),
      perVm: b.deliveredPerVm.map((d, vm) => ({
        vm,
        gbps: sig((((b.bytesPerVm[vm] ?? 0) - (a.bytesPerVm[vm] ?? 0)) * 8) / dt / 1e9),
        pps: rate(d - (a.deliveredPerVm[vm] ?? 0)),
      })),
    },
    interrupts: {
      virqPerSec: rate(virqs),
      timerPollsPerSec: rate(b.timerPolls - a.timerPolls),
      physicalIrqPerSec: rate(b.physicalIrqs - a.physicalIrqs),
      backendTimerIrqPerSec: rate(b.backendTimerIrqs - a.backendTimerIrqs),
      virqWhilePollingPerSec: rate(b.virqsWhilePolling - a.virqsWhilePolling),
      idleTimerTicksPerSec: rate(b.idleTimerTicks - a.idleTimerTicks),
      virqPerPacket: delivered > 0 ? sig(virqs / delivered) : 0,
      perVm: b.virqs.map((row, vm) => {
        const before = a.virqs[vm] ?? [];
        const perQueue = row.map((v, q) => rate(v - (before[q] ?? 0)));
        return { vm, virqPerSec: sig(perQueue.reduce((x, y) => x + y, 0)), perQueue };
      }),
    },
    notifications: {
      sentPerSec: rate(b.notifies - a.notifies),
      suppressedPerSec: rate(b.suppressed - a.suppressed),
      heldPerSec: rate(b.held - a.held),
      guestReqNotifiesPerSec: rate(b.reqNotifies - a.reqNotifies),
    },
    cpu,
    latencyUs: {
      count: hist.count,
      mean: us(hist.mean),
      p50: us(hist.percentile(50)),
      p99: us(hist.percentile(99)),
      p999: us(hist.percentile(99.9)),
      max: us(hist.max),
    },
    ring: { meanOccupancy: mean(occ), maxOccupancy: max(occ) },
    backlog: { mean: mean(blog), max: max(blog) },
    drops: { ...drops, total: dropTotal },
    flowOrder: { reordered: b.reordered },
    accounting: acc,
    ...schedSummary(a, b, rate),
    ...sendingBlocks(a, b, acc),
  };
}

/** The transmit path's block (a guest sends) and the closed-loop flows' (the scenario has some). */
function sendingBlocks(a: Snapshot, b: Snapshot, acc: Accounting): Pick<Summary, 'tx' | 'tcp'> {
  return {
    ...(b.tx !== null && acc.tx !== undefined ? { tx: summarizeTx(a.tx ?? b.tx, b.tx, { a: a.t, b: b.t }, acc.tx) } : {}),
    ...(b.closedLoop !== null ? { tcp: summarizeTcp(a.closedLoop, b.closedLoop, { a: a.t, b: b.t }, busyOver(a, b), sig) } : {}),
  };
}

/** Every core's busy ns between two snapshots. */
function busyOver(a: Snapshot, b: Snapshot): number {
  let n = 0;
  for (const [name, v] of b.busy) n += v - (a.busy.get(name) ?? 0);
  return n;
}

/** The accounting with the transmit path's invariant added when a guest sends (`balanced` then needs both). */
export function withTxBalance(acc: Accounting, s: Snapshot, txOnLinks: number): Accounting {
  if (s.tx === null) return acc;
  const tx = txBalance(s.tx, txOnLinks);
  return { ...acc, balanced: acc.balanced && tx.balanced, tx };
}

/** The scheduler rates over the window, when schedulers are modelled (no key otherwise: results keep their shape). */
function schedSummary(a: Snapshot, b: Snapshot, rate: (x: number) => number): { sched?: SchedSummary } {
  const s = b.sched;
  if (s === null) return {};
  const d = s.dom0;
  const was = a.sched?.dom0;
  return {
    sched: {
      ...(d === null ? {} : {
        dom0: {
          contextSwitchesPerSec: rate(d.switches - (was?.switches ?? 0)),
          softirqDeferralsPerSec: rate(d.deferrals - (was?.deferrals ?? 0)),
          vcpuWakeupsPerSec: rate(d.wakeups - (was?.wakeups ?? 0)),
        },
      }),
      ...(s.guestWakeups === null ? {} : { guestVcpuWakeupsPerSec: rate(s.guestWakeups - (a.sched?.guestWakeups ?? 0)) }),
    },
  };
}

/** The generators whose frames arrive from the wire (a guest's own go out through its netfront). */
function wireGenerators(s: CompiledScenario): CompiledScenario['traffic']['generators'] {
  // A host's generators whose frames come from another host through the switch do not use its wire's own source.
  const remote = s.host?.remoteGenerators ?? [];
  return s.traffic.generators.filter((g, i) => g.sender === undefined && !remote.includes(i));
}

/** Frame-bit throughput the link can carry with this scenario's first wire generator's mean frame size. */
export function lineRateGbps(s: CompiledScenario): number {
  const gen = wireGenerators(s)[0];
  if (!gen) return s.topology.linkGbps;
  const mean = meanFrameBytes(gen.size);
  return (s.topology.linkGbps * mean) / (mean + WIRE_OVERHEAD_BYTES);
}
