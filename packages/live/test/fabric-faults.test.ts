// A multi-host live run's switch-port faults: the steps the switch's process takes (as sim's fault steps act on the switch), what live refuses, and a live host running steps before the events of their instant.
import test from 'ava';
import { SplitnetError } from '@splitnet/model';
import type { Actor, ActorReport, Effects, Nanos } from '@splitnet/model';
import { MemoryBus } from '@splitnet/transport';
import { switchPortSteps } from '../src/fabric-faults.js';
import { checkLiveScenario, hostResyncTimes, liveGraphOf } from '../src/live-graph.js';
import { LiveHost } from '../src/live-host.js';
import { scenario, testClock } from './helpers.js';

const hosts = (faults: string): string => `name: ports
duration: 4ms
hosts: 3
traffic:
  - { from: h1.vm.0, to: h0.vm.0, rate: 1Gbps }
faults:
${faults}`;

test('switchPortSteps: each port fault sets its port down, lossy or delayed for its duration; a host pause takes its port down for the pause, a kill until its restart (then the carrier back) or to the end; in time order, a fault start before its own end', (t) => {
  const s = scenario(
    hosts(`  - { id: lossy, at: 2ms, target: switch:port:1, action: drop-messages, probability: 0.25, duration: 1ms }
  - { id: down, at: 1ms, target: switch:port:0, action: link-flap, duration: 1ms }
  - { id: slow, at: 1ms, target: switch:port:2, action: delay-messages, delay: 20us, duration: 500us }
  - { id: pause, at: 500us, target: h2, action: pause, duration: 100us }
  - { id: kill, at: 3ms, target: h1, action: kill, restartAfter: 500us }
  - { id: kill2, at: 3ms, target: h2, action: kill, restartAfter: 2ms }
`),
  );
  const steps = switchPortSteps(s).map((st) => [st.t / 1e3, st.fault.id, st.phase, st.port, st.kind, st.on, st.value]);
  t.deepEqual(steps, [
    [500, 'pause', 'start', 2, 'down', true, 0],
    [600, 'pause', 'end', 2, 'down', false, 0],
    // At one instant, in the order written: a fault's end (down's at 2 ms) after the starts written before it.
    [1000, 'down', 'start', 0, 'down', true, 0],
    [1000, 'slow', 'start', 2, 'delay', true, 20_000],
    [1500, 'slow', 'end', 2, 'delay', false, 20_000],
    [2000, 'lossy', 'start', 1, 'loss', true, 0.25],
    [2000, 'down', 'end', 0, 'down', false, 0],
    [3000, 'lossy', 'end', 1, 'loss', false, 0.25],
    [3000, 'kill', 'start', 1, 'down', true, 0],
    [3000, 'kill2', 'start', 2, 'down', true, 0],
    // kill2's restart would come after the end of the run: the port stays down.
    [3500, 'kill', 'restart', 1, 'down', false, 0],
  ]);
  // The loss draws' seed is the run's and the fault's, as sim's (deriveSeed(seed, 'cluster-fault:<id>')).
  const [a, b] = [
    switchPortSteps(s),
    switchPortSteps(scenario(hosts('  - { id: lossy, at: 2ms, target: switch:port:1, action: drop-messages, probability: 0.25, duration: 1ms }\n'))),
  ];
  t.is(a.find((st) => st.fault.id === 'lossy')?.seed, b[0]?.seed);
  t.not(a.find((st) => st.fault.id === 'lossy')?.seed, a.find((st) => st.fault.id === 'down')?.seed);
});

test('checkLiveScenario: switch-port faults and a host pause run live; a host kill is refused naming the fault and what to use instead', (t) => {
  t.notThrows(() => checkLiveScenario(scenario(hosts('  - { at: 1ms, target: switch:port:1, action: link-flap, duration: 1ms }\n'))));
  t.notThrows(() => checkLiveScenario(scenario(hosts('  - { at: 1ms, target: h1, action: pause, duration: 1ms }\n'))));
  const err = t.throws(() => checkLiveScenario(scenario(hosts('  - { id: k, at: 1ms, target: h1, action: kill }\n'))), { instanceOf: SplitnetError });
  t.regex(err?.message ?? '', /^faults: host-kill \(k\): live runs no host kill .*; run it in sim or lockstep/);
});

test("hostResyncTimes: a multi-host run's processes resync at their own host's partitions' ends only, the switch's never; a one-host run's at every partition's (undefined: LinkFaults.resyncTimes)", (t) => {
  const s = scenario(
    hosts(`  - { at: 1ms, target: h0.vm:0, action: partition, duration: 1ms }
  - { at: 2ms, target: h1.worker:0, action: partition, duration: 1500us }
  - { at: 500us, target: h1.vm:0, action: pause, duration: 100us }
`),
  );
  const lg = liveGraphOf(s);
  t.deepEqual(hostResyncTimes(s, lg, 0), [2e6]);
  t.deepEqual(hostResyncTimes(s, lg, 1), [3.5e6]);
  t.deepEqual(hostResyncTimes(s, lg, 2), []);
  t.deepEqual(hostResyncTimes(s, lg, -1), []);
  const one = scenario('duration: 4ms\nfaults: [ { at: 1ms, target: vm:0, action: partition, duration: 1ms } ]\n');
  t.is(hostResyncTimes(one, liveGraphOf(one), 0), undefined);
});

/** An actor that notes a state at its timers (at 100, 200 and 300 µs). */
class Probe implements Actor {
  readonly id = 'worker.0';
  heldPackets(): number {
    return 0;
  }
  state = 0;
  readonly seen: [Nanos, number][] = [];
  start(now: Nanos, fx: Effects): void {
    for (const at of [100e3, 200e3, 300e3]) fx.timer(now + at, 0);
  }
  receive(): void {}
  timer(_tag: number, now: Nanos): void {
    this.seen.push([now, this.state]);
  }
  report(t: Nanos): ActorReport {
    return { id: this.id, t } as unknown as ActorReport;
  }
}

test.serial('LiveHost steps: each runs at its emulated instant, before the events of that instant', async (t) => {
  const probe = new Probe();
  const host = new LiveHost({
    runId: 'steps',
    transport: new MemoryBus().connect('worker.0'),
    clock: testClock,
    tdf: 100,
    actorIds: ['worker.0'],
    local: [{ ref: 0, actor: probe }],
    linkDelay: () => 0,
    limits: { flows: 1, maxBatch: 16 },
    duration: 400e3,
    measureFrom: 0,
    sampleInterval: 0,
    steps: [
      { t: 150e3, apply: () => (probe.state = 1) },
      { t: 200e3, apply: () => (probe.state = 2) },
    ],
  });
  host.attach();
  host.start(testClock.nowMs());
  await host.done;
  host.close();
  t.deepEqual(probe.seen, [
    [100e3, 0],
    [200e3, 2],
    [300e3, 2],
  ]);
});
