// The model behaves as the paper describes, on small scenarios (acceptance 4 of the foundation issue).
import test from 'ava';
import { PAPER_VRSS_NIC_KEY, run } from './helpers.js';

const oneQueue = (rate: string, extra = '') => `
name: behaviour
duration: 20ms
warmup: 2ms
topology: { vms: { count: 1, queues: 1 }, workers: 1, vrss: per-flow }
traffic: [ { flows: 8, rate: ${rate}, size: 1518, pattern: poisson } ]
# Physical interrupt moderation off, so that the virtual interrupt path is what is measured.
coalescing: { nic: none }
${extra}
`;

test('behaviour - with no coalescing, virtual interrupts rise with packet rate', (t) => {
  const rates = ['100Mbps', '300Mbps', '1Gbps'];
  const virq = rates.map((r) => run(oneQueue(r)).summary.interrupts.virqPerSec);
  t.log('virq/s at', rates.join(', '), '=', virq.join(', '));
  for (let i = 1; i < virq.length; i++) t.true((virq[i] as number) > (virq[i - 1] as number) * 1.5, virq.join(' < '));
});

for (const placement of ['backend', 'frontend'] as const) {
  test(`behaviour - static coalescing at U µs bounds a queue's interrupt rate by about 1e6/U (${placement})`, (t) => {
    for (const usecs of [50, 200]) {
      const policy = `{ policy: static, usecs: ${usecs}, frames: 0 }`;
      const r = run(oneQueue('3Gbps'), [`coalescing.${placement}=${policy}`]);
      const i = r.summary.interrupts;
      // Front-end coalescing replaces interrupts with timer polls: count both as wake-ups.
      const wakeups = (i.perVm[0]?.perQueue[0] ?? 0) + (placement === 'frontend' ? i.timerPollsPerSec : 0);
      t.log(`${placement} usecs=${usecs}: virq/s ${i.virqPerSec}, timer polls/s ${i.timerPollsPerSec}`);
      t.true(wakeups <= (1e6 / usecs) * 1.1, `${wakeups} wake-ups/s at ${usecs} µs`);
      t.true(wakeups >= (1e6 / usecs) * 0.5, `${wakeups} wake-ups/s at ${usecs} µs: the bound should be nearly reached under load`);
    }
  });
}

test('behaviour - coalescing cuts virtual interrupts and raises latency', (t) => {
  const none = run(oneQueue('2Gbps')).summary;
  const coalesced = run(oneQueue('2Gbps'), ['coalescing.frontend={policy: static, usecs: 100, frames: 64}']).summary;
  t.log(
    `none: ${none.interrupts.virqPerSec} virq/s p50 ${none.latencyUs.p50} µs; static: ${coalesced.interrupts.virqPerSec} virq/s p50 ${coalesced.latencyUs.p50} µs`,
  );
  t.true(coalesced.interrupts.virqPerSec < none.interrupts.virqPerSec / 2);
  t.true(coalesced.latencyUs.p50 > none.latencyUs.p50);
  // Same traffic delivered either way (the rate is well within capacity).
  t.true(Math.abs(coalesced.throughput.gbps - none.throughput.gbps) < 0.05 * none.throughput.gbps);
});

// The paper's vRSS: flows hashed (Toeplitz) to queues in netback. Linux's default steering would follow
// the one NIC queue here and leave three of the four queues idle (netback-fidelity.test.ts).
const scaling = `
name: scaling
duration: 20ms
warmup: 4ms
topology: { vms: { count: 1, queues: 4 }, workers: 4, vrss: per-flow, ${PAPER_VRSS_NIC_KEY} }
traffic: [ { flows: 64, rate: 10Gbps, size: 1518 } ]
`;

test('behaviour - a single-threaded back-end saturates below 10 Gbit/s at 1518-byte frames', (t) => {
  const r = run(scaling, ['topology.vrss=single', 'topology.workers=1', 'topology.vms.queues=1']).summary;
  t.log(`single: ${r.throughput.gbps} Gbit/s of ${r.throughput.lineRateGbps}; worker cpu ${r.cpu['dom0.worker0']}`);
  t.true(r.throughput.gbps < 0.75 * r.throughput.lineRateGbps);
  t.true((r.cpu['dom0.worker0'] ?? 0) > 0.95, 'the one netback thread is the bottleneck');
});

test('behaviour - vRSS with more workers raises delivered throughput up to line rate', (t) => {
  const gbps = [1, 2, 4].map((w) => run(scaling, [`topology.workers=${w}`]).summary.throughput.gbps);
  const line = run(scaling).summary.throughput.lineRateGbps;
  t.log(`workers 1,2,4 → ${gbps.join(', ')} Gbit/s (line ${line})`);
  t.true((gbps[1] as number) > (gbps[0] as number) * 1.5);
  t.true((gbps[2] as number) >= (gbps[1] as number));
  t.true((gbps[2] as number) > 0.97 * line, 'four workers reach line rate');
});

test("behaviour - with 64-byte frames the driver domain's cores saturate far below line rate (the NIC/back-end core and every vRSS worker) while the guest vCPUs keep headroom", (t) => {
  const r = run(scaling, ['traffic.0.size=64']).summary;
  t.log(`64-byte: ${r.throughput.pps} pkt/s; cpu ${JSON.stringify(r.cpu)}`);
  t.true(r.throughput.pps < 14_880_952 * 0.5, 'far below 64-byte line rate');
  const cores = Object.keys(r.cpu).sort();
  const dom0 = ['dom0.nic0', 'dom0.worker0', 'dom0.worker1', 'dom0.worker2', 'dom0.worker3'];
  const vcpus = ['vm0.vcpu0', 'vm0.vcpu1', 'vm0.vcpu2', 'vm0.vcpu3'];
  t.deepEqual(cores, [...dom0, ...vcpus]);
  for (const c of dom0) t.true((r.cpu[c] ?? 0) > 0.95, `${c} at ${r.cpu[c]}: saturated`);
  // Each vCPU is fed only what its worker copies, so it waits for work (about 0.7 busy with the default costs).
  for (const c of vcpus) t.true((r.cpu[c] ?? 1) < 0.9, `${c} at ${r.cpu[c]}: not the bottleneck`);
});
