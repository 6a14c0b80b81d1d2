// Faults on one host's actors in a multi-host run (`h1.worker.0`): its one-host plan acts on that host's actors only.
import test from 'ava';
import { run } from './helpers.js';

/** Two hosts, each receiving 3 Gbit/s from its own wire, and a stream from host 0's guest 1 to host 1's guest 1. */
const TWO_HOSTS = `
hosts: 2
seed: 2
duration: 3ms
warmup: 1ms
topology: { link: 10Gbps, vms: { count: 2, queues: 1 }, workers: 1, vrss: per-flow }
traffic:
  - { name: into-h0, to: h0.vm.0, protocol: udp, rate: 3Gbps }
  - { name: into-h1, to: h1.vm.0, protocol: udp, rate: 3Gbps }
  - { name: across, from: h0.vm.1, to: h1.vm.1, protocol: udp, rate: 1Gbps }
`;

const STALL = `${TWO_HOSTS}
faults:
  - { id: stall, at: 1ms, target: h1.worker.0, action: slow-worker, factor: 50, duration: 1ms }
`;

test("cluster host faults - a worker stall on host 1 lowers host 1's delivered throughput, and host 0's summary is exactly the run without the fault", (t) => {
  const clean = run(TWO_HOSTS);
  const stalled = run(STALL);
  const [h0c, h1c] = clean.summary.hosts ?? [];
  const [h0s, h1s] = stalled.summary.hosts ?? [];
  if (h0c === undefined || h1c === undefined || h0s === undefined || h1s === undefined) return t.fail('no per-host summaries');
  t.true(h1s.throughput.gbps < 0.8 * h1c.throughput.gbps, `h1: ${h1s.throughput.gbps} with the stall, ${h1c.throughput.gbps} without`);
  t.deepEqual(h0s, h0c);
  t.true(stalled.accounting.balanced, JSON.stringify(stalled.accounting));
});

test("cluster host faults - the fault-start lines name the host's actor, and a fault without an id takes its place in the whole list (f1)", (t) => {
  const r = run(`${TWO_HOSTS}
faults:
  - { at: 1ms, target: h0, action: pause, duration: 100us }
  - { at: 1.5ms, target: h1.vm.1, action: stop-polling, duration: 200us }
`);
  const starts = r.events.filter((e) => e.kind === 'fault-start').map((e) => [e.detail['id'], e.detail['target']]);
  t.deepEqual(starts, [
    ['f0', 'h0'],
    ['f1', 'h1.vm:1'],
  ]);
});
