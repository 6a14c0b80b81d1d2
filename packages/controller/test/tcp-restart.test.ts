// Restarts beside closed-loop traffic in sim: a netback worker, the NIC or the back end killed, restarted or crash-looped beside a TCP bulk stream and a TCP_RR workload — the connections survive, what the crash lost is retransmitted, and the stream recovers.
import test from 'ava';
import type { RunResult } from '@splitnet/results';
import { flows, near, run, tps } from './helpers.js';

/**
 * One TCP stream from a far host into guest 0 (a 64 KiB buffer), and TCP_RR into guest 1, each guest on a worker of
 * its own. The window starts at 260 ms: after a loss of the whole window in flight, Linux's sender waits for its
 * RTO, at least 200 ms (TCP_RTO_MIN), before it resends.
 */
const BOTH = `
name: tcp-restart
duration: 300ms
warmup: 260ms
topology: { link: 10Gbps, nicQueues: 2, vms: { count: 2, queues: 1 }, workers: 2, vrss: per-flow }
traffic:
  - { name: bulk, vms: [0], flows: 1, tcp: { rcvbuf: 65536 } }
  - { name: rr, vms: [1], flows: 1, rr: { request: 64, response: 64 } }
`;

/** Each process fault once: down for 1 ms from 4 ms (restart: at once; crash-loop: at 4, 6 and 8 ms, 500 µs each). */
const FAULT: Readonly<Record<'kill' | 'restart' | 'crash-loop', string>> = {
  kill: 'action: kill, restartAfter: 1ms',
  restart: 'action: restart',
  'crash-loop': 'action: crash-loop, restartAfter: 500us, repeat: { every: 2ms, count: 3 }',
};

const base = run(BOTH);

/** The NIC killed for 1 ms at 4 ms: one run, read by its case of the loop below and by the driver domain's own test (sim is deterministic). */
let nicKill: RunResult | undefined;
const nicKilled = (): RunResult => (nicKill ??= run(BOTH, ['faults=[{at: 4ms, target: nic, action: kill, restartAfter: 1ms}]']));

for (const target of ['worker:0', 'worker:1', 'nic', 'backend'] as const) {
  for (const action of ['kill', 'crash-loop'] as const) {
    test(`tcp restart - a ${action} of ${target} beside a TCP stream and TCP_RR: the lost segments are retransmitted by the RTO, both recover, both invariants hold`, (t) => {
      const r = target === 'nic' && action === 'kill' ? nicKilled() : run(BOTH, [`faults=[{at: 4ms, target: ${target}, ${FAULT[action]}}]`]);
      t.true(r.accounting.balanced, JSON.stringify(r.accounting));
      t.true(r.accounting.tx?.balanced, JSON.stringify(r.accounting.tx));
      t.true(
        r.events.some((e) => e.kind === 'actor-restart'),
        'the supervisor restarted it',
      );
      const { bulk, rr } = flows(r);
      // The worker of the other guest's flow leaves it alone; every other target cuts both.
      const hitBulk = target !== 'worker:1';
      const hitRr = target !== 'worker:0';
      if (hitBulk) t.true(bulk.timeouts >= 1 && bulk.retransmissions >= 1, `bulk: ${JSON.stringify(bulk)}`);
      if (hitRr) t.true(rr.timeouts >= 1 && rr.retransmissions >= 1, `rr: ${JSON.stringify(rr)}`);
      if (!hitBulk) t.is(bulk.retransmissions, 0);
      if (!hitRr) t.is(rr.retransmissions, 0);
      // After the RTO the stream and the transactions run as without the fault.
      const b = flows(base);
      near(t, 'bulk goodput', bulk.goodputGbps, b.bulk.goodputGbps);
      near(t, 'rr transactions/s', tps(r), tps(base));
      t.false(
        r.events.some((e) => e.kind === 'vif-tx-fatal-error'),
        'no ring write of a previous incarnation looked impossible to netback',
      );
    });
  }
}

