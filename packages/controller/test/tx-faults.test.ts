// Faults on the transmit path in sim: lost and delayed TX notifications, a guest's TX completion handling stopped, a corrupt TX req_prod — what each does, and every frame sent still accounted.
import test from 'ava';
import { run } from './helpers.js';

/** One guest with one queue sending 4 Gbit/s of 1518-byte UDP frames to the wire for 10 ms, with `faults`. */
function sending(faults: string, tx = ''): string {
  return `
name: tx-faults
duration: 10ms
warmup: 1ms
topology: { link: 10Gbps, nicQueues: 1, vms: { count: 1, queues: 1 }, workers: 1 }
traffic:
  - { name: out, from: vm.0, to: wire, protocol: udp, rate: 4Gbps, flows: 4 }
${tx}
faults:
${faults}
`;
}

const NONE = sending('  []').replace('faults:\n  []', '');

test('tx faults - without faults the guest sends for the whole run (the baseline the others are measured against)', (t) => {
  const r = run(NONE);
  const a = r.accounting.tx;
  t.true(a?.balanced);
  t.is(r.summary.tx?.drops.total, 0);
  // 4 Gbit/s of 1518-byte frames for 10 ms is about 3290 frames, nearly all on the wire by the end.
  t.true((a?.onWire ?? 0) > 3200, `on the wire ${String(a?.onWire)}`);
  t.is(r.summary.tx?.faults, undefined);
});

test('tx faults - a lost kick stalls the TX ring for good: netback never polls it again, the guest qdisc overflows, and every frame is accounted', (t) => {
  const r = run(sending('  - { at: 4ms, duration: 2ms, target: vm:0, action: lose-tx-notifications }'));
  const a = r.accounting.tx;
  const tx = r.summary.tx;
  t.true(a?.balanced, JSON.stringify(a));
  t.true((tx?.faults?.notificationsLost ?? 0) >= 1);
  // What left after the loss is at most the ring netback had already taken: about 4 ms of sending, not 10.
  t.true((a?.onWire ?? 0) < 1500, `on the wire ${String(a?.onWire)}`);
  // The requests wait on netback's side of the ring, the qdisc is full behind the stopped queue, the rest dropped.
  t.true((a?.inFlight.txRings ?? 0) > 0);
  t.is(a?.inFlight.guestQdiscs, 1000);
  t.true((a?.dropped['guest-qdisc-overlimit'] ?? 0) > 0);
});

test('tx faults - delayed TX notifications raise the send-to-wire latency and lose nothing', (t) => {
  const base = run(NONE).summary.tx;
  const r = run(sending('  - { at: 2ms, target: vm:0, action: delay-tx-notifications, delay: 50us }'));
  const tx = r.summary.tx;
  t.true(r.accounting.tx?.balanced);
  t.true((tx?.faults?.notificationsDelayed ?? 0) > 0);
  t.is(tx?.faults?.notificationsLost, 0);
  t.is(tx?.drops.total, 0);
  t.true((tx?.meanLatencyUs ?? 0) > (base?.meanLatencyUs ?? Infinity) + 5, `${String(tx?.meanLatencyUs)} µs against ${String(base?.meanLatencyUs)} µs`);
});

test('tx faults - a stopped TX completion fills the ring and the qdisc, drops the overflow, and the queue drains when it ends', (t) => {
  // 16 ms: the guest sends 4 Gbit/s and drains its qdisc only as fast as its vCPU allows beyond that.
  const r = run(sending('  - { at: 3ms, duration: 5ms, target: vm:0, action: stop-tx-completion }'), ['duration=16ms']);
  const a = r.accounting.tx;
  t.true(a?.balanced, JSON.stringify(a));
  t.true((a?.dropped['guest-qdisc-overlimit'] ?? 0) > 0);
  // After the end the guest reclaims its slots, wakes the queue and sends its qdisc: little is held at the end.
  t.true((a?.inFlight.guestQdiscs ?? Infinity) < 50, `qdisc ${String(a?.inFlight.guestQdiscs)}`);
  t.true((a?.onWire ?? 0) > 4000, `on the wire ${String(a?.onWire)}`);
  t.deepEqual(
    r.events.filter((e) => e.kind.startsWith('tx-completion-')).map((e) => [e.kind, e.t]),
    [
      ['tx-completion-stopped', 3_000_000],
      ['tx-completion-resumed', 8_000_000],
    ],
  );
});

