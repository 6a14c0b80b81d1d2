// The lag bound a live run is judged by: live.maxLag as written, or (auto) a tenth of the scenario's shortest modelled time constant.
import { meanFrameBytes, MS, rxSlots, SEC, tcpFrameBytes, txSlots, US, WIRE_OVERHEAD_BYTES, wireTimeNs } from '@splitnet/model';
import type { Nanos, PolicySpec } from '@splitnet/model';
import type { LagBound, RrFlowSummary } from '@splitnet/results';
import type { CompiledScenario } from '@splitnet/scenario';
import { buildActors } from './build.js';
import { runSim } from './run-sim.js';

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

type Generator = CompiledScenario['traffic']['generators'][number];

/** What a generator offers on one side of the datapath: frames/s over all its flows, and their mean frame bytes (null: nothing there). */
type Offer = (g: Generator, linkBitsPerSec: number) => { pps: number; frameBytes: number } | null;

/**
 * What a generator offers the receive path, frames/s. A closed-loop one sends what TCP lets it: a bulk stream at
 * most the line rate in full segments (its peak); a TCP_RR flow a token 1 frame/s per flow, so that the windows
 * that do not depend on load (a static timer's usecs) still count as its constants while load-driven ones stay
 * out (its own constant is its transaction time, below).
 */
const rxOffer: Offer = (g, linkBitsPerSec) => {
  const frameBytes = meanFrameBytes(g.size);
  if (g.closedLoop === undefined) return { pps: g.pps, frameBytes };
  if (g.closedLoop.workload === 'rr') return { pps: g.flows, frameBytes };
  return { pps: linkBitsPerSec / ((frameBytes + WIRE_OVERHEAD_BYTES) * 8), frameBytes };
};

/**
 * What guests send on the transmit path, frames/s: an open-loop generator from a guest its rate; a closed-loop
 * one whose active end is a guest what rxOffer gives it; one whose active end is behind the wire, the guest's
 * answers — a bulk stream's ACKs, one per two full segments (`__tcp_ack_snd_check`), of header-only frames;
 * a TCP_RR server's token rate.
 */
const txOffer: Offer = (g, linkBitsPerSec) => {
  const cl = g.closedLoop;
  if (g.sender !== undefined) return rxOffer(g, linkBitsPerSec);
  if (cl === undefined) return null;
  if (cl.workload === 'rr') return { pps: g.flows, frameBytes: tcpFrameBytes(cl.responseBytes ?? 0) };
  const data = rxOffer(g, linkBitsPerSec) as { pps: number };
  return { pps: data.pps / 2, frameBytes: tcpFrameBytes(0) };
};

/**
 * Each source's offered load at its busiest: for every instant a generator starts, the generators then running,
 * their frames split evenly over their flows (they send round-robin), scaled down to the link's rate when they
 * ask for more (the wire never carries more), summed by the source each flow is steered to (a flow whose source
 * is below 0 has none on this side).
 */
