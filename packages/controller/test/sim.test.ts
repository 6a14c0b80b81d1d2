// Whole-datapath properties of sim runs: accounting invariant, determinism, flow order.
import test from 'ava';
import { balance, summaryCsv, timeseriesCsv } from '@splitnet/results';
import { buildActors } from '../src/build.js';
import { PAPER_VRSS_NIC_KEY, run, scenario } from './helpers.js';

const base = `
name: props
duration: 10ms
warmup: 1ms
topology: { vms: { count: 2, queues: 2 }, workers: 2, vrss: per-flow, ${PAPER_VRSS_NIC_KEY} }
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
  ['overloaded guest (tiny rings)', ['topology.vms.ringSize=8', 'netback.rxQueueBytes=16384', 'netback.qdisc=pfifo-fast']],
  ['overloaded guest, fq_codel', ['topology.vms.ringSize=8', 'netback.rxQueueBytes=16384', 'traffic.0.rate=9Gbps']],
  ['jumbo frames', ['traffic.0.size=9018']],
  ['Toeplitz steering with the hash slot', ['topology.toeplitz.hashSlot=true']],
  ['flow-hash steering', ['topology.steering=flow-hash', 'topology.toeplitz=null']],
  ['rx-queue steering over 2 NIC queues', ['topology.steering=rx-queue', 'topology.toeplitz=null', 'topology.nicQueues=2']],
  ['overloaded NIC ring', ['topology.nicRingSize=4', 'coalescing.nic={policy: static, usecs: 200, frames: 0}']],
  ['VMs with 2 and 1 queues', ['topology.vms.queues=[2, 1]']],
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

test('sim - VMs with different queue counts (queues: [4, 1]) each get their own queues, workers and per-queue results', (t) => {
  const overrides = ['topology.vms.queues=[4, 1]', 'topology.workers=4', 'traffic.0.flows=16'];
  // Guest queues in order (vm 0: 0–3, vm 1: 4), each on worker gq mod 4.
  t.deepEqual(buildActors(scenario(base, overrides)).steering.gqWorker, [0, 1, 2, 3, 0]);
  const r = run(base, overrides);
  const perVm = r.summary.interrupts.perVm;
  t.deepEqual(
    perVm.map((vm) => vm.perQueue.length),
    [4, 1],
  );
  t.true(
    perVm.every((vm) => vm.perQueue.every((q) => q > 0)),
    JSON.stringify(perVm),
  );
  t.true(r.summary.throughput.perVm.every((vm) => vm.pps > 0));
  const vcpus = Object.keys(r.summary.cpu)
    .filter((k) => k.includes('vcpu'))
    .sort();
  t.deepEqual(vcpus, ['vm0.vcpu0', 'vm0.vcpu1', 'vm0.vcpu2', 'vm0.vcpu3', 'vm1.vcpu0']);
  t.true(r.accounting.balanced, JSON.stringify(r.accounting));
  t.is(r.summary.flowOrder.reordered, 0);
});

test('sim - overload shows up as counted drops with their reason', (t) => {
  const ring = run(base, ['topology.vms.ringSize=8', 'netback.rxQueueBytes=16384', 'netback.qdisc=pfifo-fast']);
  t.true(ring.summary.drops['netback-queue-full'] + ring.summary.drops['qdisc-overlimit'] > 0, JSON.stringify(ring.summary.drops));
  const nic = run(base, ['topology.nicRingSize=4', 'coalescing.nic={policy: static, usecs: 200, frames: 0}']);
  t.true(nic.summary.drops['nic-ring-full'] > 0);
});

test('sim - the same scenario and seed give byte-identical summaries and time series', (t) => {
  const a = run(base);
  const b = run(base);
  t.is(JSON.stringify(a.summary), JSON.stringify(b.summary));
  t.is(summaryCsv(a.summary), summaryCsv(b.summary));
  t.is(JSON.stringify(a.samples), JSON.stringify(b.samples));
  t.is(timeseriesCsv(a.series), timeseriesCsv(b.series));
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
