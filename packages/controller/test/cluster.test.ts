// Multi-host scenarios in sim: traffic across the switch, its output queues and drops, TCP's RTT over the fabric, the invariants, determinism.
import test from 'ava';
import { metricsText } from '@splitnet/results';
import type { RunResult } from '@splitnet/results';
import { fileURLToPath } from 'node:url';
import { loadScenarioFile } from '@splitnet/scenario';
import { run } from './helpers.js';
import { runSimInterruptible } from '../src/run-sim.js';

const HOSTS = `
hosts: 3
seed: 3
duration: 4ms
warmup: 1ms
topology: { link: 10Gbps, nicQueues: 2, vms: { count: 4, queues: 1 }, workers: 2, vrss: per-flow }
`;

/** Eight UDP senders on hosts 1 and 2 at 2 Gbit/s each (16 Gbit/s) into one guest of host 0, behind a 10 Gbit/s port. */
const INCAST = `${HOSTS}
fabric: { queueBytes: 65536 }
traffic:
${[1, 2].flatMap((h) => [0, 1, 2, 3].map((v) => `  - { from: h${h}.vm.${v}, to: h0.vm.0, protocol: udp, rate: 2Gbps, flows: 1 }`)).join('\n')}
`;

function fabricOf(r: RunResult) {
  const f = r.summary.fabric;
  if (f === undefined) throw new Error('no fabric in the summary');
  return f;
}

test('cluster - an incast fills the switch port toward the receiving host to its capacity and drops there, counted as switch-queue-full', (t) => {
  const r = run(INCAST);
  const f = fabricOf(r);
  const toH0 = f.ports[0];
  if (toH0 === undefined) return t.fail('no port 0');
  t.true(toH0.drops['switch-queue-full'] > 0, `port 0 dropped ${toH0.drops['switch-queue-full']}`);
  t.true(toH0.peakQueueBytes > 65536 - 1600 && toH0.peakQueueBytes <= 65536, `peak ${toH0.peakQueueBytes} B of 65536`);
  // Nothing else drops at the switch: the ports toward the senders carry nothing.
  t.is(f.ports[1]?.drops.total, 0);
  t.is(f.ports[2]?.drops.total, 0);
  // What left port 0 is at most its line rate.
  t.true(toH0.forwardedGbps <= 10, `${toH0.forwardedGbps} Gbit/s`);
  t.true(toH0.forwardedGbps > 9, `${toH0.forwardedGbps} Gbit/s`);
});

test('cluster - the whole run, every host and the fabric balance: every frame delivered, dropped with a reason or in flight', (t) => {
  const r = run(INCAST);
  t.true(r.accounting.balanced, JSON.stringify(r.accounting));
  const fabric = r.accounting.fabric;
  if (fabric === undefined) return t.fail('no fabric accounting');
  t.true(fabric.balanced);
  t.is(fabric.unaccounted, 0);
  t.true(fabric.sent > 0 && fabric.delivered > 0);
  for (const h of r.summary.hosts ?? []) t.true(h.accounting.balanced, `${h.host}: ${JSON.stringify(h.accounting)}`);
  t.is(r.summary.hosts?.length, 3);
});

test('cluster - the same scenario and seed give identical summary, metrics and events twice', (t) => {
  const a = run(INCAST);
  const b = run(INCAST);
  t.is(JSON.stringify(a.summary), JSON.stringify(b.summary));
  t.is(JSON.stringify(a.samples), JSON.stringify(b.samples));
  t.is(JSON.stringify(a.events), JSON.stringify(b.events));
});

/** One TCP_RR connection from a guest of host 0 to a guest of host 1: its min RTT is the datapath's plus the fabric's. */
const RR = (delay: string) => `${HOSTS}
fabric: { delay: ${delay} }
traffic:
  - { from: h0.vm.1, to: h1.vm.2, flows: 1, rr: { request: 64, response: 64 } }
`;

