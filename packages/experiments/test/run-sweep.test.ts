// The sweep runner as a library: runs on worker threads, one sweep per directory (lock), no writing into a directory that is not a sweep's.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SplitnetError } from '@splitnet/model';
import { LOCK_FILE, parseSweepText, planSweep, runSweep, type SweepEvent } from '../src/index.js';

function tinyPlan() {
  const dir = mkdtempSync(join(tmpdir(), 'splitnet-runsweep-'));
  writeFileSync(join(dir, 'base.yaml'), 'duration: 2ms\ntopology: { workers: 2, vms: { queues: 2 } }\ntraffic: [ { flows: 8, rate: 1Gbps, pattern: poisson } ]\n');
  const plan = planSweep(parseSweepText(`base: base.yaml\nrepetitions: 2\naxes:\n  - path: topology.workers\n    values: [1, 2]\n`, join(dir, 'sweep.yaml')));
  return { dir, plan };
}

const environment = { splitnet: 'test', command: ['splitnet', 'sweep'] };

test('run sweep - every run on worker threads, events in order, lock released', async (t) => {
  const { dir, plan } = tinyPlan();
  const out = join(dir, 'out');
  const events: SweepEvent[] = [];
  const outcome = await runSweep(plan, { out, jobs: 2, environment, onEvent: (e) => events.push(e) });
  t.is(outcome.status, 'complete');
  t.is(outcome.finished, 4);
  t.deepEqual(readdirSync(join(out, 'runs')).sort(), ['p000-r0', 'p000-r1', 'p001-r0', 'p001-r1']);
  t.deepEqual(events[0], { kind: 'start', total: 4, skipped: 0, toRun: 4, jobs: 2 });
  t.is(events.filter((e) => e.kind === 'run-done').length, 4);
  t.false(existsSync(join(out, LOCK_FILE)));
});

test('run sweep - a directory another live sweep holds is refused; a lock left by a dead process is taken over', async (t) => {
  const { dir, plan } = tinyPlan();
  const out = join(dir, 'out');
  mkdirSync(out);
  // The test runner's parent is alive for the whole test.
  writeFileSync(join(out, LOCK_FILE), `${process.ppid}\n`);
  const err = await t.throwsAsync(runSweep(plan, { out, jobs: 1, environment }));
  t.true(err instanceof SplitnetError && err.code === 'E_USAGE');
  t.is(err?.message, `${out} is in use by another sweep (process ${process.ppid}); wait for it, or stop it first`);
  t.false(existsSync(join(out, 'runs')), 'nothing written');

  const gone = spawnSync(process.execPath, ['-e', '0']).pid;
  writeFileSync(join(out, LOCK_FILE), `${gone}\n`);
  const outcome = await runSweep(plan, { out, jobs: 1, environment });
  t.is(outcome.status, 'complete');
});

test('run sweep - an existing directory that is not a sweep is refused', async (t) => {
  const { dir, plan } = tinyPlan();
  const err = await t.throwsAsync(runSweep(plan, { out: dir, jobs: 1, environment }));
  t.is(err?.message, `--out ${dir}: the directory exists and is not a sweep's (it holds base.yaml and no sweep.json); give a new or a sweep directory`);
});

test('run sweep - an aborted signal stops before any run and says interrupted', async (t) => {
  const { dir, plan } = tinyPlan();
  const stop = new AbortController();
  stop.abort();
  const outcome = await runSweep(plan, { out: join(dir, 'out'), jobs: 2, environment, signal: stop.signal });
  t.is(outcome.status, 'interrupted');
  t.is(outcome.finished, 0);
  t.false(existsSync(join(dir, 'out', 'table.csv')));
});
