// The join protocol over an in-memory bus: --expect minimums, queue-count negotiation, containers and restarts, and joined actors waiting for the controller to go.
import test from 'ava';
import type { Logger } from '@splitnet/model';
import { formatResolvedYaml } from '@splitnet/scenario';
import { MemoryBus } from '@splitnet/transport';
import { ControllerControl } from '../src/control-seal.js';
import { awaitControllerGone, joinRun, joinSubject, negotiateQueues, registerExternalActors, rejoinRun } from '../src/join.js';
import type { JoinRole } from '../src/join.js';
import { scenario } from './helpers.js';

const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const base = 'name: join\nduration: 10ms\ntopology: { vms: { queues: 1 } }\ntraffic: [ { flows: 4, rate: 100Mbps } ]\n';
const compile = (vmQueues: readonly number[], workers: number) => {
  const s = scenario(base, [`topology.vms.count=${vmQueues.length}`, `topology.workers=${workers}`, `topology.vms.queues=[${vmQueues.join(', ')}]`]);
  return { scenario: s, yaml: formatResolvedYaml(s) };
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** What a test controller issues the processes that join: a control secret each. */
const keys = new ControllerControl('j', 'ab'.repeat(16));
const accessFor = (name: string, incarnation: number) => ({ secret: keys.secretFor(name, incarnation) });

/** `reached` resolves at the n-th call of `tick` (a count of events seen from outside: joins, answers). */
function signalAt(n: number): { tick: () => void; reached: Promise<void> } {
  let count = 0;
  let done = (): void => {};
  const reached = new Promise<void>((r) => (done = r));
  return {
    tick: () => {
      if (++count === n) done();
    },
    reached,
  };
}

test('join - with atLeast frontend=2, registration stays open past the quiet window until the second front end joins', async (t) => {
  const bus = new MemoryBus();
  let closed = false;
  const three = signalAt(3);
  const reg = registerExternalActors({
    runId: 'j1',
    transport: bus.connect('controller'),
    logger: quiet,
    windowMs: 50,
    timeoutMs: 30_000,
    base: scenario(base),
    compile,
    accessFor,
    atLeast: { frontend: 2 },
    onJoin: three.tick,
  }).then((r) => ((closed = true), r));
  const join = (role: JoinRole, token: string) => joinRun(bus.connect(`${role}-${token}`), 'j1', role, 30_000);
  const first = [join('driver', 'a'), join('worker', 'b'), join('frontend', 'c')];
  await three.reached;
  // All three have joined; now many quiet windows (50 ms) pass, checked every 100 ms: without the minimum,
  // registration would close with one VM. Nothing to await here: what is checked is that nothing happens.
  await sleep(500);
  t.false(closed, 'registration closed before the expected front ends joined');
  const late = join('frontend', 'd');
  const r = await reg;
  t.is(r.scenario.topology.vms.length, 2);
  t.deepEqual(
    (await Promise.all([...first, late])).map((j) => j.ids),
    [['nic', 'backend'], ['worker.0'], ['vm.0'], ['vm.1']],
  );
});

test('join - a joined actor waits while the controller answers and returns once it is gone', async (t) => {
  const bus = new MemoryBus();
  const controller = bus.connect('controller');
  // What the controller's registration leaves behind after the run: a responder that refuses.
  const answered = signalAt(3);
  const sub = controller.respond(joinSubject('j2'), () => {
    answered.tick();
    return new TextEncoder().encode('{"kind":"refuse","reason":"registration is closed"}');
  });
  let returned = false;
  const waiting = awaitControllerGone(bus.connect('actor'), 'j2', { timeoutMs: 30_000, graceMs: 0 }).then(() => (returned = true));
  // The actor asked three times and was answered each time: it is still waiting.
  await answered.reached;
  t.false(returned, 'stopped waiting while the controller still answered');
  sub.unsubscribe();
  await waiting;
  t.true(returned);
});

test("join - a front end gets min(asked, the back-end's max); one that asks nothing gets the scenario's count for its VM", (t) => {
  const perFlow = scenario(base, ['topology.vms.queues=3']);
  // Per flow, netback offers one queue per worker thread.
  t.deepEqual(negotiateQueues(perFlow, [1, 4, undefined], 2), [
    { vm: 0, requested: 1, max: 2, granted: 1 },
    { vm: 1, requested: 4, max: 2, granted: 2 },
    { vm: 2, requested: null, max: 2, granted: 3 },
  ]);
  t.deepEqual(
    negotiateQueues(perFlow, [8], 16).map((n) => n.granted),
    [8],
  );
  // The queues share the VIF's RETA: no more of them than its entries.
  t.deepEqual(
    negotiateQueues(scenario(base, ['topology.rss.retaSize=4']), [8], 16).map((n) => n.max),
    [4],
  );
  // A single-threaded or per-VIF back-end serves one queue per VIF.
  t.deepEqual(
    negotiateQueues(scenario(base, ['topology.vrss=single', 'topology.workers=1']), [4, undefined], 1).map((n) => [n.max, n.granted]),
    [
      [1, 1],
      [1, 1],
    ],
  );
  t.deepEqual(
    negotiateQueues(scenario(base, ['topology.vrss=per-vif']), [4], 3).map((n) => n.granted),
    [1],
  );
  // A list gives each VM its entry; a VM beyond the list that asked nothing has no count to take.
  const listed = scenario(base, ['topology.vms.count=2', 'topology.vms.queues=[2, 1]']);
  t.deepEqual(
    negotiateQueues(listed, [undefined, undefined, 4], 2).map((n) => n.granted),
    [2, 1, 2],
    'a VM beyond the list that asked is fine',
  );
  t.deepEqual(
    negotiateQueues(listed, [undefined, undefined], 4).map((n) => n.granted),
    [2, 1],
  );
  const err = t.throws(() => negotiateQueues(listed, [undefined, undefined, undefined], 2));
  t.regex(err?.message ?? '', /vm\.2 joined without --queues, and topology\.vms\.queues lists 2 VMs \(2, 1\) but 3 front ends joined/);
});

test('join - front ends that ask for 1 and 4 queues with 2 workers get 1 and 2: the scenario sent and the events say so', async (t) => {
  const bus = new MemoryBus();
  const reg = registerExternalActors({
    runId: 'j3',
    transport: bus.connect('controller'),
    logger: quiet,
    windowMs: 50,
    timeoutMs: 30_000,
    base: scenario(base),
    compile,
    accessFor,
  });
  const join = (role: JoinRole, token: string, queues?: number) =>
    joinRun(bus.connect(`${role}-${token}`), 'j3', role, 30_000, queues !== undefined ? { queues } : {});
  const joined = await Promise.all([
    join('driver', 'a'),
    join('worker', 'b'),
    join('worker', 'c'),
    join('frontend', 'd', 1),
    join('frontend', 'e', 4),
    join('frontend', 'f'),
  ]);
  const r = await reg;
  t.deepEqual(
    r.scenario.topology.vms.map((vm) => vm.queues),
    [1, 2, 1],
  );
  t.deepEqual(r.events, [
    { actor: 'vm.0', kind: 'vif-negotiated', detail: { requested: 1, max: 2, granted: 1 } },
    { actor: 'vm.1', kind: 'vif-negotiated', detail: { requested: 4, max: 2, granted: 2 } },
    { actor: 'vm.2', kind: 'vif-negotiated', detail: { requested: null, max: 2, granted: 1 } },
  ]);
  // Every process gets the same scenario, with the negotiated counts.
  t.is(new Set(joined.map((j) => j.scenarioYaml)).size, 1);
  t.regex(joined[0]?.scenarioYaml ?? '', /queues:\n {6}- 1\n {6}- 2\n {6}- 1\n/);
});

test('join - a malformed queue request is refused; a run that cannot be built refuses everyone who joined, with the reason', async (t) => {
  const bus = new MemoryBus();
  const ask = (body: unknown) =>
    bus
      .connect('raw')
      .request(joinSubject('j4'), new TextEncoder().encode(JSON.stringify(body)), 5000)
      .then((d) => JSON.parse(new TextDecoder().decode(d)) as { kind: string; reason: string });
  // vrss single needs exactly one worker; two join, so the scenario cannot be compiled for them.
  const single = scenario(base, ['topology.vrss=single', 'topology.workers=1']);
  const compileSingle = (q: readonly number[], w: number) => {
    const s = scenario(base, ['topology.vrss=single', `topology.vms.count=${q.length}`, `topology.workers=${w}`]);
    return { scenario: s, yaml: formatResolvedYaml(s) };
  };
  const reg = registerExternalActors({
    runId: 'j4',
    transport: bus.connect('controller'),
    logger: quiet,
    windowMs: 50,
    timeoutMs: 30_000,
    base: single,
    compile: compileSingle,
    accessFor,
  });
  reg.catch(() => {});
  t.regex((await ask({ kind: 'join', role: 'frontend', token: 'x', queues: 0 })).reason, /bad join request: queues: expected a whole number ≥ 1, found 0/);
  t.regex((await ask({ kind: 'join', role: 'frontend', token: 'x', queues: 2.5 })).reason, /found 2\.5/);
  t.regex((await ask({ kind: 'join', role: 'worker', token: 'x', queues: 2 })).reason, /only a front end asks for queues/);
  const join = (role: JoinRole, token: string) => joinRun(bus.connect(`${role}-${token}`), 'j4', role, 30_000);
  const outcomes = await Promise.allSettled([join('driver', 'a'), join('worker', 'b'), join('worker', 'c'), join('frontend', 'd')]);
  await t.throwsAsync(reg, { message: /topology\.workers: expected 1 when topology\.vrss is "single"/ });
  for (const o of outcomes) {
    t.is(o.status, 'rejected');
    if (o.status === 'rejected')
      t.regex(
        String((o.reason as Error).message),
        /join refused by the controller of run j4: the controller cannot build the run for the actors that joined: .*topology\.workers/,
      );
  }
});

test('join - the container each actor process says it runs in is recorded; a restart gets the scenario only while the supervisor expects it, once', async (t) => {
  const bus = new MemoryBus();
  const expected = new Set<string>();
  const reg = registerExternalActors({
    runId: 'j5',
    transport: bus.connect('controller'),
    logger: quiet,
    windowMs: 50,
    timeoutMs: 30_000,
    base: scenario(base),
    compile,
    accessFor,
    expect: { workers: 2, frontends: 1 },
    rejoinable: (name, incarnation) => expected.delete(`${name}#${incarnation}`),
  });
  const join = (role: JoinRole, token: string, container?: string) =>
    joinRun(bus.connect(`${role}-${token}`), 'j5', role, 30_000, container ? { container } : {});
  const rejoin = (ids: string[], incarnation: number) => rejoinRun(bus.connect(`re-${ids.join('+')}-${incarnation}`), 'j5', ids, incarnation, 30_000);
  // Before the run has started, a restart is refused: there is nothing to rejoin.
  const early = await t.throwsAsync(rejoin(['worker.0'], 1));
  t.regex(early?.message ?? '', /rejoin refused by the controller of run j5: the run has not started/);
  const joined = await Promise.all([join('driver', 'a', 'c-driver'), join('worker', 'b', 'c-w-b'), join('worker', 'c'), join('frontend', 'd', 'c-fe')]);
  const r = await reg;
  t.deepEqual(
    joined.map((j) => j.ids),
    [['nic', 'backend'], ['worker.0'], ['worker.1'], ['vm.0']],
  );
  t.deepEqual([...r.containers].sort(), [
    ['nic+backend', 'c-driver'],
    ['vm.0', 'c-fe'],
    ['worker.0', 'c-w-b'],
  ]);
  // Nobody is restarting worker.1: refused, with the reason.
  const unexpected = await t.throwsAsync(rejoin(['worker.1'], 1));
  t.regex(unexpected?.message ?? '', /rejoin refused by the controller of run j5: no restart of worker\.1 as incarnation 1 is under way in this run/);
  // The supervisor restarts it: the restart gets the run's scenario, once.
  expected.add('worker.1#1');
  const back = await rejoin(['worker.1'], 1);
  t.deepEqual(back.ids, ['worker.1']);
  t.is(back.scenarioYaml, joined[2]?.scenarioYaml);
  await t.throwsAsync(rejoin(['worker.1'], 1), { message: /no restart of worker\.1 as incarnation 1/ });
  // A malformed restart request is refused, not taken for someone.
  expected.add('worker.0#0');
  await t.throwsAsync(rejoin(['worker.0'], 0), { message: /no restart of worker\.0 as incarnation 0/ });
  // So is a join naming an unusable container.
  const bad = await bus
    .connect('x')
    .request(joinSubject('j5'), new TextEncoder().encode(JSON.stringify({ kind: 'join', role: 'worker', token: 'z', container: 7 })), 5000);
  t.regex(new TextDecoder().decode(bad), /container: expected a container name, found 7/);
});

test("join - per domain, the driver is given the scenario's workers and a process joining as a worker is refused, with the reason", async (t) => {
  const bus = new MemoryBus();
  const four = scenario(base, ['topology.vms.queues=4', 'topology.workers=4', 'live.processes=per-domain']);
  const reg = registerExternalActors({
    runId: 'j6',
    transport: bus.connect('controller'),
    logger: quiet,
    windowMs: 50,
    timeoutMs: 30_000,
    base: four,
    compile,
    accessFor,
    processes: 'per-domain',
    expect: { workers: 4, frontends: 1 },
  });
  const join = (role: JoinRole, token: string, container?: string) =>
    joinRun(bus.connect(`${role}-${token}`), 'j6', role, 30_000, container ? { container } : {});
  const worker = await t.throwsAsync(join('worker', 'w'));
  t.regex(
    worker?.message ?? '',
    /join refused by the controller of run j6: this run has one process per Xen domain \(live\.processes: per-domain\): the driver process hosts the vRSS workers \(topology\.workers of them\); start no process with --role worker/,
  );
  // Registration closes with the driver and the front end alone (the expected workers are the driver's).
  const joined = await Promise.all([join('driver', 'a', 'c-driver'), join('frontend', 'b', 'c-fe')]);
  const r = await reg;
  t.deepEqual(
    joined.map((j) => j.ids),
    [['nic', 'backend', 'worker.0', 'worker.1', 'worker.2', 'worker.3'], ['vm.0']],
  );
  t.deepEqual(r.groups, [['nic', 'backend', 'worker.0', 'worker.1', 'worker.2', 'worker.3'], ['vm.0']]);
  t.is(r.scenario.topology.workers, 4);
  t.deepEqual(
    r.negotiated.map((n) => n.granted),
    [4],
  );
  t.deepEqual([...r.containers].sort(), [
    ['nic+backend+worker.0+worker.1+worker.2+worker.3', 'c-driver'],
    ['vm.0', 'c-fe'],
  ]);
  // A driver that comes after registration closed is refused.
  const second = await t.throwsAsync(join('driver', 'c'));
  t.regex(second?.message ?? '', /registration is closed/);
});

test('join - each process gets what the controller issues it, sealed to the key it joined with; a second driver is refused and taints the run, a late joiner is refused without', async (t) => {
  const bus = new MemoryBus();
  const refusals: [string, boolean][] = [];
  const issued = new ControllerControl('j7', 'cd'.repeat(16));
  const login = (name: string) => ({ user: `sn-${name.replace('+', '-')}`, pass: `pw-${name}`, inboxPrefix: `_INBOX.sn-${name}` });
  const reg = registerExternalActors({
    runId: 'j7',
    transport: bus.connect('controller'),
    logger: quiet,
    windowMs: 50,
    timeoutMs: 30_000,
    base: scenario(base),
    compile,
    expect: { workers: 1, frontends: 1 },
    accessFor: (name, incarnation) => ({ secret: issued.secretFor(name, incarnation), login: login(name) }),
    onRefused: (why, taints) => refusals.push([why, taints]),
  });
  // Everything on the bus is seen by an eavesdropper, including the replies.
  const seen: string[] = [];
  bus.connect('eavesdropper').subscribe('>', (data) => seen.push(new TextDecoder().decode(data)));
  const join = (role: JoinRole, i: number) => joinRun(bus.connect(`${role}-${i}`), 'j7', role, 30_000);
  const [driver, impostor, worker, frontend] = await Promise.allSettled([join('driver', 0), join('driver', 1), join('worker', 2), join('frontend', 3)]);
  await reg;
  t.is(driver?.status, 'fulfilled');
  t.is(impostor?.status, 'rejected');
  if (impostor?.status === 'rejected')
    t.regex(
      String((impostor.reason as Error).message),
      /this run has one driver \(NIC \+ back-end\) already: 2 processes joined as driver \(an impostor, or a driver started twice\)/,
    );
  for (const [r, name] of [
    [driver, 'nic+backend'],
    [worker, 'worker.0'],
    [frontend, 'vm.0'],
  ] as const) {
    if (r?.status !== 'fulfilled') return t.fail(`${name} did not join`);
    t.deepEqual(r.value.access, { secret: issued.secretFor(name, 0), login: login(name) }, name);
  }
  t.deepEqual(
    refusals.map(([, taints]) => taints),
    [true],
  );
  t.false(
    seen.some((m) => m.includes(issued.secretFor('vm.0', 0).key) || m.includes('pw-vm.0')),
    'no key or password in the clear on the bus',
  );
  // After registration: a late joiner is refused (no taint); a probe of a finished actor is no refusal at all.
  await t.throwsAsync(join('frontend', 4), { message: /registration is closed/ });
  await bus.connect('probe').request(joinSubject('j7'), new TextEncoder().encode('{"kind":"probe"}'), 5000);
  t.deepEqual(
    refusals.map(([, taints]) => taints),
    [true, false],
  );
});
