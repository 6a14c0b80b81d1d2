// CPUs shared and scheduled (issue 22 §4): dom0 vCPUs, softirq limits and ksoftirqd, receive livelock, netback's threading variants, vCPUs that block.
import test from 'ava';
import type { Summary } from '@splitnet/results';
import { run } from './helpers.js';

/** Busy fraction of the driver domain, summed over its work (NIC queues, workers, ksoftirqd switches). */
function dom0Cpu(s: Summary): number {
  let n = 0;
  for (const [k, v] of Object.entries(s.cpu)) if (k.startsWith('dom0.')) n += v;
  return n;
}

/** 1 VM with 4 queues, 4 per-flow workers and the paper's vRSS steering, Poisson 1518-byte frames. */
const vrss = (rate: string, extra = '') => `
name: vrss
duration: 30ms
warmup: 5ms
topology:
  vms: { count: 1, queues: 4 }
  workers: 4
  vrss: per-flow
  steering: toeplitz
  toeplitz: { hashSlot: false }
  ${extra}
traffic: [ { flows: 64, rate: ${rate}, size: 1518, pattern: poisson, protocol: tcp } ]
netback: { qdisc: pfifo-fast }
coalescing: { nic: adaptive-itr, frontend: { policy: static, usecs: 50, frames: 32 } }
`;

test("cpu fidelity - one vCPU per NIC queue and per worker with free context switches and wake-ups gives exactly the dedicated cores' results", (t) => {
  const dedicated = run(vrss('9Gbps')).summary;
  const scheduled = run(vrss('9Gbps', 'dom0: { vcpus: 5 }'), ['costs={profile: default, override: {dom0: {contextSwitch: 0, wakeup: 0}}}']).summary;
  t.log(
    `dedicated ${dedicated.throughput.gbps} Gbit/s p50 ${dedicated.latencyUs.p50} µs; scheduled ${scheduled.throughput.gbps} Gbit/s p50 ${scheduled.latencyUs.p50} µs`,
  );
  t.deepEqual(scheduled.throughput, dedicated.throughput);
  t.deepEqual(scheduled.latencyUs, dedicated.latencyUs);
  t.deepEqual(scheduled.interrupts, dedicated.interrupts);
  t.deepEqual(scheduled.drops, dedicated.drops);
  for (const [core, frac] of Object.entries(dedicated.cpu)) t.is(scheduled.cpu[core], frac, core);
  t.is(dedicated.sched, undefined, 'dedicated cores have no scheduler');
});

test('cpu fidelity - each switch of a vCPU to a kernel thread costs contextSwitch of dom0 CPU, and tasklets switch never', (t) => {
  const layout = 'dom0: { vcpus: 2 }';
  const free = run(vrss('3Gbps', layout), ['costs={profile: default, override: {dom0: {contextSwitch: 0}}}']).summary;
  const paid = run(vrss('3Gbps', layout)).summary;
  const tasklet = run(vrss('3Gbps', layout), ['netback.threading=tasklet']).summary;
  const switches = paid.sched?.dom0?.contextSwitchesPerSec ?? 0;
  const added = dom0Cpu(paid) - dom0Cpu(free);
  t.log(`${switches} switches/s; dom0 CPU ${dom0Cpu(free)} → ${dom0Cpu(paid)} (+${added}); tasklets ${dom0Cpu(tasklet)}`);
  t.true(switches > 10_000);
  // The same packets are delivered, so the difference is the switches: 2 µs each.
  t.is(paid.throughput.pps, free.throughput.pps);
  t.true(Math.abs(added - switches * 2e-6) < 0.1 * switches * 2e-6, `${added} vs ${switches * 2e-6}`);
  t.is(tasklet.sched?.dom0?.contextSwitchesPerSec, 0);
  t.true(dom0Cpu(tasklet) < dom0Cpu(paid));
});

/** Sparse traffic: one 1518-byte frame every 100 µs, so every vCPU is idle (blocked) when the next one comes. */
const sparse = (extra: string) => `
name: sparse
duration: 20ms
warmup: 2ms
topology: { vms: { count: 1, queues: 1, ${extra.startsWith('block') ? extra : ''} }, workers: 1, vrss: single ${extra.startsWith('dom0') ? `, ${extra}` : ''} }
traffic: [ { flows: 1, rate: 10Kpps, size: 1518, pattern: constant, protocol: udp } ]
coalescing: { nic: none }
`;