test('cluster - a TCP connection across hosts crosses four fabric cables per round trip: its min RTT grows by 4 x the added port delay', (t) => {
  const minRtt = (delay: string): number => {
    const flow = run(RR(delay)).summary.tcp?.flows[0];
    if (flow === undefined) throw new Error('no tcp flow');
    return flow.rttUs.min;
  };
  const near = minRtt('1us');
  const far = minRtt('11us');
  // Each way: NIC → switch and switch → NIC, each 10 µs longer; everything else is the same run.
  t.true(Math.abs(far - near - 40) < 0.5, `min RTT ${near} µs at 1 µs per port, ${far} µs at 11 µs`);
});

test('cluster - a host that exchanges nothing with the others still runs its own traffic, and its NIC never touches the switch', (t) => {
  const r = run(`${HOSTS}
traffic:
  - { to: h2.vm.0, protocol: udp, rate: 1Gbps, flows: 2 }
  - { from: h0.vm.0, to: h1.vm.0, protocol: udp, rate: 1Gbps, flows: 2 }
`);
  const h2 = r.summary.hosts?.[2];
  t.true((h2?.throughput.gbps ?? 0) > 0.9);
  t.is(fabricOf(r).ports[2]?.received, 0);
  t.is(fabricOf(r).ports[2]?.enqueued, 0);
  t.true((r.summary.hosts?.[1]?.throughput.gbps ?? 0) > 0.9);
});

/** Host 1 sends to a guest of host 0, host 2 to a guest of host 1; `faults` is added to it. */
const TWO_STREAMS = (faults: string) => `${HOSTS}
traffic:
  - { from: h1.vm.0, to: h0.vm.0, protocol: udp, rate: 2Gbps, flows: 2 }
  - { from: h2.vm.0, to: h1.vm.1, protocol: udp, rate: 2Gbps, flows: 2 }
${faults}`;

test('cluster - a paused host is cut off at its switch port (switch-port-down) while the other hosts carry on exactly as without the fault', (t) => {
  const base = run(TWO_STREAMS(''));
  const paused = run(TWO_STREAMS('faults:\n  - { at: 1500us, target: h0, action: pause, duration: 2ms }\n'));
  const port0 = fabricOf(paused).ports[0];
  t.true((port0?.drops['switch-port-down'] ?? 0) > 0, JSON.stringify(port0?.drops));
  t.true((paused.summary.hosts?.[0]?.throughput.gbps ?? 0) < (base.summary.hosts?.[0]?.throughput.gbps ?? 0) / 2);
  // Host 1's guest, fed by host 2 through port 1, sees the same run with and without host 0's pause.
  t.is(paused.summary.hosts?.[1]?.throughput.gbps, base.summary.hosts?.[1]?.throughput.gbps);
  t.is(fabricOf(paused).ports[1]?.drops.total, 0);
  t.true(paused.accounting.balanced, JSON.stringify(paused.accounting.fabric));
});

test('cluster - a lossy switch port drops frames toward its host with switch-port-loss, and a delayed one adds its delay to a TCP round trip', (t) => {
  const lossy = run(TWO_STREAMS('faults:\n  - { at: 1ms, target: switch:port:1, action: drop-messages, probability: 0.5, duration: 1ms }\n'));
  const drops = fabricOf(lossy).ports[1]?.drops['switch-port-loss'] ?? 0;
  t.true(drops > 0, `${drops} lost`);
  t.is(fabricOf(lossy).ports[0]?.drops.total, 0);
  t.true(lossy.accounting.balanced);
  const rr = (faults: string): number => run(`${RR('1us')}${faults}`).summary.tcp?.flows[0]?.rttUs.min ?? NaN;
  // Toward host 1 only (the request's direction): one crossing per round trip is 20 µs longer.
  const delayed = rr('faults:\n  - { at: 0ms, target: switch:port:1, action: delay-messages, delay: 20us, duration: 4ms }\n');
  t.true(Math.abs(delayed - rr('') - 20) < 0.5, `min RTT ${delayed} µs with the delay`);
});

