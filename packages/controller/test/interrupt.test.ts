// runSimInterruptible: uninterrupted it gives runSim's results byte for byte; interrupted it keeps the run up to that slice, marked and balanced.
import test from 'ava';
import { summaryCsv, timeseriesCsv } from '@splitnet/results';
import type { RunResult } from '@splitnet/results';
import { runSim, runSimInterruptible } from '../src/run-sim.js';
import { scenario } from './helpers.js';

const base = `
name: interruptible
duration: 10ms
warmup: 1ms
topology: { vms: { count: 2, queues: 2 }, workers: 2, vrss: per-flow }
traffic:
  - { flows: 12, rate: 6Gbps, size: 1518, pattern: poisson }
`;

const withFaults = `${base}faults:
  - { at: 3ms, action: restart, target: worker:1 }
  - { at: 5ms, action: lose-notifications, target: vm:0, duration: 2ms, probability: 0.5 }
`;

/** What a results directory holds of a run, as text. */
function files(r: RunResult): string[] {
  return [JSON.stringify(r.summary), summaryCsv(r.summary), timeseriesCsv(r.series), JSON.stringify(r.events), JSON.stringify(r.latency.toJSON())];
}

for (const [name, yaml] of [
  ['fault-free', base],
  ['with faults', withFaults],
] as const) {
  test(`sim interrupt - an uninterrupted interruptible run gives runSim's results byte for byte (${name})`, async (t) => {
    const s = scenario(yaml);
    t.deepEqual(files(await runSimInterruptible(s)), files(runSim(s)));
  });
}

/** Abort `ctrl` once the run's progress passes `fraction` of its duration. */
function abortAt(ctrl: AbortController, fraction: number, reason: string): (done: number, total: number) => void {
  return (done, total) => {
    if (done >= total * fraction && !ctrl.signal.aborted) ctrl.abort(reason);
  };
}

test('sim interrupt - an interrupted run ends at the slice it reached, marked interrupted, its accounting balanced, its window ending there', async (t) => {
  const s = scenario(withFaults);
  const ctrl = new AbortController();
  const r = await runSimInterruptible(s, { signal: ctrl.signal, onProgress: abortAt(ctrl, 0.4, 'SIGINT') });
  const at = r.summary.interrupted?.atMs ?? NaN;
  t.true(at >= 4 && at < 10, `stopped at ${at} ms`);
  t.deepEqual(r.summary.interrupted, { signal: 'SIGINT', atMs: at, durationMs: 10 });
  t.is(r.summary.windowMs[1], at);
  t.true(r.accounting.balanced, JSON.stringify(r.accounting));
  t.true(r.accounting.emitted > 0);
  const kinds = r.events.map((e) => e.kind);
  t.true(kinds.includes('run-interrupted'));
  t.is(kinds.at(-1), 'run-end');
  t.true(r.samples.length < runSim(s).samples.length, 'fewer samples than the whole run');
});

test('sim interrupt - a run interrupted in its warm-up measures from 0 to where it stopped', async (t) => {
  const s = scenario(base, ['warmup=5ms']);
  const ctrl = new AbortController();
  const r = await runSimInterruptible(s, { signal: ctrl.signal, onProgress: abortAt(ctrl, 0.2, 'SIGTERM') });
  t.is(r.summary.interrupted?.signal, 'SIGTERM');
  t.is(r.summary.windowMs[0], 0);
  t.true(r.summary.windowMs[1] < 5);
  t.true(r.summary.throughput.gbps > 0);
  t.true(r.accounting.balanced);
});

test('sim interrupt - a signal aborted before the start gives an empty, balanced run at time 0', async (t) => {
  const ctrl = new AbortController();
  ctrl.abort('SIGINT');
  const r = await runSimInterruptible(scenario(base), { signal: ctrl.signal });
  t.deepEqual(r.summary.interrupted, { signal: 'SIGINT', atMs: 0, durationMs: 10 });
  t.is(r.accounting.emitted, 0);
  t.true(r.accounting.balanced);
});
