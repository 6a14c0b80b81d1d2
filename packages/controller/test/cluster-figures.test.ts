// What a multi-host run reports over time and per core: each switch port in metrics.jsonl and timeseries.csv, and the whole run's cpu named per host.
import test from 'ava';
import type { RunResult, SwitchPortSample } from '@splitnet/results';
import { run } from './helpers.js';

/** Eight UDP senders on hosts 1 and 2 at 2 Gbit/s each (16 Gbit/s) into one guest of host 0, behind a 10 Gbit/s port. */
const INCAST = `
hosts: 3
seed: 3
duration: 4ms
warmup: 1ms
sampleInterval: 250us
topology: { link: 10Gbps, nicQueues: 2, vms: { count: 4, queues: 1 }, workers: 2, vrss: per-flow }
fabric: { queueBytes: 65536 }
traffic:
${[1, 2].flatMap((h) => [0, 1, 2, 3].map((v) => `  - { from: h${h}.vm.${v}, to: h0.vm.0, protocol: udp, rate: 2Gbps, flows: 1 }`)).join('\n')}
`;

const ONE_HOST = `
seed: 3
duration: 2ms
warmup: 0.5ms
topology: { vms: { count: 2, queues: 1 }, workers: 1 }
traffic: [ { flows: 2, rate: 1Gbps, size: 1518 } ]
`;

let incast: RunResult | undefined;
const result = (): RunResult => (incast ??= run(INCAST));

function portsOf(row: Record<string, unknown>): readonly SwitchPortSample[] {
  const p = row['switchPorts'];
  if (!Array.isArray(p)) throw new Error(`row at ${String(row['tMs'])} ms has no switchPorts`);
  return p as SwitchPortSample[];
}

test('cluster figures - the top-level cpu names each core with its host, and each value is that host own core figure', (t) => {
  const s = result().summary;
  const hosts = s.hosts ?? [];
  t.is(hosts.length, 3);
  let cores = 0;
  for (const h of hosts) {
    for (const [core, frac] of Object.entries(h.cpu)) {
      t.is(s.cpu[`${h.host}.${core}`], frac, `${h.host}.${core}`);
      cores++;
    }
  }
  t.is(Object.keys(s.cpu).length, cores, Object.keys(s.cpu).join(' '));
  t.false('dom0.worker0' in s.cpu);
});

test('cluster figures - every metrics row has each switch port: its forwarded bits add up to the summary, its last drops are the summary ones', (t) => {
  const r = result();
  const f = r.summary.fabric;
  if (f === undefined) return t.fail('no fabric');
  const rows = r.samples;
  t.true(rows.length >= 16, `${rows.length} rows`);
  for (const row of rows)
    t.deepEqual(
      portsOf(row).map((p) => p.port),
      [0, 1, 2],
    );
  const last = rows[rows.length - 1] as Record<string, unknown>;
  t.is(last['tMs'], 4);
  for (const p of f.ports) t.is(portsOf(last)[p.port]?.dropsTotal, p.drops.total, `port ${p.port}`);
  t.true(f.ports[0]!.drops.total > 0, 'the incast drops at port 0');
  // The window's mean rate over equal intervals is the mean of the rows' rates in it (each rounded to 6 digits).
  const inWindow = rows.filter((row) => (row['tMs'] as number) > 1);
  for (const p of f.ports) {
    const mean = inWindow.reduce((n, row) => n + (portsOf(row)[p.port]?.forwardedGbps ?? 0), 0) / inWindow.length;
    t.true(Math.abs(mean - p.forwardedGbps) <= 1e-4 * Math.max(1, p.forwardedGbps), `port ${p.port}: rows ${mean}, summary ${p.forwardedGbps}`);
  }
  const queued = rows.map((row) => portsOf(row)[0]?.queuedBytes ?? -1);
  t.true(Math.max(...queued) > 0 && Math.max(...queued) <= 65536, `port 0 queue ${Math.max(...queued)} B`);
});

test('cluster figures - timeseries.csv has each switch port as an entity with the rows own values', (t) => {
  const r = result();
  const last = r.samples[r.samples.length - 1] as Record<string, unknown>;
  const at = r.series.filter((p) => p.tMs === 4 && p.entity.startsWith('switch.port'));
  const expected = portsOf(last).flatMap((p) => [
    { tMs: 4, entity: `switch.port${p.port}`, metric: 'throughput_gbps', value: p.forwardedGbps },
    { tMs: 4, entity: `switch.port${p.port}`, metric: 'queue_bytes', value: p.queuedBytes },
    { tMs: 4, entity: `switch.port${p.port}`, metric: 'dropped_packets', value: p.dropsTotal },
  ]);
  t.deepEqual(at, expected);
  t.true(r.series.some((p) => p.entity === 'h1.dom0.worker0' && p.metric === 'cpu_frac'));
});

test('cluster figures - a one-host run rows and time series have no switch port and keep their core names', (t) => {
  const r = run(ONE_HOST);
  t.true(r.samples.length > 0);
  for (const row of r.samples) t.false('switchPorts' in row);
  t.false(r.series.some((p) => p.entity.startsWith('switch.')));
  t.true('dom0.worker0' in r.summary.cpu);
});
