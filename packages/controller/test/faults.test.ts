// Fault injection in sim: each action's specific consequence, the accounting invariant under every fault, determinism.
import test from 'ava';
import { compileScenarioText } from '@splitnet/scenario';
import type { FaultsSummary } from '@splitnet/results';
import { buildActors } from '../src/build.js';
import { runSim } from '../src/run-sim.js';
import type { RunResult } from '@splitnet/results';
import { PAPER_VRSS_NIC_KEY } from './helpers.js';

/**
 * One VM with two queues on two workers, 4 Gbit/s of 1518-byte frames, NIC moderation off. Flows reach
 * both queues by the paper's vRSS (Toeplitz in netback, under the NIC's key: the flows the tests pick by
 * queue), not by Linux's default recorded-RX-queue choice, which with one NIC queue would use queue 0 only.
 */
const base = (faults: string, extra = '') => `
name: faults
duration: 20ms
warmup: 2ms
sampleInterval: 500us
topology: { vms: { count: 1, queues: 2 }, workers: 2, vrss: per-flow, ${PAPER_VRSS_NIC_KEY} }
traffic: [ { flows: 8, rate: 4Gbps, size: 1518, pattern: poisson } ]
coalescing: { nic: none }
${extra}
faults:
${faults}
`;

function runYaml(yaml: string, overrides: readonly string[] = []): RunResult {
  return runSim(compileScenarioText(yaml, '<test>', { overrides }));
}

/** The same run with a fault that changes nothing (factor 1), to compare against. */
function withoutFault(overrides: readonly string[] = []): RunResult {
  return runYaml(base('  - { at: 1ms, target: worker:0, action: slow-worker, factor: 1 }'), overrides);
}

function faultsOf(r: RunResult): FaultsSummary {
  const f = r.summary.faults;
  if (!f) throw new Error('no faults section');
  return f;
}

/** Every run here must keep the accounting invariant. */
function balanced(t: { true: (v: boolean, m?: string) => void }, r: RunResult): void {
  t.true(r.accounting.balanced, `unaccounted ${r.accounting.unaccounted}: ${JSON.stringify(r.accounting)}`);
}

test("faults - a lost notification with the default policy stalls the queue until netback's stall timer kicks it", (t) => {
  const r = runYaml(base('  - { at: 8ms, duration: 2ms, target: vm:0:queue:1, action: lose-notifications }'));
  balanced(t, r);
  const f = faultsOf(r);
  t.true(f.notifications.lost >= 1);
  const stall = f.stalls.find((s) => s.queue === 'vm0:q1' && s.cause === 'lost-notification');
  t.truthy(stall, JSON.stringify(f.stalls));
  t.is(stall?.detectedBy, 'netback-rx-stall-timer');
  t.is(stall?.endedBy, 'netback-stall-kick');
  // Nothing else rescues it: the stall lasts at least the stall timeout (2 ms) after the ring filled.
  t.true((stall?.durationMs ?? 0) >= 2, JSON.stringify(stall));
  t.true(f.notifications.stallKicks >= 1);
  t.is(f.timeline.length, 1);
  t.is(r.events.filter((e) => e.kind === 'fault-start').length, 1);
  t.is(r.events.filter((e) => e.kind === 'fault-end').length, 1);
  t.deepEqual(r.events.find((e) => e.kind === 'fault-start')?.detail, { id: 'f0', action: 'lose-notifications', target: 'vm:0:queue:1', probability: 1 });
});

test("faults - without the stall kick (Xen's own behaviour) the queue stays stalled: netback's queue and then pfifo_fast fill, and the rest is dropped", (t) => {
  const r = runYaml(
    base('  - { at: 8ms, duration: 2ms, target: vm:0:queue:1, action: lose-notifications }', 'netback: { stallKick: false, qdisc: pfifo-fast }'),
  );
  balanced(t, r);
  const f = faultsOf(r);
  const stall = f.stalls.find((s) => s.queue === 'vm0:q1');
  t.is(stall?.detectedBy, 'netback-rx-stall-timer');
  t.is(stall?.endedBy, 'not ended');
  // The queue stopped once netback held rx_queue_max bytes (one refusal per wake), then pfifo_fast's 32 filled.
  t.true(f.dropped['netback-queue-full'] >= 1 && f.dropped['qdisc-overlimit'] > 0, JSON.stringify(f.dropped));
  t.is(f.recovery[0]?.recoveryMs, 'not recovered');
});

