// `npm run bench`: the sim part, the live part, then the lockstep part, and every figure they printed into bench.json (its path printed) so runs can be compared.
//
// BENCH_JSON names the file (default results/bench-<UTC time>.json, one per run). Its schema: docs/benchmark.md#benchjson.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { runLiveBench } from './live-bench.js';
import { runLockstepBench } from './lockstep-bench.js';
import { runSimBench } from './sim-bench.js';

/** bench.json's schema version: raised when a field changes meaning or goes away. */
const SCHEMA = 'splitnet-bench/1';

const started = new Date();
const load0 = loadavg();
const t0 = performance.now();
// BENCH_SIM=0, BENCH_LIVE=0, BENCH_LOCKSTEP=0 skip a part (its key in bench.json is then null, as live's and lockstep's when no nats-server is found).
const sim = process.env['BENCH_SIM'] === '0' ? null : runSimBench();
const live = process.env['BENCH_LIVE'] === '0' ? null : await runLiveBench();
const lockstep = process.env['BENCH_LOCKSTEP'] === '0' ? null : await runLockstepBench();
const record = {
  schema: SCHEMA,
  startedAt: started.toISOString(),
  wallSeconds: Math.round((performance.now() - t0) / 100) / 10,
  loadAverage: { atStart: load0, atEnd: loadavg() },
  sim,
  live: live ?? null,
  lockstep,
};
const stamp = started.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
const file = resolve(process.env['BENCH_JSON'] ?? `results/bench-${stamp}.json`);
mkdirSync(dirname(file), { recursive: true });
// A figure not measured (undefined) is written as null, so that every documented field is present.
writeFileSync(file, `${JSON.stringify(record, (_k, v: unknown) => (v === undefined ? null : v), 2)}\n`);
console.log('');
// Issue 26, goal 4: the file carries the sim figures, the scaling runs and the goals' verdicts.
if (sim !== null) {
  const carried = sim.scaling !== null && sim.scaling.runs.length > 0 && sim.goals.length > 0;
  console.log(
    `issue 26 goal 4: bench.json carries the sim speed, the scaling runs and the goals: ${carried ? 'met' : 'below (BENCH_SCALE=0 skipped the scaling runs)'}`,
  );
}
console.log(`bench: ${record.wallSeconds} s in all (load average ${load0.map((x) => x.toFixed(1)).join(' ')} at the start); every figure above is in ${file}`);
