// A partition beside a guest that sends, in sim: of the sender, its netback worker, the driver domain (NIC and back end) and another guest — the TX ring resyncs at the partition's end, every slot is answered, the sender resumes.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { RunResult } from '@splitnet/results';
import { run, txOutScenario } from './helpers.js';

const OUT = txOutScenario('tx-partition-out');

/** Guest 0 sends 3 Gbit/s of UDP to guest 1 through the bridge, each on a netback worker of its own. */
const G2G = `
name: tx-partition-g2g
duration: 10ms
warmup: 1ms
topology: { link: 10Gbps, nicQueues: 1, vms: { count: 2, queues: 1 }, workers: 2, vrss: per-flow }
traffic:
  - { name: a-to-b, from: vm.0, to: vm.1, protocol: udp, rate: 3Gbps, flows: 4 }
`;

function partition(target: string, at = '4ms'): string[] {
  return [`faults=[{at: ${at}, duration: 1ms, target: ${target}, action: partition}]`];
}

/**
 * TX ring slots the guests have posted and netback has not answered at the end: frames that left the qdisc for the
 * ring (sent, less those the qdisc dropped or still holds; one slot each at 1518 bytes) less the responses (normal,
 * after a dealloc, or error responses for requests whose frames a partition dropped).
 */
function slotsTaken(r: RunResult): number {
  const tx = r.end.tx;
  if (tx === null) return Infinity;
  return tx.sent - tx.drops['guest-qdisc-overlimit'] - tx.held.guestQdiscs - tx.responses;
}

