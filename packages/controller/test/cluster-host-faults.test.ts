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

const MESSAGES = `${TWO_HOSTS}
faults:
  - { id: drop, at: 1ms, target: 'h1.link:backend>worker:0', action: drop-messages, kinds: [rx], probability: 0.5, duration: 1ms }
  - { id: slow, at: 1ms, target: 'h1.link:*>vm:0', action: delay-messages, delay: 20us, duration: 1ms }
`;

test("cluster host faults - rx batches dropped on a link inside host 1 are its link-drop exactly (the fault's packets), and host 0's summary is exactly the run without the faults", (t) => {
  const clean = run(TWO_HOSTS);
  const r = run(MESSAGES);
  const [h0c] = clean.summary.hosts ?? [];
  const [h0, h1] = r.summary.hosts ?? [];
  if (h0c === undefined || h0 === undefined || h1 === undefined) return t.fail('no per-host summaries');
  const hit = r.summary.faults?.messages['drop'];
  t.true((hit?.packets ?? 0) > 0, JSON.stringify(hit));
  t.is(h1.drops['link-drop'], hit?.packets ?? -1);
  t.is(r.accounting.dropped['link-drop'], hit?.packets ?? -1);
  t.true((r.summary.faults?.messages['slow']?.messages ?? 0) > 0);
  t.deepEqual(h0, h0c);
  t.true(r.accounting.balanced, JSON.stringify(r.accounting));
  t.true(h1.accounting.balanced, JSON.stringify(h1.accounting));
});

const KILL = `${TWO_HOSTS}
faults:
  - { id: crash, at: 1.5ms, target: h1.vm.0, action: kill, restartAfter: 200us }
`;

test("cluster host faults - a guest of host 1 that only receives, killed for 200 us, loses its frames (lost-in-crash on host 1) and comes back; host 0's summary is exactly the run without the fault", (t) => {
  const clean = run(TWO_HOSTS);
  const r = run(KILL);
  const [h0c, h1c] = clean.summary.hosts ?? [];
  const [h0, h1] = r.summary.hosts ?? [];
  if (h0c === undefined || h1c === undefined || h0 === undefined || h1 === undefined) return t.fail('no per-host summaries');
  t.true(h1.drops['lost-in-crash'] > 0, JSON.stringify(h1.drops));
  t.is(r.accounting.dropped['lost-in-crash'], h1.drops['lost-in-crash']);
  t.true(h1.throughput.gbps < h1c.throughput.gbps, `${h1.throughput.gbps} vs ${h1c.throughput.gbps}`);
  t.deepEqual(h0, h0c);
  t.true(r.accounting.balanced && h1.accounting.balanced, JSON.stringify(h1.accounting));
  const lines = r.events.filter((e) => e.kind === 'actor-died' || e.kind === 'actor-restart').map((e) => [e.t, e.actor, e.kind]);
  t.deepEqual(lines, [
    [1_500_000, 'h1.vm.0', 'actor-died'],
    [1_700_000, 'h1.vm.0', 'actor-restart'],
  ]);
  t.is(r.summary.faults?.restarts, 1);
  t.deepEqual(
    r.summary.faults?.timeline.map((o) => [o.id, o.target]),
    [['crash', 'h1.vm:0']],
  );
});

test('cluster host faults - a scenario without faults on its hosts’ actors has no faults section; one with them has it', (t) => {
  t.is(run(TWO_HOSTS).summary.faults, undefined);
  t.not(run(KILL).summary.faults, undefined);
});

test("cluster host faults - host 1 killed at the warm-up's end delivers nothing after it, frames toward it are dropped at its switch port (switch-port-down) and on its dark cable (link-down), and host 0 — which sends to it — has exactly the summary it has without the fault; the kill lasts to the end in the faults timeline", (t) => {
  const clean = run(TWO_HOSTS);
  const r = run(`${TWO_HOSTS}
faults:
  - { id: crash, at: 1ms, target: h1, action: kill }
`);
  const [h0c] = clean.summary.hosts ?? [];
  const [h0, h1] = r.summary.hosts ?? [];
  if (h0c === undefined || h0 === undefined || h1 === undefined) return t.fail('no per-host summaries');
  t.is(h1.throughput.gbps, 0);
  t.true((r.summary.fabric?.ports[1]?.drops['switch-port-down'] ?? 0) > 0, JSON.stringify(r.summary.fabric?.ports[1]));
  t.true(h1.drops['link-down'] > 0, JSON.stringify(h1.drops));
  t.deepEqual(h0, h0c);
  t.true(r.accounting.balanced && h1.accounting.balanced, JSON.stringify(r.accounting));
  const died = r.events.filter((e) => e.kind === 'actor-died').map((e) => e.actor);
  t.deepEqual(died, ['h1.backend', 'h1.worker.0', 'h1.vm.0', 'h1.vm.1']);
  t.false(r.events.some((e) => e.kind === 'actor-restart'));
  // The host stays down: its fault lasts to the end of the run.
  t.deepEqual(
    r.summary.faults?.timeline.map((o) => [o.id, o.action, o.target, o.endMs]),
    [['crash', 'kill', 'h1', null]],
  );
  t.is(r.summary.faults?.recovery[0]?.recoveryMs, 'lasts to the end');
});

test("cluster host faults - host 1 killed and restarted 300 us later comes back: its fresh actors deliver again (over twice what the kill alone leaves it, and over 70 % of the run without the fault, down 0.3 ms of the 2 ms window), both accountings balance, and host 0's summary is exactly the run without the fault", (t) => {
  const clean = run(TWO_HOSTS);
  const down = run(`${TWO_HOSTS}
faults:
  - { id: crash, at: 1.5ms, target: h1, action: kill }
`);
  const back = run(`${TWO_HOSTS}
faults:
  - { id: crash, at: 1.5ms, target: h1, action: kill, restartAfter: 300us }
`);
  const [h0c, h1c] = clean.summary.hosts ?? [];
  const [, h1d] = down.summary.hosts ?? [];
  const [h0, h1] = back.summary.hosts ?? [];
  if (h0c === undefined || h1c === undefined || h1d === undefined || h0 === undefined || h1 === undefined) return t.fail('no per-host summaries');
  // Down 0.3 ms of the 2 ms window; after it, its worker (near saturation) drains what queued behind the restart.
  t.true(h1.throughput.gbps > 2 * h1d.throughput.gbps, `${h1.throughput.gbps} restarted, ${h1d.throughput.gbps} not`);
  t.true(h1.throughput.gbps > 0.7 * h1c.throughput.gbps, `${h1.throughput.gbps} restarted, ${h1c.throughput.gbps} without the fault`);
  t.deepEqual(h0, h0c);
  t.true(back.accounting.balanced && h1.accounting.balanced, JSON.stringify(back.accounting));
  const restarted = back.events.filter((e) => e.kind === 'actor-restart').map((e) => [e.t, e.actor]);
  t.deepEqual(
    restarted,
    ['h1.nic', 'h1.backend', 'h1.worker.0', 'h1.vm.0', 'h1.vm.1'].map((a) => [1_800_000, a]),
  );
  t.deepEqual(
    back.summary.faults?.timeline.map((o) => [o.id, o.target, o.startMs, o.endMs]),
    [['crash', 'h1', 1.5, 1.8]],
  );
});
