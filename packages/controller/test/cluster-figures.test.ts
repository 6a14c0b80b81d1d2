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

/** Two hosts, each a different load from outside: 1 Gbit/s into h0's guest 0, 2 Gbit/s into h1's guest 1. */
const TWO_HOSTS = `
hosts: 2
seed: 5
duration: 3ms
warmup: 1ms
sampleInterval: 250us
topology: { nicQueues: 1, vms: { count: 2, queues: 2 }, workers: 2, vrss: per-flow }
traffic:
  - { to: h0.vm.0, rate: 1Gbps, flows: 4, size: 1518 }
  - { to: h1.vm.1, rate: 2Gbps, flows: 4, size: 1518 }
`;

test('cluster figures - timeseries.csv has all for the whole cluster, then every NIC queue, core, VM and guest queue under its host, host after host; the hosts add up to all', (t) => {
  const r = run(TWO_HOSTS);
  const entities = [...new Set(r.series.map((p) => p.entity))];
  const host = (e: string) => Number(/^h(\d+)\./.exec(e)?.[1] ?? NaN);
  t.is(entities[0], 'all');
  t.deepEqual(entities.slice(-2), ['switch.port0', 'switch.port1']);
  const own = entities.slice(1, -2);
  t.true(
    own.every((e) => /^h[01]\.(nic\.q\d+|dom0\.(nic|worker)\d+|vm\d+(\.q\d+|\.vcpu\d+)?)$/.test(e)),
    own.join(' '),
  );
  t.deepEqual(own.map(host), [...own.map(host)].sort(), 'host 0 first, then host 1');
  for (const h of ['h0', 'h1']) {
    t.deepEqual(
      own.filter((e) => e.startsWith(`${h}.`) && !e.includes('dom0')),
      [
        `${h}.nic.q0`,
        `${h}.vm0`,
        `${h}.vm0.q0`,
        `${h}.vm0.q1`,
        `${h}.vm0.vcpu0`,
        `${h}.vm0.vcpu1`,
        `${h}.vm1`,
        `${h}.vm1.q0`,
        `${h}.vm1.q1`,
        `${h}.vm1.vcpu0`,
        `${h}.vm1.vcpu1`,
      ],
    );
  }

  const at = (tMs: number, entity: string, metric: string): number => {
    const p = r.series.find((x) => x.tMs === tMs && x.entity === entity && x.metric === metric);
    if (p === undefined) throw new Error(`no ${entity} ${metric} at ${tMs} ms`);
    return p.value;
  };
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b));
  const times = [...new Set(r.series.map((p) => p.tMs))];
  t.is(times.length, 12);
  for (const tMs of times) {
    const vms = ['h0.vm0', 'h0.vm1', 'h1.vm0', 'h1.vm1'];
    t.true(
      close(
        vms.reduce((n, e) => n + at(tMs, e, 'packets_per_s'), 0),
        at(tMs, 'all', 'packets_per_s'),
      ),
      `${tMs} ms`,
    );
    t.true(
      close(at(tMs, 'h0.nic.q0', 'physical_irqs_per_s') + at(tMs, 'h1.nic.q0', 'physical_irqs_per_s'), at(tMs, 'all', 'physical_irqs_per_s')),
      `${tMs} ms`,
    );
    t.is(
      vms.reduce((n, e) => n + at(tMs, e, 'ring_occupancy_responses'), 0),
      at(tMs, 'all', 'ring_occupancy_responses'),
    );
    // Nothing goes to host 0's guest 1 or host 1's guest 0: a host's VM is its own, not the sum of every host's VM of that index.
    t.is(at(tMs, 'h0.vm1', 'throughput_gbps'), 0);
    t.is(at(tMs, 'h1.vm0', 'throughput_gbps'), 0);
  }
  // Over the measured window each host's VM has its host's summary figure.
  const inWindow = times.filter((x) => x > 1);
  const mean = (entity: string) => inWindow.reduce((n, x) => n + at(x, entity, 'throughput_gbps'), 0) / inWindow.length;
  for (const [h, v] of [
    [0, 0],
    [1, 1],
  ] as const) {
    const want = r.summary.hosts?.[h]?.throughput.perVm[v]?.gbps ?? NaN;
    t.true(want > 0.5 && Math.abs(mean(`h${h}.vm${v}`) - want) <= 1e-4 * want, `h${h}.vm${v}: series ${mean(`h${h}.vm${v}`)}, summary ${want}`);
  }
});
