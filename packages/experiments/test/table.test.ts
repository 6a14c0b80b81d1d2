// The sweep table: fixed columns, axis columns, metric columns named as in summary.csv, merged column order, CSV quoting.
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summaryCsv, type Summary } from '@splitnet/controller';
import { buildTable, flattenSummary, parseSweepText, planSweep, tableCsv } from '../src/index.js';

function plan() {
  const dir = mkdtempSync(join(tmpdir(), 'splitnet-table-'));
  writeFileSync(join(dir, 'base.yaml'), 'duration: 2ms\ntopology: { workers: 2, vms: { queues: 2 } }\n');
  const file = join(dir, 'sweep.yaml');
  return planSweep(
    parseSweepText(
      `base: base.yaml
axes:
  - path: topology.workers
    values: [1, 2]
  - path: coalescing.frontend
    values: [none, { policy: static, usecs: 50, frames: 32 }]
`,
      file,
    ),
  );
}

/** A summary-shaped object: only the shape matters to the table. */
function summary(seed: number, workers: number): Record<string, unknown> {
  const cpu: Record<string, number> = { 'dom0.nic0': 0.1 };
  for (let k = 0; k < workers; k++) cpu[`dom0.worker${k}`] = 0.5 + k / 10;
  cpu['vm0.vcpu0'] = 0.3;
  return { scenario: 'x', seed, runtime: 'sim', throughput: { gbps: 1.5, perVm: [{ vm: 0, gbps: 1.5 }] }, cpu, accounting: { balanced: true } };
}

test('table - columns: run, point, rep, seed, axes, then summary metrics in summary.csv order', (t) => {
  const p = plan();
  const summaries = new Map(p.runs.map((r) => [r.run, summary(r.seed, p.points[r.point]?.values[0]?.value as number)]));
  const table = buildTable(p, summaries);
  t.deepEqual(table.columns.slice(0, 6), ['run', 'point', 'rep', 'seed', 'topology.workers', 'coalescing.frontend']);
  // A worker only the later points have lands beside the others, not at the end.
  t.deepEqual(table.columns.slice(6), [
    'scenario',
    'runtime',
    'throughput.gbps',
    'throughput.perVm.0.vm',
    'throughput.perVm.0.gbps',
    'cpu.dom0.nic0',
    'cpu.dom0.worker0',
    'cpu.dom0.worker1',
    'cpu.vm0.vcpu0',
    'accounting.balanced',
  ]);
  t.is(table.rows.length, 4);
  t.is(table.rows[0]?.['cpu.dom0.worker1'], null);
  t.is(table.rows[2]?.['cpu.dom0.worker1'], 0.6);
  t.deepEqual(table.rows[1]?.['coalescing.frontend'], { policy: 'static', usecs: 50, frames: 32 });
  const csv = tableCsv(table).split('\n');
  t.is(csv[1], `p000-r0,0,0,${p.runs[0]?.seed},1,none,x,sim,1.5,0,1.5,0.1,0.5,,0.3,true`);
  t.true(csv[2]?.includes(',"{""policy"":""static"",""usecs"":50,""frames"":32}",'), csv[2]);
});

test('table - metric names are exactly summary.csv rows', (t) => {
  const s = summary(3, 2);
  const fromCsv = summaryCsv(s as unknown as Summary)
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.slice(0, line.indexOf(',')));
  t.deepEqual(
    flattenSummary(s).map(([k]) => k),
    fromCsv,
  );
});