test('faults - with front-end coalescing the guest timer poll ends a lost-notification stall within the timer period', (t) => {
  // Notify after 4 responses, poll from a 200 µs guest timer: the timer is pending when a notification is lost.
  const r = runYaml(base('  - { at: 8ms, duration: 2ms, target: vm:0:queue:1, action: lose-notifications }'), [
    'traffic.0.rate=2Gbps',
    'coalescing.frontend={policy: static, usecs: 200, frames: 4}',
  ]);
  balanced(t, r);
  const stalls = faultsOf(r).stalls.filter((s) => s.cause === 'lost-notification');
  t.true(stalls.length >= 1);
  t.true(
    stalls.every((s) => s.endedBy === 'timer-poll' && s.detectedBy === null && (s.durationMs ?? 1) <= 0.25),
    JSON.stringify(stalls),
  );
});

test('faults - notifications lost with a probability: each loss on an idle queue is a stall, and every stall ends', (t) => {
  const r = runYaml(base('  - { at: 4ms, duration: 10ms, target: vm:0, action: lose-notifications, probability: 0.3 }'), ['traffic.0.rate=9Gbps']);
  balanced(t, r);
  const f = faultsOf(r);
  const n = f.notifications;
  const stalls = f.stalls.filter((s) => s.cause === 'lost-notification');
  t.true(n.lost > 0);
  t.true(stalls.length >= 1 && stalls.length + n.absorbedByFinalCheck <= n.lost, JSON.stringify({ n, stalls: stalls.length }));
  t.true(
    stalls.every((s) => s.endedBy !== 'not ended'),
    JSON.stringify(stalls),
  );
});

test('faults - delayed notifications raise latency by about the delay', (t) => {
  const clean = withoutFault();
  const r = runYaml(base('  - { at: 2ms, target: vm:0, action: delay-notifications, delay: 200us }'));
  balanced(t, r);
  t.true(faultsOf(r).notifications.delayed > 0);
  // Packets that arrive while a notification is held back wait less than the whole delay.
  const added = r.summary.latencyUs.p50 - clean.summary.latencyUs.p50;
  t.true(added >= 50 && added <= 220, `${r.summary.latencyUs.p50} vs ${clean.summary.latencyUs.p50}`);
});

test("faults - a front end that stops polling fills its ring, netback's queue and the qdisc; the drops are netback's and the qdisc's, and the stall ends at resume", (t) => {
  // The queue must receive more than its ring (256 slots), netback's 512 KiB (347 frames) and pfifo_fast (32)
  // hold in the 4 ms: seed 4 steers 7 of the 8 flows (3.5 Gbit/s, 1138 frames in 4 ms) to queue 1. An even
  // share (2 Gbit/s, 650 frames) would nearly fit.
  const yaml = base('  - { at: 8ms, duration: 4ms, target: vm:0:queue:1, action: stop-polling }', 'netback: { qdisc: pfifo-fast }');
  const flowGq = buildActors(compileScenarioText(yaml, '<test>', { seed: 4 })).steering.flowGq;
  t.is(flowGq.filter((gq) => gq === 1).length, 7);
  const r = runYaml(yaml, ['seed=4']);
  balanced(t, r);
  const f = faultsOf(r);
  t.true(f.dropped['netback-queue-full'] > 0 && f.dropped['qdisc-overlimit'] > 0, JSON.stringify(f.dropped));
  t.is(f.dropped['nic-ring-full'], 0);
  // The guest, not netback's CPU, was behind: queue 1's worker had time to spare.
  t.true((r.summary.cpu['dom0.worker1'] ?? 1) < 0.9, JSON.stringify(r.summary.cpu));
  const stall = f.stalls.find((s) => s.cause === 'stopped-polling');
  t.is(stall?.endedBy, 'resume');
  t.is(stall?.endMs, 12);
  t.is(stall?.detectedBy, 'netback-rx-stall-timer');
  t.not(f.recovery[0]?.recoveryMs, 'not recovered');
});

