// External traffic sources on switch ports (`from: external`): their frames cross the switch's output queue toward their host, counted in the fabric's accounting and per port.
import test from 'ava';
import { metricsText } from '@splitnet/results';
import type { RunResult } from '@splitnet/results';
import { run, scenario } from './helpers.js';

/** Two external sources at 6 Gbit/s each (12 Gbit/s) into one guest of host 0 behind its 10 Gbit/s port, beside a stream between the hosts. */
const EXTERNAL_INCAST = `
hosts: 2
seed: 4
duration: 3ms
warmup: 1ms
fabric: { queueBytes: 32768 }
topology: { link: 10Gbps, vms: { count: 2, queues: 1 }, workers: 2, vrss: per-flow }
traffic:
  - { name: east-west, from: h1.vm.0, to: h0.vm.0, protocol: udp, rate: 1Gbps }
  - { name: ext-a, from: external, to: h0.vm.1, protocol: udp, rate: 6Gbps }
  - { name: ext-b, from: external, to: h0.vm.1, protocol: udp, rate: 6Gbps }
`;

function fabricOf(r: RunResult) {
  const f = r.summary.fabric;
  if (f === undefined) throw new Error('no fabric in the summary');
  return f;
}

test("fabric sources - an external incast fills the output queue of the receiving host's port and drops there (switch-queue-full), the other port untouched", (t) => {
  const f = fabricOf(run(EXTERNAL_INCAST));
  const toH0 = f.ports[0];
  if (toH0 === undefined) return t.fail('no port 0');
  t.true(toH0.drops['switch-queue-full'] > 0, `port 0 dropped ${toH0.drops['switch-queue-full']}`);
  t.true(toH0.peakQueueBytes > 32768 - 1600 && toH0.peakQueueBytes <= 32768, `peak ${toH0.peakQueueBytes} B`);
  t.true(toH0.forwardedGbps > 9 && toH0.forwardedGbps <= 10, `${toH0.forwardedGbps} Gbit/s`);
  t.is(f.ports[1]?.drops.total, 0);
});

test("fabric sources - each source has its own port after the hosts', sends its rate and every frame it sent reached the switch or is on its cable", (t) => {
  const r = run(EXTERNAL_INCAST);
  const sources = fabricOf(r).sources ?? [];
  t.deepEqual(
    sources.map((s) => [s.port, s.name, s.to]),
    [
      [2, 'ext-a', 'h0'],
      [3, 'ext-b', 'h0'],
    ],
  );
  for (const s of sources) {
    t.true(Math.abs(s.sentGbps - 6) < 0.3, `${s.name}: ${s.sentGbps} Gbit/s`);
    t.true(s.sent - s.received >= 0 && s.sent - s.received <= 2, `${s.name}: sent ${s.sent}, received ${s.received}`);
  }
});

test("fabric sources - the fabric's accounting counts the sources' frames as sent and balances, as do every host and the whole run", (t) => {
  const r = run(EXTERNAL_INCAST);
  const acc = r.accounting.fabric;
  if (acc === undefined) return t.fail('no fabric accounting');
  const sources = fabricOf(r).sources ?? [];
  const fromSources = sources.reduce((n, s) => n + s.sent, 0);
  t.true(acc.sent > fromSources && fromSources > 0, `sent ${acc.sent}, from sources ${fromSources}`);
  t.true(acc.balanced, JSON.stringify(acc));
  t.true(r.accounting.balanced, JSON.stringify(r.accounting));
  for (const h of r.summary.hosts ?? []) t.true(h.accounting.balanced, `${h.host}: ${JSON.stringify(h.accounting)}`);
});

