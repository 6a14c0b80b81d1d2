// `npm run bench`: emulated packets per second of host time in sim, beside baselines measured in the same run.
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { TrafficSource } from '@splitnet/model';
import { runSim } from '@splitnet/controller';
import { compileScenarioText } from '@splitnet/scenario';
import { best, fmt, measureInTurn, median, printRatios } from './bench-rates.js';
import { GOAL1_PPS as TARGET_PPS, simGoalLines, type SimGoal } from './sim-goals.js';
import { runSimScaling, type ScalingRecord } from './sim-scaling.js';
import { runSimTcpBench, type SimTcpBenchRecord } from './sim-tcp-bench.js';

/**
 * The benchmark scenario: 1 VM, 4 queues, 4 workers, 10 GbE, 1518-byte frames. `steering: flow-hash`
 * spreads the flows over the 4 queues: with the default (`rx-queue`, the NIC queue each frame arrived on, and
 * this NIC has one) every packet goes to queue 0, worker 0 and vCPU 0, and the scenario would measure one queue.
 */
const benchScenario = (durationMs: number) => `
name: bench-1vm-4q-4w
duration: ${durationMs}ms
warmup: 1ms
topology: { link: 10Gbps, vms: { count: 1, queues: 4 }, workers: 4, vrss: per-flow, steering: flow-hash }
traffic: [ { flows: 64, rate: 10Gbps, size: 1518 } ]
`;

function time<T>(fn: () => T): [T, number] {
  const t0 = process.hrtime.bigint();
  const r = fn();
  return [r, Number(process.hrtime.bigint() - t0) / 1e9];
}

/** What the sim part of the bench measured, as bench.json keeps it (`sim`). */
export interface SimBenchRecord {
  readonly durationMs: number;
  readonly reps: number;
  readonly trafficSourceFramesPerSec: number;
  readonly simPacketsPerSec: number;
  readonly simEventsPerSec: number;
  readonly ratioToSource: number;
  /** The fastest rep of each (the machine's least loaded moment): a steadier ratio on a shared machine than the medians'. */
  readonly simPacketsPerSecBest: number;
  readonly trafficSourceFramesPerSecBest: number;
  readonly ratioToSourceBest: number;
  readonly targetPacketsPerSec: number;
  readonly met: boolean;
  readonly speedVsRealTime: number;
  /** The second scenario, bulk TCP with its ACKs through the transmit path (null: skipped with BENCH_TCP=0). */
  readonly tcp: SimTcpBenchRecord | null;
  /** How the cost grows with the VMs (null: skipped with BENCH_SCALE=0). */
  readonly scaling: ScalingRecord | null;
  /** Issue 26's goals, met or below. */
  readonly goals: readonly SimGoal[];
}

/** Measure and print the sim figures (BENCH_MS emulated ms per run, default 1000; BENCH_REPS runs, default 3), then how they grow with the VMs. */
export function runSimBench(): SimBenchRecord {
  const durationMs = Number(process.env['BENCH_MS'] ?? 1000);
  const reps = Number(process.env['BENCH_REPS'] ?? 3);
  const scenario = compileScenarioText(benchScenario(durationMs), '<bench>', {});

  // Warm the JIT once on a short run.
  runSim(compileScenarioText(benchScenario(50), '<bench>', {}));

  // The traffic source alone (frames generated and serialized on the wire per host second) and the whole sim, in
  // turn rep by rep: on a shared machine the load changes from second to second, and a ratio of two figures measured
  // minutes apart measured the load as much as the code.
  const source = (): number => {
    const src = new TrafficSource(scenario.traffic.generators, scenario.traffic.flows.length, scenario.topology.linkGbps, 1);
    let k = 0;
    while (src.peek() < scenario.duration) {
      src.take();
      k++;
    }
    return k;
  };
  const sourceRate = (): number => {
    const [n, secs] = time(source);
    return n / secs;
  };
  const { srcRates, simRates, eventRates, last } = measureInTurn(scenario, reps, sourceRate, (r) => r.accounting.emitted);

  const cpu = cpus()[0];
  const sim = median(simRates);
  const src = median(srcRates);
  console.log(`splitnet sim benchmark — ${cpus().length} × ${cpu?.model ?? 'unknown cpu'}, node ${process.version}`);
  console.log(
    `scenario 1: 1 VM × 4 queues, 4 vRSS workers, 10 GbE, 1518-byte frames (open loop, receive path only), ${durationMs} ms emulated, median of ${reps}, the source and the sim measured in turn`,
  );
  console.log('');
  console.log(`  traffic source alone (baseline)      ${fmt(src)} frames per host second`);
  console.log(`  sim, whole datapath                  ${fmt(sim)} emulated packets per host second`);
  printRatios({ simRates, srcRates, eventRates, target: TARGET_PPS });
  console.log(
    `  speed vs real time                   ${(sim / last.summary.throughput.pps).toFixed(2)}× (the datapath carries ${fmt(last.summary.throughput.pps)} emulated)`,
  );
  const tcp = process.env['BENCH_TCP'] === '0' ? null : runSimTcpBench(sourceRate);
  const scaling = process.env['BENCH_SCALE'] === '0' ? null : runSimScaling();
  const goals = simGoalLines({ simPacketsPerSec: sim, tcp, scaling });
  console.log('');
  console.log('issue 26 goals (a faster sim):');
  for (const g of goals) console.log(`  ${g.text}`);
  return {
    durationMs,
    reps,
    trafficSourceFramesPerSec: src,
    simPacketsPerSec: sim,
    simEventsPerSec: median(eventRates),
    ratioToSource: sim / src,
    simPacketsPerSecBest: best(simRates),
    trafficSourceFramesPerSecBest: best(srcRates),
    ratioToSourceBest: best(simRates) / best(srcRates),
    targetPacketsPerSec: TARGET_PPS,
    met: sim >= TARGET_PPS,
    speedVsRealTime: sim / last.summary.throughput.pps,
    tcp,
    scaling,
    goals,
  };
}

/** Run as `node test/dist/bench/sim-bench.js`: the sim part alone (bench.js runs both parts and writes bench.json). */
if (process.argv[1] === fileURLToPath(import.meta.url)) runSimBench();
