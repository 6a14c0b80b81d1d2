// A partition beside closed-loop traffic in sim: a netback worker, the driver domain (NIC, back end) or a guest cut off beside a TCP bulk stream and TCP_RR — a network cut, not a crash: the connections survive, what the cut dropped is lost in transit, and TCP recovers by its own timers (the RTO, backed off while the cut lasts), then slow start.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { ClosedLoopEndReport } from '@splitnet/model';
import type { RunResult } from '@splitnet/results';
import { flows, near, run, tps } from './helpers.js';

/** One TCP stream from a far host into guest 0 (a 64 KiB buffer), and TCP_RR into guest 1, each guest on a worker of its own. */
function both(duration: string, warmup: string): string {
  return `
name: tcp-partition
duration: ${duration}
warmup: ${warmup}
topology: { link: 10Gbps, nicQueues: 2, vms: { count: 2, queues: 1 }, workers: 2, vrss: per-flow }
traffic:
  - { name: bulk, vms: [0], flows: 1, tcp: { rcvbuf: 65536 } }
  - { name: rr, vms: [1], flows: 1, rr: { request: 64, response: 64 } }
`;
}

/** The window starts at 260 ms: a cut of the whole window in flight is repaired by the RTO, at least 200 ms (TCP_RTO_MIN) later. */
const BOTH = both('300ms', '260ms');

function partition(target: string, duration = '1ms', at = '4ms'): string[] {
  return [`faults=[{at: ${at}, duration: ${duration}, target: ${target}, action: partition}]`];
}

function bothBalanced(t: ExecutionContext, r: RunResult): void {
  t.true(r.accounting.balanced, JSON.stringify(r.accounting));
  t.true(r.accounting.tx?.balanced, JSON.stringify(r.accounting.tx));
}

const base = run(BOTH);

/** Which flows each cut reaches: a worker, or a guest, its own guest's; the driver domain both. */
const HITS: Readonly<Record<string, { bulk: boolean; rr: boolean }>> = {
  'worker:0': { bulk: true, rr: false },
  'worker:1': { bulk: false, rr: true },
  nic: { bulk: true, rr: true },
  backend: { bulk: true, rr: true },
  'vm:0': { bulk: true, rr: false },
  'vm:1': { bulk: false, rr: true },
};

for (const [target, hit] of Object.entries(HITS)) {
  test(`tcp partition - ${target} cut for 1 ms beside a TCP stream and TCP_RR: the connections survive, the cut segments come back by the RTO, both recover, both invariants hold`, (t) => {
    const r = run(BOTH, partition(target));
    bothBalanced(t, r);
    const { bulk, rr } = flows(r);
    // The cut took the whole window in flight (and its ACKs): no duplicate ACK comes, so the RTO resends it.
    if (hit.bulk) t.true(bulk.timeouts >= 1 && bulk.retransmissions >= 1, `bulk: ${JSON.stringify(bulk)}`);
    else t.is(bulk.retransmissions, 0);
    if (hit.rr) t.true(rr.timeouts >= 1 && rr.retransmissions >= 1, `rr: ${JSON.stringify(rr)}`);
    else t.is(rr.retransmissions, 0);
    // A cut, not a crash: no connection is reset or opened again, nothing arrives out of order.
    t.is(bulk.resets, undefined);
    t.is(rr.resets, undefined);
    t.false(r.events.some((e) => e.kind.startsWith('tcp-connection')));
    t.is(r.summary.flowOrder.reordered, 0);
    // What the cut dropped is link-drop: the far hosts' segments on the receive path, the guests' on the transmit path.
    t.true(r.summary.drops['link-drop'] + (r.summary.tx?.drops['link-drop'] ?? 0) > 0);
    near(t, 'bulk goodput', bulk.goodputGbps, flows(base).bulk.goodputGbps);
    near(t, 'rr transactions/s', tps(r), tps(base));
  });
}

/** The active far end's sender of `workload` as the NIC reports it at the end (its cwnd trace). */
function farEnd(r: RunResult, workload: 'bulk' | 'rr'): ClosedLoopEndReport {
  const end = r.end.closedLoop?.find((e) => e.side === 'far' && e.workload === workload);
  if (end === undefined) throw new Error(`no far ${workload} end in ${JSON.stringify(r.end.closedLoop?.map((e) => [e.side, e.workload]))}`);
  return end;
}