test("faults - a slow worker falls behind: its core saturates for the fault's duration (busier than without it) and its netback queue and qdisc overflow (netback-queue-full, qdisc-overlimit)", (t) => {
  // 6 Gbit/s leaves the workers headroom without the fault (at 8 Gbit/s, with the NIC's NAPI polling, they are near 99 %).
  // pfifo_fast (32 packets), so that the overflow shows within the 8 ms: fq_codel would hold 10240 packets.
  const clean = withoutFault(['traffic.0.rate=6Gbps', 'netback.qdisc=pfifo-fast']);
  const r = runYaml(base('  - { at: 6ms, duration: 8ms, target: worker:0, action: slow-worker, factor: 8 }', 'netback: { qdisc: pfifo-fast }'), [
    'traffic.0.rate=6Gbps',
  ]);
  balanced(t, r);
  const f = faultsOf(r);
  t.true(f.dropped['netback-queue-full'] > 0 && f.dropped['qdisc-overlimit'] > 0, JSON.stringify(f.dropped));
  // Its guest ring never ran dry of buffers: no ring-full stall was behind the drops.
  t.false(
    f.stalls.some((s) => s.queue === 'vm0:q0'),
    JSON.stringify(f.stalls),
  );
  t.true(r.events.some((e) => e.kind === 'worker-slowed'));
  // Per sample interval (500 µs) inside the fault, worker 0's core: saturated with the fault, not without it.
  const during = (x: RunResult) =>
    x.samples.filter((s) => (s['tMs'] as number) > 6.5 && (s['tMs'] as number) <= 14).map((s) => (s['cpu'] as Record<string, number>)['dom0.worker0'] ?? 0);
  t.true(during(r).length === 15 && during(r).every((u) => u > 0.99), JSON.stringify(during(r)));
  t.true(
    during(clean).every((u) => u < 0.97),
    JSON.stringify(during(clean)),
  );
  t.true((r.summary.cpu['dom0.worker0'] ?? 0) > (clean.summary.cpu['dom0.worker0'] ?? 1), 'busier over the whole run too');
});

test('faults - a worker restarted in the middle of a slow-worker fault is slow again when it comes back, until the fault ends', (t) => {
  const r = runYaml(
    base(`  - { at: 6ms, duration: 8ms, target: worker:0, action: slow-worker, factor: 8 }
  - { at: 8ms, target: worker:0, action: kill, restartAfter: 1ms }`),
  );
  balanced(t, r);
  const w0 = r.events.filter((e) => e.actor === 'worker.0').map((e) => [e.kind, e.t / 1e6]);
  t.deepEqual(
    w0.filter(([k]) => ['worker-slowed', 'worker-restored', 'actor-died', 'actor-restart', 'fault-reapplied'].includes(k as string)),
    [
      ['worker-slowed', 6],
      ['actor-died', 8],
      ['actor-restart', 9],
      ['fault-reapplied', 9],
      ['worker-slowed', 9],
      ['worker-restored', 14],
    ],
  );
});

