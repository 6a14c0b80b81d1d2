// Restarts and host kills beside TCP and request/response connections whose ends are on two hosts (guest to guest
// across the switch): what the crash lost is retransmitted, a restarted guest's or host's RSTs cross the fabric like
// any segment, the active end reconnects, and every accounting balances.
import test from 'ava';
import type { RunResult } from '@splitnet/results';
import { allBalanced, flows, near, run, tps } from './helpers.js';

/**
 * Host 0's guest 0 sends a TCP stream (a 64 KiB buffer) to host 1's guest 0, and host 0's guest 1 is the TCP_RR
 * client of host 1's guest 1; each guest on a worker of its own. The window starts at 260 ms: after a loss of the
 * whole window in flight, Linux's sender waits for its RTO, at least 200 ms (TCP_RTO_MIN), before it resends.
 */
const ACROSS = `
hosts: 2
name: cluster-tcp-faults
duration: 300ms
warmup: 260ms
topology: { link: 10Gbps, nicQueues: 2, vms: { count: 2, queues: 1 }, workers: 2, vrss: per-flow }
traffic:
  - { name: bulk, from: h0.vm.0, to: h1.vm.0, flows: 1, tcp: { rcvbuf: 65536 } }
  - { name: rr, from: h0.vm.1, to: h1.vm.1, flows: 1, rr: { request: 64, response: 64 } }
`;

function withFaults(...faults: string[]): string {
  return `${ACROSS}faults:\n${faults.map((f) => `  - ${f}\n`).join('')}`;
}

type T = { true(v: boolean, m?: string): void };

/** Both flows run after the fault as without it: the stream's goodput and the transactions/s within 3 %. */
function recovered(t: T, r: RunResult): void {
  near(t, 'bulk goodput', flows(r).bulk.goodputGbps, flows(base()).bulk.goodputGbps);
  near(t, 'rr transactions/s', tps(r), tps(base()));
}

let clean: RunResult | undefined;
const base = (): RunResult => (clean ??= run(ACROSS));

/** The events of a kind, as [actor, flow]. */
function eventsOf(r: RunResult, kind: string): [string, unknown][] {
  return r.events.filter((e) => e.kind === kind).map((e) => [e.actor, e.detail['flow']]);
}

for (const [target, action, hit] of [
  ['h1.worker.0', 'kill, restartAfter: 1ms', 'bulk'],
  ['h0.worker.1', 'crash-loop, restartAfter: 500us, repeat: { every: 2ms, count: 3 }', 'rr'],
] as const) {
  test(`cluster tcp faults - a ${action.split(',')[0]} of ${target}, a worker serving one end of a connection across the switch: the lost segments are retransmitted by the RTO, the connection survives, the other flow is untouched, every accounting balances`, (t) => {
    const r = run(withFaults(`{ at: 4ms, target: ${target}, action: ${action} }`));
    allBalanced(t, r);
    const f = flows(r)[hit];
    const other = flows(r)[hit === 'bulk' ? 'rr' : 'bulk'];
    t.true(f.timeouts >= 1 && f.retransmissions >= 1, JSON.stringify(f));
    t.is(other.retransmissions, 0);
    t.is(f.resets, undefined, 'the sockets are in the guests: no reset');
    recovered(t, r);
  });
}

for (const [vm, which] of [
  [0, 'bulk'],
  [1, 'rr'],
] as const) {
  test(`cluster tcp faults - a kill of the guest on host 1 serving the ${which} flow: its sockets die, host 0's RTO retransmission meets an RST that crosses the switch back, host 0's guest reconnects and the flow recovers`, (t) => {
    const r = run(withFaults(`{ at: 4ms, target: h1.vm.${vm}, action: kill, restartAfter: 1ms }`));
    allBalanced(t, r);
    const f = flows(r)[which];
    const other = flows(r)[which === 'bulk' ? 'rr' : 'bulk'];
    t.true(f.timeouts >= 1, JSON.stringify(f));
    t.like(f, { resets: 1, reconnects: 1, rstSent: 1 });
    t.is(other.resets, undefined, 'the other guest keeps its connection');
    t.deepEqual(eventsOf(r, 'tcp-connection-reset'), [[`h0.vm.${vm}`, vm]]);
    t.deepEqual(eventsOf(r, 'tcp-connection-opened'), [[`h0.vm.${vm}`, vm]]);
    recovered(t, r);
  });
}