test("fabric sources - an external source's port takes its own link and delay from fabric.ports after the hosts': a 1 Gbit/s cable holds a 6 Gbit/s source to 1 Gbit/s", (t) => {
  const yaml = EXTERNAL_INCAST.replace('fabric: { queueBytes: 32768 }', 'fabric: { queueBytes: 32768, ports: [ {}, {}, { link: 1Gbps, delay: 20us } ] }');
  const r = run(yaml);
  const sources = fabricOf(r).sources ?? [];
  t.deepEqual(
    sources.map((s) => [s.name, s.linkGbps, s.delayUs]),
    [
      ['ext-a', 1, 20],
      ['ext-b', 10, 1],
    ],
  );
  const [a, b] = sources;
  t.true(a !== undefined && a.sentGbps > 0.9 && a.sentGbps <= 1, `ext-a: ${a?.sentGbps} Gbit/s`);
  t.true(b !== undefined && Math.abs(b.sentGbps - 6) < 0.3, `ext-b: ${b?.sentGbps} Gbit/s`);
  t.true(r.accounting.balanced, JSON.stringify(r.accounting));
  // The resolved scenario names both source ports' settings, and no queue (nothing goes toward a source).
  const ports = (scenario(yaml).resolved['fabric'] as { ports?: unknown[] } | undefined)?.ports;
  t.deepEqual(ports?.slice(2), [
    { link: '1Gbps', delay: '20us' },
    { link: '10Gbps', delay: '1us' },
  ]);
});

test("fabric sources - every metrics row has each source's port (switchSources) after the hosts' ports, and timeseries.csv its offered_gbps; their mean over the window is the summary's sentGbps", (t) => {
  const r = run(EXTERNAL_INCAST);
  const sources = fabricOf(r).sources ?? [];
  const inWindow = r.samples.filter((row) => (row['tMs'] as number) > 1);
  for (const row of r.samples) {
    t.deepEqual(
      (row['switchPorts'] as { port: number }[]).map((p) => p.port),
      [0, 1],
    );
    t.deepEqual(
      (row['switchSources'] as { port: number }[]).map((p) => p.port),
      [2, 3],
    );
  }
  for (const [i, s] of sources.entries()) {
    const sent = (row: Record<string, unknown>) => (row['switchSources'] as { sentGbps: number }[])[i]?.sentGbps ?? NaN;
    const mean = inWindow.reduce((n, row) => n + sent(row), 0) / inWindow.length;
    t.true(Math.abs(mean - s.sentGbps) <= 1e-4 * s.sentGbps, `${s.name}: rows ${mean}, summary ${s.sentGbps}`);
    for (const row of r.samples) {
      const p = r.series.filter((x) => x.tMs === row['tMs'] && x.entity === `switch.port${s.port}`);
      t.deepEqual(
        p.map((x) => [x.metric, x.value]),
        [['offered_gbps', sent(row)]],
      );
    }
  }
});

test("fabric sources - metrics.prom counts each source's frames and bytes by its port, after the transmit path's metrics; a multi-host run without sources has no such series", async (t) => {
  const r = run(EXTERNAL_INCAST);
  const text = await metricsText(r, { run: 'x', scenario: 'x', runtime: 'sim', seed: 4 });
  const value = (name: string, port: number): number => {
    const m = new RegExp(`^${name}\\{port="${port}",run="x",host="h0"\\} (\\S+)$`, 'm').exec(text);
    return m === null ? NaN : Number(m[1]);
  };
  const ends = r.end.fabric?.sources ?? [];
  t.is(ends.length, 2);
  for (const src of ends) {
    t.is(value('splitnet_switch_source_packets_sent_total', src.port), src.sent, `port ${src.port}`);
    t.is(value('splitnet_switch_source_bytes_sent_total', src.port), src.sentBytes, `port ${src.port}`);
  }
  t.true(text.indexOf('splitnet_tx_packets_dropped_total') < text.indexOf('splitnet_switch_source_packets_sent_total'));
  const without = await metricsText(run(EXTERNAL_INCAST.replace(/ {2}- \{ name: ext-.*\n/g, '')), { run: 'x', scenario: 'x', runtime: 'sim', seed: 4 });
  t.false(without.includes('splitnet_switch_source'));
});
