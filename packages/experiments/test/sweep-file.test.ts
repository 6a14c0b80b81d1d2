// Sweep files: axes, ranges, zip groups, derived seeds, and located errors for every kind of mistake.
import test from 'ava';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SplitnetError } from '@splitnet/model';
import { expandPoints, loadSweepFile, parseSweepText, planSweep, runSeed, sweepJson } from '../src/index.js';

const BASE = `name: small
duration: 4ms
topology: { vms: { count: 1, queues: 2 }, workers: 2 }
traffic: [ { flows: 8, rate: 2Gbps, size: 1518, pattern: poisson } ]
`;

/** A directory holding base.yaml; returns the path a sweep file in it would have. */
function sweepPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'splitnet-sweep-'));
  writeFileSync(join(dir, 'base.yaml'), BASE);
  return join(dir, 'sweep.yaml');
}

function errorOf(t: import('ava').ExecutionContext, text: string, plan = false): string {
  const file = sweepPath();
  const err = t.throws(() => {
    const def = parseSweepText(text, file);
    if (plan) planSweep(def);
  });
  if (!(err instanceof SplitnetError)) {
    t.fail(`expected a SplitnetError, got ${String(err)}`);
    return '';
  }
  t.is(err.code, 'E_SCENARIO');
  t.false(err.message.includes('\n'), 'one line');
  // Messages start with the file's path; tests compare what follows it.
  return err.message.replace(file, 'sweep.yaml').replace(join(file, '..', 'base.yaml'), 'base.yaml');
}

test('sweep file - product of axes, last axis fastest, zip members advance together', (t) => {
  const def = parseSweepText(
    `base: base.yaml
repetitions: 2
axes:
  - path: topology.workers
    values: [1, 2]
  - zip:
      - path: traffic[0].rate
        values: [1Gbps, 2Gbps, 3Gbps]
      - path: traffic.0.flows
        values: [4, 8, 16]
`,
    sweepPath(),
  );
  t.deepEqual(
    def.groups.flat().map((a) => a.path),
    ['topology.workers', 'traffic.0.rate', 'traffic.0.flows'],
  );
  const points = expandPoints(def);
  t.is(points.length, 6);
  t.deepEqual(points[0]?.values.map((v) => v.value), [1, '1Gbps', 4]);
  t.deepEqual(points[1]?.values.map((v) => v.value), [1, '2Gbps', 8]);
  t.deepEqual(points[3]?.values.map((v) => v.value), [2, '1Gbps', 4]);
  const plan = planSweep(def);
  t.deepEqual(plan.runs.map((r) => r.run).slice(0, 3), ['p000-r0', 'p000-r1', 'p001-r0']);
  t.is(plan.runs.length, 12);
  // sweep.json keeps the zip: its members name their item of `axes:`, a free axis has no `zip`. The rates
  // have a unit: their numbers (bit/s) are in a column of their own, which sweep.json names.
  t.deepEqual(sweepJson(plan)['axes'], [
    { path: 'topology.workers', values: [1, 2] },
    { path: 'traffic.0.rate', values: ['1Gbps', '2Gbps', '3Gbps'], zip: 1, numeric: { column: 'traffic.0.rate_bps', unit: 'bit/s' } },
    { path: 'traffic.0.flows', values: [4, 8, 16], zip: 1 },
  ]);
});

test('sweep file - ranges by step (up or down) and by factor, with tidy decimals', (t) => {
  const values = (range: string) =>
    parseSweepText(`base: base.yaml\naxes:\n  - path: traffic.0.size\n    values: ${range}\n`, sweepPath()).groups[0]?.[0]?.values.map((v) => v.value);
  t.deepEqual(values('{ from: 64, to: 1518, step: 512 }'), [64, 576, 1088]);
  t.deepEqual(values('{ from: 0.1, to: 0.5, step: 0.1 }'), [0.1, 0.2, 0.3, 0.4, 0.5]);
  t.deepEqual(values('{ from: 8, to: 2, step: -3 }'), [8, 5, 2]);
  t.deepEqual(values('{ from: 1, to: 16, times: 2 }'), [1, 2, 4, 8, 16]);
  t.deepEqual(values('{ from: 100, to: 1, times: 0.1 }'), [100, 10, 1]);
});

