// The live runtime without a broker: every actor in its own LiveHost over an in-memory bus, checked against sim.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { HostFinal } from '../src/live-host.js';
import { balance, combine } from '@splitnet/results';
import { buildActors } from '@splitnet/controller';
import { hostsOnMemoryBus, PAPER_VRSS_NIC_KEY, run, scenario, testClock as clock } from './helpers.js';

const yaml = `
name: live-memory
duration: 20ms
warmup: 5ms
topology: { vms: { count: 2, queues: 2 }, workers: 2, vrss: per-flow, ${PAPER_VRSS_NIC_KEY} }
traffic: [ { flows: 8, rate: 100Mbps, size: 1518 } ]
coalescing: { nic: { policy: static, usecs: 100 }, backend: { policy: static, usecs: 400, frames: 0 } }
`;

async function runOnMemoryBus(batchWindowMs?: number): Promise<{ finals: HostFinal[]; wallMs: number }> {
  const s = scenario(yaml);
  const { hosts, bus } = hostsOnMemoryBus(s, 'mem1', 50, () => (batchWindowMs === undefined ? {} : { batchWindowMs }));
  const epoch = clock.nowMs() + 50;
  for (const h of hosts) h.start(epoch);
  await Promise.all(hosts.map((h) => h.done));
  const wallMs = clock.nowMs() - epoch;
  // Every host published its last frames before `done`: once the bus has handed out all it routed, nothing is in flight.
  await bus.connect('drain').flush();
  const finals: HostFinal[] = hosts.map((h) => h.final());
  for (const h of hosts) h.close();
  return { finals, wallMs };
}

/** Check the accounting of a run on the memory bus and that it delivered what sim delivers. */
function checkAgainstSim(t: ExecutionContext, finals: HostFinal[]): void {
  const s = scenario(yaml);
  const end = combine(
    finals.flatMap((f) => f.reports),
    s.duration,
  );
  let onBus = 0;
  for (const f of finals) {
    for (const v of Object.values(f.sentTo)) onBus += v;
    for (const v of Object.values(f.receivedFrom)) onBus -= v;
  }
  const pending = finals.reduce((n, f) => n + f.pendingPackets, 0);
  const acc = balance(end.emitted, end.delivered, end.drops, { ...end.heldIn, links: pending + onBus });
  t.true(acc.balanced, JSON.stringify(acc));
  t.is(onBus, 0, 'nothing left on the bus');
  const sim = run(yaml).accounting;
  t.is(end.emitted, sim.emitted, 'the NIC emits the same frames in both runtimes');
  const dropped = (d: Readonly<Record<string, number>>): number => Object.values(d).reduce((a, b) => a + b, 0);
  t.is(dropped(acc.dropped), dropped(sim.dropped), 'no packet lost beyond what sim drops');
  // So every packet sim delivers is delivered or still on its way at the end. How many are still on their way
  // depends on the wall clock (the run ends on time whether a pump ran late or not: a loaded machine holds a
  // backend coalescing window or two more, of ~160 packets in all), so delivered is only bounded loosely.
  t.true(end.delivered >= 0.8 * sim.delivered && end.delivered <= 1.05 * sim.delivered, `live ${end.delivered} vs sim ${sim.delivered}`);
  for (const f of finals)
    t.deepEqual(
      Object.values(f.rejected).reduce((a, b) => a + b, 0),
      0,
    );
}

test('live host - actors on an in-memory bus emit and drop what sim does and deliver nearly all it delivers (the rest in flight at the end), every packet accounted for', async (t) => {
  const { finals } = await runOnMemoryBus();
  checkAgainstSim(t, finals);
  // Whatever a pump sends one peer leaves as one frame: never more frames than envelopes.
  for (const f of finals) t.true(f.framesSent <= f.envelopesSent);
});

test('live host - a batch window paces the pumps, and the run still emits, drops and accounts for packets as sim does', async (t) => {
  const windowMs = 5;
  const { finals, wallMs } = await runOnMemoryBus(windowMs);
  checkAgainstSim(t, finals);
  // At most one pump per window (a slow machine only makes fewer), plus the first and the last; Node's
  // timers may fire up to 1 ms early against the clock, so count windows of windowMs − 1.
  for (const f of finals) t.true(f.pumps <= Math.ceil(wallMs / (windowMs - 1)) + 2, `${f.pumps} pumps in ${Math.round(wallMs)} ms`);
  // Unpaced, the same run takes many more pumps: the window is what made the difference.
  const unpaced = await runOnMemoryBus();
  const pumps = (fs: HostFinal[]) => fs.reduce((n, f) => n + f.pumps, 0);
  t.true(pumps(finals) < pumps(unpaced.finals), `${pumps(finals)} paced vs ${pumps(unpaced.finals)} unpaced`);
});

test.serial(
  "live on a memory bus: the workers count the bridge's guest-to-guest handoffs among the frames from the wire, as many as the bridge counts",
  async (t) => {
    const s = scenario(`
name: live-memory-g2g
duration: 20ms
warmup: 5ms
topology: { vms: { count: 2, queues: 1 }, workers: 2, vrss: per-flow }
traffic:
  - { name: a-to-b, from: vm.0, to: vm.1, flows: 4, rate: 300Mbps, size: 1518, protocol: udp }
  - { name: in, flows: 4, rate: 200Mbps, size: 1000, protocol: udp }
`);
    const flowVm = buildActors(s).txOrigin?.flowVm;
    if (flowVm === undefined) return t.fail('no guest sends');
    const { hosts, bus } = hostsOnMemoryBus(s, 'mem-g2g', 50, () => ({ flowVm }));
    const epoch = clock.nowMs() + 50;
    for (const h of hosts) h.start(epoch);
    await Promise.all(hosts.map((h) => h.done));
    await bus.connect('drain').flush();
    const finals = hosts.map((h) => h.final());
    for (const h of hosts) h.close();
    const bridge = finals.flatMap((f) => f.reports).find((r) => r.role === 'backend');
    let frames = 0;
    let bytes = 0;
    let fromBridge = 0;
    for (const f of finals) {
      frames += f.guestFramesFrom?.['backend']?.frames ?? 0;
      bytes += f.guestFramesFrom?.['backend']?.bytes ?? 0;
      fromBridge += f.receivedFrom['backend'] ?? 0;
    }
    const toGuests = bridge?.role === 'backend' ? (bridge.tx?.toGuests ?? 0) : 0;
    t.true(toGuests > 0);
    t.is(frames, toGuests);
    t.is(bytes, frames * 1518);
    // The frames from the wire the bridge forwarded are taken by the same workers, in the same kind of batch: not counted.
    t.true(fromBridge > frames, `${fromBridge} from the bridge, ${frames} of them a guest's`);
  },
);
