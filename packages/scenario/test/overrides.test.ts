// --set, --seed and --duration change the parsed scenario before validation; their mistakes name the flag.
import test from 'ava';
import { compile, errorOf } from './helpers.js';

const BASE = 'topology:\n  vms: { count: 2, queues: 2 }\n  workers: 2\ntraffic:\n  - name: bulk\n    rate: 8Gbps\n';

test('overrides - a scalar replaces a value', (t) => {
  const s = compile(BASE, { overrides: ['topology.workers=4'] });
  t.is(s.topology.workers, 4);
  t.is((s.resolved['topology'] as { workers: number }).workers, 4);
});

test('overrides - list items by index, dotted or bracketed', (t) => {
  const dotted = compile(BASE, { overrides: ['traffic.0.rate=5Gbps'] });
  const bracketed = compile(BASE, { overrides: ['traffic[0].rate=5Gbps'] });
  t.is(dotted.traffic.generators[0]?.pps, 5e9 / (1538 * 8));
  t.deepEqual(bracketed.traffic, dotted.traffic);
});

test('overrides - a flow map value sets a whole policy', (t) => {
  const s = compile(BASE, { overrides: ['coalescing.frontend={policy: static, usecs: 50}'] });
  t.deepEqual(s.coalescing.frontend, { kind: 'static', usecs: 50, frames: 0 });
});

test('overrides - missing maps on the way are created', (t) => {
  const s = compile('', { overrides: ['topology.vms.count=3', 'costs.override.worker.perPacket=900'] });
  t.is(s.topology.vms.length, 3);
  t.is(s.costs.worker.perPacket, 900);
  t.is(s.costs.worker.perByte, 1);
});

test('overrides - index 0 of a missing list creates the first item, one past the end appends', (t) => {
  const created = compile('', { overrides: ['traffic.0.rate=1Mpps'] });
  t.is(created.traffic.generators.length, 1);
  t.is(created.traffic.generators[0]?.pps, 1e6);
  const appended = compile(BASE, { overrides: ['traffic.1.rate=1Mpps'] });
  t.deepEqual(
    appended.traffic.generators.map((g) => g.name),
    ['bulk', 'gen1'],
  );
});

test('overrides - later overrides win, and --seed / --duration win over --set', (t) => {
  const s = compile(BASE, { overrides: ['seed=5', 'seed=6', 'duration=10ms'], seed: 7, duration: '20ms' });
  t.is(s.seed, 7);
  t.is(s.duration, 20_000_000);
  t.is(s.warmup, 2_000_000, 'the warm-up default follows the new duration');
});

test('overrides - the file is not changed in place: each compile starts from the text', (t) => {
  compile(BASE, { overrides: ['topology.workers=4'] });
  t.is(compile(BASE).topology.workers, 2);
});

test('overrides - an unknown key names the override', (t) => {
  t.is(
    errorOf(t, BASE, { overrides: ['topology.wrkers=2'] }),
    '--set topology.wrkers=2: topology: unknown key "wrkers" (expected one of: link, nicQueues, nicRingSize, vms, workers, vrss, steering, toeplitz, rss, dom0; did you mean "workers"?)',
  );
});

test('overrides - a bad value names the override', (t) => {
  t.is(
    errorOf(t, BASE, { overrides: ['traffic.0.rate=fast'] }),
    '--set traffic.0.rate=fast: traffic[0].rate: expected a rate such as 10Gbps, 500Mbps or 1.5Mpps, found "fast"',
  );
  t.is(errorOf(t, BASE, { seed: -1 }), '--seed -1: seed: expected an integer from 0 to 4294967295, found -1');
  t.is(errorOf(t, BASE, { duration: '5' }), '--duration 5: duration: expected a duration with a unit (ns, us, ms, s) such as 50ms, found "5"');
});

test("overrides - a problem inside a map the override created is the override's", (t) => {
  t.is(
    errorOf(t, BASE, { overrides: ['coalescing.frontend.usecs=50'] }),
    '--set coalescing.frontend.usecs=50: coalescing.frontend.policy: expected one of "none", "static", "adaptive-itr", "aic" or "vic", found nothing',
  );
});