test('sweep file - derived seeds depend on base seed, point and repetition, and nothing else', (t) => {
  const plan = planSweep(parseSweepText(`base: base.yaml\nseed: 7\nrepetitions: 3\naxes:\n  - path: topology.workers\n    values: [1, 2]\n`, sweepPath()));
  t.is(plan.baseSeed, 7);
  const seeds = plan.runs.map((r) => r.seed);
  t.is(new Set(seeds).size, seeds.length, 'every run has its own seed');
  t.deepEqual(
    plan.runs.map((r) => r.seed),
    plan.runs.map((r) => runSeed(7, r.point, r.rep)),
  );
  t.not(runSeed(7, 0, 0), runSeed(8, 0, 0));
  // Without `seed:`, the base scenario's seed (1 by default) is the base seed.
  t.is(planSweep(parseSweepText(`base: base.yaml\naxes:\n  - path: topology.workers\n    values: [1]\n`, sweepPath())).baseSeed, 1);
  // The resolved scenario of each run carries its seed.
  t.is(plan.resolved.get('p001-r2')?.['seed'], runSeed(7, 1, 2));
});

test('sweep file - inline base scenario and set values', (t) => {
  const plan = planSweep(
    parseSweepText(
      `base:
  duration: 2ms
  topology: { workers: 2, vms: { queues: 2 } }
set:
  traffic.0.rate: 1Gbps
axes:
  - path: topology.workers
    values: [1, 2]
`,
      sweepPath(),
    ),
  );
  t.is(plan.points.length, 2);
  const resolved = plan.resolved.get('p000-r0') as { duration: string; traffic: { rate: string }[]; topology: { workers: number } };
  t.is(resolved.duration, '2ms');
  t.is(resolved.traffic[0]?.rate, '1Gbps');
  t.is(resolved.topology.workers, 1);
});

test('sweep file - a bad axis path is reported at the path, naming the scenario key', (t) => {
  t.is(
    errorOf(t, `base: base.yaml\naxes:\n  - path: topology.wrkers\n    values: [1, 2]\n`, true),
    'sweep.yaml:3:11: topology: unknown key "wrkers" (expected one of: link, nicQueues, nicRingSize, vms, workers, vrss, steering, toeplitz, rss, dom0; did you mean "workers"?) (in point 000: topology.wrkers=1)',
  );
  t.is(errorOf(t, `base: base.yaml\naxes:\n  - path: "topology..workers"\n    values: [1]\n`), 'sweep.yaml:3:11: axes[0].path: expected a scenario path such as topology.workers or traffic.0.rate, found "topology..workers"');
  t.is(
    errorOf(t, `base: base.yaml\naxes:\n  - path: seed\n    values: [1]\n`),
    'sweep.yaml:3:11: axes[0].path: a sweep cannot set seed: each run gets a seed derived from the sweep seed, its point and repetition; vary it with repetitions',
  );
});

test('sweep file - a bad value is reported where it is written, with its point', (t) => {
  t.is(
    errorOf(t, `base: base.yaml\naxes:\n  - path: topology.workers\n    values: [1, 0]\n  - path: traffic.0.rate\n    values: [1Gbps]\n`, true),
    'sweep.yaml:4:17: topology.workers: expected an integer from 1 to 64, found 0 (in point 001: topology.workers=0, traffic.0.rate=1Gbps)',
  );
  // A combination the base file forbids: located in the base, naming the sweep value that caused it.
  t.is(
    errorOf(t, `base: base.yaml\naxes:\n  - path: topology.vrss\n    values: [per-flow, single]\n`, true),
    'base.yaml:3:52: topology.workers: expected 1 when topology.vrss is "single" (one netback thread serves every queue), found 2 (with sweep.yaml:4:24) (in point 001: topology.vrss=single)',
  );
  t.is(
    errorOf(t, `base: base.yaml\naxes:\n  - path: runtime\n    values: [live]\n`),
    'sweep.yaml:3:11: axes[0].path: a sweep cannot set runtime: sweeps run in the sim runtime',
  );
});

