// The results files as an analyst loads them: each CSV read with a real CSV parser (csv-parse), column names and types checked, values checked against summary.json and metrics.jsonl.
import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { formatResolvedYaml } from '@splitnet/scenario';
import { finalView, RunMetrics, SUMMARY_ID_COLUMNS, writeResults } from '@splitnet/results';
import type { RunResult } from '@splitnet/results';
import { runSim } from '../src/run-sim.js';
import { scenario } from './helpers.js';

/** Two VMs (2 queues and 1), two workers, Poisson traffic: every kind of entity, with traffic on each. */
const BASE = `
name: files
duration: 6ms
warmup: 1ms
topology: { vms: { count: 2, queues: [2, 1] }, workers: 2, vrss: per-flow }
traffic: [ { flows: 12, rate: 4Gbps, size: 1518, pattern: poisson } ]
`;

function writeRun(yaml = BASE): { dir: string; result: RunResult } {
  const s = scenario(yaml);
  const result = runSim(s);
  const dir = mkdtempSync(join(tmpdir(), 'splitnet-results-'));
  writeResults(dir, formatResolvedYaml(s), { splitnet: 'test' }, result);
  return { dir, result };
}

type Row = Record<string, unknown>;

/** A CSV file as rows of typed cells: csv-parse turns a cell that is a number into a number, and leaves any other text a string. */
function readCsv(file: string): { columns: string[]; rows: Row[] } {
  const text = readFileSync(file, 'utf8');
  const columns = parse(text, { to_line: 1 })[0] as string[];
  return { columns, rows: parse(text, { columns: true, cast: true }) as Row[] };
}

test('results files - summary.csv is one row of plain numbers in columns named with their unit, equal to summary.json', (t) => {
  const { dir, result } = writeRun();
  const { columns, rows } = readCsv(join(dir, 'summary.csv'));
  t.is(rows.length, 1, 'one row');
  const row = rows[0] as Row;
  for (const c of columns) t.regex(c, /^[a-z0-9_]+$/, 'snake_case names, no units in parentheses');
  for (const c of columns.filter((x) => !SUMMARY_ID_COLUMNS.includes(x))) {
    t.is(typeof row[c], 'number', `${c} = ${JSON.stringify(row[c])}: a number, no unit string`);
  }
  t.deepEqual([row['scenario'], row['seed'], row['runtime']], ['files', result.summary.seed, 'sim']);
  const s = result.summary;
  const expected: Row = {
    throughput_gbps: s.throughput.gbps,
    packets_per_s: s.throughput.pps,
    throughput_vm1_gbps: s.throughput.perVm[1]?.gbps,
    virqs_per_s: s.interrupts.virqPerSec,
    virqs_vm0_q1_per_s: s.interrupts.perVm[0]?.perQueue[1],
    latency_p50_us: s.latencyUs.p50,
    latency_p99_us: s.latencyUs.p99,
    cpu_dom0_worker0_frac: s.cpu['dom0.worker0'],
    cpu_vm1_vcpu0_frac: s.cpu['vm1.vcpu0'],
    dropped_packets: s.drops.total,
    accounting_balanced: 1,
  };
  for (const [c, v] of Object.entries(expected)) t.is(row[c], v, c);
  t.false(columns.includes('virqs_vm1_q1_per_s'), 'VM 1 has one queue');
});

