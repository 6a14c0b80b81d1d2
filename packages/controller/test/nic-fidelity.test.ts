// The NIC and its driver behave as ixgbe and NAPI do, end to end (issue 22): no interrupt livelock, moderation as a throttle or a timer.
import test from 'ava';
import type { RunResult } from '@splitnet/results';
import { run } from './helpers.js';

/** One queue, one netback thread, 64-byte frames offered at 12 Mpps: far more than the driver (6.3 Mpps) and the worker (~0.9 Mpps) can take. */
const overload = `
name: overload
duration: 20ms
warmup: 2ms
topology: { vms: { count: 1, queues: 1 }, workers: 1, vrss: single }
traffic: [ { flows: 1, rate: 12Mpps, size: 64, protocol: udp, pattern: constant, srcPort: 40000, phase: 0ms } ]
coalescing: { nic: none }
`;

/**
 * Ring and queue capacities of the overload scenario (defaults): NIC ring 512; in front of the guest ring,
 * netback's guest-RX queue (512 KiB of 60-byte skbs, admitted while below the bound: 8739) and the vif's
 * fq_codel (10240); a copy pass in progress (single-threaded netback: at most a ring's worth); guest ring 256.
 */
const CAPACITY = 512 + (Math.ceil(524_288 / 60) + 10_240) + 256 + 256;

function inFlight(r: RunResult): number {
  const f = r.accounting.inFlight;
  return f.nicRings + f.links + f.workerBacklogs + f.guestRings;
}

test('nic fidelity - 12 Mpps of 64-byte frames without moderation: NAPI keeps polling (no interrupt storm), in flight stays within the rings and backlogs, the excess is dropped nic-ring-full, and as much is delivered as with adaptive ITR', (t) => {
  const none = run(overload);
  const itr = run(overload, ['coalescing.nic=adaptive-itr']);
  const s = none.summary;
  t.log(
    `none: ${s.interrupts.physicalIrqPerSec} irq/s, ${s.throughput.pps} pkt/s, in flight ${inFlight(none)}, drops ${JSON.stringify(s.drops)}; adaptive-itr: ${itr.summary.throughput.pps} pkt/s`,
  );
  t.true(none.accounting.balanced, JSON.stringify(none.accounting));
  // A driver that keeps using its whole budget stays on the poll list: no interrupt until the ring runs dry.
  t.true(s.interrupts.physicalIrqPerSec < 10_000, `${s.interrupts.physicalIrqPerSec} physical interrupts/s`);
  t.true(inFlight(none) <= CAPACITY, `${inFlight(none)} packets in flight: ${JSON.stringify(none.accounting.inFlight)}`);
  t.true(s.drops['nic-ring-full'] > 0.4 * none.accounting.emitted, `nic-ring-full ${s.drops['nic-ring-full']} of ${none.accounting.emitted}`);
  const ratio = s.throughput.pps / itr.summary.throughput.pps;
  t.true(ratio > 0.9 && ratio < 1.1, `delivered ${s.throughput.pps} vs ${itr.summary.throughput.pps} pkt/s with adaptive ITR`);
});

/** One queue receiving a Poisson stream of 1518-byte frames (the behaviour tests' set-up). */
const stream = (rate: string, duration = '20ms') => `
name: moderation
duration: ${duration}
warmup: 2ms
topology: { vms: { count: 1, queues: 1 }, workers: 1, vrss: per-flow }
traffic: [ { flows: 8, rate: ${rate}, size: 1518, pattern: poisson } ]
coalescing: { nic: none }
`;

const THROTTLE = 'coalescing.nic={policy: static, usecs: 50}';
const TIMER = 'coalescing.nic={policy: static, usecs: 50, mode: timer}';
/** Guest and netback work made nearly free, so that a packet's latency is the NIC's moderation delay plus fixed hops. */
const CHEAP_DOWNSTREAM =
  'costs={profile: default, override: {worker: {perPass: 100, perPacket: 10, perByte: 0}, frontend: {perPacket: 10, perByte: 0, refillPerPacket: 10}}}';

test('nic fidelity - a 50 µs static throttle on a 3 Gbit/s Poisson stream: at most 20 k interrupts/s, and the NIC itself delays a frame by about half the gap', (t) => {
  const none = run(stream('3Gbps')).summary;
  const throttle = run(stream('3Gbps'), [THROTTLE]).summary;
  t.log(`throttle: ${throttle.interrupts.physicalIrqPerSec} irq/s, p50 ${throttle.latencyUs.p50} µs vs ${none.latencyUs.p50} µs without moderation`);
  t.true(throttle.interrupts.physicalIrqPerSec <= 20_000, `${throttle.interrupts.physicalIrqPerSec} interrupts/s`);
  t.true(throttle.interrupts.physicalIrqPerSec >= 18_000, 'under this load the throttle, not the traffic, sets the rate');
  t.true(Math.abs(throttle.throughput.gbps - none.throughput.gbps) < 0.02 * none.throughput.gbps, 'the same traffic is delivered');
  // With netback and the guest nearly free, what the throttle adds to the median is its own wait: ~25 µs.
  const isolated = (extra: string[]) => run(stream('3Gbps'), [CHEAP_DOWNSTREAM, ...extra]).summary.latencyUs.p50;
  const added = isolated([THROTTLE]) - isolated([]);
  t.log(`with cheap netback and guest the throttle adds ${added} µs to the p50`);
  t.true(added >= 15 && added <= 35, `${added} µs added`);
});

test('nic fidelity - under load a 50 µs throttle and a 50 µs timer add about the same median delay; the throttle interrupts a little more often', (t) => {
  const throttle = run(stream('3Gbps'), [THROTTLE]).summary;
  const timer = run(stream('3Gbps'), [TIMER]).summary;
  t.log(
    `p50 throttle ${throttle.latencyUs.p50} µs, timer ${timer.latencyUs.p50} µs; irq/s ${throttle.interrupts.physicalIrqPerSec} vs ${timer.interrupts.physicalIrqPerSec}`,
  );
  // The timer waits 50 µs from the first frame of each burst and then another inter-arrival gap before it starts counting again.
  t.true(throttle.latencyUs.p50 < timer.latencyUs.p50);
  t.true(timer.latencyUs.p50 - throttle.latencyUs.p50 < 15);
  t.true(timer.interrupts.physicalIrqPerSec < throttle.interrupts.physicalIrqPerSec);
});

test('nic fidelity - on a queue quieter than the gap the throttle interrupts at each frame (no added delay), while the timer holds every frame usecs', (t) => {
  const light = stream('10Mbps', '50ms');
  const none = run(light).summary.latencyUs.p50;
  const throttle = run(light, [THROTTLE]).summary.latencyUs.p50;
  const timer = run(light, [TIMER]).summary.latencyUs.p50;
  t.log(`p50 at 10 Mbit/s: none ${none}, throttle ${throttle}, timer ${timer} µs`);
  t.true(Math.abs(throttle - none) < 2, `throttle ${throttle} vs ${none} µs`);
  t.true(timer - none >= 45 && timer - none <= 55, `timer ${timer} vs ${none} µs`);
});
