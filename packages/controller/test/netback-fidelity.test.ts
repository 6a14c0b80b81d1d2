// netback as it queues and steers: the byte-bounded guest-RX queue and the vif's qdisc, queue selection, the hash slot, copy passes.
import test from 'ava';
import { buildActors } from '../src/build.js';
import { run, scenario } from './helpers.js';

/** One guest queue behind one netback thread, overloaded by `rate` of `size`-byte frames (the worker binds first). */
const overload = (size: number, rate: string, qdisc = 'pfifo-fast') => `
name: overload
duration: 40ms
warmup: 20ms
topology: { vms: { count: 1, queues: 1 }, workers: 1, vrss: per-flow }
traffic: [ { flows: 4, rate: ${rate}, size: ${size}, pattern: poisson, protocol: udp } ]
netback: { qdisc: ${qdisc} }
`;

test('netback - the guest-RX queue is bounded in bytes, so under overload 64-byte frames queue 25 times deeper and wait 8 times longer than 1518-byte ones', (t) => {
  // One worker copies ~0.93 Mpps of 64-byte frames and ~0.39 Mpps of 1518-byte ones: both are offered more.
  const small = run(overload(64, '2Mpps')).summary;
  const large = run(overload(1518, '600Kpps')).summary;
  t.log(`64 B: backlog max ${small.backlog.max}, p50 ${small.latencyUs.p50} µs; 1518 B: backlog max ${large.backlog.max}, p50 ${large.latencyUs.p50} µs`);
  t.true((small.cpu['dom0.worker0'] ?? 0) > 0.99 && (large.cpu['dom0.worker0'] ?? 0) > 0.99, 'the worker is the bottleneck both times');
  // rx_queue_max (512 KiB) of 60-byte skbs is 8739 packets, of 1514-byte ones 347; pfifo_fast adds at most 32.
  t.true(small.backlog.max > 8739 && small.backlog.max <= 8739 + 32 + 1, `${small.backlog.max}`);
  t.true(large.backlog.max > 347 && large.backlog.max <= 347 + 32 + 1, `${large.backlog.max}`);
  // The time to drain a full queue: 8771 small packets at 0.93 Mpps (9.5 ms), 379 large ones at 0.39 Mpps (1 ms).
  t.true(small.latencyUs.p50 > 8 * large.latencyUs.p50, `${small.latencyUs.p50} vs ${large.latencyUs.p50} µs`);
  // What does not fit is dropped with its reason: netback's refusals and pfifo_fast's tail drops.
  t.true(small.drops['netback-queue-full'] > 0 && small.drops['qdisc-overlimit'] > 0, JSON.stringify(small.drops));
});

test("netback - fq_codel holds up to 10240 packets where pfifo_fast holds the vif's 32: the same overload waits far longer, and fq_codel drops nothing in 40 ms", (t) => {
  const fifo = run(overload(1518, '600Kpps', 'pfifo-fast')).summary;
  const fq = run(overload(1518, '600Kpps', 'fq-codel')).summary;
  t.log(
    `pfifo_fast: backlog max ${fifo.backlog.max}, p50 ${fifo.latencyUs.p50} µs, drops ${JSON.stringify(fifo.drops)}; fq_codel: backlog max ${fq.backlog.max}, p50 ${fq.latencyUs.p50} µs, drops ${JSON.stringify(fq.drops)}`,
  );
  t.true(fq.backlog.max > 5000 && fq.backlog.max <= 347 + 10240 + 1, `${fq.backlog.max}`);
  t.true(fq.latencyUs.p50 > 5 * fifo.latencyUs.p50, `${fq.latencyUs.p50} vs ${fifo.latencyUs.p50} µs`);
  t.true(fifo.drops['qdisc-overlimit'] > 0);
  t.is(fq.drops['qdisc-overlimit'] + fq.drops['qdisc-congested'], 0);
  // Same work done either way: the worker's rate bounds what is delivered.
  t.true(Math.abs(fq.throughput.pps - fifo.throughput.pps) < 0.02 * fifo.throughput.pps);
});

/** 64 TCP flows to one 4-queue VM over 4 NIC queues, 4 workers; `steering` picks the VIF queue. */
const steering = (how: string, nicQueues = 4) =>
  `topology: { nicQueues: ${nicQueues}, vms: { count: 1, queues: 4 }, workers: 4, vrss: per-flow, steering: ${how} }\ntraffic: [ { flows: 64, rate: 1Gbps } ]\n`;

function queues(yaml: string, overrides: readonly string[] = []): { nic: number[]; guest: number[] } {
  const g = buildActors(scenario(yaml, overrides)).steering;
  return { nic: Array.from(g.flowNicQueue), guest: Array.from(g.flowGq) };
}

