// A multi-host run's report and dashboard: the switch ports over time and the hosts side by side; and the dashboard's transmit figures while a guest sends.
import test from 'ava';
import { buildReport, DashboardView, loadRun, replaySamples } from '../src/index.js';
import type { DashboardRun } from '../src/index.js';
import { DOM0_CPU_PER_PACKET } from '../src/sweep-figures.js';
import { BASE, INCAST, tmp, writeRun } from './fixtures.js';

const SENDING = BASE.replace(
  'traffic: [ { flows: 8, rate: 10Gbps, size: 1518, pattern: poisson } ]',
  'traffic: [ { flows: 8, rate: 2Gbps, size: 1518 }, { name: out, from: vm.0, protocol: udp, rate: 1Gbps, flows: 2 } ]',
);

/** The `data-series` names of figure `id` in `html`, in order. */
function seriesOf(html: string, id: string): string[] {
  const svg = new RegExp(`<svg[^>]*data-plot="${id}"[\\s\\S]*?</svg>`).exec(html)?.[0] ?? '';
  return [...new Set([...svg.matchAll(/data-series="([^"]+)"/g)].map((m) => m[1] as string))];
}

const CLUSTER_IDS = ['switch-throughput', 'switch-queues', 'switch-drops', 'hosts-throughput', 'hosts-interrupts', 'hosts-cpu', 'hosts-latency', 'hosts-drops'];

test('cluster report - a multi-host run has a hosts and switch section: each port over time, each host side by side, every figure with data', (t) => {
  const dir = tmp();
  writeRun(dir, INCAST);
  const r = buildReport(dir);
  const ids = r.figures.map((f) => f.id);
  for (const id of CLUSTER_IDS) t.true(ids.includes(id), id);
  for (const f of r.figures) t.true(f.points > 0, f.id);
  t.regex(r.html, /<section id="cluster"><h2>Hosts and switch<\/h2>/);
  t.regex(r.html, /frames dropped at the switch/);
  t.deepEqual(seriesOf(r.html, 'switch-queues'), ['port 0 → h0', 'port 1 → h1', 'port 2 → h2', 'queue capacity']);
  // Only the port toward the incast's receiver drops.
  t.deepEqual(seriesOf(r.html, 'switch-drops'), ['port 0 → h0']);
  // One bar per host and figure; host 0 sends nothing, so it has no transmit bar.
  const bars = [...(r.figures.find((f) => f.id === 'hosts-throughput')?.svg.matchAll(/<title>([^<·]+) · (h\d): /g) ?? [])].map((m) => `${m[2]} ${m[1]}`);
  t.deepEqual(bars, [
    'h0 delivered',
    'h0 offered at the NIC',
    'h1 delivered',
    'h1 offered at the NIC',
    'h1 guests sent (TX)',
    'h2 delivered',
    'h2 offered at the NIC',
    'h2 guests sent (TX)',
  ]);
  // The CPU per core figure groups each host's cores apart, under their host's name.
  const cpu = r.figures.find((f) => f.id === 'cpu-per-core')?.svg ?? '';
  for (const h of ['h0', 'h1', 'h2']) t.true(cpu.includes(`${h} dom0 netback workers`), h);
  t.true(cpu.includes('<title>h1.dom0.worker0: '), 'a bar per core named with its host');
});

test('cluster report - a one-host run has no hosts and switch section and no switch or host figure', (t) => {
  const dir = tmp();
  writeRun(dir);
  const r = buildReport(dir);
  t.false(r.html.includes('id="cluster"'));
  for (const id of CLUSTER_IDS) t.false(r.figures.some((f) => f.id === id) || r.omitted.some((o) => o.id === id), id);
});

const RUN: DashboardRun = { name: 'replay', runId: 'r-1', runtime: 'sim', durationMs: 3, warmupMs: 0.3, lineRateGbps: 10 };

test('cluster report - the dashboard draws the transmit side while a guest sends (its throughput, interrupts and tiles), and none for a receive-only run', (t) => {
  const frameOf = (text: string) => {
    const dir = tmp();
    writeRun(dir, text);
    const v = new DashboardView(RUN);
    for (const s of replaySamples(loadRun(dir))) v.sample(s);
    return v.frame();
  };
  const tx = frameOf(SENDING);
  t.is(tx.status, 'running');
  t.deepEqual(seriesOf(tx.html, 'throughput').slice(0, 4), ['delivered', 'offered', 'guests sent (TX)', 'TX on the wire']);
  t.true(seriesOf(tx.html, 'tx-interrupts').includes('guest TX virtual interrupts'));
  t.regex(tx.html, /guests sent \(TX\), last interval \(on the wire [\d.]+\)/);
  const rx = frameOf(BASE);
  t.false(rx.html.includes('data-plot="tx-interrupts"'));
  t.false(rx.html.includes('guests sent (TX)'));
});

test('cluster report - the dashboard of a multi-host run draws its switch ports while it goes, and the hosts side by side when it ends', (t) => {
  const dir = tmp();
  writeRun(dir, INCAST);
  const run = loadRun(dir);
  const v = new DashboardView(RUN);
  for (const s of replaySamples(run)) v.sample(s);
  const going = v.frame().html;
  for (const id of ['switch-throughput', 'switch-queues', 'switch-drops']) t.true(going.includes(`data-plot="${id}"`), id);
  t.false(going.includes('data-plot="hosts-cpu"'));
  v.finish(run, 'valid');
  const done = v.frame().html;
  for (const id of CLUSTER_IDS) t.true(done.includes(`data-plot="${id}"`), id);
});

test('cluster report - a sweep counts every host’s dom0 cores (cpu_h<i>_dom0_…) in the driver-domain CPU per packet, and no guest vCPU', (t) => {
  const row = { packets_per_s: 1e6, cpu_h0_dom0_worker0_frac: 0.5, cpu_h1_dom0_nic0_frac: 0.25, cpu_h0_vm0_vcpu0_frac: 0.9 };
  // (0.5 + 0.25) core-seconds per second over a million packets per second: 0.75 µs each.
  t.is(DOM0_CPU_PER_PACKET.value(row), 0.75);
  t.is(DOM0_CPU_PER_PACKET.value({ packets_per_s: 1e6, cpu_dom0_worker0_frac: 0.5, cpu_vm0_vcpu0_frac: 0.9 }), 0.5);
});
