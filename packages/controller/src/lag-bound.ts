// The lag bound a live run is judged by: live.maxLag as written, or (auto) a tenth of the scenario's shortest modelled time constant.
import { meanFrameBytes, MS, rxSlots, SEC, US, WIRE_OVERHEAD_BYTES } from '@splitnet/model';
import type { Nanos, PolicySpec } from '@splitnet/model';
import type { LagBound } from '@splitnet/results';
import type { CompiledScenario } from '@splitnet/scenario';
import { buildActors } from './build.js';

/**
 * `auto` judges a run against this fraction of its shortest time constant. A live run's inputs reach an actor
 * late by about its lag; a window of T (a coalescing timer, the time a ring takes to fill) whose inputs shift
 * by L gathers or misses about L/T of its packets, so the interrupt rates, poll counts and delays that window
 * sets are off by about L/T. A tenth keeps that near 10 %; a lag as large as the window makes them wrong.
 */
export const AUTO_LAG_FRACTION = 0.1;
/**
 * The least auto bound. Wall-clock timers wake about 1 ms late, which even at TDF 1000 is 1 µs of emulated
 * time: a tighter bound could not be met by any run here. Constants under 10 µs are judged at this floor.
 */
export const AUTO_LAG_FLOOR: Nanos = 1 * US;
/** A scenario with no time constant at all (no traffic reaches a guest): the fixed default of earlier releases. */
export const AUTO_LAG_FALLBACK: Nanos = 2 * MS;

/** One modelled time constant, in words that say where it comes from. */
export interface TimeConstant {
  readonly what: string;
  readonly ns: Nanos;
}

/** The offered load of one interrupt source (a NIC queue or a guest RX ring): frames/s and frame bytes/s. */
interface Load {
  pps: number;
  bytesPerSec: number;
}

/**
 * What a generator offers, frames/s. A closed-loop one sends what TCP lets it: a bulk stream at most the line
 * rate in full segments (its peak); a TCP_RR flow a token 1 frame/s per flow, so that the windows that do not
 * depend on load (a static timer's usecs) still count as its constants while load-driven ones stay out.
 */
function offeredPps(g: CompiledScenario['traffic']['generators'][number], linkBitsPerSec: number): number {
  if (g.closedLoop === undefined) return g.pps;
  if (g.closedLoop.workload === 'rr') return g.flows;
  return linkBitsPerSec / ((meanFrameBytes(g.size) + WIRE_OVERHEAD_BYTES) * 8);
}

/**
 * Each source's offered load at its busiest: for every instant a generator starts, the generators then running,
 * their frames split evenly over their flows (they send round-robin), scaled down to the link's rate when they
 * ask for more (the wire never carries more), summed by the source each flow is steered to.
 */
function peakLoads(s: CompiledScenario, sourceOfFlow: ArrayLike<number>, sources: number): Load[] {
  const gens = s.traffic.generators;
  const linkBitsPerSec = s.topology.linkGbps * 1e9;
  const peak: Load[] = Array.from({ length: sources }, () => ({ pps: 0, bytesPerSec: 0 }));
  for (const at of gens) {
    const running = gens.filter((g) => g.start <= at.start && at.start < g.stop);
    const wire = running.reduce((sum, g) => sum + offeredPps(g, linkBitsPerSec) * (meanFrameBytes(g.size) + WIRE_OVERHEAD_BYTES) * 8, 0);
    const scale = wire > linkBitsPerSec ? linkBitsPerSec / wire : 1;
    const now: Load[] = Array.from({ length: sources }, () => ({ pps: 0, bytesPerSec: 0 }));
    for (const g of running) {
      const perFlow = (offeredPps(g, linkBitsPerSec) * scale) / g.flows;
      const bytes = meanFrameBytes(g.size);
      for (let f = g.firstFlow; f < g.firstFlow + g.flows; f++) {
        const load = now[sourceOfFlow[f] as number] as Load;
        load.pps += perFlow;
        load.bytesPerSec += perFlow * bytes;
      }
    }
    now.forEach((l, i) => {
      if (l.pps > (peak[i] as Load).pps) peak[i] = l;
    });
  }
  return peak;
}

const rate = (pps: number): string => (pps >= 1e6 ? `${Number((pps / 1e6).toPrecision(3))} M` : `${Number((pps / 1e3).toPrecision(3))} k`);

/**
 * The window a coalescing policy works with at a source's offered load (`buffer`: the packets the source's ring
 * holds, for the buffer-bounded policy), in words; null when it has none (it interrupts at every completion).
 */