test('cluster tcp faults - a restart (at once) of the guest on host 1 receiving the stream: segments of the old connection still arriving meet RSTs across the switch (one per GRO packet), host 0 reconnects at once (no RTO)', (t) => {
  // At 4.05 ms, not 4 ms: acked once per GRO packet, the stream moves in bursts of its window, and at 4 ms the whole
  // window was in the guest (lost with it), so nothing arrived after the restart and the sender waited for its RTO
  // (the case of the host kill below).
  const r = run(withFaults('{ at: 4050us, target: h1.vm.0, action: restart }'));
  allBalanced(t, r);
  const f = flows(r).bulk;
  t.like(f, { resets: 1, reconnects: 1, timeouts: 0 });
  // One RST per GRO packet of the old connection's segments (the guest's GRO merges a poll's in-order segments).
  t.true((f.rstSent ?? 0) >= 1, JSON.stringify(f));
  near(t, 'bulk goodput', f.goodputGbps, flows(base()).bulk.goodputGbps);
});

test('cluster tcp faults - the sending guest on host 0 killed and restarted opens a new connection to host 1 at its restart (a SYN across the switch, no reset), and the stream recovers', (t) => {
  const r = run(withFaults('{ at: 4ms, target: h0.vm.0, action: kill, restartAfter: 1ms }'));
  allBalanced(t, r);
  t.like(flows(r).bulk, { resets: 0, reconnects: 1, rstSent: 0 });
  t.is(r.summary.flowOrder.reordered, 0);
  recovered(t, r);
});

test("cluster tcp faults - host 1 (both passive ends) killed and restarted 1 ms later: host 0's ends hear nothing until their RTO, whose retransmission meets the fresh host's RST; both reconnect and recover, every accounting balances", (t) => {
  const r = run(withFaults('{ id: crash, at: 4ms, target: h1, action: kill, restartAfter: 1ms }'));
  allBalanced(t, r);
  const { bulk, rr } = flows(r);
  for (const f of [bulk, rr]) t.like(f, { timeouts: 1, resets: 1, reconnects: 1, rstSent: 1 });
  t.deepEqual(eventsOf(r, 'tcp-connection-reset').sort(), [
    ['h0.vm.0', 0],
    ['h0.vm.1', 1],
  ]);
  // The RST answers the first RTO retransmission, at least TCP_RTO_MIN (200 ms) after the kill.
  t.true(r.events.filter((e) => e.kind === 'tcp-connection-reset').every((e) => e.t > 204_000_000));
  recovered(t, r);
});

test('cluster tcp faults - host 1 killed for good: its peers on host 0 hear nothing, retransmit by their RTO and get no answer (no RST, no reconnect), every accounting balances', (t) => {
  const r = run(withFaults('{ id: crash, at: 4ms, target: h1, action: kill }'));
  allBalanced(t, r);
  const { bulk, rr } = flows(r);
  for (const f of [bulk, rr]) {
    t.true(f.timeouts >= 1, JSON.stringify(f));
    t.is(f.resets, undefined);
    t.is(f.goodputGbps, 0);
  }
  t.deepEqual(eventsOf(r, 'tcp-connection-reset'), []);
  t.is(tps(r), 0);
});

test('cluster tcp faults - host 0 (both active ends) killed and restarted: its fresh guests open new connections at the restart, host 1 answers them (its old sockets dropped with no reset), and both flows recover', (t) => {
  const r = run(withFaults('{ id: crash, at: 4ms, target: h0, action: kill, restartAfter: 1ms }'));
  allBalanced(t, r);
  const { bulk, rr } = flows(r);
  for (const f of [bulk, rr]) t.like(f, { resets: 0, reconnects: 1, rstSent: 0 });
  t.deepEqual(
    r.events.filter((e) => e.kind === 'tcp-connection-opened').map((e) => e.actor),
    ['h0.vm.0', 'h0.vm.1'],
  );
  recovered(t, r);
});