for (const target of ['worker:0', 'nic'] as const) {
  test(`tcp restart - a restart (at once) of ${target}: both invariants hold and the stream and the transactions go on`, (t) => {
    const r = run(BOTH, [`faults=[{at: 4ms, target: ${target}, ${FAULT.restart}}]`]);
    t.true(r.accounting.balanced, JSON.stringify(r.accounting));
    t.true(r.accounting.tx?.balanced, JSON.stringify(r.accounting.tx));
    near(t, 'bulk goodput', flows(r).bulk.goodputGbps, flows(base).bulk.goodputGbps);
    near(t, 'rr transactions/s', tps(r), tps(base));
  });
}

test("tcp restart - a kill of the driver domain: the restarted NIC takes over the far hosts' ends (their TCP state survives), and the frames that reached it while down are lost-in-crash", (t) => {
  const r = nicKilled();
  const took = r.events.filter((e) => e.kind === 'far-ends-taken-over');
  t.is(took.length, 1, JSON.stringify(took));
  t.is((took[0]?.detail as { flows?: number } | undefined)?.flows, 2);
  // The far hosts go on with their connections: no reset, the same flows, sequence numbers going on (no reordering).
  t.is(r.summary.tcp?.flows.length, 2);
  t.true(r.accounting.dropped['lost-in-crash'] > 0, JSON.stringify(r.accounting.dropped));
  t.is(r.summary.flowOrder.reordered, 0);
});

test('tcp restart - a run with restarts beside closed-loop traffic is deterministic', (t) => {
  const faults = ['faults=[{at: 3ms, target: worker:1, action: kill, restartAfter: 1ms}, {at: 5ms, target: nic, action: kill, restartAfter: 500us}]'];
  const a = run(BOTH, faults);
  const b = run(BOTH, faults);
  t.is(JSON.stringify(a.summary), JSON.stringify(b.summary));
  t.is(JSON.stringify(a.events), JSON.stringify(b.events));
});

/** A flow's event count of `kind`. */
function count(r: RunResult, kind: string): number {
  return r.events.filter((e) => e.kind === kind).length;
}

for (const [vm, which] of [
  [0, 'bulk'],
  [1, 'rr'],
] as const) {
  test(`tcp restart - a kill of the guest serving the ${which} flow: its sockets die, the far host's RTO retransmission meets an RST, the far host reconnects and the flow recovers`, (t) => {
    const r = run(BOTH, [`faults=[{at: 4ms, target: vm:${vm}, action: kill, restartAfter: 1ms}]`]);
    t.true(r.accounting.balanced, JSON.stringify(r.accounting));
    t.true(r.accounting.tx?.balanced, JSON.stringify(r.accounting.tx));
    const f = flows(r)[which];
    const other = flows(r)[which === 'bulk' ? 'rr' : 'bulk'];
    // Everything in flight died with the guest: the far host resends by its RTO, which the restarted guest, with no
    // socket for it, answers with an RST (tcp_v4_send_reset); the far host aborts and opens a new connection.
    t.true(f.timeouts >= 1, JSON.stringify(f));
    t.like(f, { resets: 1, reconnects: 1, rstSent: 1 });
    t.is(other.resets, undefined, 'the other guest keeps its connection');
    t.is(count(r, 'tcp-connection-reset'), 1);
    t.is(count(r, 'tcp-connection-opened'), 1);
    const b = flows(base);
    near(t, 'bulk goodput', flows(r).bulk.goodputGbps, b.bulk.goodputGbps);
    near(t, 'rr transactions/s', tps(r), tps(base));
  });
}

test('tcp restart - a restart (at once) of the guest receiving the stream: the segments in flight meet RSTs (one per GRO packet), the far host reconnects at once from slow start', (t) => {
  const r = run(BOTH, ['faults=[{at: 4ms, target: vm:0, action: restart}]']);
  t.true(r.accounting.balanced, JSON.stringify(r.accounting));
  t.true(r.accounting.tx?.balanced, JSON.stringify(r.accounting.tx));
  const f = flows(r).bulk;
  t.like(f, { resets: 1, reconnects: 1, timeouts: 0 });
  // What of the old connection is still on its way gets RSTs, one per GRO packet (tcp_v4_send_reset answers an skb,
  // and the guest's GRO merges a poll's in-order segments of the flow into one); the first aborts the far host's connection.
  t.true((f.rstSent ?? 0) >= 1, JSON.stringify(f));
  near(t, 'bulk goodput', f.goodputGbps, flows(base).bulk.goodputGbps);
});

