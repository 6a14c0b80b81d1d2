// The per-host partition plan of a multi-host scenario: one partition per host, the switch with host 0, channels only across the fabric with its delay as lookahead.
import test from 'ava';
import { join } from 'node:path';
import { loadScenarioFile } from '@splitnet/scenario';
import { lockstepPlan, partitionsValue } from '../src/index.js';

const root = new URL('../../../../', import.meta.url).pathname;
const threeHosts = (overrides: string[] = []) => loadScenarioFile(join(root, 'packages/lockstep/test/fixtures/three-hosts.yaml'), { overrides });

test('lockstep host partitions - a 3-host scenario has 3 partitions by host, each holding exactly its host actors, the switch in host 0', (t) => {
  const plan = lockstepPlan(threeHosts());
  t.is(plan.by, 'host');
  t.is(plan.partitions.length, 3);
  plan.partitions.forEach((p, i) => {
    const own = p.ids.filter((id) => id !== 'switch');
    // NIC, back end, 2 workers, 3 guests.
    t.is(own.length, 7, p.name);
    t.true(
      own.every((id) => id.startsWith(`h${i}.`)),
      p.name,
    );
    t.is(p.ids.includes('switch'), i === 0, p.name);
    t.is(p.ids[0], `h${i}.nic`);
  });
  t.true(plan.partOf.every((p) => p >= 0 && p < 3));
  t.is(plan.partOf.length, 22);
});

test('lockstep host partitions - channels run only between host 0 (with the switch) and each other host, both ways, with the fabric delay (1 us) as lookahead', (t) => {
  const plan = lockstepPlan(threeHosts());
  t.deepEqual(plan.sendsTo, [[1, 2], [0], [0]]);
  t.deepEqual(plan.hearsFrom, [[1, 2], [0], [0]]);
  t.deepEqual(plan.lookahead, [
    [Infinity, 1000, 1000],
    [1000, Infinity, Infinity],
    [1000, Infinity, Infinity],
  ]);
});

test('lockstep host partitions - the lookahead follows fabric.delay (3 us)', (t) => {
  const plan = lockstepPlan(threeHosts(['fabric.delay=3us']));
  t.is(plan.lookahead[0]?.[1], 3000);
  t.is(plan.lookahead[2]?.[0], 3000);
});

test('lockstep host partitions - --expect partition=n sizes a multi-host run to n hosts; fewer than 2 or more than 64 is refused naming the flag', (t) => {
  t.deepEqual(partitionsValue(5, 'host'), { path: ['hosts'], value: 5, label: '--expect partition=5 (5 hosts, one partition each)' });
  for (const n of [1, 65])
    t.throws(() => partitionsValue(n, 'host'), {
      message: new RegExp(`^--expect partition=${n}: a multi-host lockstep run has one partition per host, from 2 to 64 hosts$`),
    });
});