test("cpu fidelity - a dom0 vCPU that idles blocks, so at a sparse load each packet first waits for the NIC's vCPU and then the worker's to wake", (t) => {
  const wake = (ns: number) => run(sparse('dom0: { vcpus: 2 }'), [`costs={profile: default, override: {dom0: {wakeup: ${ns}, contextSwitch: 0}}}`]).summary;
  const instant = wake(0);
  const slow = wake(20_000);
  t.log(`p50 ${instant.latencyUs.p50} µs with instant wake-ups, ${slow.latencyUs.p50} µs with 20 µs; ${slow.sched?.dom0?.vcpuWakeupsPerSec} wake-ups/s`);
  // Two vCPUs woken per packet (the NIC's for its interrupt, the worker's for its thread): 40 µs more.
  t.true(Math.abs(slow.latencyUs.p50 - instant.latencyUs.p50 - 40) < 2, `${slow.latencyUs.p50} vs ${instant.latencyUs.p50}`);
  t.true(Math.abs((slow.sched?.dom0?.vcpuWakeupsPerSec ?? 0) - 20_000) < 500);
});

test("cpu fidelity - a guest vCPU that blocks when idle pays Xen's wake-up before the upcall; one that never blocks does not", (t) => {
  const never = run(sparse('')).summary;
  const blocks = run(sparse('blockAfter: 0')).summary;
  const late = run(sparse('blockAfter: 200us')).summary;
  t.log(
    `p50 never ${never.latencyUs.p50} µs, blockAfter 0 ${blocks.latencyUs.p50} µs (${blocks.sched?.guestVcpuWakeupsPerSec} wake-ups/s), blockAfter 200us ${late.latencyUs.p50} µs`,
  );
  // frontend.wakeup is 5 µs in the default profile: every upcall (one per packet here) is preceded by it.
  t.true(Math.abs(blocks.latencyUs.p50 - never.latencyUs.p50 - 5) < 0.5);
  t.true(Math.abs((blocks.sched?.guestVcpuWakeupsPerSec ?? 0) - blocks.interrupts.virqPerSec) < 0.01 * blocks.interrupts.virqPerSec);
  // Idle gaps of 100 µs are shorter than 200 µs: that vCPU never blocks.
  t.is(late.sched?.guestVcpuWakeupsPerSec, 0);
  t.is(late.latencyUs.p50, never.latencyUs.p50);
  t.is(never.sched, undefined);
});

/** The NIC queue and the netback thread share one dom0 vCPU; 64-byte frames at `rate`, `nic` moderation. */
const shared = (rate: string, nic: string, ksoftirqd = true) => `
name: livelock
duration: 20ms
warmup: 4ms
topology: { vms: { count: 1, queues: 1 }, workers: 1, vrss: single, dom0: { vcpus: 1, softirq: { ksoftirqd: ${ksoftirqd} } } }
traffic: [ { flows: 1, rate: ${rate}, size: 64, protocol: udp, pattern: poisson } ]
coalescing: { nic: ${nic} }
`;

const pps = (yaml: string) => run(yaml).summary.throughput.pps;

test('cpu fidelity - receive livelock: on a shared vCPU without interrupt moderation, delivered falls to nothing as the offered load rises past capacity', (t) => {
  const light = pps(shared('0.3Mpps', 'none'));
  const heavy = pps(shared('1.5Mpps', 'none'));
  t.log(`no moderation: ${light} pkt/s delivered at 0.3 Mpps, ${heavy} at 1.5 Mpps`);
  t.true(light > 0.29e6, 'below capacity everything is delivered');
  // Each poll empties the ring and completes NAPI; the next frame interrupts at once, and the interrupt and
  // softirq (above every thread) take the vCPU from netback's thread.
  t.true(heavy < 0.1 * light, `${heavy} vs ${light}`);
});

test('cpu fidelity - NAPI with interrupt moderation prevents the collapse: delivered keeps rising past where it collapses without', (t) => {
  const light = pps(shared('0.3Mpps', 'adaptive-itr'));
  const heavy = pps(shared('1.5Mpps', 'adaptive-itr'));
  t.log(`adaptive ITR: ${light} pkt/s at 0.3 Mpps, ${heavy} at 1.5 Mpps`);
  t.true(heavy > 2 * light, `${heavy} vs ${light}`);
});