test('faults - a killed guest reconnects with new rings when restarted: its deliveries before the crash count, the other VM is untouched, rates never go negative', (t) => {
  const yaml = base('  - { at: 8ms, target: vm:0, action: kill, restartAfter: 2ms }').replace('vms: { count: 1, queues: 2 }', 'vms: { count: 2, queues: 2 }');
  const clean = runYaml(
    base('  - { at: 1ms, target: worker:0, action: slow-worker, factor: 1 }').replace('vms: { count: 1, queues: 2 }', 'vms: { count: 2, queues: 2 }'),
  );
  const r = runYaml(yaml);
  balanced(t, r);
  const f = faultsOf(r);
  t.is(f.restarts, 1);
  t.true(f.dropped['lost-in-crash'] > 0, JSON.stringify(f.dropped));
  const kinds = r.events.map((e) => `${e.actor} ${e.kind}`);
  for (const k of ['vm.0 actor-died', 'vm.0 actor-restart', 'vm.0 netfront-reconnect', 'worker.0 vif-reconnected', 'vm.0 netfront-connected'])
    t.true(kinds.includes(k), k);
  t.true(
    r.samples.every((x) => (x['pps'] as number) >= 0),
    'no negative rate',
  );
  // VM 0 lost about 2 ms of 18 measured, plus what it held; VM 1 delivered as without the fault.
  const [vm0, vm1] = r.summary.throughput.perVm;
  const [c0, c1] = clean.summary.throughput.perVm;
  t.true((vm0?.pps ?? 0) > 0.75 * (c0?.pps ?? 0) && (vm0?.pps ?? 0) < (c0?.pps ?? 0), `${vm0?.pps} vs ${c0?.pps}`);
  t.true(Math.abs((vm1?.pps ?? 0) - (c1?.pps ?? 0)) < 0.02 * (c1?.pps ?? 1), `${vm1?.pps} vs ${c1?.pps}`);
  // The dead incarnation's latency samples count (the histogram is the guests' and their ghosts').
  const lat = (x: RunResult) => x.summary.latencyUs.count;
  t.true(lat(r) > 0.8 * lat(clean), `${lat(r)} vs ${lat(clean)}`);
  // Deterministic like any sim run.
  t.deepEqual(runYaml(yaml).summary, r.summary);
});

test('faults - the driver domain killed in sim: NIC and back end die together, the NIC resumes the wire where it is, every frame is accounted', (t) => {
  const clean = withoutFault();
  const yaml = base(`  - { at: 6ms, target: nic, action: kill, restartAfter: 2ms }
  - { at: 12.01ms, target: backend, action: crash-loop, restartAfter: 500us, repeat: { every: 2ms, count: 2 } }`);
  const r = runYaml(yaml);
  balanced(t, r);
  // The wire does not depend on the NIC: the same frames are emitted as without the faults.
  t.is(r.accounting.emitted, clean.accounting.emitted);
  const died = r.events.filter((e) => e.kind === 'actor-died').map((e) => [e.actor, e.t / 1e6]);
  t.deepEqual(died, [
    ['nic', 6],
    ['backend', 6],
    ['nic', 12.01],
    ['backend', 12.01],
    ['nic', 14.01],
    ['backend', 14.01],
  ]);
  t.is(r.events.filter((e) => e.kind === 'nic-resumed').length, 3);
  // 2 ms down at ~320 k frames/s: about 640 frames arrived at a dead NIC, plus what it and its links held.
  const lost = faultsOf(r).dropped['lost-in-crash'];
  t.true(lost > 600 && lost < 1200, `lost-in-crash ${lost}`);
  t.true(
    r.samples.every((x) => (x['pps'] as number) >= 0 && (x['offeredGbps'] as number) >= 0),
    'no negative rate',
  );
  t.true((r.samples.at(-1)?.['gbps'] as number) > 3, 'traffic flows again');
  t.is(r.summary.flowOrder.reordered, 0);
  t.deepEqual(runYaml(yaml).summary, r.summary, 'deterministic');
});

test("faults - a NIC killed during a link flap comes back with its link down (sim as live), up at the flap's end", (t) => {
  const r = runYaml(
    base(`  - { at: 6ms, duration: 8ms, target: nic, action: link-flap }
  - { at: 8ms, target: nic, action: kill, restartAfter: 1ms }`),
  );
  balanced(t, r);
  const nic = r.events.filter((e) => e.actor === 'nic').map((e) => [e.kind, e.t / 1e6]);
  t.deepEqual(
    nic.filter(([k]) => k !== 'nic-resumed'),
    [
      ['nic-link-down', 6],
      ['actor-died', 8],
      ['actor-restart', 9],
      ['fault-reapplied', 9],
      ['nic-link-down', 9],
      ['nic-link-up', 14],
    ],
  );
  // Nothing reached the guests while the link was down after the restart (the samples after the in-flight ones drained).
  const down = r.samples.filter((x) => (x['tMs'] as number) > 9.5 && (x['tMs'] as number) <= 14);
  t.true(down.length > 0 && down.every((x) => x['pps'] === 0), JSON.stringify(down.map((x) => x['pps'])));
  t.true(faultsOf(r).dropped['link-down'] > 0);
});