test("netback - Linux's default steering follows the RX queue the NIC driver recorded: one NIC queue puts every flow on guest queue 0", (t) => {
  t.deepEqual(new Set(queues(steering('rx-queue', 1)).guest), new Set([0]));
  // With as many NIC queues as guest queues, each flow's guest queue is its NIC queue (skb_tx_hash: rx queue mod 4).
  const four = queues(steering('rx-queue'));
  t.deepEqual(four.guest, four.nic);
  t.is(new Set(four.guest).size, 4);
  // With two NIC queues the recorded queue is taken modulo nothing: guest queues 2 and 3 stay idle.
  t.deepEqual(new Set(queues(steering('rx-queue', 2)).guest), new Set([0, 1]));
});

test("netback - flow-hash and Toeplitz steering do not reuse the NIC's hash bits: guest queues spread independently of the NIC queue", (t) => {
  for (const how of ['flow-hash', 'toeplitz']) {
    const q = queues(steering(how));
    const same = q.guest.filter((g, f) => g === q.nic[f]).length / q.guest.length;
    t.log(`${how}: ${(same * 100).toFixed(0)} % of flows on the guest queue numbered like their NIC queue`);
    t.is(new Set(q.guest).size, 4, `${how} reaches every queue`);
    t.true(same < 0.5, `${how}: ${same}`);
  }
  // The seed is the boot: another one draws another flow-hash seed and another Toeplitz key.
  for (const how of ['flow-hash', 'toeplitz']) {
    t.notDeepEqual(queues(steering(how), ['traffic.0.srcPort=40000']).guest, queues(steering(how), ['traffic.0.srcPort=40000', 'seed=2']).guest, how);
  }
});

test('netback - Toeplitz steering hashes TCP on addresses and ports but UDP on addresses only (netback offers no UDP hash type)', (t) => {
  const ports = (protocol: string, srcPort: string) => queues(steering('toeplitz'), [`traffic.0.protocol=${protocol}`, `traffic.0.srcPort=${srcPort}`]).guest;
  t.notDeepEqual(ports('tcp', '40000'), ports('tcp', '50000'));
  t.deepEqual(ports('udp', '40000'), ports('udp', '50000'));
  // flow-hash (the stack's flow dissector) takes UDP ports too.
  const fh = (srcPort: string) => queues(steering('flow-hash'), ['traffic.0.protocol=udp', `traffic.0.srcPort=${srcPort}`]).guest;
  t.notDeepEqual(fh('40000'), fh('50000'));
});

/** One queue whose guest stops polling: its ring fills with responses, as many as the ring's slots allow. */
const stopped = (extra: string) => `
name: stopped
duration: 6ms
warmup: 1ms
sampleInterval: 100us
topology: { vms: { count: 1, queues: 1 }, workers: 1, vrss: per-flow, ${extra} }
traffic: [ { flows: 4, rate: 2Gbps, size: 1518, pattern: poisson } ]
coalescing: { nic: none }
faults: [ { at: 2ms, target: vm:0, action: stop-polling } ]
`;

test("netback - with the hash in an extra slot (Toeplitz steering) each packet takes two ring slots: a stopped guest's 256-slot ring fills at 128 packets", (t) => {
  const withSlot = run(stopped('steering: toeplitz')).summary;
  const without = run(stopped('steering: toeplitz, toeplitz: { hashSlot: false }')).summary;
  const flowHash = run(stopped('steering: flow-hash')).summary;
  t.is(withSlot.ring.maxOccupancy, 128);
  t.is(without.ring.maxOccupancy, 256);
  t.is(flowHash.ring.maxOccupancy, 256);
});

