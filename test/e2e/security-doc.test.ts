// docs/security.md's table of credentials against the configurations splitnet writes: a run's private server (per actor, per domain, with join logins; a multi-host lockstep run's per host; a multi-host live run's) and deploy/nats.conf.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { liveGraphOf, privateServerAuthorization, processIdsOf, processSlots } from '@splitnet/live';
import { lockstepPlan } from '@splitnet/lockstep';
import { compileScenarioText } from '@splitnet/scenario';
import { root } from './live-helpers.js';

/** One row of the table: a credential (a template such as `sn-worker-<k>`), where it is, and its permissions as templates. */
interface Row {
  readonly credential: string;
  /**
   * every: in every configuration of one host; joins: where actors join; partitions: a multi-host lockstep run's per
   * host; hosts: a multi-host live run's (its controller's row replaces the one-host row).
   */
  readonly where: 'every' | 'joins' | 'partitions' | 'hosts';
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
  readonly responds: boolean;
}

/** The rows of the table under "## The credentials" in docs/security.md. */
function table(): Row[] {
  const doc = readFileSync(join(root, 'docs/security.md'), 'utf8');
  const from = doc.indexOf('## The credentials');
  const section = doc.slice(from, doc.indexOf('\n## ', from + 1));
  const lines = section.split('\n').filter((l) => l.startsWith('| `'));
  const cells = (l: string) =>
    l
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
  const list = (c: string) => [...c.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
  return lines.map((l) => {
    const [credential = '', where = '', publish = '', subscribe = '', responds = ''] = cells(l);
    return {
      credential: list(credential)[0] ?? '',
      where: where as Row['where'],
      publish: list(publish),
      subscribe: list(subscribe),
      responds: responds === 'yes',
    };
  });
}

/** A user of a rendered authorization block (packages/transport/src/nats-authorization.ts writes this layout). */
interface User {
  readonly user: string;
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
  readonly responds: boolean;
}

function users(conf: string): User[] {
  const out: User[] = [];
  const re =
    /user: "([^"]+)", password: "[^"]+"\n\s*permissions: \{\n\s*publish: \{ allow: \[([^\]]*)\] \}\n\s*subscribe: \{ allow: \[([^\]]*)\] \}\n(\s*allow_responses: true\n)?/g;
  const list = (x: string) => [...x.matchAll(/"([^"]+)"/g)].map((m) => m[1] as string);
  for (const m of conf.matchAll(re))
    out.push({ user: m[1] as string, publish: list(m[2] as string), subscribe: list(m[3] as string), responds: m[4] !== undefined });
  // Every user block was read: none has a layout this test does not know.
  if (out.length !== (conf.match(/user: "/g) ?? []).length) throw new Error('a user block of an unknown layout');
  return out;
}

/**
 * The permissions a row gives `user` in a configuration for run `run` (`*` in a deployment's): the templates
 * with `<run>`, `<user>`, `<i>`, `<k>` and `<v>` filled in; `<k>` of `sn-dom0` (`sn-h<i>-dom0`) stands for each of
 * `workers`, and `<k>` and `<v>` of a partition `sn-h<i>` for each of its host's `workers` and `vms`. The
 * controller's control of the hosts' partitions (`ctl.*.nic`) only where the file has their users (`partitions`).
 */
function expected(
  row: Row,
  user: string,
  run: string,
  workers: readonly string[],
  vms: readonly string[],
  partitions: boolean,
): { publish: string[]; subscribe: string[] } {
  const index = /-(\d+|\*)$/.exec(user)?.[1] ?? '';
  const host = /^sn-h(\d+)/.exec(user)?.[1] ?? '';
  const partition = /^sn-h\d+$/.test(user);
  const each = (x: string, slot: string, values: readonly string[]): string[] => (x.includes(slot) ? values.map((v) => x.replaceAll(slot, v)) : [x]);
  const fill = (x: string): string[] => {
    if (row.where === 'every' && !partitions && x === 'sn.<run>.ctl.*.nic') return [];
    const base = x.replaceAll('<run>', run).replaceAll('<i>', host);
    if (partition) return each(base, '<k>', workers).flatMap((y) => each(y, '<v>', vms));
    const one = base.replaceAll('<v>', index);
    if (!one.includes('<k>')) return [one];
    return /^sn-(h\d+-)?dom0$/.test(user) ? workers.map((k) => one.replaceAll('<k>', k)) : [one.replaceAll('<k>', index)];
  };
  return { publish: row.publish.flatMap(fill), subscribe: row.subscribe.flatMap(fill) };
}

/** The row whose credential template names `user`. */
function rowOf(rows: readonly Row[], user: string): Row | undefined {
  return rows.find((r) => new RegExp(`^${r.credential.replaceAll(/<[ikv]>/g, '\\d+')}$`).test(user));
}

/**
 * What a configuration is for: one host (`one`); a deployment's or a multi-host lockstep run's, with the hosts'
 * partitions (`partitions`); a multi-host live run's (`hosts`).
 */
type Kind = 'one' | 'partitions' | 'hosts';

/** The table's rows for a configuration of `kind`: a multi-host live run's own rows come first (its controller's replaces the one-host row). */
function rowsFor(kind: Kind): Row[] {
  const rows = table();
  return kind === 'hosts' ? [...rows.filter((r) => r.where === 'hosts'), ...rows.filter((r) => r.where !== 'hosts')] : rows.filter((r) => r.where !== 'hosts');
}

/** The workers and VMs a configuration's users stand for (`*` in a deployment's; a partition's own host's in a run's). */
interface Indices {
  readonly workers: readonly string[];
  readonly vms: readonly string[];
}

function check(t: ExecutionContext, what: string, conf: string, run: string, ix: Indices, joins: boolean, kind: Kind = 'one'): void {
  const rows = rowsFor(kind);
  const found = users(conf);
  t.true(found.length > 0, what);
  for (const u of found) {
    const row = rowOf(rows, u.user);
    if (row === undefined) {
      t.fail(`${what}: user ${u.user} has no row in docs/security.md`);
      continue;
    }
    const want = expected(row, u.user, run, ix.workers, ix.vms, kind === 'partitions');
    t.deepEqual([...u.publish].sort(), [...want.publish].sort(), `${what}: ${u.user} may publish`);
    t.deepEqual([...u.subscribe].sort(), [...want.subscribe].sort(), `${what}: ${u.user} may subscribe`);
    t.is(u.responds, row.responds, `${what}: ${u.user} answers requests`);
  }
  // Each row's credential is in the file where the table says it is: the join logins and partitions where the table
  // says, a live run's host processes nowhere else (which of them depends on the run's processes, as for one host's).
  for (const row of table()) {
    const present = found.some((u) => rowOf([row], u.user) !== undefined);
    if (row.where === 'joins') t.is(present, joins, `${what}: ${row.credential}`);
    if (row.where === 'partitions') t.is(present, kind === 'partitions', `${what}: ${row.credential}`);
    if (row.where === 'hosts' && row.credential !== 'controller' && kind !== 'hosts') t.false(present, `${what}: ${row.credential}`);
  }
}

/** The workers of the runs below (the VMs of a one-host user are in its name). */
const TWO_WORKERS: Indices = { workers: ['0', '1'], vms: [] };

test('security doc - the table has a row for every kind of credential', (t) => {
  t.deepEqual(
    table().map((r) => r.credential),
    [
      'controller',
      'driver',
      'worker',
      'frontend',
      'partition',
      'sn-driver',
      'sn-dom0',
      'sn-worker-<k>',
      'sn-vm-<v>',
      'sn-h0',
      'sn-h<i>',
      'controller',
      'sn-h<i>-driver',
      'sn-h<i>-dom0',
      'sn-h<i>-worker-<k>',
      'sn-h<i>-vm-<v>',
      'sn-switch',
    ],
  );
});

test('security doc - deploy/nats.conf gives each credential exactly what the table says (run *, 16 workers, VMs and hosts, both driver users)', (t) => {
  const conf = readFileSync(join(root, 'deploy/nats.conf'), 'utf8');
  check(t, 'deploy/nats.conf', conf, '*', { workers: ['*'], vms: ['*'] }, true, 'partitions');
  t.deepEqual(
    users(conf)
      .map((u) => u.user)
      .filter((u) => u.startsWith('sn-')).length,
    2 + 16 + 16 + 16,
  );
});

test("security doc - a run's private server gives each credential exactly what the table says: per actor, per domain, with and without join logins", (t) => {
  const perActor = processSlots(2, 3, false);
  const perDomain = processSlots(2, 3, true);
  check(t, 'private, per actor', privateServerAuthorization('r1', perActor, false).text, 'r1', TWO_WORKERS, false);
  check(t, 'private, per domain', privateServerAuthorization('r2', perDomain, false).text, 'r2', TWO_WORKERS, false);
  check(t, 'private, external', privateServerAuthorization('r3', perActor, true).text, 'r3', TWO_WORKERS, true);
  t.deepEqual(
    users(privateServerAuthorization('r2', perDomain, false).text).map((u) => u.user),
    ['controller', 'sn-dom0', 'sn-vm-0', 'sn-vm-1', 'sn-vm-2'],
  );
});

test("security doc - a multi-host run's private server gives each credential exactly what the table's host rows say: per actor and per domain", (t) => {
  const s = compileScenarioText(
    'hosts: 2\ntopology: { vms: { count: 2 }, workers: 2 }\ntraffic:\n  - { from: h1.vm.0, to: h0.vm.1, protocol: udp, rate: 1Gbps }\n',
    '<test>',
    { overrides: ['runtime=live'] },
  );
  const perActor = processIdsOf(liveGraphOf(s), 'per-actor');
  const perDomain = processIdsOf(liveGraphOf(s), 'per-domain');
  check(t, 'hosts, per actor', privateServerAuthorization('r4', perActor, false).text, 'r4', TWO_WORKERS, false, 'hosts');
  check(t, 'hosts, per domain', privateServerAuthorization('r5', perDomain, false).text, 'r5', TWO_WORKERS, false, 'hosts');
  t.deepEqual(
    users(privateServerAuthorization('r5', perDomain, false).text).map((u) => u.user),
    ['controller', 'sn-h0-dom0', 'sn-h0-vm-0', 'sn-h0-vm-1', 'sn-h1-dom0', 'sn-h1-vm-0', 'sn-h1-vm-1', 'sn-switch'],
  );
});

test("security doc - a multi-host lockstep run's private server gives each credential exactly what the table's partition rows say: one user per host, the switch with h0", (t) => {
  const s = compileScenarioText(
    'hosts: 3\ntopology: { vms: { count: 2 }, workers: 2 }\ntraffic:\n  - { from: h1.vm.0, to: h0.vm.1, protocol: udp, rate: 1Gbps }\n',
    '<test>',
    { overrides: ['runtime=lockstep'] },
  );
  const partitions = lockstepPlan(s).partitions.map((p) => p.ids);
  const conf = privateServerAuthorization('r6', partitions, false).text;
  check(t, 'lockstep hosts', conf, 'r6', { workers: ['0', '1'], vms: ['0', '1'] }, false, 'partitions');
  t.deepEqual(
    users(conf).map((u) => u.user),
    ['controller', 'sn-h0', 'sn-h1', 'sn-h2'],
  );
});