test('sweep file - missing or unreadable base, and structural mistakes', (t) => {
  t.is(errorOf(t, `axes:\n  - path: topology.workers\n    values: [1]\n`), 'sweep.yaml:1:1: base: expected a scenario file path (relative to the sweep file) or an inline scenario map, found nothing');
  t.regex(errorOf(t, `base: nope.yaml\naxes:\n  - path: topology.workers\n    values: [1]\n`), /^sweep\.yaml:1:7: base: no such scenario file: .*nope\.yaml \(a relative path is read from the sweep file's directory\)$/);
  t.is(errorOf(t, `base: base.yaml\naxes: []\n`), 'sweep.yaml:2:7: axes: expected a list of axes ({ path, values } or { zip: [ … ] }), found an empty list');
  t.is(errorOf(t, `base: base.yaml\nrepetitions: 0\naxes:\n  - path: topology.workers\n    values: [1]\n`), 'sweep.yaml:2:14: repetitions: expected an integer from 1 to 1000, found 0');
  t.is(errorOf(t, `base: base.yaml\naxes:\n  - path: topology.workers\n    valeus: [1]\n`), 'sweep.yaml:4:5: axes[0]: unknown key "valeus" (expected one of: path, values)');
  t.is(errorOf(t, `base: base.yaml\naxes:\n  - path: topology.workers\n    values: { from: 1, to: 4 }\n`), 'sweep.yaml:4:13: axes[0].values: expected exactly one of step (from, from + step, …) or times (from, from × times, …), found neither');
  t.is(errorOf(t, `base: base.yaml\naxes:\n  - path: topology.workers\n    values: { from: 1, to: 4, step: -1 }\n`), 'sweep.yaml:4:37: axes[0].values.step: expected a step that goes from 1 towards 4, found -1');
  t.is(
    errorOf(t, `base: base.yaml\naxes:\n  - path: topology.workers\n    values: [1]\n  - path: topology.workers\n    values: [2]\n`),
    'sweep.yaml:5:11: axes[1].path: topology.workers is already an axis (at axes[0]); give each scenario path one axis',
  );
  t.is(
    errorOf(t, `base: base.yaml\naxes:\n  - zip:\n      - path: topology.workers\n        values: [1, 2]\n      - path: traffic.0.flows\n        values: [4]\n`),
    'sweep.yaml:7:17: axes[0].zip[1].values: expected 2 values, as many as the first axis of this zip (topology.workers), found 1',
  );
});

test('sweep file - appending values to the first axis or adding repetitions keeps every existing run; other axis changes renumber', (t) => {
  const plan = (workers: string, rates: string, reps: number) =>
    planSweep(parseSweepText(`base: base.yaml\nrepetitions: ${reps}\naxes:\n  - path: topology.workers\n    values: ${workers}\n  - path: traffic.0.rate\n    values: ${rates}\n`, sweepPath()));
  const before = plan('[1, 2]', '[1Gbps, 2Gbps]', 2);
  const same = (after: ReturnType<typeof plan>) => before.runs.every((r) => JSON.stringify(after.resolved.get(r.run)) === JSON.stringify(before.resolved.get(r.run)));
  t.true(same(plan('[1, 2, 3]', '[1Gbps, 2Gbps]', 2)));
  t.true(same(plan('[1, 2]', '[1Gbps, 2Gbps]', 3)));
  t.false(same(plan('[1, 2]', '[1Gbps, 2Gbps, 3Gbps]', 2)));
});

test('sweep file - every sweep of experiments/paper/ plans (every point compiles)', (t) => {
  const paper = fileURLToPath(new URL('../../../../experiments/paper/', import.meta.url));
  const files = readdirSync(paper).filter((f) => f.endsWith('.yaml'));
  t.true(files.length >= 7, files.join(' '));
  for (const f of files) {
    const plan = planSweep(loadSweepFile(join(paper, f)));
    t.true(plan.runs.length > 1, f);
    t.is(plan.definition.name, f.replace(/\.yaml$/, ''), `${f}: the sweep is named like its file`);
  }
});

test('sweep file - an absolute base path is read as it is, not from the sweep file\'s directory', (t) => {
  const elsewhere = join(mkdtempSync(join(tmpdir(), 'splitnet-sweep-base-')), 'base.yaml');
  writeFileSync(elsewhere, 'name: elsewhere\nduration: 2ms\n');
  const def = parseSweepText(`base: ${elsewhere}\naxes:\n  - path: topology.workers\n    values: [1]\n`, sweepPath());
  t.deepEqual(def.base, { kind: 'file', path: elsewhere });
  t.is(errorOf(t, `base: ${elsewhere}.missing\naxes:\n  - path: topology.workers\n    values: [1]\n`), `sweep.yaml:1:7: base: no such scenario file: ${elsewhere}.missing`);
});

test('sweep file - the seed follows the scenario\'s rule: a whole number from 0 to 2^32 − 1', (t) => {
  t.is(parseSweepText(`base: base.yaml\nseed: 4294967295\naxes:\n  - path: topology.workers\n    values: [1]\n`, sweepPath()).seed, 4294967295);
  t.is(errorOf(t, `base: base.yaml\nseed: 4294967296\naxes:\n  - path: topology.workers\n    values: [1]\n`), 'sweep.yaml:2:7: seed: expected a whole number from 0 to 4294967295, found 4294967296');
  t.is(errorOf(t, `base: base.yaml\nseed: -1\naxes:\n  - path: topology.workers\n    values: [1]\n`), 'sweep.yaml:2:7: seed: expected a whole number from 0 to 4294967295, found -1');
});