test('results files - timeseries.csv is tidy (t_ms, entity, metric, value) with per-VM, per-queue, per-core and NIC-queue entities whose parts add up', (t) => {
  const { dir, result } = writeRun();
  const { columns, rows } = readCsv(join(dir, 'timeseries.csv'));
  t.deepEqual(columns, ['t_ms', 'entity', 'metric', 'value']);
  for (const r of rows) {
    t.true(typeof r['t_ms'] === 'number' && typeof r['value'] === 'number', JSON.stringify(r));
    t.regex(String(r['entity']), /^(all|nic\.q\d+|dom0\.(nic|worker)\d+|vm\d+(\.q\d+|\.vcpu\d+)?)$/);
    t.regex(String(r['metric']), /^[a-z_]+$/);
  }
  const entities = [...new Set(rows.map((r) => r['entity']))];
  t.deepEqual(entities, [
    'all',
    'nic.q0',
    'dom0.nic0',
    'dom0.worker0',
    'dom0.worker1',
    'vm0',
    'vm0.q0',
    'vm0.q1',
    'vm0.vcpu0',
    'vm0.vcpu1',
    'vm1',
    'vm1.q0',
    'vm1.vcpu0',
  ]);
  // One sample time per metrics.jsonl line, and the whole datapath's figures are that line's.
  const times = [...new Set(rows.map((r) => r['t_ms']))];
  t.deepEqual(
    times,
    result.samples.map((x) => x['tMs']),
  );
  const at = (tMs: unknown, entity: string, metric: string) =>
    rows.find((r) => r['t_ms'] === tMs && r['entity'] === entity && r['metric'] === metric)?.['value'] as number;
  for (const sample of result.samples) {
    const tMs = sample['tMs'];
    t.is(at(tMs, 'all', 'throughput_gbps'), sample['gbps'] as number);
    t.is(at(tMs, 'all', 'ring_occupancy_responses'), sample['ringOccupancy'] as number);
    t.is(at(tMs, 'dom0.worker1', 'cpu_frac'), (sample['cpu'] as Record<string, number>)['dom0.worker1'] as number);
    // Parts add up: queues to their VM, VMs to the whole (rates rounded to 6 digits each).
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b));
    t.true(close(at(tMs, 'vm0.q0', 'packets_per_s') + at(tMs, 'vm0.q1', 'packets_per_s'), at(tMs, 'vm0', 'packets_per_s')));
    t.true(close(at(tMs, 'vm0', 'packets_per_s') + at(tMs, 'vm1', 'packets_per_s'), at(tMs, 'all', 'packets_per_s')));
    t.is(
      at(tMs, 'vm0.q0', 'ring_occupancy_responses') + at(tMs, 'vm0.q1', 'ring_occupancy_responses') + at(tMs, 'vm1.q0', 'ring_occupancy_responses'),
      at(tMs, 'all', 'ring_occupancy_responses'),
    );
    t.is(at(tMs, 'dom0.worker0', 'backlog_packets') + at(tMs, 'dom0.worker1', 'backlog_packets'), at(tMs, 'all', 'backlog_packets'));
    t.true(close(at(tMs, 'vm0.q0', 'virqs_per_s') + at(tMs, 'vm0.q1', 'virqs_per_s') + at(tMs, 'vm1.q0', 'virqs_per_s'), at(tMs, 'all', 'virqs_per_s')));
    t.is(at(tMs, 'nic.q0', 'physical_irqs_per_s'), sample['physicalIrqPerSec'] as number);
  }
  t.true(
    rows.some((r) => r['entity'] === 'vm1.q0' && r['metric'] === 'throughput_gbps' && (r['value'] as number) > 0),
    'traffic reaches VM 1',
  );
});

test('results files - latency.json is in µs like the summary, its buckets named by its columns and summing to its count', (t) => {
  const { dir, result } = writeRun();
  const j = JSON.parse(readFileSync(join(dir, 'latency.json'), 'utf8')) as Record<string, unknown>;
  t.is(j['unit'], 'us');
  t.deepEqual(j['columns'], ['lowest_us', 'highest_us', 'packets']);
  const lat = result.summary.latencyUs;
  t.deepEqual([j['count'], j['mean'], j['p50'], j['p99'], j['p999'], j['max']], [lat.count, lat.mean, lat.p50, lat.p99, lat.p999, lat.max]);
  const buckets = j['buckets'] as [number, number, number][];
  t.is(
    buckets.reduce((n, b) => n + b[2], 0),
    lat.count,
  );
  for (const [lo, hi] of buckets) t.true(lo <= hi && hi >= (j['min'] as number) - 0.001 && lo <= lat.max, `${lo}–${hi}`);
  // The median lies in the bucket where the running count passes half.
  let seen = 0;
  const median = buckets.find((b) => (seen += b[2]) >= lat.count / 2);
  t.true(median !== undefined && lat.p50 >= median[0] - 0.001 && lat.p50 <= median[1] + 0.001, `${lat.p50} in ${JSON.stringify(median)}`);
});