function policyWindow(p: PolicySpec, load: Load, buffer: number): { ns: Nanos; how: string } | null {
  switch (p.kind) {
    case 'none':
      return null;
    case 'static': {
      if (p.mode === 'throttle') return { ns: p.usecs * US, how: `static throttle usecs ${p.usecs}` };
      if (p.frames === 1) return null; // every completion interrupts
      // A timer fires at usecs or at `frames` pending, whichever first: at this load the frames may come sooner.
      const timer = p.usecs > 0 ? { ns: p.usecs * US, how: `static usecs ${p.usecs}` } : null;
      const count = p.frames >= 2 && load.pps > 0 ? { ns: (p.frames / load.pps) * SEC, how: `static frames ${p.frames} at ${rate(load.pps)} packets/s` } : null;
      return timer === null ? count : count === null || timer.ns <= count.ns ? timer : count;
    }
    case 'adaptive-itr': {
      // The state the offered bytes/µs select (the model's thresholds; docs/model.md, "The NIC").
      const bytesPerUs = load.bytesPerSec / 1e6;
      const [state, ints] =
        bytesPerUs <= p.lowestLatencyMaxBytesPerUs
          ? ['lowest-latency', p.lowestLatencyRate]
          : bytesPerUs <= p.lowLatencyMaxBytesPerUs
            ? ['low-latency', p.lowLatencyRate]
            : ['bulk', p.bulkRate];
      return { ns: SEC / ints, how: `adaptive-itr ${state} state at ${Number(bytesPerUs.toPrecision(3))} bytes/µs` };
    }
    case 'aic': {
      const d = load.pps > 0 ? ((p.bufferFraction * buffer) / load.pps) * SEC : Infinity;
      const ns = Math.min(Math.max(d, p.minUsecs * US), p.maxUsecs * US);
      return { ns, how: `aic delay at ${rate(load.pps)} packets/s` };
    }
    case 'vic': {
      // Below lowRate, or at a ratio of 1, every completion interrupts: no window.
      if (load.pps < p.lowRate) return null;
      const ratio = Math.min(Math.max(Math.round(load.pps / p.targetRate), 1), p.maxRatio);
      if (ratio === 1) return null;
      const ns = Math.min((ratio / load.pps) * SEC, p.maxUsecs * US);
      return { ns, how: `vic ${ratio} completions per interrupt at ${rate(load.pps)} packets/s` };
    }
  }
}

/**
 * The scenario's modelled time constants that a live run's lag distorts, each at the busiest source it applies
 * to (the shortest first, ties in the order listed):
 * - coalescing at the NIC (per NIC queue), in netback and in netfront (per guest RX ring): a static timer's
 *   usecs (or its frames at the offered rate, if they come first), a throttle's interval, an adaptive policy's
 *   window at the offered load. Netfront's guest timer tick is its policy's window, so it is this constant too;
 * - the guest RX ring's fill time: the packets its slots hold ÷ the packets offered to it per second. Refills
 *   (ring credits) cross the bus; one later than that lets the ring run dry where sim's would not;
 * - the mean gap between packets at a guest RX ring whose packets meet no coalescing window anywhere on their
 *   path (NIC, netback, netfront): each may then take its own interrupt, and a lag near the gap merges them;
 * - a guest vCPU's `blockAfter`, when set above 0: whether it blocked depends on when its next upcall arrives.
 * Not here, on purpose: NAPI has no interval in the model (it polls by budget); the NIC ring's fill time, since
 * its credits never cross the bus (the NIC and its driver share a process in every placement); dom0's time
 * slice and softirq limits, since scheduled dom0 vCPUs need the whole driver domain in one process.
 */
export function timeConstants(s: CompiledScenario): TimeConstant[] {
  const { steering } = buildActors(s);
  const topo = s.topology;
  const out: TimeConstant[] = [];
  const extraSlots = topo.vrss === 'per-flow' && topo.steering === 'toeplitz' && topo.toeplitz?.hashSlot === true ? 1 : 0;

  const nic = peakLoads(s, steering.flowNicQueue, topo.nicQueues);
  let nicWindows = 0;
  nic.forEach((load, q) => {
    if (load.pps === 0) return;
    const w = policyWindow(s.coalescing.nic, load, topo.nicRingSize);
    if (w !== null) out.push({ what: `NIC coalescing (${w.how}, NIC queue ${q})`, ns: w.ns });
    if (w !== null) nicWindows++;
  });

  const guest = peakLoads(s, steering.flowGq, steering.gqVm.length);
  guest.forEach((load, gq) => {
    if (load.pps === 0) return;
    const vm = steering.gqVm[gq] as number;
    const where = `vm.${vm} queue ${steering.gqQueue[gq] as number}`;
    const ringSize = (topo.vms[vm] as { ringSize: number }).ringSize;
    const ringPackets = Math.floor(ringSize / rxSlots(load.bytesPerSec / load.pps, extraSlots));
    let windows = nicWindows;
    for (const [placement, policy] of [
      ['backend', s.coalescing.backend],
      ['frontend', s.coalescing.frontend],
    ] as const) {
      const w = policyWindow(policy, load, ringPackets);
      if (w !== null) out.push({ what: `${placement} coalescing (${w.how}, ${where})`, ns: w.ns });
      if (w !== null) windows++;
    }
    // With no window anywhere on the path, each packet may take its own interrupt: the gap between packets paces them.
    if (windows === 0) out.push({ what: `packet gap with no coalescing on the path (${rate(load.pps)} packets/s, ${where})`, ns: SEC / load.pps });
    out.push({ what: `guest RX ring fill time (${ringPackets} packets at ${rate(load.pps)} packets/s, ${where})`, ns: (ringPackets / load.pps) * SEC });
  });

  for (const vm of topo.vms) {
    if (vm.blockAfter !== null && vm.blockAfter > 0) out.push({ what: `guest vCPU blockAfter (vm.${vm.id})`, ns: vm.blockAfter });
  }
  // Stable: equal constants keep the order above (NIC, then each ring's back end, front end, fill time).
  return out.sort((a, b) => a.ns - b.ns);
}

/** The bound a live run is judged by, how it was chosen, and the constant it was judged against. */
export function lagBound(s: CompiledScenario): LagBound {
  const shortest = timeConstants(s)[0];
  const constant = shortest === undefined ? null : { what: shortest.what, us: Number((shortest.ns / US).toPrecision(6)) };
  if (s.live.maxLag !== 'auto') return { us: s.live.maxLag / US, rule: 'set', constant };
  const ns = shortest === undefined ? AUTO_LAG_FALLBACK : Math.max(AUTO_LAG_FLOOR, AUTO_LAG_FRACTION * shortest.ns);
  return { us: Number((ns / US).toPrecision(6)), rule: 'auto', fraction: AUTO_LAG_FRACTION, constant };
}
