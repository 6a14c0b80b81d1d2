// What a partition refuses and counts, never applying it: messages out of its window, from its own partition, garbage and promises that are not its neighbours'.
import test from 'ava';
import { join } from 'node:path';
import type { Message } from '@splitnet/model';
import { loadScenarioFile } from '@splitnet/scenario';
import { encodeLockstepPromise, MemoryBus, Subjects } from '@splitnet/transport';
import { PartitionEngine, PartitionWire } from '../src/index.js';

const root = new URL('../../../../', import.meta.url).pathname;
const scenario = () => loadScenarioFile(join(root, 'examples/quickstart.yaml'), { duration: '1ms', overrides: ['warmup=0'] });
const ports = { send: () => {}, promise: () => {}, sample: () => {} };
const evt = (vm: number): Message => ({ kind: 'evt', vm, port: 0 });

test('lockstep refusals - a message due before the time the partition has reached is refused and counted, not applied', (t) => {
  const e = new PartitionEngine(scenario(), 1, ports); // vm.0
  t.true(e.advance()); // up to the lookahead: nothing can arrive earlier
  const worker = e.g.all.findIndex((a) => a.id === 'worker.0');
  const vm = e.g.all.findIndex((a) => a.id === 'vm.0');
  t.false(e.deliver(worker, vm, 1, e.reached - 1, evt(0)));
  t.true(e.deliver(worker, vm, 2, e.reached, evt(0)));
  t.is(e.final().refused, 1);
});

test('lockstep refusals - a message from an actor of the same partition is refused: partitions never send themselves anything over the bus', (t) => {
  const e = new PartitionEngine(scenario(), 0, ports); // the driver domain
  const nic = e.g.all.findIndex((a) => a.id === 'nic');
  const worker = e.g.all.findIndex((a) => a.id === 'worker.0');
  t.false(e.deliver(nic, worker, 1, 5_000, evt(0)));
  t.is(e.final().refused, 1);
});

test('lockstep refusals - garbage on a data subject and a promise off the partitions channel are refused and counted by the wire', async (t) => {
  const bus = new MemoryBus();
  const s = scenario();
  const wire = new PartitionWire(s, 'refusals', 1, bus.connect('vm.0'), () => {});
  const intruder = bus.connect('intruder');
  const subjects = new Subjects('refusals');
  intruder.publish(subjects.data('vm.0', 'worker.0'), new Uint8Array([1, 2, 3]));
  // worker.1's link is not the driver's channel to vm.0 (worker.0's is).
  intruder.publish(subjects.data('vm.0', 'worker.1'), encodeLockstepPromise({ run: 'refusals', from: 'worker.1', to: 'vm.0', promise: 1e9, links: [] }));
  await intruder.flush();
  const r = wire.refusals();
  t.is(r.promises, 1);
  t.is(
    Object.values(r.envelopes).reduce((a, b) => a + b, 0),
    1,
  );
  t.is(wire.engine.safeTime(), 200, 'the refused promise did not move the safe time past the lookahead');
  wire.close();
});
