// Whole-datapath properties of sim runs: accounting invariant, determinism, flow order.
import test from 'ava';
import { summaryCsv } from '../src/results.js';
import { balance } from '../src/run-sim.js';
import { run } from './helpers.js';

const base = `
name: props
duration: 10ms
warmup: 1ms
topology: { vms: { count: 2, queues: 2 }, workers: 2, vrss: per-flow }
traffic:
  - { flows: 12, rate: 6Gbps, size: 1518, pattern: poisson }
  - { flows: 4, rate: 1Gbps, size: { uniform: [64, 1518] }, pattern: { onoff: { on: 500us, off: 500us } } }
`;

const variants: [string, string[]][] = [
  ['per-flow, no coalescing', []],
  ['single-threaded netback', ['topology.vrss=single', 'topology.workers=1', 'topology.vms.queues=1']],
  ['per-vif threads', ['topology.vrss=per-vif', 'topology.workers=2', 'topology.vms.queues=1']],
  ['front-end static', ['coalescing.frontend={policy: static, usecs: 50, frames: 32}']],
  ['back-end static', ['coalescing.backend={policy: static, usecs: 50, frames: 32}']],
  ['stacked aic + vic', ['coalescing.frontend={policy: aic}', 'coalescing.backend={policy: vic}']],
  ['nic none, front adaptive-itr', ['coalescing.nic=none', 'coalescing.frontend={policy: adaptive-itr}']],
  ['overloaded guest (tiny rings)', ['topology.vms.ringSize=8', 'topology.backlog=16']],
  ['overloaded NIC ring', ['topology.nicRingSize=4', 'coalescing.nic={policy: static, usecs: 200, frames: 0}']],
];

for (const [name, overrides] of variants) {
  test(`sim - accounting invariant holds: ${name}`, (t) => {
    const r = run(base, overrides);
    const a = r.accounting;
    t.true(a.emitted > 1000, `emitted ${a.emitted}`);
    t.is(a.unaccounted, 0, JSON.stringify(a));
    t.true(a.balanced);
    t.true(a.delivered > 0);
  });

  test(`sim - no flow is reordered: ${name}`, (t) => {
    const r = run(base, overrides);
    t.is(r.summary.flowOrder.reordered, 0);
  });
}

test('sim - overload shows up as counted drops with their reason', (t) => {
  const ring = run(base, ['topology.vms.ringSize=8', 'topology.backlog=16']);
  t.true(ring.summary.drops['ring-full'] + ring.summary.drops['backlog-full'] > 0);
  const nic = run(base, ['topology.nicRingSize=4', 'coalescing.nic={policy: static, usecs: 200, frames: 0}']);
  t.true(nic.summary.drops['nic-ring-full'] > 0);
});

test('sim - the same scenario and seed give byte-identical summaries and time series', (t) => {
  const a = run(base);
  const b = run(base);
  t.is(JSON.stringify(a.summary), JSON.stringify(b.summary));
  t.is(summaryCsv(a.summary), summaryCsv(b.summary));
  t.is(JSON.stringify(a.samples), JSON.stringify(b.samples));
  t.is(JSON.stringify(a.events), JSON.stringify(b.events));
});

test('sim - another seed gives a different run', (t) => {
  const a = run(base, ['seed=1']);
  const b = run(base, ['seed=2']);
  t.not(JSON.stringify(a.summary), JSON.stringify(b.summary));
});

test('sim - the accounting check flags a packet that is nowhere', (t) => {
  const r = run(base);
  const a = r.accounting;
  t.true(a.balanced);
  const broken = balance(a.emitted + 1, a.delivered, a.dropped, a.inFlight);
  t.false(broken.balanced);
  t.is(broken.unaccounted, 1);
  const ok = balance(a.emitted, a.delivered, a.dropped, a.inFlight);
  t.deepEqual(ok, a);
});
