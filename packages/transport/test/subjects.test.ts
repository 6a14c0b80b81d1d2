// Tests for the subject builder: shapes, id validation, run ids, and isolation between runs.
import test from 'ava';
import { SplitnetError } from '@splitnet/model';
import { RUN_ID_MAX_LENGTH, Subjects, isValidActorId, isValidRunId, newRunId } from '../src/subjects.js';

/** NATS subject matching: `*` matches one token, a final `>` one or more. */
function natsMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    const tok = p[i];
    if (tok === '>') return i === p.length - 1 && s.length > i;
    if (i >= s.length) return false;
    if (tok !== '*' && tok !== s[i]) return false;
  }
  return p.length === s.length;
}

const ACTORS = ['nic', 'backend', 'controller', 'worker.0', 'worker.3', 'worker.12', 'vm.0', 'vm.7'];

function concrete(s: Subjects): string[] {
  const out = [s.join(), s.claim()];
  for (const a of ACTORS) {
    out.push(s.control(a), s.hello(a), s.stats(a), s.heartbeat(a));
    for (const b of ACTORS) if (a !== b) out.push(s.data(a, b));
  }
  return out;
}

function wildcards(s: Subjects): string[] {
  return [s.runWildcard(), s.statsAll(), s.heartbeatAll(), s.helloAll(), ...ACTORS.map((a) => s.dataInbox(a))];
}

test('subjects - the matcher used here follows NATS rules', (t) => {
  t.true(natsMatches('sn.a.>', 'sn.a.worker.3.in'));
  t.false(natsMatches('sn.a.>', 'sn.a'));
  t.true(natsMatches('sn.*.hello', 'sn.x.hello'));
  t.false(natsMatches('sn.*.hello', 'sn.x.y.hello'));
  t.false(natsMatches('sn.a.>', 'sn.ab.nic.in'));
});

test('subjects - every builder gives its documented shape', (t) => {
  const s = new Subjects('run-1');
  t.is(s.runId, 'run-1');
  t.is(s.prefix, 'sn.run-1');
  t.is(s.data('worker.3', 'backend'), 'sn.run-1.worker.3.from.backend');
  t.is(s.data('vm.0', 'worker.12'), 'sn.run-1.vm.0.from.worker.12');
  t.is(s.dataInbox('worker.3'), 'sn.run-1.worker.3.from.>');
  t.is(s.control('vm.7'), 'sn.run-1.ctl.vm.7');
  t.is(s.hello('nic'), 'sn.run-1.hello.nic');
  t.is(s.helloAll(), 'sn.run-1.hello.>');
  t.is(s.join(), 'sn.run-1.join');
  t.is(s.claim(), 'sn.run-1.run');
  t.is(s.stats('backend'), 'sn.run-1.stats.backend');
  t.is(s.statsAll(), 'sn.run-1.stats.>');
  t.is(s.heartbeat('controller'), 'sn.run-1.hb.controller');
  t.is(s.heartbeatAll(), 'sn.run-1.hb.>');
  t.is(s.runWildcard(), 'sn.run-1.>');
});

test('subjects - run ids are single subject tokens of bounded length', (t) => {
  for (const ok of ['a', 'A-b_9', 'x'.repeat(RUN_ID_MAX_LENGTH)]) {
    t.true(Subjects.validRunId(ok), ok);
    t.notThrows(() => new Subjects(ok));
  }
  for (const bad of ['', 'a.b', 'a*', 'a>', '>', 'a b', 'tab\t', 'ä', 'x'.repeat(RUN_ID_MAX_LENGTH + 1)]) {
    t.false(Subjects.validRunId(bad), JSON.stringify(bad));
    const e = t.throws(() => new Subjects(bad), { instanceOf: SplitnetError });
    t.is(e?.code, 'E_USAGE');
  }
  t.false(isValidRunId(42));
  t.false(isValidRunId(undefined));
});

test('subjects - actor ids are the roles, with canonical indices', (t) => {
  for (const ok of ACTORS) t.true(isValidActorId(ok), ok);
  t.true(Subjects.validActorId('worker.4294967295'));
  // A multi-host run's (lockstep per host): host-prefixed ids and the switch.
  for (const ok of ['h0.nic', 'h1.backend', 'h12.worker.3', 'h3.vm.0', 'switch']) t.true(isValidActorId(ok), ok);
  const bad = [
    '',
    'h01.nic',
    'h1.switch',
    'h1.controller',
    'h.nic',
    'h1.h2.nic',
    'worker',
    'worker.',
    'worker.03',
    'worker.-1',
    'worker.*',
    'worker.>',
    'vm.1.2',
    'vm.x',
    'nic.0',
    'ctl',
    'all',
    'hello',
    'frontend',
    'Nic',
    'worker 1',
  ];
  const s = new Subjects('r');
  for (const b of bad) {
    t.false(isValidActorId(b), JSON.stringify(b));
    for (const build of [
      () => s.data(b, 'nic'),
      () => s.data('nic', b),
      () => s.dataInbox(b),
      () => s.control(b),
      () => s.hello(b),
      () => s.stats(b),
      () => s.heartbeat(b),
    ]) {
      const e = t.throws(build, { instanceOf: SplitnetError });
      t.is(e?.code, 'E_USAGE');
    }
  }
  t.false(isValidActorId(3));
});

