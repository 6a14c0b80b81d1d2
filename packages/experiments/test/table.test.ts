// The sweep table: fixed columns, axis label and numeric columns, repetitions marked identical from the data, metric columns that are each run's summary.csv row, CSV a parser reads.
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSim } from '@splitnet/controller';
import { summaryCsv } from '@splitnet/results';
import { parse } from 'csv-parse/sync';
import { buildTable, compileRun, numericAxis, parseSweepText, planSweep, REPETITIONS_IDENTICAL, sweepJson, tableCsv, type SweepPlan } from '../src/index.js';

function plan(sweep: string, base = 'duration: 2ms\ntopology: { workers: 2, vms: { queues: 2 } }\n'): SweepPlan {
  const dir = mkdtempSync(join(tmpdir(), 'splitnet-table-'));
  writeFileSync(join(dir, 'base.yaml'), base);
  return planSweep(parseSweepText(`base: base.yaml\n${sweep}`, join(dir, 'sweep.yaml')));
}

/** Every run of the plan in the sim, as the sweep workers run them: its summary by run id. */
function runAll(p: SweepPlan): Map<string, unknown> {
  return new Map(p.runs.map((spec) => [spec.run, runSim(compileRun(spec)).summary as unknown]));
}

const WORKERS_BY_COALESCING = `axes:
  - path: topology.workers
    values: [1, 2]
  - path: coalescing.frontend
    values: [none, { policy: static, usecs: 50, frames: 32 }]
`;

test('table - columns: run, point, rep, seed, axes, repetitions_identical, then the summary.csv columns with a later worker beside the others', (t) => {
  const p = plan(WORKERS_BY_COALESCING);
  const summaries = runAll(p);
  const table = buildTable(p, summaries);
  t.deepEqual(table.columns.slice(0, 7), ['run', 'point', 'rep', 'seed', 'topology.workers', 'coalescing.frontend', REPETITIONS_IDENTICAL]);
  t.deepEqual(table.columns.slice(7, 10), ['scenario', 'runtime', 'window_start_ms']);
  // The second worker's core only the later points have lands beside the first, not at the end.
  const w0 = table.columns.indexOf('cpu_dom0_worker0_frac');
  t.is(table.columns[w0 + 1], 'cpu_dom0_worker1_frac');
  t.is(table.rows.length, 4);
  t.is(table.rows[0]?.['cpu_dom0_worker1_frac'], null);
  t.is(typeof table.rows[2]?.['cpu_dom0_worker1_frac'], 'number');
  t.deepEqual(table.rows[1]?.['coalescing.frontend'], { policy: 'static', usecs: 50, frames: 32 });
  t.is(table.rows[0]?.[REPETITIONS_IDENTICAL], null, 'one repetition: nothing to compare');
  const csv = tableCsv(table).split('\n');
  t.true(csv[1]?.startsWith(`p000-r0,0,0,${p.runs[0]?.seed},1,none,,base,sim,`), csv[1]);
  t.true(csv[2]?.includes(',"{""policy"":""static"",""usecs"":50,""frames"":32}",'), csv[2]);
});

test("table - a run's metric columns are exactly its summary.csv row, seed excepted", (t) => {
  const p = plan(WORKERS_BY_COALESCING);
  const summaries = runAll(p);
  const table = buildTable(p, summaries);
  p.runs.forEach((spec, i) => {
    const [row] = parse(summaryCsv(summaries.get(spec.run) as never), { columns: true }) as Record<string, string>[];
    const tableRow = parse(tableCsv(table), { columns: true })[i] as Record<string, string>;
    for (const [column, value] of Object.entries(row ?? {})) t.is(tableRow[column], value, `${spec.run} ${column}`);
  });
});

test('table - a rate axis and a duration axis get numeric columns in bit/s and µs beside their labels; sweep.json names them', (t) => {
  t.deepEqual(numericAxis('traffic.0.rate', ['500Mbps', '2Gbps']), { column: 'traffic.0.rate_bps', unit: 'bit/s', numbers: [5e8, 2e9] });
  t.deepEqual(numericAxis('traffic.0.rate', ['1Mpps', '1.5Mpps']), { column: 'traffic.0.rate_pps', unit: 'packets/s', numbers: [1e6, 1.5e6] });
  t.deepEqual(numericAxis('warmup', [0, '500us', '1ms']), { column: 'warmup_us', unit: 'µs', numbers: [0, 500, 1000] });
  t.deepEqual(numericAxis('topology.workers', [1, 2, 4]), { column: 'topology.workers', numbers: [1, 2, 4] });
  t.is(numericAxis('traffic.0.rate', ['1Gbps', '1Mpps']), undefined, 'bits and packets are not one scale');
  t.is(numericAxis('coalescing.frontend.policy', ['none', 'aic']), undefined);

  const p = plan(
    `axes:
  - path: traffic.0.rate
    values: [500Mbps, 2Gbps]
  - path: warmup
    values: [200us, 1ms]
`,
    'duration: 2ms\ntraffic: [ { flows: 4, rate: 1Gbps, pattern: poisson } ]\n',
  );
  const table = buildTable(p, runAll(p));
  t.deepEqual(table.columns.slice(4, 9), ['traffic.0.rate', 'traffic.0.rate_bps', 'warmup', 'warmup_us', REPETITIONS_IDENTICAL]);
  const rows = parse(tableCsv(table), { columns: true, cast: true }) as Record<string, unknown>[];
  t.deepEqual(
    rows.map((r) => [r['traffic.0.rate'], r['traffic.0.rate_bps'], r['warmup'], r['warmup_us']]),
    [
      ['500Mbps', 5e8, '200us', 200],
      ['500Mbps', 5e8, '1ms', 1000],
      ['2Gbps', 2e9, '200us', 200],
      ['2Gbps', 2e9, '1ms', 1000],
    ],
  );
  t.deepEqual((sweepJson(p)['axes'] as unknown[]).map((a) => (a as { numeric?: unknown }).numeric), [
    { column: 'traffic.0.rate_bps', unit: 'bit/s' },
    { column: 'warmup_us', unit: 'µs' },
  ]);
});

test('table - repetitions of a seed-independent point are marked identical, those of a Poisson point are not', (t) => {
  // Seed-independent on purpose: a constant pattern, one flow, one VM with one queue, and the source port and
  // start phase (which the seed would otherwise draw) fixed. Poisson has no phase to fix (the zip leaves it seeded).
  const p = plan(
    `repetitions: 3
axes:
  - zip:
      - path: traffic.0.pattern
        values: [constant, poisson]
      - path: traffic.0.phase
        values: [0ns, seeded]
`,
    'duration: 2ms\ntopology: { workers: 1, vms: { count: 1, queues: 1 } }\ntraffic: [ { flows: 1, rate: 2Gbps, size: 1518, srcPort: 40000 } ]\n',
  );
  const table = buildTable(p, runAll(p));
  t.deepEqual(
    table.rows.map((r) => [r['traffic.0.pattern'], r[REPETITIONS_IDENTICAL]]),
    [
      ['constant', 1],
      ['constant', 1],
      ['constant', 1],
      ['poisson', 0],
      ['poisson', 0],
      ['poisson', 0],
    ],
  );
  t.not(table.rows[0]?.['seed'], table.rows[1]?.['seed'], 'the repetitions did have different seeds');
});
