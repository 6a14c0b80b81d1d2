// Tests for a sweep's report: sweep directories made by running the sim for each point, in `splitnet sweep`'s format.
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildReport, loadSweep, sweepPoints } from '../src/index.js';
import { BASE, tmp, writeSweep } from './fixtures.js';

test('sweep report - size × workers: the study plots, error bars from repetitions, every plot with data', (t) => {
  const dir = tmp();
  writeSweep(
    dir,
    [
      { path: 'traffic.0.size', values: [64, 1518] },
      { path: 'topology.workers', values: [1, 2] },
    ],
    2,
  );
  const data = loadSweep(dir);
  const points = sweepPoints(data);
  t.is(points.length, 4);
  t.true(points.every((p) => p.rows.length === 2));
  const r = buildReport(dir);
  t.is(r.kind, 'sweep');
  const titles = r.figures.map((f) => f.title);
  t.true(titles.includes('Throughput vs packet size'));
  t.true(titles.includes('vRSS scaling: throughput vs netback workers'));
  for (const f of r.figures) t.true(f.points > 0, f.id);
  const size = r.figures.find((f) => f.title === 'Throughput vs packet size');
  // Two series (workers=1, workers=2) of two sizes each, plus the line-rate reference.
  t.true(size?.svg.includes('data-series="workers=1"') && size.svg.includes('data-series="workers=2"'));
  t.true(size?.svg.includes('data-series="line rate"'));
  t.true(size?.svg.includes('>packet size (bytes)<'));
  t.regex(size?.svg ?? '', / ± /, 'different seeds give different results: error bars are drawn');
  t.true(r.html.includes('± one sample standard deviation across the 2 repetitions'));
  t.true(r.html.includes('runs/p000-r0/scenario.resolved.yaml'), 'the scenario of the first run is on the page');
  const ids = r.figures.map((f) => f.id);
  t.is(new Set(ids).size, ids.length, 'figure ids are unique (they name the .svg files)');
  t.true(r.omitted.some((o) => /dropped/.test(o.reason)) || r.figures.some((f) => f.id.includes('drops')));
});

test('sweep report - a categorical coalescing axis gives grouped bars per policy', (t) => {
  const dir = tmp();
  writeSweep(
    dir,
    [
      { path: 'coalescing.frontend.policy', values: ['none', 'aic'] },
      { path: 'topology.workers', values: [1, 2] },
    ],
    1,
  );
  const r = buildReport(dir, { errorBars: 'ci95' });
  const virq = r.figures.find((f) => f.id === 'sweep-virq-per-coalescing');
  t.truthy(virq);
  t.is(virq?.title, 'Virtual interrupts per coalescing policy and placement');
  t.is((virq?.svg.match(/data-mark="bar"/g) ?? []).length, 4, '2 policies × 2 worker counts');
  t.true(r.figures.some((f) => f.id === 'sweep-latency-per-coalescing'));
  t.true(r.figures.some((f) => f.id === 'sweep-dom0-cpu-per-coalescing'));
  t.true(r.html.includes('One repetition per point: no error bars.'));
});

test('sweep report - a table that lacks an axis column is a clear error', (t) => {
  const dir = tmp();
  writeSweep(dir, [{ path: 'topology.workers', values: [1, 2] }], 1);
  writeFileSync(join(dir, 'table.json'), JSON.stringify([{ run: 'p000-r0', point: 0 }]));
  t.throws(() => buildReport(dir), { message: /table\.json: row 0 \(p000-r0\): no column for axis topology\.workers/ });
  writeFileSync(join(dir, 'sweep.json'), JSON.stringify({ name: 'x', axes: [{ path: 3 }] }));
  t.throws(() => buildReport(dir), { message: /sweep\.json: axes\[0\]: expected \{ path: string, values: \[\.\.\.\] \}/ });
});

test('sweep report - a vRSS mode axis gets throughput and CPU-per-packet bars per mode, once each', (t) => {
  const dir = tmp();
  // Two single-queue VMs on one worker: a base every netback threading mode accepts.
  const base = BASE.replace('{ count: 1, queues: 2 }, workers: 2', '{ count: 2, queues: 1 }, workers: 1');
  t.not(base, BASE);
  writeSweep(dir, [{ path: 'topology.vrss', values: ['single', 'per-vif', 'per-flow'] }], 1, base);
  const r = buildReport(dir);
  const titles = r.figures.map((f) => f.title);
  t.true(titles.includes('Throughput per netback threading mode'));
  t.is(titles.filter((x) => x.startsWith('Driver-domain CPU per delivered packet')).length, 1);
  const tp = r.figures.find((f) => f.title === 'Throughput per netback threading mode');
  t.is((tp?.svg.match(/data-mark="bar"/g) ?? []).length, 3);
  for (const mode of ['single', 'per-vif', 'per-flow']) t.true(tp?.svg.includes(`>${mode}<`), mode);
});
