// Issue 26's goals (a faster sim) as the bench judges them in one run: each measured value against its target, met or below.
import type { ScalingRecord } from './sim-scaling.js';
import type { SimTcpBenchRecord } from './sim-tcp-bench.js';

/** Goal 1: emulated packets per host second on the bench scenario, and with the transmit path and TCP in the traffic. */
export const GOAL1_PPS = 10_000_000;
export const GOAL1_TCP_PPS = 5_000_000;
/** Goal 3: the VM counts the bench must report. */
export const GOAL3_SIZES: readonly number[] = [1, 16, 64, 256];

/** One goal's verdict (bench.json `sim.goals`). */
export interface SimGoal {
  readonly goal: string;
  readonly what: string;
  /** The measured value (null: not measured, which counts as below). */
  readonly value: number | null;
  readonly target: string;
  readonly met: boolean;
  /** The line the bench prints. */
  readonly text: string;
}

const verdict = (met: boolean): string => (met ? 'met' : 'below');
const M = (x: number): string => `${(x / 1e6).toFixed(2)} M`;

/** The goals of issue 26 the bench measures, in the order it prints them. */
export function simGoalLines(o: {
  readonly simPacketsPerSec: number;
  readonly tcp: SimTcpBenchRecord | null;
  readonly scaling: ScalingRecord | null;
}): SimGoal[] {
  const pps = o.simPacketsPerSec;
  const tcp = o.tcp?.simPacketsPerSec ?? null;
  const tcpMet = tcp !== null && tcp >= GOAL1_TCP_PPS;
  const goals: SimGoal[] = [
    {
      goal: '1',
      what: 'sim emulated packets per host second on the bench scenario (1 VM × 4 queues, 4 workers, 10 GbE, 1518 B, flow-hash)',
      value: pps,
      target: `≥ ${M(GOAL1_PPS)}`,
      met: pps >= GOAL1_PPS,
      text: `goal 1: sim on the bench scenario ${M(pps)} emulated packets per host second; target ≥ ${M(GOAL1_PPS)}: ${verdict(pps >= GOAL1_PPS)}`,
    },
    {
      goal: '1 tcp',
      what: 'sim emulated packets per host second, both directions (data frames from the wire + the guest ACK frames through TX), on the TCP scenario (16 bulk CUBIC streams into 1 VM × 4 queues, 4 workers, 10 GbE)',
      value: tcp,
      target: `≥ ${M(GOAL1_TCP_PPS)}`,
      met: tcpMet,
      text:
        tcp === null
          ? `goal 1, with TX and TCP: not measured (BENCH_TCP=0); target ≥ ${M(GOAL1_TCP_PPS)}: below`
          : `goal 1, with TX and TCP: sim on the TCP scenario ${M(tcp)} emulated packets per host second (both directions); target ≥ ${M(GOAL1_TCP_PPS)}: ${verdict(tcpMet)}`,
    },
  ];
  const sizes = o.scaling?.runs.map((r) => r.vms) ?? [];
  const all = GOAL3_SIZES.every((n) => sizes.includes(n));
  goals.push({
    goal: '3',
    what: 'sim speed, wall time and peak RSS for 1, 16, 64 and 256 VMs, and the growth law',
    value: sizes.length,
    target: `sizes ${GOAL3_SIZES.join(', ')} measured`,
    met: all && o.scaling?.timePerPacketExponent !== null,
    text: `goal 3: cost growth measured for ${sizes.length === 0 ? 'no size' : `${sizes.join(', ')} VMs`}${o.scaling ? ` (${o.scaling.law})` : ''}; target ${GOAL3_SIZES.join(', ')} VMs: ${verdict(all)}`,
  });
  return goals;
}
