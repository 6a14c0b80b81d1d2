// The join protocol over an in-memory bus: --expect minimums before the quiet window, and joined actors waiting for the controller to go.
import test from 'ava';
import type { Logger } from '@splitnet/model';
import { formatResolvedYaml } from '@splitnet/scenario';
import { MemoryBus } from '@splitnet/transport';
import { awaitControllerGone, joinRun, joinSubject, registerExternalActors } from '../src/live/join.js';
import type { JoinRole } from '../src/live/join.js';
import { scenario } from './helpers.js';

const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const base = 'name: join\nduration: 10ms\ntopology: { vms: { queues: 1 } }\ntraffic: [ { flows: 4, rate: 100Mbps } ]\n';
const compile = (frontends: number, workers: number) => {
  const s = scenario(base, [`topology.vms.count=${frontends}`, `topology.workers=${workers}`]);
  return { scenario: s, yaml: formatResolvedYaml(s) };
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('join - with atLeast frontend=2, registration stays open past the quiet window until the second front end joins', async (t) => {
  const bus = new MemoryBus();
  let closed = false;
  const reg = registerExternalActors({ runId: 'j1', transport: bus.connect('controller'), logger: quiet, windowMs: 50, timeoutMs: 30_000, compile, atLeast: { frontend: 2 } }).then((r) => ((closed = true), r));
  const join = (role: JoinRole, token: string) => joinRun(bus.connect(`${role}-${token}`), 'j1', role, token, 30_000);
  const first = [join('driver', 'a'), join('worker', 'b'), join('frontend', 'c')];
  // Many quiet windows pass: without the minimum, registration would have closed with one VM.
  await sleep(500);
  t.false(closed, 'registration closed before the expected front ends joined');
  const late = join('frontend', 'd');
  const r = await reg;
  t.is(r.scenario.topology.vms.length, 2);
  t.deepEqual((await Promise.all([...first, late])).map((j) => j.ids), [['nic', 'backend'], ['worker.0'], ['vm.0'], ['vm.1']]);
});

test('join - a joined actor waits while the controller answers and returns once it is gone', async (t) => {
  const bus = new MemoryBus();
  const controller = bus.connect('controller');
  // What the controller's registration leaves behind after the run: a responder that refuses.
  const sub = controller.respond(joinSubject('j2'), () => new TextEncoder().encode('{"kind":"refuse","reason":"registration is closed"}'));
  let returned = false;
  const waiting = awaitControllerGone(bus.connect('actor'), 'j2', { timeoutMs: 30_000, graceMs: 0 }).then(() => (returned = true));
  await sleep(1500);
  t.false(returned, 'stopped waiting while the controller still answered');
  sub.unsubscribe();
  await waiting;
  t.true(returned);
});
