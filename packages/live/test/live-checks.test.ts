// Pieces of a live run that need no broker: the code warm-up rehearsal and the lag-growth rule.
import test from 'ava';
import type { Actor, ActorReport, Effects, Nanos } from '@splitnet/model';
import { SimRuntime } from '@splitnet/runtime';
import { LiveHost } from '../src/live-host.js';
import { MemoryBus } from '@splitnet/transport';
import { REHEARSAL_FROM, rehearseLivePath, warmUpCode } from '../src/code-warmup.js';
import { lagGrowing } from '../src/collect.js';
import { decodeControl, encodeControl } from '../src/control.js';
import { run, scenario } from './helpers.js';

const yaml = `
name: warm
duration: 20ms
warmup: 5ms
topology: { vms: { count: 2, queues: 2 }, workers: 2, vrss: per-flow }
traffic: [ { flows: 8, rate: 2Gbps, size: 1518 } ]
coalescing: { nic: { policy: static, usecs: 100 }, backend: { policy: static, usecs: 50, frames: 0 } }
`;

test('code warm-up puts the datapath messages (dma, rx, rsp, evt, req) through the codec, with nothing rejected', (t) => {
  const s = scenario(yaml);
  const w = warmUpCode(s, 10e6);
  // 10 ms at 2 Gbit/s of 1518-byte frames is ~1,600 packets: DMA, rx, rsp, evt and req messages by the hundred.
  t.true(w.messages > 500, `only ${w.messages} messages`);
  t.is(w.rejected, 0);
  t.deepEqual(warmUpCode(s, 0), { messages: 0, rejected: 0, cpuMs: 0 });
});

test('code warm-up leaves the run itself untouched: sim results are the same after it', (t) => {
  const s = scenario(yaml);
  const before = JSON.stringify(run(yaml).summary);
  warmUpCode(s, 20e6);
  t.is(JSON.stringify(run(yaml).summary), before);
});

// Serial, and no minimum rate: how many events fit in 100 ms of wall time depends on the machine's load.
test.serial(
  "live-path rehearsal: the scenario's actors, each in a live host over an in-memory bus, process events (counted together); a sim run after it is untouched",
  async (t) => {
    const s = scenario(yaml);
    const before = JSON.stringify(run(yaml).summary);
    const r = await rehearseLivePath(s, 100);
    // 100 ms of real time at 2 Gbit/s: up to ~16,000 packets through NIC, back end, workers and front ends.
    t.log(`${r.events} events in the rehearsal`);
    t.true(r.events > 0);
    t.is(JSON.stringify(run(yaml).summary), before);
  },
);

test.serial(
  'live-path rehearsal of a run longer than 2.5 s starts at emulated time REHEARSAL_FROM (past 2^31 ns) and processes events there; a 20 ms run is rehearsed from 0',
  async (t) => {
    const long = yaml.replace('duration: 20ms', 'duration: 3s').replace('warmup: 5ms', 'warmup: 1s');
    const s = scenario(long);
    const r = await rehearseLivePath(s, 100);
    t.is(r.fromNs, REHEARSAL_FROM);
    t.true(REHEARSAL_FROM > 2 ** 31, 'beyond int32 nanoseconds');
    t.true(r.events > 0);
    t.is((await rehearseLivePath(scenario(yaml), 50)).fromNs, 0, 'a 20 ms run is rehearsed from 0');
  },
);

test('lag growth: a lag that more than doubles by more than half the bound grows; noise around a bounded lag does not', (t) => {
  const ms = 1e6;
  t.false(lagGrowing(10 * ms, 12 * ms, 50 * ms), 'bounded, a little noisier in the second half');
  t.false(lagGrowing(1 * ms, 5 * ms, 50 * ms), 'five times larger, but small against the bound');
  t.false(lagGrowing(400 * ms, 60 * ms, 50 * ms), 'a start-up transient that the host recovered from');
  t.true(lagGrowing(10 * ms, 80 * ms, 50 * ms), 'falling behind');
  t.true(lagGrowing(0, 30 * ms, 50 * ms), 'from nothing to more than half the bound');
});

/** An actor with the bug the guard is for: it re-arms its timer at the current instant, forever. */
class Looper implements Actor {
  readonly id = 'worker.0';
  start(now: Nanos, fx: Effects): void {
    fx.timer(now + 5, 7);
  }
  receive(): void {}
  heldPackets(): number {
    return 0;
  }
  timer(tag: number, now: Nanos, fx: Effects): void {
    fx.timer(now, tag);
  }
  report(t: Nanos): ActorReport {
    return { role: 'backend', id: this.id, t } as unknown as ActorReport;
  }
}

