// Every example scenario compiles, says how to run itself, and its resolved form round-trips.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { compileScenarioText, formatResolvedYaml, loadScenarioFile } from '../src/index.js';
import { comparable, EXAMPLES_DIR } from './helpers.js';

const files = readdirSync(EXAMPLES_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

test('examples - the expected examples exist', (t) => {
  for (const name of [
    'quickstart',
    'coalescing-none',
    'coalescing-frontend',
    'coalescing-backend',
    'coalescing-stacked',
    'vrss-single',
    'vrss-per-vif',
    'vrss-per-flow',
    'vms-scaling',
    'small-packets',
    'live-realtime',
    'netback-linux',
    'tcp-bulk',
    'tcp-rr',
    'tcp-vm-to-vm',
    'cluster-4x8',
  ]) {
    t.true(files.includes(`${name}.yaml`), name);
  }
});

for (const file of files) {
  test(`examples - ${file} compiles and names its run command`, (t) => {
    const path = join(EXAMPLES_DIR, file);
    const s = loadScenarioFile(path);
    t.is(s.name, file.replace(/\.yaml$/, ''));
    t.true(s.traffic.flows.length > 0);
    const text = readFileSync(path, 'utf8');
    t.true(text.includes(`npx splitnet run examples/${file}`), 'header shows the command');
    t.regex(text, /^# .*\n#\n# Question: /m, 'header says which question it answers');
  });

  test(`examples - ${file} resolved form compiles to the same scenario`, (t) => {
    const s = loadScenarioFile(join(EXAMPLES_DIR, file));
    const again = compileScenarioText(formatResolvedYaml(s), 'results/scenario.resolved.yaml');
    t.deepEqual(comparable(again), comparable(s));
  });
}

test('examples - quickstart is what its comments say', (t) => {
  const s = loadScenarioFile(join(EXAMPLES_DIR, 'quickstart.yaml'));
  t.is(s.topology.vms.length, 1);
  t.is(s.topology.vms[0]?.queues, 4);
  t.is(s.topology.workers, 4);
  t.is(s.topology.vrss, 'per-flow');
  t.is(s.topology.linkGbps, 10);
  t.is(s.duration, 50_000_000);
  t.is(s.traffic.flows.length, 16);
  t.deepEqual(s.traffic.generators[0]?.size, { kind: 'fixed', bytes: 1518 });
  t.deepEqual(s.traffic.generators[0]?.pattern, { kind: 'constant' });
  t.deepEqual(s.coalescing.frontend, { kind: 'static', usecs: 50, frames: 32 });
});

test('examples - the coalescing examples share machine and traffic and differ only in policy', (t) => {
  const load = (n: string) => loadScenarioFile(join(EXAMPLES_DIR, `coalescing-${n}.yaml`));
  const [none, front, back, stacked] = [load('none'), load('frontend'), load('backend'), load('stacked')];
  for (const s of [front, back, stacked]) {
    t.deepEqual(s.topology, none.topology);
    t.deepEqual(s.traffic, none.traffic);
  }
  t.is(none.topology.vms[0]?.queues, 2);
  t.is(none.topology.workers, 2);
  t.deepEqual(none.traffic.generators[0]?.pattern, { kind: 'poisson' });
  t.is(none.coalescing.frontend.kind, 'none');
  t.is(none.coalescing.backend.kind, 'none');
  t.is(front.coalescing.frontend.kind, 'static');
  t.is(front.coalescing.backend.kind, 'none');
  t.is(back.coalescing.backend.kind, 'static');
  t.is(back.coalescing.frontend.kind, 'none');
  t.is(stacked.coalescing.backend.kind, 'static');
  t.is(stacked.coalescing.frontend.kind, 'static');
});

test('examples - the vRSS examples use the three modes on 4 VMs', (t) => {
  const load = (n: string) => loadScenarioFile(join(EXAMPLES_DIR, `vrss-${n}.yaml`));
  const single = load('single');
  const perVif = load('per-vif');
  const perFlow = load('per-flow');
  t.is(single.topology.vrss, 'single');
  t.is(single.topology.workers, 1);
  t.is(perVif.topology.vrss, 'per-vif');
  t.is(perVif.topology.vms.length, 4);
  t.is(perFlow.topology.vrss, 'per-flow');
  t.is(perFlow.topology.vms.length, 4);
  t.true(perFlow.topology.vms.every((vm) => vm.queues === 4));
  t.is(perFlow.topology.workers, 4);
});

test('examples - vms-scaling follows --set topology.vms.count', (t) => {
  const s = loadScenarioFile(join(EXAMPLES_DIR, 'vms-scaling.yaml'), { overrides: ['topology.vms.count=4'] });
  t.is(s.topology.vms.length, 4);
  t.deepEqual([...new Set(s.traffic.flows.map((f) => f.vm))].sort(), [0, 1, 2, 3]);
});

test('examples - small-packets sends 64-byte frames at 14.88 Mpps and takes other sizes from --set', (t) => {
  const s = loadScenarioFile(join(EXAMPLES_DIR, 'small-packets.yaml'));
  t.deepEqual(s.traffic.generators[0]?.size, { kind: 'fixed', bytes: 64 });
  t.is(Math.round(s.traffic.generators[0]?.pps ?? 0), 14_880_952);
  const big = loadScenarioFile(join(EXAMPLES_DIR, 'small-packets.yaml'), { overrides: ['traffic.0.size=512'] });
  t.deepEqual(big.traffic.generators[0]?.size, { kind: 'fixed', bytes: 512 });
});
