// Partitions that join over an in-memory bus: each joiner gets the next partition with the scenario and its sealed access; one too many, a live actor, a request without a key are refused; probes are answered; --expect sizes the plan.
import test from 'ava';
import { join } from 'node:path';
import type { Logger } from '@splitnet/model';
import { ControllerControl, joinRun } from '@splitnet/live';
import { compileScenarioText, loadScenarioFile } from '@splitnet/scenario';
import { MemoryBus, Subjects } from '@splitnet/transport';
import { lockstepPlan, partitionsValue, PartitionRegistry } from '../src/index.js';
import type { PartitionRegistryOptions } from '../src/index.js';

const root = new URL('../../../../', import.meta.url).pathname;
const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const keys = new ControllerControl('r', 'cd'.repeat(16));

/** deploy/lockstep.yaml sized to `n` partitions, as `--expect partition=n` does. */
function sized(n: number) {
  const v = partitionsValue(n);
  return loadScenarioFile(join(root, 'deploy/lockstep.yaml'), { duration: '1ms', overrides: ['warmup=0'], values: [{ ...v }] });
}

/** A registry of run `runId` for `partitions` partitions on `bus`, with what it refused. */
function registryOf(
  bus: MemoryBus,
  runId: string,
  partitions: number,
  o: Partial<PartitionRegistryOptions> = {},
): { registry: PartitionRegistry; refused: string[] } {
  const refused: string[] = [];
  const registry = new PartitionRegistry({
    runId,
    transport: bus.connect('controller'),
    logger: quiet,
    plan: lockstepPlan(sized(partitions)),
    scenarioYaml: '',
    accessFor: (p) => ({ secret: keys.secretFor(p.name, 0) }),
    onRefused: (why) => refused.push(why),
    ...o,
  });
  return { registry, refused };
}

test('partition registry - joiners get the partitions in the order they joined, with the scenario and their own sealed secret and login', async (t) => {
  const plan = lockstepPlan(sized(3));
  const bus = new MemoryBus();
  const joined: string[] = [];
  const { registry } = registryOf(bus, 'r1', 3, {
    scenarioYaml: 'name: sized\nduration: 1ms\n',
    accessFor: (p) => ({ secret: keys.secretFor(p.name, 0), login: { user: `u-${p.name}`, pass: 'x', inboxPrefix: `_INBOX.u-${p.name}` } }),
    onJoin: (p, container, n) => joined.push(`${n}:${p.name}@${String(container)}`),
  });
  const a = await joinRun(bus.connect('a'), 'r1', 'partition', 5000, { container: 'ca' });
  const b = await joinRun(bus.connect('b'), 'r1', 'partition', 5000, { container: 'cb' });
  t.false(registry.complete);
  t.deepEqual(registry.missing(), ['vm.1']);
  const c = await joinRun(bus.connect('c'), 'r1', 'partition', 5000);
  t.true(registry.complete);
  t.deepEqual(
    [a, b, c].map((j) => j.ids.join('+')),
    plan.partitions.map((p) => p.name),
  );
  t.is(compileScenarioText(a.scenarioYaml, 'x').name, 'sized');
  t.deepEqual(a.access.secret, keys.secretFor(plan.partitions[0]?.name ?? '', 0));
  t.is(c.access.login?.user, 'u-vm.1');
  t.deepEqual(registry.containers, ['ca', 'cb', undefined]);
  t.deepEqual(joined, ['1:nic+backend+worker.0+worker.1+worker.2+worker.3@ca', '2:vm.0@cb', '3:vm.1@undefined']);
});

const refusals: { name: string; request: () => unknown; reason: RegExp; afterAll?: true }[] = [
  { name: 'one joiner too many', request: () => null, reason: /^run r2 has its 3 partitions already \(.*vm\.1\): this one is one too many/, afterAll: true },
  {
    name: "a live run's front end",
    request: () => ({ kind: 'join', role: 'frontend', pub: 'x' }),
    reason: /^run r2 is a lockstep run: its partitions join it \(splitnet partition --join\), not a live run's frontend/,
  },
  { name: 'a join without a public key', request: () => ({ kind: 'join', role: 'partition' }), reason: /^a join request without the joiner's public key/ },
  { name: 'something that is not a join', request: () => ({ kind: 'hello' }), reason: /^not a join request$/ },
];

for (const c of refusals) {
  test(`partition registry - ${c.name} is refused with a reason and assigns it nothing`, async (t) => {
    const bus = new MemoryBus();
    const { registry, refused } = registryOf(bus, 'r2', 3);
    if (c.afterAll === true) {
      for (const j of ['a', 'b', 'c']) await joinRun(bus.connect(j), 'r2', 'partition', 5000);
      const late = await joinRun(bus.connect('d'), 'r2', 'partition', 5000).catch((e: unknown) => e as Error);
      t.regex((late as Error).message, /join refused by the controller of run r2: run r2 has its 3 partitions already/);
      t.is(registry.joined, 3);
    } else {
      const answer = await bus.connect('x').request(new Subjects('r2').join(), new TextEncoder().encode(JSON.stringify(c.request())), 5000);
      t.is((JSON.parse(new TextDecoder().decode(answer)) as { kind: string }).kind, 'refuse');
      t.is(registry.joined, 0);
    }
    t.is(refused.length, 1);
    t.regex(refused[0] ?? '', c.reason);
  });
}

test('partition registry - a joiner of a run no controller serves gives up saying so, naming the run id', async (t) => {
  const bus = new MemoryBus();
  registryOf(bus, 'r4', 2);
  const err = await t.throwsAsync(joinRun(bus.connect('x'), 'r4-typo', 'partition', 600));
  t.regex(
    err?.message ?? '',
    /^join: no answer from the controller of run r4-typo: .*\(no controller serves run r4-typo on this server: is that its --run-id\?\)$/,
  );
});

test("partition registry - a joined partition's probe after the run is answered without a join", async (t) => {
  const bus = new MemoryBus();
  const { registry, refused } = registryOf(bus, 'r3', 2);
  const answer = await bus.connect('x').request(new Subjects('r3').join(), new TextEncoder().encode('{"kind":"probe"}'), 5000);
  t.deepEqual(JSON.parse(new TextDecoder().decode(answer)), { kind: 'refuse', reason: 'probe' });
  t.is(registry.joined, 0);
  t.deepEqual(refused, []);
});

test('partition registry - --expect partition=n sizes a per-domain plan to n partitions; fewer than 2 is refused naming the flag', (t) => {
  for (const n of [2, 5, 9]) t.is(lockstepPlan(sized(n)).partitions.length, n);
  t.throws(() => partitionsValue(1), { message: /^--expect partition=1: a lockstep run per Xen domain has at least 2 partitions/ });
});