// Serial: a million events keep the event loop busy, which would starve the timed rehearsal test above.
test.serial('a livelock (a timer re-armed at the current instant forever) is a clear error in sim, not a hang', (t) => {
  const rt = new SimRuntime({ linkDelay: () => 0 });
  rt.add(new Looper());
  t.throws(() => rt.run(1e9), {
    message: /emulated time stopped at 5 ns: more than 1,000,000 events at that instant, the last for worker\.0 \(a timer \(tag 7\)\)/,
  });
});

test.serial('a livelock in a live host ends its run with the same error instead of never reaching the end', async (t) => {
  const clock = { nowMs: () => performance.timeOrigin + performance.now() };
  const host = new LiveHost({
    runId: 'stuck',
    transport: new MemoryBus().connect('worker.0'),
    clock,
    tdf: 1,
    actorIds: ['worker.0'],
    local: [{ ref: 0, actor: new Looper() }],
    linkDelay: () => 0,
    limits: { flows: 1, maxBatch: 1 },
    duration: 1e9,
    measureFrom: 0,
    sampleInterval: 0,
  });
  host.attach();
  host.start(clock.nowMs());
  await t.throwsAsync(host.done, { message: /emulated time stopped at 5 ns.*worker\.0/ });
  host.close();
});

test('control: a rejoin start names its process and carries the faults in effect; malformed ones are refused', (t) => {
  const cmd = { id: 'f0', action: 'link-flap', phase: 'start', params: {}, seed: 7 } as const;
  const back = (m: unknown) => decodeControl(new TextEncoder().encode(JSON.stringify(m)));
  t.deepEqual(decodeControl(encodeControl({ kind: 'start', epochMs: 5 })), { kind: 'start', epochMs: 5 });
  t.deepEqual(decodeControl(encodeControl({ kind: 'start', epochMs: 5, id: 'nic+backend', faults: [{ actor: 'nic', cmd }] })), {
    kind: 'start',
    epochMs: 5,
    id: 'nic+backend',
    faults: [{ actor: 'nic', cmd }],
  });
  t.is(back({ kind: 'start', epochMs: 5, id: 3 }), null);
  t.is(back({ kind: 'start', epochMs: 5, faults: {} }), null);
  t.is(back({ kind: 'start', epochMs: 5, faults: [{ actor: 'nic', cmd: { ...cmd, action: 'melt' } }] }), null);
});

test('control: a transmit-path fault for a worker names the guest whose queues it acts on; a guest that is no index is refused', (t) => {
  const cmd = { id: 'f0', action: 'lose-tx-notifications', phase: 'start', vm: 1, queues: [0], params: { probability: 1 }, seed: 7 } as const;
  const back = (m: unknown) => decodeControl(new TextEncoder().encode(JSON.stringify(m)));
  t.deepEqual(decodeControl(encodeControl({ kind: 'fault', actor: 'worker.0', cmd })), { kind: 'fault', actor: 'worker.0', cmd });
  t.is(back({ kind: 'fault', actor: 'worker.0', cmd: { ...cmd, vm: -1 } }), null);
  t.is(back({ kind: 'fault', actor: 'worker.0', cmd: { ...cmd, vm: '1' } }), null);
});

test("control: a lockstep partition's direct links not made yet come through as its lines; a list that is not one of strings is refused", (t) => {
  const back = (m: unknown) => decodeControl(new TextEncoder().encode(JSON.stringify(m)));
  const m = { kind: 'lockstep-waiting', id: 'vm.0', waiting: ['to nic+backend: offered, not connected'] } as const;
  t.deepEqual(decodeControl(encodeControl(m)), m);
  t.deepEqual(back({ kind: 'lockstep-waiting', id: 'vm.0', waiting: [] }), { kind: 'lockstep-waiting', id: 'vm.0', waiting: [] });
  t.is(back({ kind: 'lockstep-waiting', id: 'vm.0', waiting: [3] }), null);
  t.is(back({ kind: 'lockstep-waiting', id: 'vm.0', waiting: 'to x' }), null);
  t.is(back({ kind: 'lockstep-waiting', waiting: [] }), null);
});