test("cpu fidelity - under sustained overload the softirq's limits and ksoftirqd keep netback running (about half the vCPU); without that deferral it livelocks whatever the moderation", (t) => {
  for (const nic of ['none', 'adaptive-itr']) {
    const deferred = run(shared('12Mpps', nic)).summary;
    const inline = run(shared('12Mpps', nic, false)).summary;
    t.log(
      `${nic}: with ksoftirqd ${deferred.throughput.pps} pkt/s (NIC ${deferred.cpu['dom0.nic0']}, worker ${deferred.cpu['dom0.worker0']}); without ${inline.throughput.pps} pkt/s`,
    );
    // NAPI never completes: the softirq runs its ten rounds, leaves the rest to ksoftirqd, which CFS then
    // shares with netback's thread.
    const worker = deferred.cpu['dom0.worker0'] ?? 0;
    t.true(worker > 0.45 && worker < 0.6, `worker ${worker}`);
    t.true(deferred.throughput.pps > 0.45e6, `${deferred.throughput.pps}`);
    t.is(inline.throughput.pps, 0);
    t.true((inline.cpu['dom0.nic0'] ?? 0) > 0.999);
    t.true(deferred.accounting.balanced && inline.accounting.balanced);
  }
});

test("cpu fidelity - threading: on one shared vCPU under overload tasklets deliver most; kernel threads lose the CPU to the NIC's softirq, which works on packets the vif's qdisc then drops", (t) => {
  const by = (threading: string) => run(vrss('10Gbps', 'dom0: { vcpus: 1 }'), [`netback.threading=${threading}`]).summary;
  const tasklet = by('tasklet');
  const rt = by('kthread-rt');
  const kthread = by('kthread');
  for (const [name, s] of [
    ['tasklet', tasklet],
    ['kthread-rt', rt],
    ['kthread', kthread],
  ] as const) {
    t.log(`${name}: ${s.throughput.gbps} Gbit/s, NIC ${s.cpu['dom0.nic0']}, drops ${JSON.stringify(s.drops)}`);
  }
  t.true(tasklet.throughput.gbps > 1.05 * kthread.throughput.gbps);
  t.true(tasklet.throughput.gbps > 1.05 * rt.throughput.gbps);
  t.true(rt.throughput.gbps >= kthread.throughput.gbps);
  // Tasklets share one softirq context with the NIC's polls: the excess waits in, and is dropped at, the NIC ring.
  t.true(tasklet.drops['nic-ring-full'] > tasklet.drops['qdisc-overlimit']);
  t.true(kthread.drops['qdisc-overlimit'] > kthread.drops['nic-ring-full']);
  t.true((kthread.cpu['dom0.nic0'] ?? 0) > (tasklet.cpu['dom0.nic0'] ?? 0));
});

test('cpu fidelity - threading: where every variant carries the load, tasklets cost at least 5 % less dom0 CPU per packet than kernel threads (a context switch per pass), and SCHED_FIFO threads no more than normal ones', (t) => {
  const by = (threading: string) => run(vrss('2Gbps', 'dom0: { vcpus: 2 }'), [`netback.threading=${threading}`]).summary;
  const tasklet = by('tasklet');
  const rt = by('kthread-rt');
  const kthread = by('kthread');
  const perPacket = (s: Summary) => (dom0Cpu(s) / s.throughput.pps) * 1e9;
  t.log(`dom0 ns per packet: tasklet ${perPacket(tasklet)}, kthread-rt ${perPacket(rt)}, kthread ${perPacket(kthread)}`);
  t.is(tasklet.throughput.pps, kthread.throughput.pps);
  t.true(perPacket(tasklet) < 0.95 * perPacket(kthread));
  t.true(perPacket(rt) <= perPacket(kthread));
});

test('cpu fidelity - SCHED_FIFO netback threads are not time-sliced: on one vCPU a thread that always has work starves the others', (t) => {
  const s = run(vrss('10Gbps', 'dom0: { vcpus: 1 }'), ['netback.threading=kthread-rt', 'traffic.0.size=512']).summary;
  const workers = [0, 1, 2, 3].map((k) => s.cpu[`dom0.worker${k}`] ?? 0);
  t.log(`workers' CPU: ${workers.join(', ')}`);
  t.is(workers.filter((w) => w > 0.01).length, 1);
});

test("cpu fidelity - a scheduled run is deterministic and its accounting balances, with batches in the driver's hands counted", (t) => {
  const yaml = vrss('10Gbps', 'dom0: { vcpus: 2 }');
  const a = run(yaml, ['netback.threading=tasklet']);
  const b = run(yaml, ['netback.threading=tasklet']);
  t.is(JSON.stringify(a.summary), JSON.stringify(b.summary));
  t.is(JSON.stringify(a.series), JSON.stringify(b.series));
  t.true(a.accounting.balanced, JSON.stringify(a.accounting));
});
