// Tests for a sweep's report: sweep directories made by running the sim for each point, in `splitnet sweep`'s format.
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { axisGroups, buildReport, flatten, loadSweep, repetitionsIdentical, sweepPoints, valueLabel } from '../src/index.js';
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
  t.deepEqual(
    axisGroups(data.sweep.axes).map((g) => g.key?.path),
    ['topology.link', 'topology.workers'],
  );
  const r = buildReport(dir);
  const scaling = r.figures.find((f) => f.title === 'vRSS scaling: throughput vs netback workers');
  t.truthy(scaling);
  // One series per link, each with both worker counts: the zipped queue count does not split the series.
  t.deepEqual(
    [...(scaling?.svg.matchAll(/data-series="([^"]+)"/g) ?? [])].map((m) => m[1]),
    ['link=10Gbps', 'link=40Gbps'],
  );
  t.is((scaling?.svg.match(/data-mark="point"/g) ?? []).length, 4);
  t.true(scaling?.svg.includes('>netback workers (vRSS) (with queues per VM)<'));
  // Per-axis plots are per group: none against the zipped member on its own.
  t.false(
    r.figures.some((f) => f.id.includes('topology-vms-queues')),
    r.figures.map((f) => f.id).join(' '),
  );
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
  t.false(
    r.figures.some((f) => f.id.endsWith('-vs-traffic-0-size')),
    'and no per-axis plot against the size member alone',
  );
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

/** The x positions of a one-series line plot's markers, in drawing order. */
function markerXs(svg: string): number[] {
  return [...svg.matchAll(/<g data-mark="point"><circle cx="([\d.]+)"/g)].map((m) => Number(m[1]));
}

test('sweep report - a rate axis is a line over bit/s with the rates as written on the ticks and error bars from the repetitions, not bars', (t) => {
  const dir = tmp();
  writeSweep(dir, [{ path: 'traffic.0.rate', values: ['1Gbps', '3Gbps', '6Gbps'] }], 2);
  const data = loadSweep(dir);
  t.deepEqual(data.sweep.axes[0]?.numeric, { column: 'traffic.0.rate_bps', unit: 'bit/s' });
  t.deepEqual(
    sweepPoints(data).map((p) => p.numbers.get('traffic.0.rate')),
    [1e9, 3e9, 6e9],
  );
  const r = buildReport(dir);
  const tp = r.figures.find((f) => f.id === 'sweep-throughput-gbps-vs-traffic-0-rate');
  t.truthy(tp, r.figures.map((f) => f.id).join(' '));
  const svg = tp?.svg ?? '';
  t.regex(svg, /data-mark="line"/);
  t.notRegex(svg, /data-mark="bar"/);
  for (const rate of ['1Gbps', '3Gbps', '6Gbps']) t.true(svg.includes(`>${rate}<`), `tick ${rate}`);
  // Placed by their numbers: 1, 3 and 6 Gbit/s are 2 and 3 Gbit/s apart.
  const [a, b, c] = markerXs(svg);
  t.true(a !== undefined && b !== undefined && c !== undefined && Math.abs((c - b) / (b - a) - 1.5) < 0.01, `${a} ${b} ${c}`);
  t.regex(svg, / ± /, 'Poisson repetitions differ: error bars');
  t.false(r.html.includes('Repetitions identical'));
  t.true(r.html.includes('<td>differ</td>'), 'the points table says the repetitions differ');
});

test('sweep report - a seed-independent scenario: table and report say "repetitions identical" and draw no error bars', (t) => {
  const dir = tmp();
  // Seed-independent on purpose: a constant pattern, one flow, one VM with one queue, and the source port and
  // start phase (which the seed would otherwise draw) fixed.
  const base = `name: constant
duration: 3ms
topology: { vms: { count: 1, queues: 1 }, workers: 1 }
traffic: [ { flows: 1, rate: 2Gbps, size: 1518, pattern: constant, srcPort: 40000, phase: 0ns } ]
`;
  writeSweep(dir, [{ path: 'traffic.0.rate', values: ['1Gbps', '2Gbps'] }], 3, base);
  const data = loadSweep(dir);
  t.deepEqual(
    data.table.map((row) => row['repetitions_identical']),
    [1, 1, 1, 1, 1, 1],
  );
  t.true(sweepPoints(data).every((p) => repetitionsIdentical(p) === true));
  const r = buildReport(dir);
  t.true(r.html.includes('Repetitions identical: the 3 repetitions (seeds) of each point gave the same results'), 'said once on the page');
  t.false(r.html.includes('± one sample standard deviation'));
  for (const f of r.figures) t.notRegex(f.svg, / ± /, `${f.id}: no error bars`);
  const tp = r.figures.find((f) => f.id === 'sweep-throughput-gbps-vs-traffic-0-rate');
  t.true(tp?.caption.includes('Repetitions identical'), tp?.caption);
  t.regex(tp?.svg ?? '', /data-mark="line"/);
  t.true(r.html.includes('<td>identical</td>'));
});

test('sweep report - a table from before summary.csv had unit-named columns (dotted metric names, no numeric axis columns) still draws its figures', (t) => {
  const dir = tmp();
  writeSweep(dir, [{ path: 'topology.workers', values: [1, 2] }], 1);
  // Rewrite table.json as earlier versions wrote it: run, point, rep, seed, the axis, then summary.json flattened with dots.
  const rows = (JSON.parse(readFileSync(join(dir, 'table.json'), 'utf8')) as Record<string, unknown>[]).map((r) => {
    const summary = JSON.parse(readFileSync(join(dir, 'runs', String(r['run']), 'summary.json'), 'utf8')) as unknown;
    return {
      run: r['run'],
      point: r['point'],
      rep: r['rep'],
      seed: r['seed'],
      'topology.workers': r['topology.workers'],
      ...Object.fromEntries(flatten(summary)),
    };
  });
  t.true('throughput.gbps' in (rows[0] ?? {}) && !('throughput_gbps' in (rows[0] ?? {})));
  writeFileSync(join(dir, 'table.json'), JSON.stringify(rows));
  const r = buildReport(dir);
  const scaling = r.figures.find((f) => f.title === 'vRSS scaling: throughput vs netback workers');
  t.is(scaling?.points, 2);
  t.is(r.figures.find((f) => f.id === 'sweep-dom0cpuusperpacket-vs-topology-workers')?.points, 2, 'CPU per packet from cpu.dom0.* and throughput.pps');
});

test('sweep report - a packet-rate axis gets delivered vs offered packets, and a threading axis throughput and CPU-per-packet bars per variant', (t) => {
  const dir = tmp();
  // The NIC queue and both workers on one scheduled dom0 vCPU, so that every threading variant applies.
  const base = BASE.replace('workers: 2', 'workers: 2, dom0: { vcpus: 1 }');
  t.not(base, BASE);
  writeSweep(
    dir,
    [
      { path: 'netback.threading', values: ['tasklet', 'kthread'] },
      { path: 'traffic.0.rate', values: ['50Kpps', '200Kpps'] },
    ],
    1,
    base,
  );
  const r = buildReport(dir);
  const titles = r.figures.map((f) => f.title);
  t.true(titles.includes('Delivered vs offered packets'));
  t.true(titles.includes('Throughput per netback threading variant'));
  t.true(titles.includes('Driver-domain CPU per delivered packet, per netback threading variant'));
  const offered = r.figures.find((f) => f.title === 'Delivered vs offered packets');
  t.true(offered?.svg.includes('data-series="threading=tasklet"') && offered.svg.includes('data-series="threading=kthread"'));
  for (const f of r.figures) t.true(f.points > 0, f.id);
});