test('tx faults - a corrupt TX req_prod is caught by netback, which disables the vif for good: its frames are dropped vif-disabled', (t) => {
  const r = run(sending('  - { at: 4ms, target: vm:0, action: corrupt-tx-ring-index, offset: 5 }'));
  const a = r.accounting.tx;
  t.true(a?.balanced, JSON.stringify(a));
  const fatal = r.events.find((e) => e.kind === 'vif-tx-fatal-error');
  const written = r.events.find((e) => e.kind === 'tx-ring-index-written');
  t.truthy(fatal);
  // netback saw req_prod = the real one + ring size (256) + offset, more than a ring ahead of req_cons.
  t.is((written?.detail as { reqProd: number }).reqProd, (written?.detail as { valid: number }).valid + 256 + 5);
  t.is((fatal?.detail as { reqProd: number }).reqProd, (written?.detail as { reqProd: number }).reqProd);
  t.true((a?.dropped['vif-disabled'] ?? 0) > 0);
  t.true((a?.onWire ?? 0) < 1500, `on the wire ${String(a?.onWire)}`);
  t.deepEqual(
    r.summary.faults?.ringErrors.map((e) => (e as { ring?: string }).ring),
    ['tx'],
  );
});

test('tx faults - the same faults and seed give byte-identical results', (t) => {
  const text = sending(
    '  - { at: 2ms, duration: 3ms, target: vm:0, action: lose-tx-notifications, probability: 0.3 }\n  - { at: 6ms, duration: 1ms, target: vm:0, action: stop-tx-completion }',
  );
  const a = run(text);
  const b = run(text);
  t.is(JSON.stringify(a.summary), JSON.stringify(b.summary));
  t.is(JSON.stringify(a.events), JSON.stringify(b.events));
});

/** Guest 0 sending 3 Gbit/s of UDP to guest 1 through the bridge for 20 ms, with `faults`. */
function guestToGuest(faults: string): string {
  return `
name: tx-faults-g2g
duration: 20ms
warmup: 2ms
topology: { link: 10Gbps, nicQueues: 1, vms: { count: 2, queues: 1 }, workers: 2, vrss: per-flow }
traffic:
  - { name: a-to-b, from: vm.0, to: vm.1, protocol: udp, rate: 3Gbps, flows: 4 }
faults:
${faults}
`;
}

test('tx faults - rx batches of guest-to-guest frames dropped on a link give the sender its grant slots back: counted link-drop, the sender keeps sending', (t) => {
  const r = run(guestToGuest('  - { at: 4ms, duration: 8ms, target: "link:backend>worker:*", action: drop-messages, probability: 0.5, kinds: [rx] }'));
  const a = r.accounting;
  const tx = a.tx;
  t.true(a.balanced, JSON.stringify(a));
  t.true(tx?.balanced, JSON.stringify(tx));
  // Half the bridge's batches into guest 1's vif were lost, their frames counted link-drop, exactly.
  const dropped = a.dropped['link-drop'] ?? 0;
  t.true(dropped > 500, `link-drop ${dropped}`);
  t.is(dropped, r.summary.faults?.messages?.['f0']?.packets ?? -1);
  // Their zero-copy callbacks answered guest 0's slots, so its ring never ran dry: nothing waits in its qdisc, nothing dropped there.
  t.is(tx?.dropped['guest-qdisc-overlimit'], 0);
  t.is(tx?.inFlight.guestQdiscs, 0);
  t.true((tx?.toGuests ?? 0) >= (tx?.sent ?? Infinity) - 5, JSON.stringify(tx));
});