test('overrides - a cross-field rule broken by an override says which', (t) => {
  t.is(
    errorOf(t, BASE, { overrides: ['topology.vrss=single'] }),
    's.yaml:3:12: topology.workers: expected 1 when topology.vrss is "single" (one netback thread serves every queue), found 2 (with --set topology.vrss=single)',
  );
  t.is(
    errorOf(t, 'warmup: 20ms\n', { duration: '10ms' }),
    's.yaml:1:9: warmup: expected a warm-up shorter than the duration (10ms), found "20ms" (with --duration 10ms)',
  );
  t.is(
    errorOf(t, BASE, { overrides: ['topology.vms.count=1', 'traffic.0.vms=[1]'] }),
    '--set traffic.0.vms=[1]: traffic[0].vms[0]: expected a VM index from 0 to 0 (topology.vms.count is 1), found 1',
  );
});

test('overrides - malformed --set is a usage error', (t) => {
  t.is(errorOf(t, BASE, { overrides: ['topology.workers'] }, 'E_USAGE'), '--set topology.workers: expected path=value, e.g. --set topology.workers=2');
  t.is(
    errorOf(t, BASE, { overrides: ['topology..workers=2'] }, 'E_USAGE'),
    '--set topology..workers=2: expected a dotted path such as topology.vms.count or traffic.0.rate before "="',
  );
  t.is(
    errorOf(t, BASE, { overrides: ['coalescing.frontend={policy: static'] }, 'E_USAGE'),
    '--set coalescing.frontend={policy: static: the value is not valid YAML: Flow map must end with a }',
  );
});

test('overrides - paths that cannot be followed are usage errors', (t) => {
  t.is(
    errorOf(t, 'coalescing: { frontend: none }\n', { overrides: ['coalescing.frontend.usecs=50'] }, 'E_USAGE'),
    '--set coalescing.frontend.usecs=50: coalescing.frontend is "none", not a map; set it as a whole instead',
  );
  t.is(errorOf(t, BASE, { overrides: ['traffic.5.rate=1Gbps'] }, 'E_USAGE'), '--set traffic.5.rate=1Gbps: traffic has 1 item; use an index from 0 to 1');
  t.is(
    errorOf(t, BASE, { overrides: ['traffic.rate=1Gbps'] }, 'E_USAGE'),
    '--set traffic.rate=1Gbps: traffic is a list; index it with a number, e.g. traffic.0.rate',
  );
});

test('overrides - values set by a tool are named by their label, an unknown key in their path by the path label', (t) => {
  const value = { label: 'sweep.yaml:9:17', pathLabel: 'sweep.yaml:8:11', path: ['topology', 'workers'], value: 0 };
  t.is(compile(BASE, { values: [{ ...value, value: 3 }] }).topology.workers, 3);
  t.is(errorOf(t, BASE, { values: [value] }), 'sweep.yaml:9:17: topology.workers: expected an integer from 1 to 64, found 0');
  t.is(
    errorOf(t, BASE, { values: [{ ...value, path: ['topology', 'wrkers'], value: 2 }] }),
    'sweep.yaml:8:11: topology: unknown key "wrkers" (expected one of: link, nicQueues, nicRingSize, vms, workers, vrss, steering, toeplitz, rss, dom0; did you mean "workers"?)',
  );
  // --seed still wins over a tool's value.
  t.is(compile(BASE, { values: [{ label: 'x', path: ['seed'], value: 5 }], seed: 9 }).seed, 9);
});

test('overrides - a scenario inside another document (within) is located in that document', (t) => {
  const text = 'name: outer\nbase:\n  topology:\n    workers: 70\n';
  t.is(errorOf(t, text, { within: ['base'] }), 's.yaml:4:14: topology.workers: expected an integer from 1 to 64, found 70');
  t.is(compile('base:\n  topology: { workers: 3, vms: { queues: 3 } }\n', { within: ['base'] }).topology.workers, 3);
});
