// Tests for a sweep's report: sweep directories made by running the sim for each point, in `splitnet sweep`'s format.
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { axisGroups, buildReport, loadSweep, sweepPoints, valueLabel } from '../src/index.js';
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

test('sweep report - a zip with a numeric key is one x axis: workers zipped with queues are lines over workers, not a series per queue count', (t) => {
  const dir = tmp();
  writeSweep(
    dir,
    [
      { path: 'topology.link', values: ['10Gbps', '40Gbps'] },
      { path: 'topology.workers', values: [1, 2], zip: 1 },
      { path: 'topology.vms.queues', values: [1, 2], zip: 1 },
    ],
    1,
  );
  const data = loadSweep(dir);
  t.is(sweepPoints(data).length, 4, '2 links × 2 zip positions, not 2 × 2 × 2');
  t.deepEqual(axisGroups(data.sweep.axes).map((g) => g.key?.path), ['topology.link', 'topology.workers']);
  const r = buildReport(dir);
  const scaling = r.figures.find((f) => f.title === 'vRSS scaling: throughput vs netback workers');
  t.truthy(scaling);
  // One series per link, each with both worker counts: the zipped queue count does not split the series.
  t.deepEqual([...(scaling?.svg.matchAll(/data-series="([^"]+)"/g) ?? [])].map((m) => m[1]), ['link=10Gbps', 'link=40Gbps']);
  t.is((scaling?.svg.match(/data-mark="point"/g) ?? []).length, 4);
  t.true(scaling?.svg.includes('>netback workers (vRSS) (with queues per VM)<'));
  // Per-axis plots are per group: none against the zipped member on its own.
  t.false(r.figures.some((f) => f.id.includes('topology-vms-queues')), r.figures.map((f) => f.id).join(' '));
  t.false(r.html.includes('queues=1'));
  t.true(r.html.includes('netback workers (vRSS) (zip: in step with topology.vms.queues)'), 'the axes table says which axes move together');
  t.true(r.html.includes('axes (a zip counts once; 3 scenario paths)'), 'and the axis count counts the zip once');
});

test('sweep report - a zip whose members repeat values (traffic kinds) is never read as a packet-size sweep; a keyless zip names every member', (t) => {
  const dir = tmp();
  writeSweep(
    dir,
    [
      { path: 'traffic.0.pattern', values: ['poisson', 'constant', 'poisson'], zip: 0 },
      { path: 'traffic.0.size', values: [1518, 1518, 64], zip: 0 },
      { path: 'coalescing.backend.policy', values: ['none', 'aic', 'none', 'aic'], zip: 1 },
      { path: 'coalescing.frontend.policy', values: ['none', 'none', 'aic', 'aic'], zip: 1 },
    ],
    1,
  );
  const r = buildReport(dir);
  const titles = r.figures.map((f) => f.title);
  t.false(titles.includes('Throughput vs packet size'), 'size is zipped with the pattern and repeats a value: no size plot');
  t.false(r.figures.some((f) => f.id.endsWith('-vs-traffic-0-size')), 'and no per-axis plot against the size member alone');
  // Neither member has distinct values (pattern and size both repeat): the zip has no key, every member is named.
  const tp = r.figures.find((f) => f.id === 'sweep-throughput-gbps-vs-traffic-0-pattern-traffic-0-size');
  t.truthy(tp, r.figures.map((f) => f.id).join(' '));
  t.is((tp?.svg.match(/data-mark="bar"/g) ?? []).length, 12, '3 traffic positions × 4 coalescing positions');
  t.true(tp?.svg.includes('>pattern constant<') && tp.svg.includes('>size 64<'), 'each member on its own label line');
  // The coalescing zip (no key either) gives the coalescing plots one category per position, each member named.
  const virq = r.figures.find((f) => f.id === 'sweep-virq-per-coalescing');
  t.is((virq?.svg.match(/data-mark="bar"/g) ?? []).length, 12);
  t.true(virq?.svg.includes('>backend.policy none<') && virq.svg.includes('>frontend.policy aic<'));
});

test('sweep report - swept maps are labelled without JSON punctuation', (t) => {
  t.is(valueLabel({ policy: 'static', usecs: 50, frames: 32 }), 'static 50 µs/32');
  t.is(valueLabel({ policy: 'aic' }), 'aic');
  t.is(valueLabel({ onoff: { on: '200us', off: '800us' } }), 'onoff (on 200us, off 800us)');
  t.is(valueLabel('10Gbps'), '10Gbps');
  t.is(valueLabel(64), '64');
});