test('cluster - the fabric balances at whatever instant a run stops (frames on cables, in switch queues, arriving)', async (t) => {
  // The example: TCP bursts leave a NIC from several TX queues at once (each settled in turn).
  const s = loadScenarioFile(fileURLToPath(new URL('../../../../examples/cluster-4x8.yaml', import.meta.url)), { duration: '5ms' });
  // Stopped after 4, 10, 25 and 100 of its 1000 slices: instants between the events of frames on their way.
  for (const slices of [4, 10, 25, 100]) {
    const ac = new AbortController();
    let n = 0;
    const r = await runSimInterruptible(s, { signal: ac.signal, onProgress: () => (++n === slices ? ac.abort('SIGINT') : undefined) });
    t.truthy(r.summary.interrupted);
    t.true(r.accounting.fabric?.balanced, `after ${slices} slices: ${JSON.stringify(r.accounting.fabric)}`);
    t.true(r.accounting.balanced, `after ${slices} slices`);
  }
});

/** An external source at 1 Gbit/s of 1518-byte frames, constant, into host 1's guest; host 0 streams to host 1 beside it. */
const EXTERNAL = (faults: string): string => `
hosts: 2
seed: 6
duration: 4ms
warmup: 1ms
topology: { link: 10Gbps, vms: { count: 2, queues: 1 }, workers: 2, vrss: per-flow }
traffic:
  - { name: across, from: h0.vm.0, to: h1.vm.0, protocol: udp, rate: 2Gbps, flows: 2 }
  - { name: ext, from: external, to: h1.vm.1, protocol: udp, rate: 1Gbps, size: 1518, pattern: constant }
${faults}`;

/** 1 Gbit/s of 1518-byte frames (1538 bytes on the wire with preamble and gap): frames per µs. */
const EXT_FRAMES_PER_US = 1e9 / 8 / 1538 / 1e6;

