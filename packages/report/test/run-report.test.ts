// Tests for a run's report: real sim results in, an HTML page with a figure per kind of data out, faults drawn over throughput.
import test from 'ava';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildReport, faultSpans, latencyCdf, loadRun, scenarioDescription } from '../src/index.js';
import { BASE, addFaultEvents, tmp, writeRun } from './fixtures.js';

test('run report - every plot of a run has data, and the page says what produced it', (t) => {
  const dir = tmp();
  writeRun(dir);
  const r = buildReport(dir);
  t.is(r.kind, 'run');
  const ids = r.figures.map((f) => f.id);
  for (const id of ['throughput', 'interrupts', 'cpu-per-core', 'cpu-over-time', 'latency-percentiles', 'latency-cdf']) t.true(ids.includes(id), id);
  for (const f of r.figures) {
    t.true(f.points > 0, f.id);
    t.true(r.html.includes(`data-plot="${f.id}" data-points="${f.points}"`), `${f.id} is on the page`);
  }
  t.true(r.html.includes('name: fixture'), 'the resolved scenario is on the page');
  t.true(r.html.includes('environment.json'));
  t.true(r.html.includes('@media print'));
  t.false(/<(script|link|img)[^>]+(src|href)=/i.test(r.html), 'no external resources');
  t.false(r.html.includes('fault active'), 'no fault shading without fault events');
});

test('run report - a plot without data is omitted with a note, never drawn empty', (t) => {
  const dir = tmp();
  const summary = writeRun(dir);
  t.is((summary['drops'] as { total: number }).total, 0, 'the fixture drops nothing');
  const r = buildReport(dir);
  t.false(r.figures.some((f) => f.id === 'drops'));
  const note = r.omitted.find((o) => o.id === 'drops');
  t.truthy(note);
  t.regex(note?.reason ?? '', /no packet was dropped/);
  t.true(r.html.includes('data-omitted="drops"'));
});

test('run report - fault-start / fault-end events are shaded over the throughput series', (t) => {
  const dir = tmp();
  writeRun(dir);
  addFaultEvents(dir);
  const run = loadRun(dir);
  const spans = faultSpans(run.events, 3);
  t.deepEqual(
    spans.map((s) => [s.id, s.action, s.fromMs, s.toMs, s.open]),
    [
      ['f1', 'kill', 1, 1.6, false],
      ['f2', 'delay', 2.2, 3, true],
    ],
  );
  t.is(spans[1]?.target, '{"link":"backend->worker.1"}');
  const r = buildReport(dir);
  const tp = r.figures.find((f) => f.id === 'throughput');
  t.truthy(tp);
  t.is(tp?.title, 'Throughput over time, with faults');
  t.true(tp?.svg.includes('data-span="f1"') && tp.svg.includes('data-span="f2"'));
  t.true(tp?.svg.includes('f1: kill worker.0'));
  t.true(r.html.includes('<section id="faults">'), 'the faults are listed');
  t.true(r.html.includes('(end of run)'), 'a fault never ended runs to the end');
});

test('run report - the latency CDF rises from 0 to 1 over the histogram', (t) => {
  const dir = tmp();
  writeRun(dir);
  const run = loadRun(dir);
  t.truthy(run.latency);
  const cdf = latencyCdf(run.latency ?? { count: 0, min: 0, max: 0, mean: 0, buckets: [] }, 50);
  t.true(cdf.length > 2 && cdf.length <= 60);
  t.is(cdf[0]?.y, 0);
  t.is(cdf[cdf.length - 1]?.y, 1);
  for (let i = 1; i < cdf.length; i++) t.true((cdf[i]?.y ?? 0) >= (cdf[i - 1]?.y ?? 0) && (cdf[i]?.x ?? 0) >= (cdf[i - 1]?.x ?? 0));
  t.is(cdf[cdf.length - 1]?.x, run.latency?.max, 'ends at the largest latency (µs)');
});

test('run report - latency.json in µs, and an older one in ns, read the same; another unit is a clear error', (t) => {
  const dir = tmp();
  writeRun(dir);
  const us = loadRun(dir).latency;
  const file = join(dir, 'latency.json');
  const j = JSON.parse(readFileSync(file, 'utf8')) as { buckets: [number, number, number][]; min: number; max: number; mean: number };
  t.is(us?.max, j.max);
  // As splitnet wrote it before latency.json moved to the summary's unit: ns, whole numbers.
  const ns = {
    unit: 'ns',
    count: us?.count,
    min: j.min * 1000,
    max: j.max * 1000,
    mean: j.mean * 1000,
    buckets: j.buckets.map(([lo, hi, n]) => [Math.round(lo * 1000), Math.round(hi * 1000), n]),
  };
  writeFileSync(file, JSON.stringify(ns));
  const old = loadRun(dir).latency;
  t.is(old?.count, us?.count);
  t.deepEqual(
    old?.buckets.map(([lo, hi, n]) => [Math.round(lo * 1000), Math.round(hi * 1000), n]),
    us?.buckets.map(([lo, hi, n]) => [Math.round(lo * 1000), Math.round(hi * 1000), n]),
  );
  t.true(Math.abs((old?.max ?? 0) - (us?.max ?? 1)) < 1e-9);
  writeFileSync(file, JSON.stringify({ ...ns, unit: 'ms' }));
  t.throws(() => loadRun(dir), { message: /latency\.json: `unit`: expected "us" \(or "ns" in older results\), found "ms"/ });
});