test('faults - a ring-full storm overflows the guest ring and what is behind it (counted drops) and is counted as emitted', (t) => {
  const clean = withoutFault();
  const r = runYaml(base('  - { at: 10ms, target: vm:0:queue:1, action: ring-full-storm, packets: 2000 }'));
  balanced(t, r);
  const f = faultsOf(r);
  t.is(r.accounting.emitted, clean.accounting.emitted + 2000);
  t.true(f.dropped['netback-queue-full'] + f.dropped['qdisc-overlimit'] + f.dropped['nic-ring-full'] > 0, JSON.stringify(f.dropped));
  t.is(r.summary.flowOrder.reordered, 0);
});

test('faults - a NIC link flap loses the frames that arrive while it is down (link-down) and throughput comes back', (t) => {
  const r = runYaml(base('  - { at: 8ms, duration: 2ms, target: nic, action: link-flap }'));
  balanced(t, r);
  const f = faultsOf(r);
  // 4 Gbit/s of 1538 wire bytes is ~325 k frames/s: ~650 in 2 ms.
  t.true(f.dropped['link-down'] > 500 && f.dropped['link-down'] < 800, String(f.dropped['link-down']));
  const rec = f.recovery[0];
  t.true(typeof rec?.recoveryMs === 'number' && (rec.minGbps ?? 1) < 0.5, JSON.stringify(rec));
});

test('faults - a corrupted req_prod is detected by netback, which disables the queue until the guest reconnects', (t) => {
  const r = runYaml(base('  - { at: 8ms, duration: 2ms, target: vm:0:queue:1, action: corrupt-ring-index }'));
  balanced(t, r);
  const f = faultsOf(r);
  t.is(f.ringErrors.length, 1);
  t.regex(String(f.ringErrors[0]?.['detail']), /more than a ring \(256\) ahead of req_cons/);
  t.true(f.dropped['vif-disabled'] > 0);
  const stall = f.stalls.find((s) => s.cause === 'ring-corrupt');
  t.is(stall?.detectedBy, 'netback-ring-check');
  t.is(stall?.endedBy, 'reconnect');
  t.not(f.recovery[0]?.recoveryMs, 'not recovered');
});

test('faults - a killed worker loses what it held (lost-in-crash), is restarted by the supervisor, and traffic recovers', (t) => {
  const r = runYaml(base('  - { at: 8ms, target: worker:1, action: kill, restartAfter: 1ms }'));
  balanced(t, r);
  const f = faultsOf(r);
  t.true(f.dropped['lost-in-crash'] > 0);
  t.is(f.restarts, 1);
  const stall = f.stalls.find((s) => s.cause === 'worker-killed');
  t.is(stall?.endedBy, 'supervisor-restart');
  t.is(stall?.durationMs, 1);
  t.not(f.recovery[0]?.recoveryMs, 'not recovered');
  // The restarted worker served its queue again: the guest kept receiving on both queues at the end.
  t.true((r.samples.at(-1)?.['gbps'] as number) > 3);
});

test('faults - restart: the worker dies and is back at once; it loses only what it held, every other packet is delivered as without the fault', (t) => {
  const clean = withoutFault();
  const r = runYaml(base('  - { at: 8ms, target: worker:0, action: restart }'));
  balanced(t, r);
  const f = faultsOf(r);
  t.is(f.restarts, 1);
  t.is(f.stalls.find((s) => s.cause === 'worker-killed')?.durationMs, 0);
  t.deepEqual(
    r.events.filter((e) => e.actor === 'worker.0').map((e) => e.kind),
    ['actor-died', 'actor-restart'],
  );
  // At 8 ms worker 0 holds a packet in its backlog: that one is lost, and nothing else.
  const lost = r.summary.drops['lost-in-crash'];
  t.true(lost > 0, 'the worker held a packet when it died');
  t.is(r.summary.drops.total, lost);
  t.is(r.accounting.emitted, clean.accounting.emitted);
  t.is(clean.accounting.delivered - r.accounting.delivered, lost);
});

