// `npm run bench`: how sim's cost grows with the number of VMs — 1, 16, 64 and 256 guests sharing one 10 GbE link, each size in a process of its own.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runSim } from '@splitnet/controller';
import { compileScenarioText } from '@splitnet/scenario';

/**
 * The scaling scenario (examples/vms-scaling.yaml's shape): N VMs × 2 queues share 10 Gbit/s of 1518-byte frames
 * over 4 netback workers, so the emulated packets are the same at every N and what grows is the datapath around them.
 */
export const scalingScenario = (vms: number, durationMs: number): string => `
name: bench-scale-${vms}vm
duration: ${durationMs}ms
warmup: 1ms
topology: { link: 10Gbps, vms: { count: ${vms}, queues: 2, ringSize: 256 }, workers: 4, vrss: per-flow, steering: toeplitz, toeplitz: { hashSlot: false } }
traffic: [ { vms: all, flows: 64, rate: 10Gbps, size: 1518, protocol: tcp } ]
netback: { qdisc: pfifo-fast }
coalescing: { frontend: { policy: static, usecs: 50, frames: 32 } }
`;

/** One size's figures (bench.json `sim.scaling.runs[]`). */
export interface ScalePoint {
  readonly vms: number;
  readonly actors: number;
  readonly emulatedMs: number;
  readonly packets: number;
  readonly events: number;
  readonly wallSeconds: number;
  readonly packetsPerSec: number;
  readonly eventsPerSec: number;
  /** The child process's peak resident set (the run, its warm-up and Node itself). */
  readonly peakRssMB: number;
}

/** bench.json `sim.scaling`: the runs and the growth law fitted to them. */
export interface ScalingRecord {
  readonly durationMs: number;
  readonly runs: readonly ScalePoint[];
  /** Host time per emulated packet ∝ VMs^k between the smallest and the largest size (log-log slope). */
  readonly timePerPacketExponent: number | null;
  /** Peak RSS ≈ baseMB + perVmMB · VMs (least squares over the sizes). */
  readonly rssBaseMB: number | null;
  readonly rssPerVmMB: number | null;
  readonly law: string;
}

/**
 * In the child: warm the JIT on a short run, then time `reps` runs of `vms` VMs for `ms` emulated ms and keep the
 * fastest (one run of a fraction of a second measured the machine's moment as much as the code: the 1-VM point
 * moved by × 2 between two runs, and the law's exponent with it).
 */
function measureOne(vms: number, ms: number, reps: number): ScalePoint {
  runSim(compileScenarioText(scalingScenario(vms, 5), '<bench-scale>', {}));
  const s = compileScenarioText(scalingScenario(vms, ms), '<bench-scale>', {});
  let wall = Infinity;
  let r = runSim(s);
  // The peak of the warm-up and one run: the further runs only add garbage not yet collected.
  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  for (let k = 0; k < reps; k++) {
    const t0 = process.hrtime.bigint();
    r = runSim(s);
    wall = Math.min(wall, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return {
    vms,
    actors: 2 + s.topology.workers + vms,
    emulatedMs: ms,
    packets: r.accounting.emitted,
    events: r.eventsProcessed,
    wallSeconds: wall,
    packetsPerSec: r.accounting.emitted / wall,
    eventsPerSec: r.eventsProcessed / wall,
    peakRssMB,
  };
}

/** Least-squares line y = a + b·x. */
function fitLine(xs: readonly number[], ys: readonly number[]): [number, number] {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    sxx += ((xs[i] as number) - mx) ** 2;
  }
  const b = sxx === 0 ? 0 : sxy / sxx;
  return [my - b * mx, b];
}

/** The growth law the figures show: host time per packet as a power of the VM count, memory as a line. */
export function growthLaw(runs: readonly ScalePoint[]): Omit<ScalingRecord, 'durationMs' | 'runs'> {
  if (runs.length < 2) return { timePerPacketExponent: null, rssBaseMB: null, rssPerVmMB: null, law: 'fewer than two sizes measured: no law' };
  const first = runs[0] as ScalePoint;
  const last = runs[runs.length - 1] as ScalePoint;
  const perPacket = (p: ScalePoint): number => p.wallSeconds / p.packets;
  const k = Math.log(perPacket(last) / perPacket(first)) / Math.log(last.vms / first.vms);
  const [base, perVm] = fitLine(
    runs.map((r) => r.vms),
    runs.map((r) => r.peakRssMB),
  );
  const ratio = perPacket(last) / perPacket(first);
  return {
    timePerPacketExponent: k,
    rssBaseMB: base,
    rssPerVmMB: perVm,
    law:
      `host time per emulated packet × ${ratio.toFixed(2)} from ${first.vms} to ${last.vms} VMs (∝ VMs^${k.toFixed(2)}), ` +
      `events per packet ${runs.map((r) => (r.events / r.packets).toFixed(2)).join(', ')} at ${runs.map((r) => r.vms).join(', ')} VMs, ` +
      `events per host second ${(Math.min(...runs.map((r) => r.eventsPerSec)) / 1e6).toFixed(2)}–${(Math.max(...runs.map((r) => r.eventsPerSec)) / 1e6).toFixed(2)} M; ` +
      `peak RSS ≈ ${base.toFixed(0)} MB + ${(perVm * 1024).toFixed(0)} kB per VM`,
  };
}

/**
 * Measure and print the scaling figures: each size (BENCH_SCALE_VMS, default 1,16,64,256) runs BENCH_SCALE_MS
 * emulated ms (default 100) in a fresh process, so that each peak RSS is that size's own, the fastest of
 * BENCH_SCALE_REPS runs (default 3).
 */
export function runSimScaling(): ScalingRecord {
  const durationMs = Number(process.env['BENCH_SCALE_MS'] ?? 100);
  const sizes = (process.env['BENCH_SCALE_VMS'] ?? '1,16,64,256').split(',').map(Number);
  const reps = Number(process.env['BENCH_SCALE_REPS'] ?? 3);
  const self = fileURLToPath(import.meta.url);
  console.log('');
  console.log(
    `how sim's cost grows with the VMs (N VMs × 2 queues, 4 workers, 10 GbE of 1518-byte frames shared; ${durationMs} ms emulated, each size its own process, the fastest of ${reps} runs):`,
  );
  console.log('     VMs  actors  emulated packets/host s   events/host s   wall s   peak RSS');
  const runs: ScalePoint[] = [];
  for (const vms of sizes) {
    const out = execFileSync(process.execPath, [self, '--child', String(vms), String(durationMs), String(reps)], { encoding: 'utf8', maxBuffer: 1 << 20 });
    const p = JSON.parse(out.trim().split('\n').pop() as string) as ScalePoint;
    runs.push(p);
    console.log(
      `  ${String(vms).padStart(6)}  ${String(p.actors).padStart(6)}  ${`${(p.packetsPerSec / 1e6).toFixed(2)} M/s`.padStart(23)}   ${`${(p.eventsPerSec / 1e6).toFixed(2)} M/s`.padStart(13)}   ${p.wallSeconds.toFixed(2).padStart(6)}   ${p.peakRssMB.toFixed(0).padStart(5)} MB`,
    );
  }
  const law = growthLaw(runs);
  console.log(`  growth: ${law.law}`);
  return { durationMs, runs, ...law };
}

/** Run as `node test/dist/bench/sim-scaling.js` (the sizes in turn), or by runSimScaling as `--child <vms> <ms> <reps>` (one size, JSON out). */
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--child') console.log(JSON.stringify(measureOne(Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5] ?? 3))));
  else runSimScaling();
}
