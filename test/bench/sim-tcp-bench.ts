// `npm run bench`: the second sim scenario — bulk TCP into a guest, its ACKs back through the guest's transmit path — in emulated packets per host second.
import { fileURLToPath } from 'node:url';
import { runSim } from '@splitnet/controller';
import { compileScenarioText } from '@splitnet/scenario';
import { best, fmt, measureInTurn, median, printRatios } from './bench-rates.js';
import { GOAL1_TCP_PPS } from './sim-goals.js';

/** The streams the scenario runs. */
export const TCP_STREAMS = 16;

/**
 * Issue 26's second bench scenario: 16 CUBIC streams from hosts behind the wire into one guest, the first scenario's
 * topology otherwise (1 VM × 4 queues, 4 workers, 10 GbE, flow-hash). Why this shape: with Linux's default receive
 * buffer (tcp_rmem[1] = 128 KiB, a 64 KiB window) one stream is window-limited near 1 Gbit/s at the path's RTT of a
 * few hundred µs, and 8 streams carry 8.5 Gbit/s; 16 fill the line (9.9 Gbit/s), as a netperf TCP_STREAM test with
 * 16 streams would, so the datapath carries a full 10 GbE load of 1518-byte frames one way and an ACK per GRO packet
 * of the guest's polls the other (about 0.8 M + 0.08 M frames per emulated second; 0.4 M before the guest's GRO), every ACK through netfront TX, netback
 * TX and the NIC, and every segment through the TCP endpoints at both ends.
 */
export const tcpBenchScenario = (durationMs: number): string => `
name: bench-tcp-1vm-4q-4w
duration: ${durationMs}ms
warmup: 1ms
topology: { link: 10Gbps, vms: { count: 1, queues: 4 }, workers: 4, vrss: per-flow, steering: flow-hash }
traffic: [ { name: bulk, flows: ${TCP_STREAMS}, tcp: { cc: cubic } } ]
`;

/** What the TCP scenario measured, as bench.json keeps it (`sim.tcp`). */
export interface SimTcpBenchRecord {
  readonly durationMs: number;
  readonly reps: number;
  readonly streams: number;
  /** Frames of one run: the data segments the far hosts put on the wire towards the guest, and the guest's frames (ACKs) into its transmit path. */
  readonly rxFramesPerRun: number;
  readonly txFramesPerRun: number;
  /** Both directions' frames (rx + tx) per host second: the median rep and the fastest. */
  readonly simPacketsPerSec: number;
  readonly simPacketsPerSecBest: number;
  readonly simEventsPerSec: number;
  /** The first scenario's open-loop traffic source alone, measured in turn with these reps: the median and the fastest. */
  readonly trafficSourceFramesPerSec: number;
  readonly trafficSourceFramesPerSecBest: number;
  readonly ratioToSource: number;
  readonly ratioToSourceBest: number;
  /** The streams' goodput together (emulated, the measurement window). */
  readonly goodputGbps: number;
  readonly retransmissions: number;
  readonly targetPacketsPerSec: number;
  readonly met: boolean;
  /** Emulated frames (both directions) per host second over those per emulated second. */
  readonly speedVsRealTime: number;
}

/**
 * Measure and print the TCP scenario (BENCH_TCP_MS emulated ms per run, default 500; BENCH_REPS runs, default 3).
 * `sourceRate` times the first scenario's traffic source alone (frames per host second): the same baseline, taken in
 * turn with each rep, so that the two scenarios' ratios can be set side by side.
 */
export function runSimTcpBench(sourceRate: () => number): SimTcpBenchRecord {
  const durationMs = Number(process.env['BENCH_TCP_MS'] ?? 500);
  const reps = Number(process.env['BENCH_REPS'] ?? 3);
  const scenario = compileScenarioText(tcpBenchScenario(durationMs), '<bench-tcp>', {});
  // Warm the JIT on the TCP and transmit paths (the first scenario never runs them).
  runSim(compileScenarioText(tcpBenchScenario(50), '<bench-tcp>', {}));

  const { srcRates, simRates, eventRates, last } = measureInTurn(scenario, reps, sourceRate, (r) => r.accounting.emitted + (r.accounting.tx?.sent ?? 0));
  const rx = last.accounting.emitted;
  const tx = last.accounting.tx?.sent ?? 0;
  const flows = last.summary.tcp?.flows ?? [];
  const goodputGbps = flows.reduce((s, f) => s + f.goodputGbps, 0);
  const retransmissions = flows.reduce((s, f) => s + f.retransmissions, 0);
  const sim = median(simRates);
  const src = median(srcRates);
  const perEmulatedSecond = (rx + tx) / (durationMs / 1000);

  console.log('');
  console.log(
    `scenario 2, TCP: ${TCP_STREAMS} CUBIC streams from the wire into 1 VM × 4 queues (128 KiB rcvbuf), their ACKs back through the guest's transmit path; 4 workers, 10 GbE, ${durationMs} ms emulated, median of ${reps}`,
  );
  console.log(
    `  frames per run, both directions      ${rx.toLocaleString('en-US')} data segments from the wire + ${tx.toLocaleString('en-US')} guest frames (ACKs) through TX = ${(rx + tx).toLocaleString('en-US')}`,
  );
  console.log(`  emulated goodput                     ${goodputGbps.toFixed(2)} Gbit/s over ${flows.length} streams, ${retransmissions} retransmissions`);
  console.log(`  traffic source alone (baseline)      ${fmt(src)} frames per host second (scenario 1's open-loop source, in turn with these reps)`);
  console.log(`  sim, TCP both directions             ${fmt(sim)} emulated packets per host second (rx + tx frames)`);
  printRatios({ simRates, srcRates, eventRates, target: GOAL1_TCP_PPS });
  console.log(
    `  speed vs real time                   ${(sim / perEmulatedSecond).toFixed(2)}× (the datapath carries ${fmt(perEmulatedSecond)} emulated, both directions)`,
  );
  return {
    durationMs,
    reps,
    streams: TCP_STREAMS,
    rxFramesPerRun: rx,
    txFramesPerRun: tx,
    simPacketsPerSec: sim,
    simPacketsPerSecBest: best(simRates),
    simEventsPerSec: median(eventRates),
    trafficSourceFramesPerSec: src,
    trafficSourceFramesPerSecBest: best(srcRates),
    ratioToSource: sim / src,
    ratioToSourceBest: best(simRates) / best(srcRates),
    goodputGbps,
    retransmissions,
    targetPacketsPerSec: GOAL1_TCP_PPS,
    met: sim >= GOAL1_TCP_PPS,
    speedVsRealTime: sim / perEmulatedSecond,
  };
}

/** Run as `node test/dist/bench/sim-tcp-bench.js [ms]`: one run of the TCP scenario, untimed, for a profiler (`node --cpu-prof`). */
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const ms = Number(process.argv[2] ?? 500);
  const r = runSim(compileScenarioText(tcpBenchScenario(ms), '<bench-tcp>', {}));
  console.log(`${r.accounting.emitted} rx + ${r.accounting.tx?.sent ?? 0} tx frames, ${r.eventsProcessed} events`);
}