test('run report - results without latency.json still report, with a note for the CDF', (t) => {
  const dir = tmp();
  writeRun(dir);
  rmSync(join(dir, 'latency.json'));
  const r = buildReport(dir);
  t.regex(r.omitted.find((o) => o.id === 'latency-cdf')?.reason ?? '', /latency\.json not found/);
  t.true(r.figures.some((f) => f.id === 'latency-percentiles'));
  writeFileSync(join(dir, 'latency.json'), '');
  t.throws(() => buildReport(dir), { message: /latency\.json: not valid JSON/ });
});

test('run report - bad input is a clear error naming the file and line', (t) => {
  const dir = tmp();
  t.throws(() => buildReport(dir), { message: /neither a run's results \(no summary.json\) nor a sweep's \(no sweep.json\)/ });
  t.throws(() => buildReport(join(dir, 'nope')), { message: /not a directory/ });
  writeRun(dir);
  writeFileSync(join(dir, 'metrics.jsonl'), '{"tMs":1}\n{oops\n');
  t.throws(() => buildReport(dir), { message: /metrics\.jsonl:2: not valid JSON/ });
});

test('run report - the scenario description leads the page, quoted or not', (t) => {
  t.is(scenarioDescription('name: x\ndescription: plain words, 50us\nseed: 1\n'), 'plain words, 50us');
  t.is(scenarioDescription('description: "a: quoted \\"one\\""\n'), 'a: quoted "one"');
  t.is(scenarioDescription("description: 'it''s'\n"), "it's");
  t.is(scenarioDescription('name: x\n'), undefined);
  const dir = tmp();
  writeRun(dir, BASE.replace('name: fixture', 'name: fixture\ndescription: one VM <and> two workers'));
  t.true(buildReport(dir).html.includes('<p class="lead">one VM &lt;and&gt; two workers</p>'));
});

test('run report - several VMs: per-VM bars, and many cores drawn as the mean of each kind', (t) => {
  const dir = tmp();
  writeRun(dir, BASE.replace('{ count: 1, queues: 2 }, workers: 2', '{ count: 4, queues: 2 }, workers: 4'));
  const r = buildReport(dir);
  const perVm = r.figures.find((f) => f.id === 'per-vm');
  t.is((perVm?.svg.match(/data-mark="bar"/g) ?? []).length, 4);
  t.true(r.figures.some((f) => f.id === 'per-vm-virq'));
  const cpu = r.figures.find((f) => f.id === 'cpu-over-time');
  // 1 NIC core + 4 workers + 8 vCPUs = 13 cores > 12: three lines, one per kind.
  t.deepEqual(
    [...(cpu?.svg.matchAll(/data-series="([^"]+)"/g) ?? [])].map((m) => m[1]),
    ['dom0 NIC queue cores (mean)', 'dom0 netback workers (mean)', 'guest vCPUs (mean)'],
  );
  t.is((r.figures.find((f) => f.id === 'cpu-per-core')?.svg.match(/data-mark="bar"/g) ?? []).length, 13, 'the bars still show every core');
});

test('run report - a run where a guest sends shows the transmit path beside the receive summary, its throughput beside the receive side’s, and its interrupts and notifications over time; a receive-only run shows none of it', (t) => {
  const dir = tmp();
  const sending = BASE.replace(
    'traffic: [ { flows: 8, rate: 10Gbps, size: 1518, pattern: poisson } ]',
    'traffic: [ { flows: 8, rate: 2Gbps, size: 1518 }, { name: out, from: vm.0, protocol: udp, rate: 1Gbps, flows: 2 } ]',
  );
  t.not(sending, BASE);
  writeRun(dir, sending);
  const r = buildReport(dir);
  t.true(r.html.includes('<section id="transmit"><h2>Transmit path</h2>'));
  t.true(r.html.includes('NIC TX-completion interrupts per second'));
  t.regex(r.html, /sent \d+ = on the wire \d+ \+ to guests 0 \+ dropped 0 \+ in flight \d+/);
  const tx = r.figures.find((f) => f.id === 'tx-interrupts');
  t.deepEqual(
    [...(tx?.svg.matchAll(/data-series="([^"]+)"/g) ?? [])].map((m) => m[1]),
    [
      'guest TX virtual interrupts',
      'NIC TX-completion interrupts',
      'TX notifications (guest → netback)',
      'TX notifications (netback → guest)',
      'TX completions',
    ],
  );
  const throughput = r.figures.find((f) => f.id === 'throughput');
  t.deepEqual([...(throughput?.svg.matchAll(/data-series="([^"]+)"/g) ?? [])].map((m) => m[1]).slice(0, 4), [
    'delivered',
    'offered',
    'guests sent (TX)',
    'TX on the wire',
  ]);
  const plain = tmp();
  writeRun(plain);
  const rx = buildReport(plain);
  t.false(rx.html.includes('id="transmit"'), 'a receive-only run has no transmit section');
  t.false(
    rx.figures.some((f) => f.id === 'tx-interrupts'),
    'nor a transmit figure',
  );
});

test('run report - a run with TCP_RR draws each flow’s cwnd over time and the transaction latency CDF; a run without TCP draws neither', (t) => {
  const dir = tmp();
  const rr =
    'name: rr\nduration: 4ms\nwarmup: 1ms\ntopology: { vms: { count: 1, queues: 1 }, workers: 1 }\ntraffic:\n  - { flows: 1, rr: { request: 64, response: 64 } }\n';
  writeRun(dir, rr);
  const r = buildReport(dir);
  for (const id of ['tcp-cwnd', 'tcp-rr-latency-cdf']) {
    const f = r.figures.find((x) => x.id === id);
    t.true((f?.points ?? 0) > 0, id);
  }
  t.is(loadRun(dir).cwnd?.[0]?.flow, 0);
  const plain = tmp();
  writeRun(plain);
  t.false(buildReport(plain).figures.some((f) => f.id.startsWith('tcp-')));
});