test('results files - a killed and restarted guest: per-queue rates never negative, summary.csv still one numeric row, with the fault columns', (t) => {
  const { dir, result } = writeRun(`${BASE}
faults:
  - { at: 3ms, target: vm:0, action: kill, restartAfter: 1ms }
`);
  t.true(result.accounting.balanced);
  const series = readCsv(join(dir, 'timeseries.csv')).rows;
  const rates = series.filter((r) => /_per_s$|_gbps$/.test(String(r['metric'])));
  t.true(rates.length > 0 && rates.every((r) => (r['value'] as number) >= 0), JSON.stringify(rates.find((r) => (r['value'] as number) < 0)));
  const { columns, rows } = readCsv(join(dir, 'summary.csv'));
  t.is(rows.length, 1);
  for (const c of columns.filter((x) => !SUMMARY_ID_COLUMNS.includes(x))) t.true(typeof rows[0]?.[c] === 'number' || rows[0]?.[c] === '', c);
  t.is(rows[0]?.['faults_injected'], 1);
  t.is(rows[0]?.['faults_restarts'], 1);
  t.true((rows[0]?.['dropped_lost_in_crash_packets'] as number) > 0);
  t.true(columns.includes('dropped_link_down_packets'), 'a run with faults shows the fault-only drop reasons');
});

test('results files - a guest that sends: metrics.jsonl and timeseries.csv carry the transmit series, whose mean over the window is the summary’s tx figures; a receive-only run has none', async (t) => {
  const sending = BASE.replace(
    'traffic: [ { flows: 12, rate: 4Gbps, size: 1518, pattern: poisson } ]',
    'traffic: [ { flows: 12, rate: 2Gbps, size: 1518 }, { name: out, from: vm.0, protocol: udp, rate: 1Gbps, size: 1518, flows: 2 } ]',
  );
  t.not(sending, BASE);
  const { dir, result } = writeRun(sending);
  const tx = result.summary.tx;
  if (tx === undefined) return t.fail('a guest sends: summary.tx');
  const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Row);
  const inWindow = lines.filter((r) => (r['tMs'] as number) > 1);
  const mean = (k: string) => inWindow.reduce((n, r) => n + (r[k] as number), 0) / inWindow.length;
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b));
  t.true(close(mean('txGbps'), tx.sentGbps), `txGbps ${mean('txGbps')} vs ${tx.sentGbps}`);
  t.true(close(mean('txWireGbps'), tx.onWireGbps), `txWireGbps ${mean('txWireGbps')} vs ${tx.onWireGbps}`);
  t.true(close(mean('txVirqPerSec'), tx.interrupts.virqPerSec), `txVirqPerSec ${mean('txVirqPerSec')} vs ${tx.interrupts.virqPerSec}`);
  t.true(close(mean('txNicIrqPerSec'), tx.interrupts.nicIrqPerSec), `txNicIrqPerSec ${mean('txNicIrqPerSec')} vs ${tx.interrupts.nicIrqPerSec}`);
  t.true(close(mean('txGuestNotifyPerSec'), tx.notifications.guestPerSec));
  t.true(close(mean('txNotifyPerSec'), tx.notifications.netbackPerSec));
  t.true(close(mean('txCompletionsPerSec'), tx.netback.responsesPerSec));
  t.true(
    inWindow.every((r) => r['txAckPerSec'] === undefined),
    'no TCP flow: no ACK column',
  );
  const { rows } = readCsv(join(dir, 'timeseries.csv'));
  const last = lines[lines.length - 1] as Row;
  const at = rows.filter((r) => r['t_ms'] === last['tMs'] && r['entity'] === 'all');
  t.is(at.find((r) => r['metric'] === 'tx_throughput_gbps')?.['value'], last['txGbps']);
  t.is(at.find((r) => r['metric'] === 'tx_virqs_per_s')?.['value'], last['txVirqPerSec']);

  const plain = writeRun();
  t.false(readFileSync(join(plain.dir, 'metrics.jsonl'), 'utf8').includes('"tx'), 'a receive-only run: no tx column');
  t.false(readFileSync(join(plain.dir, 'timeseries.csv'), 'utf8').includes(',tx_'), 'nor a tx series');
  const prom = async (r: RunResult) => {
    const m = await RunMetrics.create({ run: 'r', scenario: 'files', runtime: 'sim', seed: 1 });
    m.update(finalView(r));
    return m.text();
  };
  t.false((await prom(plain.result)).includes('splitnet_tx_'), 'nor a tx metric');
  t.true((await prom(result)).includes(`splitnet_tx_packets_sent_total{run="r",host="h0"} ${tx.accounting.sent}`), 'the sending run has them');
  return undefined;
});