test('faults - a crash loop kills the worker every interval; each kill is restarted', (t) => {
  const r = runYaml(base('  - { at: 5ms, target: worker:0, action: crash-loop, restartAfter: 500us, repeat: { every: 3ms, count: 3 } }'));
  balanced(t, r);
  const f = faultsOf(r);
  t.is(f.restarts, 3);
  t.deepEqual(
    f.timeline.map((x) => x['id']),
    ['f0#1', 'f0#2', 'f0#3'],
  );
});

test("faults - a paused worker does no work while paused (its core and its queue's vCPU idle), then catches up (its core saturated, the guest receiving faster than offered) without losing a packet", (t) => {
  const r = runYaml(base('  - { at: 8ms, duration: 1ms, target: worker:0, action: pause }'), ['sampleInterval=100us']);
  balanced(t, r);
  const f = faultsOf(r);
  t.is(f.dropped.total, 0);
  const cpu = (s: Record<string, unknown>) => s['cpu'] as Record<string, number>;
  // The samples of (8.1, 9] ms: the first 100 µs may still hold work the worker had started before the pause.
  const paused = r.samples.filter((s) => (s['tMs'] as number) > 8.15 && (s['tMs'] as number) <= 9.0001);
  t.is(paused.length, 9);
  t.true(
    paused.every((s) => cpu(s)['dom0.worker0'] === 0 && cpu(s)['vm0.vcpu0'] === 0),
    JSON.stringify(paused.map(cpu)),
  );
  t.true(
    paused.every((s) => (cpu(s)['dom0.worker1'] ?? 0) > 0),
    'the other worker goes on',
  );
  // Resumed, it works through its backlog at once (saturated), and the guest receives faster than offered.
  const after = r.samples.filter((s) => (s['tMs'] as number) > 9.0001 && (s['tMs'] as number) <= 10.0001);
  t.true((cpu(after[0] ?? {})['dom0.worker0'] ?? 0) > 0.99, JSON.stringify(after[0]));
  const sum = (k: string) => after.reduce((n, s) => n + (s[k] as number), 0);
  t.true(sum('gbps') > 1.2 * sum('offeredGbps'), `${sum('gbps')} Gbit/s delivered vs ${sum('offeredGbps')} offered, summed over ${after.length} samples`);
  t.true((f.recovery[0]?.minGbps ?? 9) < 3.5, JSON.stringify(f.recovery));
});

test('faults - dropped rx messages count their packets as link-drop, exactly', (t) => {
  const r = runYaml(base('  - { at: 4ms, duration: 8ms, target: "link:backend>worker:*", action: drop-messages, probability: 0.1, kinds: [rx] }'));
  balanced(t, r);
  const f = faultsOf(r);
  t.true(f.dropped['link-drop'] > 0);
  t.is(f.dropped['link-drop'], f.messages['f0']?.packets ?? -1);
});

test('faults - lost ring writes (req) stall a queue that netback then detects and kicks', (t) => {
  const r = runYaml(base('  - { at: 8ms, duration: 3ms, target: "link:vm:0>worker:1", action: drop-messages, kinds: [req] }'));
  balanced(t, r);
  const f = faultsOf(r);
  t.true((f.messages['f0']?.messages ?? 0) > 0);
  t.true(
    f.stalls.some((s) => s.detectedBy === 'netback-rx-stall-timer'),
    JSON.stringify(f.stalls),
  );
});

test('faults - delayed messages keep each link in order; reordered rx batches show up as flow reordering', (t) => {
  const delayed = runYaml(base('  - { at: 4ms, duration: 8ms, target: "link:backend>worker:*", action: delay-messages, probability: 0.5, delay: 30us }'));
  balanced(t, delayed);
  t.true((faultsOf(delayed).messages['f0']?.messages ?? 0) > 0);
  t.is(delayed.summary.flowOrder.reordered, 0);
  const reordered = runYaml(
    base('  - { at: 4ms, duration: 8ms, target: "link:backend>worker:*", action: reorder-messages, probability: 0.5, delay: 30us, kinds: [rx] }'),
  );
  balanced(t, reordered);
  t.true(reordered.summary.flowOrder.reordered > 0);
});

