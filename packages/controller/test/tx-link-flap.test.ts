// A link flap beside a guest that sends, in sim: the NIC's TX queues flushed as the link goes down, frames posted meanwhile dropped, slots returned, TCP recovering.
import test from 'ava';
import type { RunResult } from '@splitnet/results';
import { run } from './helpers.js';

/** One guest with one queue sending 4 Gbit/s of 1518-byte UDP frames to the wire for 10 ms. */
const UDP = `
name: tx-link-flap
duration: 10ms
warmup: 1ms
topology: { link: 10Gbps, nicQueues: 1, vms: { count: 1, queues: 1 }, workers: 1 }
traffic:
  - { name: out, from: vm.0, to: wire, protocol: udp, rate: 4Gbps, flows: 4 }
`;

const FLAP = 'faults=[{at: 4ms, duration: 2ms, target: nic, action: link-flap}]';

/** One guest sending one bulk TCP stream to a host behind the wire (its far end's ACKs come back through the NIC). */
const TCP = `
name: tx-link-flap-tcp
duration: 30ms
warmup: 12ms
topology: { link: 10Gbps, nicQueues: 1, vms: { count: 1, queues: 1 }, workers: 1, vrss: per-flow }
traffic:
  - { flows: 1, from: vm.0, tcp: { rcvbuf: 131072 } }
`;

function linkDownDrops(r: RunResult): number {
  return r.accounting.tx?.dropped['link-down'] ?? -1;
}

test('tx link flap - the frames a guest sends while the link is down are dropped link-down, and the transmit accounting balances', (t) => {
  const base = run(UDP);
  const r = run(UDP, [FLAP]);
  const a = r.accounting.tx;
  t.true(a?.balanced, JSON.stringify(a));
  t.is(linkDownDrops(base), 0);
  // 4 Gbit/s of 1518-byte frames is about 330 frames a millisecond: 2 ms of them, and the NIC's queue as it went down.
  const lost = linkDownDrops(r);
  t.true(lost > 600 && lost < 760, `link-down ${lost}`);
  // What did not leave is what was lost: the guest sent as much as without the flap.
  t.is(a?.sent, base.accounting.tx?.sent);
  t.is((a?.onWire ?? 0) + lost, base.accounting.tx?.onWire ?? 0);
  t.deepEqual(
    r.events.filter((e) => e.kind.startsWith('nic-link-')).map((e) => [e.kind, e.t]),
    [
      ['nic-link-down', 4_000_000],
      ['nic-link-up', 6_000_000],
    ],
  );
});

test('tx link flap - the flushed and dropped frames give their slots back: the guest never stops its queue and its qdisc drops nothing', (t) => {
  const r = run(UDP, [FLAP]);
  const a = r.accounting.tx;
  t.is(a?.dropped['guest-qdisc-overlimit'], 0);
  t.true((a?.inFlight.guestQdiscs ?? Infinity) < 20, `qdisc ${String(a?.inFlight.guestQdiscs)}`);
  t.true((a?.inFlight.txRings ?? Infinity) < 64, `tx rings ${String(a?.inFlight.txRings)}`);
  t.is(r.summary.tx?.drops['link-down'], linkDownDrops(r));
});

test('tx link flap - the frames on the NIC’s TX queue when the link goes down are flushed with it, not sent after it comes back', (t) => {
  // Two guests sending 1 Gbit/s each to a 1 Gbit/s link: frames wait on the NIC's TX queue (their slots held
  // until they leave); the link goes down for 100 µs in the middle of it.
  const burst = `
name: tx-link-flap-queue
duration: 10ms
warmup: 1ms
topology: { link: 1Gbps, nicQueues: 1, vms: { count: 2, queues: 1 }, workers: 1 }
traffic:
  - { name: a, from: vm.0, to: wire, protocol: udp, rate: 1Gbps, flows: 4 }
  - { name: b, from: vm.1, to: wire, protocol: udp, rate: 1Gbps, flows: 4 }
`;
  const r = run(burst, ['faults=[{at: 4ms, duration: 100us, target: nic, action: link-flap}]']);
  const a = r.accounting.tx;
  t.true(a?.balanced, JSON.stringify(a));
  // In 100 µs a 1 Gbit/s link sends about 8 frames; far more were waiting on the NIC's queue and went with the link.
  t.true(linkDownDrops(r) > 100, `link-down ${linkDownDrops(r)}`);
});

test('tx link flap - a guest’s TCP stream loses segments to a short flap, retransmits them and gets its goodput back', (t) => {
  const base = run(TCP).summary.tcp?.flows[0];
  const r = run(TCP, ['faults=[{at: 3ms, duration: 20us, target: nic, action: link-flap}]']);
  const f = r.summary.tcp?.flows[0];
  t.true(r.accounting.balanced, JSON.stringify(r.accounting));
  t.true(r.accounting.tx?.balanced, JSON.stringify(r.accounting.tx));
  t.true(linkDownDrops(r) > 0, 'the guest’s segments were lost on the TX side');
  t.is(base?.retransmissions, 0);
  // A flap of 20 µs loses a few segments in the middle of the window: the later ones bring duplicate ACKs and
  // the loss is repaired by fast retransmit (a longer flap loses the whole window, which only Linux's 200 ms
  // minimum RTO would repair).
  t.true((f?.retransmissions ?? 0) > 0 && (f?.fastRetransmits ?? 0) + (f?.timeouts ?? 0) > 0, JSON.stringify(f));
  // Measured from 12 ms, well after the link came back: within 10 % of the run without the flap.
  const g = f?.goodputGbps ?? 0;
  const g0 = base?.goodputGbps ?? Infinity;
  t.true(Math.abs(g - g0) / g0 < 0.1, `goodput ${g} Gbit/s against ${g0} without the flap`);
});

test('tx link flap - the same scenario and seed give the same summary', (t) => {
  const a = run(UDP, [FLAP]);
  const b = run(UDP, [FLAP]);
  t.deepEqual(a.summary, b.summary);
});