/** Guest 0 sends a TCP stream to guest 1 through the bridge: guest 0 is the active end. */
const G2G = `
name: tcp-restart-g2g
duration: 30ms
warmup: 20ms
topology: { link: 10Gbps, nicQueues: 1, vms: { count: 2, queues: 1 }, workers: 2, vrss: per-flow }
traffic:
  - { from: vm.0, to: vm.1, flows: 1, tcp: { rcvbuf: 65536 } }
`;

test('tcp restart - guest to guest: the sending guest restarted opens a new connection (no reset), a crash loop of both guests one per restart, and the stream recovers', (t) => {
  const g2gBase = run(G2G);
  const b = g2gBase.summary.tcp?.flows[0]?.goodputGbps ?? 0;
  for (const [fault, reconnects] of [
    ['{at: 4ms, target: vm:0, action: kill, restartAfter: 1ms}', 1],
    ["{at: 4ms, target: 'vm:*', action: crash-loop, restartAfter: 500us, repeat: { every: 2ms, count: 3 }}", 3],
  ] as const) {
    const r = run(G2G, [`faults=[${fault}]`]);
    t.true(r.accounting.balanced, JSON.stringify(r.accounting));
    t.true(r.accounting.tx?.balanced, JSON.stringify(r.accounting.tx));
    const f = r.summary.tcp?.flows[0];
    t.like(f, { reconnects, resets: 0 });
    t.is(r.summary.flowOrder.reordered, 0);
    near(t, `${fault}: goodput`, f?.goodputGbps ?? 0, b);
  }
});

test('tcp restart - a run with guest restarts beside closed-loop traffic is deterministic', (t) => {
  const faults = ["faults=[{at: 3ms, target: 'vm:*', action: crash-loop, restartAfter: 300us, repeat: { every: 1ms, count: 2 }}]"];
  const a = run(BOTH, faults);
  const b = run(BOTH, faults);
  t.is(JSON.stringify(a.summary), JSON.stringify(b.summary));
  t.is(JSON.stringify(a.events), JSON.stringify(b.events));
});

test("tcp restart - a guest that sends a TCP stream restarted at the instant its worker is: the guest's SYN, written on the TX ring it then re-creates in answer to the worker's reconnect, does not outlive that ring in netback (both ends' TX rings start again from 0), and the stream reconnects", (t) => {
  const r = run(
    `
name: tcp-restart-both
duration: 30ms
warmup: 20ms
topology: { link: 10Gbps, nicQueues: 2, vms: { count: 2, queues: 1 }, workers: 2, vrss: per-flow }
traffic:
  - { name: bulk, from: vm.0, to: wire, flows: 1, tcp: { rcvbuf: 65536 } }
`,
    ["faults=[{at: 4ms, target: 'worker:*', action: kill, restartAfter: 1ms}, {at: 4ms, target: 'vm:*', action: kill, restartAfter: 1ms}]"],
  );
  t.true(r.accounting.balanced, JSON.stringify(r.accounting));
  t.true(r.accounting.tx?.balanced, JSON.stringify(r.accounting.tx));
  // The worker took the guest's own ring state first and ignored its answer's RX state, but re-created its TX ring.
  t.deepEqual(
    r.events.filter((e) => e.actor === 'worker.0' && e.kind.startsWith('vif-')).map((e) => e.kind),
    ['vif-tx-ring-reconnected', 'vif-reconnected', 'vif-ring-state-ignored', 'vif-tx-ring-reconnected'],
  );
  t.like(r.summary.tcp?.flows[0], { reconnects: 1, resets: 0 });
  t.true((r.summary.tcp?.flows[0]?.goodputGbps ?? 0) > 3, JSON.stringify(r.summary.tcp?.flows[0]));
});