test("netback - the cost of Toeplitz steering: netback hashes every packet on the NIC's core, and the guest re-posts the extra slot's buffer", (t) => {
  const load = (extra: string) =>
    run(
      `name: cost\nduration: 10ms\ntopology: { vms: { count: 1, queues: 2 }, workers: 2, vrss: per-flow, ${extra} }\ntraffic: [ { flows: 8, rate: 3Gbps, pattern: poisson } ]\n`,
    ).summary;
  const flow = load('steering: flow-hash');
  const plain = load('steering: toeplitz, toeplitz: { hashSlot: false }');
  const slot = load('steering: toeplitz');
  const vcpus = (s: typeof flow) => (s.cpu['vm0.vcpu0'] ?? 0) + (s.cpu['vm0.vcpu1'] ?? 0);
  const nic = (s: typeof flow) => s.cpu['dom0.nic0'] ?? 0;
  t.log(`dom0.nic0: flow-hash ${nic(flow)}, toeplitz ${nic(plain)}; guest vCPUs: no slot ${vcpus(plain)}, slot ${vcpus(slot)}`);
  // The default profile: backend.toeplitz 100 ns per packet; re-posting a buffer (refillPerPacket) 100 ns per slot.
  const perPacket100ns = plain.throughput.pps * 100e-9;
  t.true(Math.abs(nic(plain) - nic(flow) - perPacket100ns) < 0.2 * perPacket100ns, `${nic(plain) - nic(flow)} vs ${perPacket100ns}`);
  t.true(Math.abs(vcpus(slot) - vcpus(plain) - perPacket100ns) < 0.2 * perPacket100ns, `${vcpus(slot) - vcpus(plain)} vs ${perPacket100ns}`);
  t.true(Math.abs(slot.throughput.pps - plain.throughput.pps) < 0.01 * plain.throughput.pps, 'the same packets delivered');
});

test("netback - jumbo frames take three ring slots each: a stopped guest's 256-slot ring fills at 85 of them", (t) => {
  const s = run(stopped('steering: flow-hash'), ['traffic.0.size=9018']).summary;
  t.is(s.ring.maxOccupancy, 85);
  t.true(s.accounting.balanced);
});

test('netback - a per-queue pass flushes its grant copies every 64 ops: full passes of jumbo frames (5 ops each) push five times, of 1518-byte frames once', (t) => {
  const pushesPerPacket = (size: number) => {
    const s = run(overload(size, '20Gbps', 'pfifo-fast'), ['topology.link=40Gbps']).summary;
    const n = s.notifications;
    t.true((s.cpu['dom0.worker0'] ?? 0) > 0.99, 'full passes: the worker is saturated');
    return (n.sentPerSec + n.suppressedPerSec) / s.throughput.pps;
  };
  const jumbo = pushesPerPacket(9018);
  const full = pushesPerPacket(1518);
  t.log(`pushes per packet: 9018 B ${jumbo}, 1518 B ${full}`);
  // 64 packets × 5 ops = 320 ops: flushes before ops 65, 129, 193, 257, and the last: 5 per 64 packets.
  t.true(Math.abs(jumbo - 5 / 64) < 0.1 * (5 / 64), `${jumbo}`);
  t.true(Math.abs(full - 1 / 64) < 0.1 * (1 / 64), `${full}`);
});

/** Four VMs with one queue each behind netback threads, offered line rate: `vrss` picks the netback generation. */
const modes = (vrss: string, workers: number) => `
name: modes
duration: 20ms
warmup: 5ms
sampleInterval: 50us
topology: { vms: { count: 1, queues: 1 }, workers: ${workers}, vrss: ${vrss} }
traffic: [ { flows: 8, rate: 10Gbps, size: 1518 } ]
netback: { qdisc: pfifo-fast }
`;

test("netback - a legacy netback pass takes up to a ring's worth (239 packets), a per-queue pass 64: the single thread publishes far larger bursts", (t) => {
  const single = run(modes('single', 1)).summary;
  const perQueue = run(modes('per-flow', 1)).summary;
  t.log(
    `ring occupancy max: single ${single.ring.maxOccupancy}, per-flow ${perQueue.ring.maxOccupancy}; virq/s ${single.interrupts.virqPerSec} vs ${perQueue.interrupts.virqPerSec}`,
  );
  t.true(single.ring.maxOccupancy > 64 && single.ring.maxOccupancy <= 239, `${single.ring.maxOccupancy}`);
  t.true(perQueue.ring.maxOccupancy <= 64, `${perQueue.ring.maxOccupancy}`);
  // Fewer, larger pushes: fewer virtual interrupts for the same packets.
  t.true(single.interrupts.virqPerSec < perQueue.interrupts.virqPerSec, `${single.interrupts.virqPerSec} vs ${perQueue.interrupts.virqPerSec}`);
});

test('netback - the same scenario and seed give the same run with the seeded Toeplitz key, the flow hash and fq_codel', (t) => {
  for (const how of ['toeplitz', 'flow-hash']) {
    const yaml = `${overload(1518, '600Kpps', 'fq-codel')}`.replace('vrss: per-flow }', `vrss: per-flow, steering: ${how} }`);
    const a = run(yaml, ['topology.vms.queues=2', 'topology.workers=2']);
    const b = run(yaml, ['topology.vms.queues=2', 'topology.workers=2']);
    t.is(JSON.stringify(a.summary), JSON.stringify(b.summary), how);
    t.true(a.accounting.balanced, how);
  }
});
