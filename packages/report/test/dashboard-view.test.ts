// The dashboard's state without a browser: what a frame says while a run goes, when it fails and when it ends, and how a finished run's rows are replayed.
import test from 'ava';
import { DashboardView, loadRun, replaySamples, runFigures } from '../src/index.js';
import type { DashboardRun, DashboardSample, MetricsRow } from '../src/index.js';
import { addFaultEvents, tmp, writeRun } from './fixtures.js';

const RUN: DashboardRun = { name: 'demo', runId: 'demo-1', runtime: 'live', durationMs: 10, warmupMs: 2, lineRateGbps: 10, maxLagUs: 50, tdf: 100 };

/** A sample at `tMs` whose cores have been busy `busyNs` each since the start. */
function sample(tMs: number, busyNs: Readonly<Record<string, number>>, lagUs = 10): DashboardSample {
  const row: MetricsRow = {
    tMs,
    gbps: 1,
    offeredGbps: 1.5,
    virqPerSec: 1000,
    physicalIrqPerSec: 500,
    notifyPerSec: 900,
    timerPollsPerSec: 0,
    ringOccupancy: 2,
    backlog: 1,
    cpu: {},
  };
  return { row, drops: { 'ring-full': 3 }, busyNs, lagUs, events: [] };
}

/** The `title` attribute texts of the bars of figure `id` (each says its category and value). */
function barTitles(html: string, id: string): string[] {
  const svg = new RegExp(`<svg[^>]*data-plot="${id}"[\\s\\S]*?</svg>`).exec(html)?.[0] ?? '';
  return [...svg.matchAll(/data-mark="bar"[^>]*>\s*<title>([^<]*)<\/title>/g)].map((m) => m[1] as string);
}

test('dashboard view - before the first sample the frame says it is starting and draws no figure', (t) => {
  const f = new DashboardView(RUN).frame();
  t.is(f.status, 'starting');
  t.regex(f.html, /No sample yet/);
  t.notRegex(f.html, /data-plot=/);
});

test('dashboard view - while running: the last sample in the tiles, the lag red above its bound, CPU per core over the window since the first sample after the warm-up', (t) => {
  const v = new DashboardView(RUN);
  v.sample(sample(1, { 'dom0.worker0': 0.5e6 }));
  v.sample(sample(2, { 'dom0.worker0': 1e6 }));
  v.sample(sample(4, { 'dom0.worker0': 2.5e6 }, 80));
  const f = v.frame();
  t.is(f.status, 'running');
  t.is(f.tMs, 4);
  t.regex(f.html, /running — 4 of 10 ms emulated/);
  t.regex(f.html, /<div class="kpi bad"><div class="v">80<span class="u">µs<\/span><\/div><div class="l">lag behind emulated time \(bound 50 µs\)/);
  t.regex(f.html, /the measurement window so far \(2–4 ms\)/);
  // (2.5 − 1) ms busy over 2 ms of the window: 75 %.
  t.deepEqual(barTitles(f.html, 'cpu-per-core'), ['dom0.worker0: 75']);
  for (const id of ['throughput', 'interrupts', 'cpu-per-core', 'lag', 'drops', 'rings']) t.regex(f.html, new RegExp(`data-plot="${id}"`), id);
  t.true(v.frame().seq > f.seq, 'every frame has a new sequence number');
});

test('dashboard view - a failed run keeps its figures and says why; a finished one becomes the report of its results', (t) => {
  const failed = new DashboardView(RUN);
  failed.sample(sample(1, {}));
  failed.fail('live: no final report from vm.0');
  const f = failed.frame();
  t.is(f.status, 'failed');
  t.regex(f.html, /failed — live: no final report from vm\.0 \(the figures show the run up to then\)/);
  t.regex(f.html, /data-plot="throughput"/);

  const dir = tmp();
  writeRun(dir);
  const run = loadRun(dir);
  const done = new DashboardView({ ...RUN, runtime: 'sim' });
  done.sample(sample(1, {}));
  done.finish(run, `results in ${dir}`);
  const end = done.frame();
  t.is(end.status, 'finished');
  const ids = [...end.html.matchAll(/<svg[^>]*data-plot="([^"]+)"/g)].map((m) => m[1]);
  t.deepEqual(
    ids,
    runFigures(run)
      .filter((i) => i.kind === 'figure')
      .map((i) => i.id),
    "the report's figures, in its order",
  );
  done.sample(sample(2, {}));
  t.is(done.frame().status, 'finished', 'a sample after the end changes nothing');
});

test("replay - a finished run's rows as samples: busy time summed from the rows' fractions, the events up to each sample, the drops' total", (t) => {
  const dir = tmp();
  writeRun(dir);
  addFaultEvents(dir);
  const run = loadRun(dir);
  const samples = replaySamples(run);
  t.is(samples.length, run.samples.length);
  const [a, b] = samples;
  const rowA = run.samples[0] as MetricsRow;
  const rowB = run.samples[1] as MetricsRow;
  const cpuA = rowA['cpu'] as Record<string, number>;
  const cpuB = rowB['cpu'] as Record<string, number>;
  const core = Object.keys(cpuB)[0] as string;
  t.is(a?.busyNs[core], (cpuA[core] ?? 0) * rowA.tMs * 1e6);
  t.is(b?.busyNs[core], (cpuA[core] ?? 0) * rowA.tMs * 1e6 + (cpuB[core] ?? 0) * (rowB.tMs - rowA.tMs) * 1e6);
  // f1 starts at 1 ms: not in the events of a sample before it, in those after.
  for (const s of samples)
    t.is(
      s.events.some((e) => e.kind === 'fault-start' && e.detail['id'] === 'f1'),
      s.row.tMs >= 1,
      `at ${s.row.tMs} ms`,
    );
  t.deepEqual(samples.at(-1)?.drops, { 'all reasons': run.samples.at(-1)?.['dropsTotal'] });
});
