// Multi-host scenarios in sim: traffic across the switch, its output queues and drops, TCP's RTT over the fabric, the invariants, determinism.
import test from 'ava';
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