test("cluster - an external source's port goes down (link-flap on switch:port:<its port>): its frames are dropped there, switch-port-down under its port, the hosts' ports untouched", async (t) => {
  const base = run(EXTERNAL(''));
  const r = run(EXTERNAL("faults:\n  - { at: 2ms, target: 'switch:port:2', action: link-flap, duration: 1ms }\n"));
  const src = fabricOf(r).sources?.[0];
  if (src === undefined) return t.fail('no source');
  t.is(src.port, 2);
  // Every frame that reached the switch in the millisecond it was down: about 81 of them.
  const expected = 1000 * EXT_FRAMES_PER_US;
  t.true(Math.abs((src.drops?.['switch-port-down'] ?? NaN) - expected) <= 1, JSON.stringify(src.drops));
  t.is(src.drops?.total, src.drops?.['switch-port-down']);
  t.is(fabricOf(r).drops.total, src.drops?.total ?? NaN, "the fabric's drops are the source port's");
  t.deepEqual(
    fabricOf(r).ports.map((p) => p.drops.total),
    [0, 0],
  );
  t.is(src.sent, fabricOf(base).sources?.[0]?.sent ?? NaN, 'the source sends on (it does not see the port)');
  t.is(fabricOf(base).sources?.[0]?.drops, undefined, 'without a fault on its port, no drops in its summary');
  t.true(r.accounting.balanced && r.accounting.fabric?.balanced === true, JSON.stringify(r.accounting.fabric));
  // Host 0's stream into host 1 crosses port 1, which carried on: the same frames forwarded as without the fault, less the source's.
  t.is((fabricOf(r).ports[1]?.forwarded ?? 0) + (src.drops?.total ?? 0), fabricOf(base).ports[1]?.forwarded ?? NaN);
  const kinds = r.events.filter((e) => e.actor === 'controller' && e.kind.startsWith('fault-')).map((e) => `${e.kind} ${String(e.detail['target'])}`);
  t.deepEqual(kinds, ['fault-start switch:port:2', 'fault-end switch:port:2']);
  // metrics.prom counts them under the source's port, beside the hosts' ports; without the fault, no series for it.
  const id = { run: 'x', scenario: 'x', runtime: 'sim', seed: 6 } as const;
  const text = await metricsText(r, id);
  t.regex(text, new RegExp(`^splitnet_switch_port_packets_dropped_total\\{port="2",reason="switch-port-down",run="x",host="h0"\\} ${src.drops?.total}$`, 'm'));
  t.notRegex(await metricsText(base, id), /splitnet_switch_port_packets_dropped_total\{port="2"/);
  // metrics.jsonl and timeseries.csv: the source port's drops so far in every row from the fault on, none before.
  const dropsIn = (row: Record<string, unknown>): number | undefined => (row['switchSources'] as { dropsTotal?: number }[])[0]?.dropsTotal;
  const rows = r.samples.map((row) => [row['tMs'] as number, dropsIn(row)] as const);
  t.deepEqual(
    rows.filter(([tMs]) => tMs <= 2).map(([, d]) => d),
    rows.filter(([tMs]) => tMs <= 2).map(() => undefined),
  );
  t.is(rows.at(-1)?.[1], src.drops?.total);
  t.true(rows.filter(([tMs]) => tMs > 2).every(([, d]) => d !== undefined && d <= (src.drops?.total ?? NaN)));
  const series = r.series.filter((x) => x.entity === 'switch.port2' && x.metric === 'dropped_packets');
  t.deepEqual(
    series.map((x) => [x.tMs, x.value]),
    rows.filter(([, d]) => d !== undefined).map(([tMs, d]) => [tMs, d]),
  );
  t.is(base.samples.filter((row) => dropsIn(row) !== undefined).length, 0, 'without a fault on the port, no drops in its rows');
});

test("cluster - an external source's port loses its frames with the fault's probability (switch-port-loss under its port), from the run seed and the fault id", (t) => {
  const faults = (p: number, id = 'lossy') =>
    `faults:\n  - { id: ${id}, at: 2ms, target: 'switch:port:2', action: drop-messages, probability: ${p}, duration: 1ms }\n`;
  const r = run(EXTERNAL(faults(0.5)));
  const lost = fabricOf(r).sources?.[0]?.drops?.['switch-port-loss'] ?? NaN;
  const arrived = 1000 * EXT_FRAMES_PER_US;
  t.true(lost > arrived * 0.3 && lost < arrived * 0.7, `${lost} of about ${arrived}`);
  t.true(r.accounting.balanced, JSON.stringify(r.accounting.fabric));
  t.is(fabricOf(run(EXTERNAL(faults(1)))).sources?.[0]?.drops?.['switch-port-loss'], Math.round(arrived));
  t.is(fabricOf(run(EXTERNAL(faults(0.5)))).sources?.[0]?.drops?.['switch-port-loss'], lost, 'the same draws again');
  t.not(fabricOf(run(EXTERNAL(faults(0.5, 'other')))).sources?.[0]?.drops?.['switch-port-loss'], lost, 'another fault id, other draws');
});

test("cluster - an external source's port delays its frames (delay-messages): they are on its cable that much longer, in order, and none is lost", (t) => {
  const base = run(EXTERNAL(''));
  const onCable = (x: RunResult): number => (x.end.fabric?.sources[0]?.sent ?? NaN) - (x.end.fabric?.sources[0]?.received ?? NaN);
  // To the end of the run: at the end, 100 µs more of its frames are on the cable.
  const held = run(EXTERNAL("faults:\n  - { at: 2ms, target: 'switch:port:2', action: delay-messages, delay: 100us, duration: 2ms }\n"));
  t.true(Math.abs(onCable(held) - onCable(base) - 100 * EXT_FRAMES_PER_US) <= 1, `${onCable(held)} on the cable, ${onCable(base)} without the delay`);
  t.true(held.accounting.balanced && held.accounting.fabric?.balanced === true, JSON.stringify(held.accounting.fabric));
  // Over by the end: every frame came through (none lost, none overtaken), and the source's port has no drops.
  const over = run(EXTERNAL("faults:\n  - { at: 2ms, target: 'switch:port:2', action: delay-messages, delay: 100us, duration: 1ms }\n"));
  const src = fabricOf(over).sources?.[0];
  t.is(src?.received, fabricOf(base).sources?.[0]?.received);
  t.is(src?.drops?.total, 0);
  t.is(over.summary.hosts?.[1]?.drops.total, base.summary.hosts?.[1]?.drops.total);
  t.true(over.accounting.balanced, JSON.stringify(over.accounting.fabric));
});