test('subjects - within a run, every subject is distinct and the families do not overlap', (t) => {
  const s = new Subjects('r');
  const all = concrete(s);
  t.is(new Set(all).size, all.length);
  for (const subject of all) {
    t.true(natsMatches(s.runWildcard(), subject), subject);
    t.is(natsMatches(s.statsAll(), subject), subject.startsWith('sn.r.stats.'), subject);
    t.is(natsMatches(s.heartbeatAll(), subject), subject.startsWith('sn.r.hb.'), subject);
    t.is(natsMatches(s.helloAll(), subject), subject.startsWith('sn.r.hello.'), subject);
    // An actor's data inbox holds exactly what is sent to it, and the receiver reads the sender back.
    for (const to of ACTORS) {
      const from = s.senderOf(to, subject);
      t.is(natsMatches(s.dataInbox(to), subject), from !== undefined, `${to}: ${subject}`);
      if (from !== undefined) t.is(s.data(to, from), subject);
    }
  }
});

test('subjects - senderOf names no sender for a subject that is not a data subject of that receiver', (t) => {
  const s = new Subjects('r');
  for (const subject of [
    'sn.r.worker.0.from.bogus',
    'sn.r.worker.0.from.worker.03',
    'sn.r.worker.0.from',
    'sn.r.worker.1.from.nic',
    'sn.q.worker.0.from.nic',
    'sn.r.worker.0.from.nic.x',
  ]) {
    t.is(s.senderOf('worker.0', subject), undefined, subject);
  }
  t.is(s.senderOf('worker.0', 'sn.r.worker.0.from.backend'), 'backend');
});

test("subjects - permission patterns have the subjects' shapes, for any run and a role's every actor", (t) => {
  const any = Subjects.patterns('*');
  t.is(any.data('worker.*', 'backend'), 'sn.*.worker.*.from.backend');
  t.is(any.data('vm.*', 'worker.3'), 'sn.*.vm.*.from.worker.3');
  t.is(any.dataInbox('vm.2'), 'sn.*.vm.2.from.>');
  t.is(Subjects.patterns('r').control('worker.*'), 'sn.r.ctl.worker.*');
  t.true(natsMatches(any.data('worker.*', 'backend'), new Subjects('x').data('worker.7', 'backend')));
  t.false(natsMatches(any.data('worker.*', 'backend'), new Subjects('x').data('worker.7', 'vm.0')));
  // Only patterns may hold wildcards, and only where a run id or an actor index goes.
  for (const bad of [() => new Subjects('*'), () => new Subjects('r').data('worker.*', 'nic'), () => any.data('worker.>', 'nic'), () => any.data('*', 'nic')]) {
    t.is(t.throws(bad, { instanceOf: SplitnetError })?.code, 'E_USAGE');
  }
});

test('subjects - two run ids never share a subject', (t) => {
  // Prefixes of one another, case variants, and ids equal to other subject tokens.
  const runs = ['a', 'ab', 'a-b', 'a_b', 'A', 'b', 'abc', 'sn', 'ctl', 'stats', 'hb', 'nic'].map((r) => new Subjects(r));
  for (const a of runs) {
    for (const b of runs) {
      if (a === b) continue;
      for (const subject of concrete(a)) {
        for (const w of wildcards(b)) t.false(natsMatches(w, subject), `${w} must not match ${subject}`);
        t.false(concrete(b).includes(subject), subject);
      }
    }
  }
  t.false(natsMatches(new Subjects('a').runWildcard(), new Subjects('ab').data('nic', 'backend')));
});

test('subjects - newRunId makes a valid, deterministic id from a prefix and a number', (t) => {
  t.is(newRunId('quickstart', 0), 'quickstart-0');
  t.is(newRunId('quickstart', 35), 'quickstart-z');
  t.is(newRunId('my scenario.yaml', 1234), newRunId('my scenario.yaml', 1234));
  t.is(newRunId('my scenario.yaml', 1234), `my-scenario-yaml-${(1234).toString(36)}`);
  t.not(newRunId('x', 1), newRunId('x', 2));
  t.is(newRunId('', 5), 'run-5');
  t.is(newRunId('...', 5), 'run-5');
  const long = newRunId('p'.repeat(500), Number.MAX_SAFE_INTEGER);
  t.true(Subjects.validRunId(long));
  t.true(long.length <= RUN_ID_MAX_LENGTH);
  t.true(long.endsWith(`-${Number.MAX_SAFE_INTEGER.toString(36)}`));
  for (const prefix of ['a.b', 'x>y', 'sp ace', 'ünï', '*']) t.true(Subjects.validRunId(newRunId(prefix, 99)), prefix);
  for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
    const e = t.throws(() => newRunId('x', bad), { instanceOf: SplitnetError });
    t.is(e?.code, 'E_USAGE');
  }
});