const LONG = both('1500ms', '1450ms');
const longBase = run(LONG);
const longCut = run(LONG, partition('nic', '700ms'));

test('tcp partition - the driver domain cut for 700 ms: the RTO backs off 200, 400, 800 ms while the cut lasts (3 timeouts, not 4), the flows stall until the third and recover in slow start', (t) => {
  const r = longCut;
  bothBalanced(t, r);
  const { bulk, rr } = flows(r);
  // Linux tcp_retransmit_timer doubles icsk_rto at each expiry: resends at ≈ 204, 604 and 1404 ms; with a fixed
  // 200 ms timeout a fourth would have come at 804 ms (the first one after the cut's end at 704 ms).
  t.is(bulk.timeouts, 3, JSON.stringify(bulk));
  // Both TCP_RR ends had data in flight (the request, the response it answers): each backs off the same way.
  t.is(rr.timeouts, 6, JSON.stringify(rr));
  const ones = farEnd(r, 'bulk').sent.cwnd.filter((c) => c.cwnd === 1 && c.t > 4e6);
  t.deepEqual(
    ones.map((c) => Math.floor(c.t / 1e8)),
    [2, 6, 14],
    JSON.stringify(ones),
  );
  // Nothing reaches a guest from a little after the cut's start until the third timeout resends.
  const delivering = r.samples.filter((s) => Number(s['gbps']) > 0).map((s) => Number(s['tMs']));
  const stalled = r.samples.filter((s) => Number(s['tMs']) > 10 && Number(s['tMs']) <= 1400);
  t.true(
    stalled.every((s) => Number(s['gbps']) === 0),
    JSON.stringify(delivering.filter((ms) => ms > 10 && ms <= 1400)),
  );
  // Then slow start from cwnd 1 (tcp_enter_loss), growing each RTT until ssthresh (0.7 of the window before).
  const after = farEnd(r, 'bulk').sent.cwnd.filter((c) => c.t > 1.4e9 && c.t < 1.41e9);
  t.is(after[0]?.cwnd, 1);
  t.true(after.some((c) => c.cwnd > 1 && c.cwnd < 20) && after.some((c) => c.cwnd >= 30), JSON.stringify(after.slice(0, 6)));
  // In the window after it (1450-1500 ms) both run as without the cut.
  near(t, 'bulk goodput', bulk.goodputGbps, flows(longBase).bulk.goodputGbps);
  near(t, 'rr transactions/s', tps(r), tps(longBase));
});

/** Guest 0 sends a TCP stream to guest 1 through the bridge: guest 0 is the active end. */
const G2G = `
name: tcp-partition-g2g
duration: 220ms
warmup: 210ms
topology: { link: 10Gbps, nicQueues: 1, vms: { count: 2, queues: 1 }, workers: 2, vrss: per-flow }
traffic:
  - { from: vm.0, to: vm.1, flows: 1, tcp: { rcvbuf: 65536 } }
`;

test("tcp partition - guest to guest: the sender, the receiver and each one's worker cut for 1 ms, the stream repairs what was lost and recovers", (t) => {
  const g2gBase = run(G2G);
  const b = g2gBase.summary.tcp?.flows[0]?.goodputGbps ?? 0;
  for (const target of ['vm:0', 'vm:1', 'worker:0', 'worker:1']) {
    const r = run(G2G, partition(target, '1ms', '2ms'));
    bothBalanced(t, r);
    const f = r.summary.tcp?.flows[0];
    t.is(f?.resets, undefined);
    t.is(r.summary.flowOrder.reordered, 0);
    t.true(r.summary.drops['link-drop'] > 0, `${target}: ${JSON.stringify(r.summary.drops)}`);
    near(t, `${target}: goodput`, f?.goodputGbps ?? 0, b);
  }
});

test('tcp partition - a run with partitions beside closed-loop traffic is deterministic', (t) => {
  const faults = ['faults=[{at: 3ms, duration: 1ms, target: worker:1, action: partition}, {at: 5ms, duration: 500us, target: nic, action: partition}]'];
  const a = run(BOTH, faults);
  const b = run(BOTH, faults);
  t.is(JSON.stringify(a.summary), JSON.stringify(b.summary));
  t.is(JSON.stringify(a.events), JSON.stringify(b.events));
  t.is(JSON.stringify(a.samples), JSON.stringify(b.samples));
});