test('faults - duplicated notifications carry no packets: every packet is delivered once, as without the fault, none dropped or reordered', (t) => {
  const clean = withoutFault();
  const r = runYaml(base('  - { at: 4ms, duration: 8ms, target: "link:worker:*>vm:0", action: duplicate-messages, kinds: [evt] }'));
  balanced(t, r);
  t.true((faultsOf(r).messages['f0']?.messages ?? 0) > 0);
  t.is(r.summary.drops.total, 0);
  t.is(r.summary.flowOrder.reordered, 0);
  t.is(r.accounting.emitted, clean.accounting.emitted);
  t.is(r.accounting.delivered, clean.accounting.delivered);
});

// In sim a duplicate is delivered at the same instant as its original, while the port is still pending: in Xen
// (evtchn_2l_set_pending) it merges into the upcall already owed and changes nothing. Known divergence (see
// frontend-actor.test.ts): the model raises a virtual interrupt per duplicate (+23 % here). `failing` until fixed.
test('faults - duplicated notifications sent with their originals merge into the pending upcall: the virtual interrupts are those of the run without the fault', (t) => {
  const clean = withoutFault();
  const r = runYaml(base('  - { at: 4ms, duration: 8ms, target: "link:worker:*>vm:0", action: duplicate-messages, kinds: [evt] }'));
  t.true((faultsOf(r).messages['f0']?.messages ?? 0) > 0);
  t.deepEqual(r.summary.interrupts, clean.summary.interrupts);
});

test('faults - a partitioned actor loses every message to and from it (link-drop), and the datapath recovers', (t) => {
  const r = runYaml(
    base(`  - { at: 8ms, duration: 2ms, target: worker:1, action: partition }
  - { at: 13ms, duration: 2ms, target: vm:0, action: partition }`),
  );
  balanced(t, r);
  const f = faultsOf(r);
  t.true(f.dropped['link-drop'] > 0);
  t.is(f.dropped['link-drop'], (f.messages['f0']?.packets ?? 0) + (f.messages['f1']?.packets ?? 0));
  t.true(
    f.recovery.every((x) => typeof x.recoveryMs === 'number'),
    JSON.stringify(f.recovery),
  );
});

test('faults - the same seed gives the same timeline and counts; another seed draws differently', (t) => {
  const yaml = base(`  - { at: 4ms, duration: 3ms, target: vm:0, action: lose-notifications, probability: 0.2 }
  - { after: 1ms, duration: 4ms, target: "link:backend>worker:*", action: drop-messages, probability: 0.05, kinds: [rx], repeat: { every: 6ms, count: 2 } }`);
  const a = runYaml(yaml);
  const b = runYaml(yaml);
  balanced(t, a);
  t.deepEqual(a.summary, b.summary);
  t.deepEqual(a.events, b.events);
  const c = runYaml(yaml, ['seed=2']);
  t.notDeepEqual(faultsOf(a).messages, faultsOf(c).messages);
});

test('faults - a fault-free scenario has no faults section and keeps its drop reasons', (t) => {
  const r = runSim(compileScenarioText('duration: 5ms', '<test>'));
  t.is(r.summary.faults, undefined);
  t.deepEqual(Object.keys(r.summary.drops), ['nic-ring-full', 'netback-queue-full', 'qdisc-overlimit', 'qdisc-congested', 'lost-in-crash', 'total']);
});

test('faults - live-only actions and a kill of one queue fail before the run with the fault named', (t) => {
  const err = (f: string) => t.throws(() => runYaml(base(f)))?.message ?? '';
  t.regex(err('  - { at: 5ms, duration: 1ms, target: nats, action: nats-restart }'), /f0 \(nats-restart on nats\): the NATS server exists only in live runs/);
  t.regex(
    err('  - { at: 5ms, target: vm:0:queue:1, action: crash-loop }'),
    /f0 \(crash-loop on vm:0:queue:1\): a crash-loop acts on a whole VM \(its front end's process\); write vm:0/,
  );
});