/** The mean of a sample field over the run's last three samples (3 ms after the partition's end). */
function lastMean(r: RunResult, key: string): number {
  const xs = r.samples.slice(-3).map((x) => Number(x[key]));
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function bothBalanced(t: ExecutionContext, r: RunResult): void {
  t.true(r.accounting.balanced, JSON.stringify(r.accounting));
  t.true(r.accounting.tx?.balanced, JSON.stringify(r.accounting.tx));
}

const outClean = run(OUT);
const g2gClean = run(G2G);

for (const target of ['vm:0', 'worker:0', 'nic', 'backend'] as const) {
  test(`tx partition - ${target} cut for 1 ms beside a 3 Gbit/s sender: its frames dropped link-drop, both invariants hold, every slot answered, the sender back at its rate`, (t) => {
    const r = run(OUT, partition(target));
    bothBalanced(t, r);
    const drops = r.summary.tx?.drops;
    // About a millisecond of its frames (3 Gbit/s of 1518-byte frames: ~247) were in messages the cut dropped.
    const linked = drops?.['link-drop'] ?? 0;
    t.true(linked > 150 && linked < 300, JSON.stringify(drops));
    t.is(r.accounting.tx?.dropped['link-drop'], linked);
    // The qdisc held the rest while the ring was full: nothing else was dropped, and the application's sends are untouched.
    t.is(drops?.total, linked, JSON.stringify(drops));
    t.is(r.accounting.tx?.sent, outClean.accounting.tx?.sent);
    t.true(slotsTaken(r) <= slotsTaken(outClean) + 8, `slots taken ${slotsTaken(r)} against ${slotsTaken(outClean)} without the partition`);
    t.true(lastMean(r, 'txWireGbps') > 0.9 * lastMean(outClean, 'txWireGbps'), `${lastMean(r, 'txWireGbps')} Gbit/s on the wire at the end`);
    // The receiving guest's traffic crosses the cut for the driver domain only.
    if (target === 'nic' || target === 'backend') t.true(r.summary.drops['link-drop'] > 0);
    // Who saw what was lost: netback the requests whose frames never came, the bridge the xmits.
    const kinds = new Set(r.events.map((e) => e.kind));
    t.is(kinds.has('vif-tx-requests-lost'), target === 'vm:0' || target === 'worker:0');
    t.is(kinds.has('bridge-tx-frames-lost'), target !== 'vm:0');
  });
}

test('tx partition - another guest (one that only receives) cut beside a sender: the sender loses nothing', (t) => {
  const r = run(OUT, partition('vm:1'));
  bothBalanced(t, r);
  t.true(r.summary.drops['link-drop'] > 0);
  // Its frames go as without the cut (the resync at its end only re-announces worker 0's TX responses to it).
  t.is(r.summary.tx?.drops.total, 0);
  t.is(r.accounting.tx?.sent, outClean.accounting.tx?.sent);
  t.is(r.summary.tx?.onWireGbps, outClean.summary.tx?.onWireGbps);
  t.true(slotsTaken(r) <= slotsTaken(outClean) + 8, `slots taken ${slotsTaken(r)}`);
});

test('tx partition - guest to guest: the receiving guest cut, its frames are link-drop on the receive path and the sender gets every slot back', (t) => {
  const r = run(G2G, partition('vm:1'));
  bothBalanced(t, r);
  t.true(r.summary.drops['link-drop'] > 150, JSON.stringify(r.summary.drops));
  // The sender's frames gave their slots back as they entered guest 1's vif (the zero-copy release), before the cut lost them.
  t.is(r.summary.tx?.drops.total, 0);
  t.true(slotsTaken(r) <= slotsTaken(g2gClean) + 8, `slots taken ${slotsTaken(r)}`);
  t.true(lastMean(r, 'gbps') > 0.9 * lastMean(g2gClean, 'gbps'), `${lastMean(r, 'gbps')} Gbit/s delivered at the end`);
});

test("tx partition - guest to guest: the receiving guest's worker cut, the rx batches it loses give the sender's slots back", (t) => {
  const r = run(G2G, partition('worker:1'));
  bothBalanced(t, r);
  t.true(r.summary.drops['link-drop'] > 150, JSON.stringify(r.summary.drops));
  t.is(r.summary.tx?.drops.total, 0);
  t.true(slotsTaken(r) <= slotsTaken(g2gClean) + 8, `slots taken ${slotsTaken(r)}`);
  t.true(lastMean(r, 'gbps') > 0.9 * lastMean(g2gClean, 'gbps'));
});

test("tx partition - guest to guest: the sender's worker cut, a release the receiving worker sent meanwhile comes back by its count", (t) => {
  // At 4.007 ms a dealloc worker 1 sent for frames entering guest 1's vif falls in the cut.
  const r = run(G2G, partition('worker:0', '4007us'));
  bothBalanced(t, r);
  t.true((r.summary.tx?.drops['link-drop'] ?? 0) > 150, JSON.stringify(r.summary.tx?.drops));
  t.true(
    r.events.some((e) => e.kind === 'vif-tx-deallocs-lost' && e.detail['from'] === 'worker.1'),
    JSON.stringify(r.events.filter((e) => e.kind === 'vif-tx-deallocs-lost')),
  );
  t.true(slotsTaken(r) <= slotsTaken(g2gClean) + 8, `slots taken ${slotsTaken(r)}`);
  t.true(lastMean(r, 'gbps') > 0.9 * lastMean(g2gClean, 'gbps'));
});

test('tx partition - guest to guest: the driver domain cut, both invariants hold and the sender resumes', (t) => {
  const r = run(G2G, partition('nic'));
  bothBalanced(t, r);
  t.true((r.summary.tx?.drops['link-drop'] ?? 0) > 150);
  t.true(slotsTaken(r) <= slotsTaken(g2gClean) + 8, `slots taken ${slotsTaken(r)}`);
  t.true(lastMean(r, 'gbps') > 0.9 * lastMean(g2gClean, 'gbps'));
});

test('tx partition - the same seed gives the same files', (t) => {
  const faults = ['faults=[{at: 3ms, duration: 1ms, target: worker:0, action: partition}, {at: 6ms, duration: 1ms, target: vm:0, action: partition}]'];
  const a = run(OUT, faults);
  const b = run(OUT, faults);
  t.deepEqual(a.summary, b.summary);
  t.deepEqual(a.events, b.events);
  t.deepEqual(a.samples, b.samples);
});

test('tx partition - a run without a sender or a partition keeps its TX drop keys', (t) => {
  t.false('link-drop' in (outClean.summary.tx?.drops ?? {}));
});

test("tx partition - on scheduled dom0 vCPUs: the sender's worker cut, both invariants hold and the sender resumes", (t) => {
  const vcpus = OUT.replace('vrss: per-flow }', 'vrss: per-flow, dom0: { vcpus: 2 } }');
  const clean = run(vcpus);
  const r = run(vcpus, partition('worker:0'));
  bothBalanced(t, r);
  t.true((r.summary.tx?.drops['link-drop'] ?? 0) > 150);
  t.is(r.summary.tx?.drops['guest-qdisc-overlimit'], 0);
  t.true(slotsTaken(r) <= slotsTaken(clean) + 8, `slots taken ${slotsTaken(r)} against ${slotsTaken(clean)}`);
  t.true(lastMean(r, 'txWireGbps') > 0.9 * lastMean(clean, 'txWireGbps'));
});