test('cluster tcp faults - a host kill with a restart beside connections across the switch is deterministic', (t) => {
  const faults = withFaults('{ at: 3ms, target: h1.worker.1, action: kill, restartAfter: 1ms }', '{ at: 5ms, target: h1, action: kill, restartAfter: 500us }');
  const a = run(faults);
  const b = run(faults);
  t.is(JSON.stringify(a.summary), JSON.stringify(b.summary));
  t.is(JSON.stringify(a.events), JSON.stringify(b.events));
});

test("cluster tcp faults - a host holding the guest ends of TCP flows from behind its wire, killed and restarted: its fresh NIC takes the far ends over (they are not the host's), whose RTO retransmissions meet the fresh guests' RSTs; they reconnect, every accounting balances", (t) => {
  const r = run(`
hosts: 2
name: cluster-tcp-far
duration: 300ms
warmup: 260ms
topology: { link: 10Gbps, nicQueues: 2, vms: { count: 2, queues: 1 }, workers: 2, vrss: per-flow }
traffic:
  - { name: bulk, to: h1.vm.0, flows: 1, tcp: { rcvbuf: 65536 } }
  - { name: rr, to: h1.vm.1, flows: 1, rr: { request: 64, response: 64 } }
faults:
  - { id: crash, at: 4ms, target: h1, action: kill, restartAfter: 1ms }
`);
  allBalanced(t, r);
  const took = r.events.filter((e) => e.kind === 'far-ends-taken-over');
  t.deepEqual(
    took.map((e) => [e.t, e.actor, e.detail['flows']]),
    [[5_000_000, 'h1.nic', 2]],
  );
  const { bulk, rr } = flows(r);
  for (const f of [bulk, rr]) t.like(f, { active: 'far', timeouts: 1, resets: 1, reconnects: 1, rstSent: 1 });
  t.true(tps(r) > 0 && bulk.goodputGbps > 0);
});

// The instants are where the NIC holds frames of the flows (with GRO the guests' ACKs come in bursts: at 4 ms h0's
// NIC holds none of them, and its crash-loop would lose nothing).
for (const [at, target, action, lostOn] of [
  ['4ms', 'h1.nic', 'kill, restartAfter: 1ms', 'h1'],
  ['4.05ms', 'h0.nic', 'crash-loop, restartAfter: 500us, repeat: { every: 2ms, count: 3 }', 'h0'],
] as const) {
  test(`cluster tcp faults - a ${action.split(',')[0]} of ${target} (its host's driver domain) beside connections whose far ends are guests on the other host: the NIC loses only what it held, both ends keep their sockets and retransmit by their RTO, and both flows recover`, (t) => {
    const r = run(withFaults(`{ at: ${at}, target: ${target}, action: ${action} }`));
    allBalanced(t, r);
    const { bulk, rr } = flows(r);
    for (const f of [bulk, rr]) {
      t.true(f.timeouts >= 1 && f.retransmissions >= 1, JSON.stringify(f));
      t.is(f.resets, undefined, 'the sockets are in the guests: no reset');
    }
    // Nothing is taken over (the far ends are guests of the other host), and the frames from the switch go on in order.
    t.deepEqual(eventsOf(r, 'far-ends-taken-over'), []);
    t.is(r.summary.flowOrder.reordered, 0);
    const host = (r.summary.hosts ?? []).find((h) => h.host === lostOn);
    const lost = (host?.accounting.dropped['lost-in-crash'] ?? 0) + (host?.accounting.tx?.dropped['lost-in-crash'] ?? 0);
    t.true(lost > 0, JSON.stringify(host?.accounting));
    recovered(t, r);
  });
}

test("cluster tcp faults - the receiving host's back end restarted at once beside a stream from the other host: the segments its NIC held are lost, the sender repairs them (a fast retransmit), no reset, and the stream recovers", (t) => {
  // At 4.1 ms h1's NIC holds segments of the stream (at 4 ms, between two GRO bursts, none).
  const r = run(withFaults('{ at: 4.1ms, target: h1.backend, action: restart }'));
  allBalanced(t, r);
  const { bulk, rr } = flows(r);
  t.like(bulk, { fastRetransmits: 1, timeouts: 0 });
  t.true(bulk.retransmissions >= 1, 'the lost segments resent in the one fast recovery');
  t.is(rr.retransmissions, 0);
  for (const f of [bulk, rr]) t.is(f.resets, undefined);
  t.is(r.summary.flowOrder.reordered, 0);
  recovered(t, r);
});