function peakLoads(s: CompiledScenario, sourceOfFlow: ArrayLike<number>, sources: number, offer: Offer = rxOffer): Load[] {
  const gens = s.traffic.generators;
  const linkBitsPerSec = s.topology.linkGbps * 1e9;
  const peak: Load[] = Array.from({ length: sources }, () => ({ pps: 0, bytesPerSec: 0 }));
  for (const at of gens) {
    const running = gens.filter((g) => g.start <= at.start && at.start < g.stop);
    const wire = running.reduce((sum, g) => {
      const o = offer(g, linkBitsPerSec);
      return sum + (o === null ? 0 : o.pps * (o.frameBytes + WIRE_OVERHEAD_BYTES) * 8);
    }, 0);
    const scale = wire > linkBitsPerSec ? linkBitsPerSec / wire : 1;
    const now: Load[] = Array.from({ length: sources }, () => ({ pps: 0, bytesPerSec: 0 }));
    for (const g of running) {
      const o = offer(g, linkBitsPerSec);
      if (o === null) continue;
      const perFlow = (o.pps * scale) / g.flows;
      for (let f = g.firstFlow; f < g.firstFlow + g.flows; f++) {
        const source = sourceOfFlow[f] as number;
        if (source < 0) continue;
        const load = now[source] as Load;
        load.pps += perFlow;
        load.bytesPerSec += perFlow * o.frameBytes;
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
 * - a guest vCPU's `blockAfter`, when set above 0: whether it blocked depends on when its next upcall arrives;
 * - when a guest sends, the transmit path's (transmitConstants) and, for TCP_RR flows, the transaction time per
 *   bus hop (rrConstants).
 * A guest's own frames count only where they go: not at the NIC's receive side, not at its own RX ring.
 * Not here, on purpose: NAPI has no interval in the model (it polls by budget); the NIC ring's fill time, since
 * its credits never cross the bus (the NIC and its driver share a process in every placement); dom0's time
 * slice and softirq limits, since scheduled dom0 vCPUs need the whole driver domain in one process.
 */
export function timeConstants(s: CompiledScenario): TimeConstant[] {
  return s.cluster === undefined ? hostConstants(s, true) : clusterConstants(s);
}

/**
 * A multi-host scenario's constants: every host's own (named with the host; without TCP_RR's, which sim measures on a
 * whole run), and, for each switch port that frames cross, the fabric's: the cable's delay (a frame due across it
 * that arrives late by L is late by L against a one-way time of that delay, and the RTTs that contain it) and the
 * time one of its frames takes on the port's link (frames that arrive late by about that much reach the output queue
 * in another order and at other gaps: its occupancy and drops change).
 */
function clusterConstants(s: CompiledScenario): TimeConstant[] {
  const c = s.cluster as NonNullable<CompiledScenario['cluster']>;
  const out = c.hosts.flatMap((h, i) => hostConstants(h, false).map((k) => ({ what: `h${i} ${k.what}`, ns: k.ns })));
  c.fabric.ports.forEach((p, i) => {
    const h = c.hosts[i] as CompiledScenario;
    const crossing = h.host?.fabricFlows ?? [];
    const gens = h.traffic.generators.filter((g) => Array.from({ length: g.flows }, (_, k) => crossing[g.firstFlow + k]).some((x) => x === 1));
    if (gens.length === 0) return;
    out.push({ what: `fabric cable delay (switch port ${i}, h${i})`, ns: p.delay });
    const frameBytes = Math.max(...gens.map((g) => meanFrameBytes(g.size)));
    out.push({
      what: `fabric frame time (${Math.round(frameBytes)}-byte frames at ${p.linkGbps} Gbit/s, switch port ${i})`,
      ns: wireTimeNs(frameBytes, p.linkGbps),
    });
  });
  return out.sort((a, b) => a.ns - b.ns);
}

/** One host's constants (with `rr`, TCP_RR's transaction times from a sim run of it). */
function hostConstants(s: CompiledScenario, rr: boolean): TimeConstant[] {
  const { steering } = buildActors(s);
  const topo = s.topology;
  const out: TimeConstant[] = [];
  const extraSlots = topo.vrss === 'per-flow' && topo.steering === 'toeplitz' && topo.toeplitz?.hashSlot === true ? 1 : 0;

  // Frames a guest sends reach the NIC's receive side never (to the wire they leave by its TX queues, below).
  const fromWire = Array.from(steering.flowNicQueue, (q, f) => (s.traffic.flows[f]?.sender === undefined ? q : -1));
  const nic = peakLoads(s, fromWire, topo.nicQueues);
  let nicWindows = 0;
  nic.forEach((load, q) => {
    if (load.pps === 0) return;
    const w = policyWindow(s.coalescing.nic, load, topo.nicRingSize);
    if (w !== null) out.push({ what: `NIC coalescing (${w.how}, NIC queue ${q})`, ns: w.ns });
    if (w !== null) nicWindows++;
  });

  // A flow a guest sends to the wire reaches no guest RX ring (its `vm` is its sender).
  const toGuestRx = Array.from(steering.flowGq, (gq, f) => {
    const spec = s.traffic.flows[f];
    return spec?.sender !== undefined && spec.sender === spec.vm ? -1 : gq;
  });
  const guest = peakLoads(s, toGuestRx, steering.gqVm.length);
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

  out.push(...transmitConstants(s, steering), ...(rr ? rrConstants(s) : []));

  for (const vm of topo.vms) {
    if (vm.blockAfter !== null && vm.blockAfter > 0) out.push({ what: `guest vCPU blockAfter (vm.${vm.id})`, ns: vm.blockAfter });
  }
  // Stable: equal constants keep the order above (NIC, then each ring's back end, front end, fill time).
  return out.sort((a, b) => a.ns - b.ns);
}

/**
 * The transmit path's constants, each at the busiest source it applies to, at what the guests send there:
 * - NIC TX-completion coalescing (per NIC TX queue, frames to the wire): the NIC's policy sees completions as it
 *   sees arrivals on RX, so its window at the TX load, as above;
 * - the guest TX ring's fill time: its slots ÷ the slots per frame ÷ the frames sent on it per second. TX
 *   responses (and, for grant-mapped frames, the dealloc's) cross the bus; one later than that lets the ring
 *   stop the queue where sim's would not;
 * - the mean gap between frames at a guest TX queue whose completions meet no window (netfront has no TX
 *   coalescing; the NIC's policy, if it has a window, batches completions of frames to the wire): each TX
 *   response may take its own virtual interrupt, and a lag near the gap merges them;
 * - the credit scheduler's window (`tx.rateInterval`, when `tx.rate` is set): frames held for credit go at its end.
 */
function transmitConstants(s: CompiledScenario, steering: ReturnType<typeof buildActors>['steering']): TimeConstant[] {
  const tx = steering.tx;
  if (tx === null || s.tx === null) return [];
  const topo = s.topology;
  const flows = s.traffic.flows;
  const out: TimeConstant[] = [];
  const toGuest = (f: number): boolean => {
    const spec = flows[f];
    return spec?.sender !== undefined && spec.vm !== spec.sender;
  };
  // Frames to the wire, by the NIC TX queue of their flow (skb_tx_hash: the queue RSS gives the flow).
  const nicQueueOf = Array.from(tx.flowVm, (vm, f) => (vm < 0 || toGuest(f) ? -1 : (steering.flowNicQueue[f] as number)));
  const nicWindowed = new Set<number>();
  peakLoads(s, nicQueueOf, topo.nicQueues, txOffer).forEach((load, q) => {
    if (load.pps === 0) return;
    const w = policyWindow(s.coalescing.nic, load, topo.nicRingSize);
    if (w === null) return;
    nicWindowed.add(q);
    out.push({ what: `NIC TX-completion coalescing (${w.how}, NIC TX queue ${q})`, ns: w.ns });
  });
  // Guest TX queues, numbered vm by vm.
  const base: number[] = [];
  let sources = 0;
  for (const vm of topo.vms) {
    base.push(sources);
    sources += vm.queues;
  }
  const txqOf = Array.from(tx.flowVm, (vm, f) => (vm < 0 ? -1 : (base[vm] as number) + (tx.flowGuestQueue[f] as number)));
  // A TX queue's completions meet a window only when every frame on it goes to the wire through a windowed NIC TX queue.
  const unwindowed = new Set<number>();
  txqOf.forEach((txq, f) => {
    if (txq >= 0 && (toGuest(f) || !nicWindowed.has(steering.flowNicQueue[f] as number))) unwindowed.add(txq);
  });
  peakLoads(s, txqOf, sources, txOffer).forEach((load, txq) => {
    if (load.pps === 0) return;
    const vm = base.findLastIndex((b) => b <= txq);
    const where = `vm.${vm} TX queue ${txq - (base[vm] as number)}`;
    const framePackets = Math.floor((topo.vms[vm] as { ringSize: number }).ringSize / txSlots(load.bytesPerSec / load.pps));
    if (unwindowed.has(txq)) out.push({ what: `TX frame gap with no completion coalescing (${rate(load.pps)} packets/s, ${where})`, ns: SEC / load.pps });
    out.push({ what: `guest TX ring fill time (${framePackets} packets at ${rate(load.pps)} packets/s, ${where})`, ns: (framePackets / load.pps) * SEC });
  });
  if (s.tx.creditBytes !== null) out.push({ what: 'TX credit window (tx.rateInterval)', ns: s.tx.creditInterval });
  return out;
}

/**
 * A TCP_RR flow's transaction time ÷ the bus hops a transaction crosses with one process per actor: 4 (worker
 * and guest, there and back) between the wire and a guest, 8 between two guests (each guest's worker, there and
 * back). Every hop of every transaction runs late by about the lag, so a lag L adds about hops × L to the
 * transaction time X: a tenth of X ÷ hops keeps the transaction latency and rate within about 10 %. X is the
 * model's own, from a sim run of the scenario without its faults (its p50 per flow; closed-loop workloads are the only constants
 * here that no formula gives: they are what the whole path's costs and windows add up to).
 */
function rrConstants(s: CompiledScenario): TimeConstant[] {
  const rrFlows = new Map<number, number>();
  for (const g of s.traffic.generators) {
    if (g.closedLoop?.workload !== 'rr') continue;
    for (let f = g.firstFlow; f < g.firstFlow + g.flows; f++) rrFlows.set(f, g.receiver !== undefined ? 8 : 4);
  }
  if (rrFlows.size === 0) return [];
  const rr = simRr(s);
  return rr.flatMap((r) => {
    const hops = rrFlows.get(r.flow);
    if (hops === undefined || r.transactions === 0) return [];
    const us = r.latencyUs.p50;
    return [{ what: `TCP_RR transaction time ÷ ${hops} bus hops (flow ${r.flow}: p50 ${us} µs in sim)`, ns: (us * US) / hops }];
  });
}

/** The TCP_RR figures sim gives for the scenario, computed once per scenario (the lag bound is asked for more than once a run). */
const rrOfScenario = new WeakMap<CompiledScenario, readonly RrFlowSummary[]>();
function simRr(s: CompiledScenario): readonly RrFlowSummary[] {
  let rr = rrOfScenario.get(s);
  if (rr === undefined) {
    // Without its faults: the constant is the fault-free path's, and some faults exist only in live (a NATS restart).
    rr = runSim({ ...s, faults: [] }).summary.tcp?.rr ?? [];
    rrOfScenario.set(s, rr);
  }
  return rr;
}

/** The bound a live run is judged by, how it was chosen, and the constant it was judged against. */
export function lagBound(s: CompiledScenario): LagBound {
  const shortest = timeConstants(s)[0];
  const constant = shortest === undefined ? null : { what: shortest.what, us: Number((shortest.ns / US).toPrecision(6)) };
  if (s.live.maxLag !== 'auto') return { us: s.live.maxLag / US, rule: 'set', constant };
  const ns = shortest === undefined ? AUTO_LAG_FALLBACK : Math.max(AUTO_LAG_FLOOR, AUTO_LAG_FRACTION * shortest.ns);
  return { us: Number((ns / US).toPrecision(6)), rule: 'auto', fraction: AUTO_LAG_FRACTION, constant };
}
