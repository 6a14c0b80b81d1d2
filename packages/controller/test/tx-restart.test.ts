// Process faults beside a guest that sends, in sim: a guest that only receives is killed while another sends to it, and the sending guest, its worker and the driver domain are killed and restarted beside it.
import test from 'ava';
import { run, txOutScenario } from './helpers.js';

/** Guest 0 sends 3 Gbit/s of UDP to guest 1 through the bridge, each on a netback worker of its own. */
const G2G = `
name: tx-restart
duration: 10ms
warmup: 1ms
topology: { link: 10Gbps, nicQueues: 1, vms: { count: 2, queues: 1 }, workers: 2, vrss: per-flow }
traffic:
  - { name: a-to-b, from: vm.0, to: vm.1, protocol: udp, rate: 3Gbps, flows: 4 }
`;

for (const action of ['kill', 'restart', 'crash-loop'] as const) {
  test(`tx restart - a ${action} of the receiving guest loses its frames lost-in-crash, both invariants hold, and the sender drops nothing`, (t) => {
    const r = run(G2G, [`faults=[{at: 4ms, target: vm:1, action: ${action}}]`]);
    const a = r.accounting;
    t.true(a.balanced, JSON.stringify(a));
    t.true(a.tx?.balanced, JSON.stringify(a.tx));
    t.true(a.dropped['lost-in-crash'] > 0, JSON.stringify(a.dropped));
    // The frames it sent gave their slots back as they entered guest 1's vif: guest 0 sends at its rate throughout.
    t.is(r.summary.tx?.drops.total, 0);
    t.true((a.tx?.inFlight.guestQdiscs ?? Infinity) < 20, JSON.stringify(a.tx));
    t.is(a.tx?.sent, run(G2G).accounting.tx?.sent);
    t.true(
      r.events.some((e) => e.kind === 'actor-restart' && e.actor === 'vm.1'),
      'the supervisor restarted guest 1',
    );
    t.true(
      r.events.some((e) => e.kind === 'netfront-connected' && e.actor === 'vm.1'),
      'guest 1 reconnected its vif',
    );
  });
}

test('tx restart - after a kill of the receiving guest it receives again: what it lost is about the millisecond it was down', (t) => {
  const base = run(G2G).accounting;
  const r = run(G2G, ['faults=[{at: 4ms, target: vm:1, action: kill, restartAfter: 1ms}]']).accounting;
  // 3 Gbit/s of 1518-byte frames is about 247 frames a millisecond.
  const lost = r.dropped['lost-in-crash'];
  t.true(lost > 200 && lost < 320, `lost-in-crash ${lost}`);
  t.is(r.delivered + lost, base.delivered, `delivered ${r.delivered} + lost ${lost} against ${base.delivered}`);
});

const OUT = txOutScenario('tx-restart-out');

/** Each process fault once: down for 1 ms from 4 ms (restart: at once; crash-loop: at 4, 6 and 8 ms, 500 µs each). */
const FAULT: Readonly<Record<'kill' | 'restart' | 'crash-loop', string>> = {
  kill: 'action: kill, restartAfter: 1ms',
  restart: 'action: restart',
  'crash-loop': 'action: crash-loop, restartAfter: 500us, repeat: { every: 2ms, count: 3 }',
};

/** On-wire Gbit/s of the transmit path in the run's last sample (after the last restart). */
function lastTxWireGbps(r: ReturnType<typeof run>): number {
  return Number(r.samples.at(-1)?.['txWireGbps']);
}

for (const target of ['vm:0', 'worker:0', 'nic', 'backend'] as const) {
  for (const action of ['kill', 'restart', 'crash-loop'] as const) {
    test(`tx restart - a ${action} of ${target} beside a 3 Gbit/s sender: both invariants hold and the sender is back on the wire at its rate`, (t) => {
      const r = run(OUT, [`faults=[{at: 4ms, target: ${target}, ${FAULT[action]}}]`]);
      const a = r.accounting;
      t.true(a.balanced, JSON.stringify(a));
      t.true(a.tx?.balanced, JSON.stringify(a.tx));
      t.true(
        r.events.some((e) => e.kind === 'actor-restart'),
        'the supervisor restarted it',
      );
      t.false(
        r.events.some((e) => e.kind === 'vif-tx-fatal-error'),
        'no ring write of a previous incarnation looked impossible to netback',
      );
      // 3 Gbit/s of 1518-byte frames, in the millisecond after the last restart.
      const gbps = lastTxWireGbps(r);
      t.true(gbps > 2.7 && gbps < 3.3, `on the wire at the end: ${gbps} Gbit/s`);
      t.is(r.summary.tx?.drops['guest-qdisc-overlimit'], 0);
    });
  }
}

test('tx restart - a kill of the sending guest: what its application sent while it was down is lost-in-crash, sent is as without the fault, and its TX ring is new', (t) => {
  const base = run(OUT).accounting.tx;
  const r = run(OUT, ['faults=[{at: 4ms, target: vm:0, action: kill, restartAfter: 1ms}]']);
  const tx = r.accounting.tx;
  // Its sends are replayed by its successor, as a NIC's wire: the count is the fault-free run's.
  t.is(tx?.sent, base?.sent);
  // About 247 frames a millisecond at 3 Gbit/s.
  const lost = tx?.dropped['lost-in-crash'] ?? 0;
  t.true(lost > 200 && lost < 300, JSON.stringify(tx?.dropped));
  t.is((tx?.onWire ?? 0) + lost + (tx?.inFlight.links ?? 0) + (tx?.inFlight.nicTxQueues ?? 0), base?.sent ?? -1);
  t.true(
    r.events.some((e) => e.kind === 'vif-tx-ring-reconnected' && e.actor === 'worker.0'),
    "netback took the guest's new TX ring",
  );
});

test("tx restart - a kill of the sender's worker: the frames sent to it while it is down are release-tx-bufs, and netfront re-creates its TX ring", (t) => {
  const r = run(OUT, ['faults=[{at: 4ms, target: worker:0, action: kill, restartAfter: 1ms}]']);
  const tx = r.accounting.tx;
  const released = tx?.dropped['release-tx-bufs'] ?? 0;
  t.true(released > 200 && released < 300, JSON.stringify(tx?.dropped));
  t.is(r.summary.tx?.drops['release-tx-bufs'], released);
  t.true(
    r.events.some((e) => e.kind === 'netfront-tx-bufs-released' && e.actor === 'vm.0'),
    'netfront released its TX buffers',
  );
});

test('tx restart - a kill of the driver domain: the frames that reach it while it is down are lost-in-crash on the transmit path, and their slots come back', (t) => {
  const r = run(OUT, ['faults=[{at: 4ms, target: nic, action: kill, restartAfter: 1ms}]']);
  const tx = r.accounting.tx;
  const lost = tx?.dropped['lost-in-crash'] ?? 0;
  t.true(lost > 200 && lost < 300, JSON.stringify(tx?.dropped));
  // Their zero-copy callbacks gave the slots back: the sender's ring did not fill.
  t.true((tx?.inFlight.guestQdiscs ?? Infinity) < 20, JSON.stringify(tx));
});

test('tx restart - a run without restarts has no restart drop reasons in its transmit drops, and no stale message count', (t) => {
  const tx = run(OUT).summary.tx;
  t.deepEqual(Object.keys(tx?.drops ?? {}), ['guest-qdisc-overlimit', 'vif-disabled', 'nic-tx-queue-full', 'link-down', 'total']);
  t.false(tx !== undefined && 'staleMessages' in tx);
});

for (const target of ['worker:0', 'backend'] as const) {
  test(`tx restart - a crash loop of ${target} beside a guest sending to another guest: both invariants hold and the sender delivers at its rate at the end`, (t) => {
    const r = run(G2G, [`faults=[{at: 4ms, target: ${target}, ${FAULT['crash-loop']}}]`]);
    t.true(r.accounting.balanced, JSON.stringify(r.accounting));
    t.true(r.accounting.tx?.balanced, JSON.stringify(r.accounting.tx));
    const gbps = Number(r.samples.at(-1)?.['gbps']);
    t.true(gbps > 2.7 && gbps < 3.3, `guest 1 receives ${gbps} Gbit/s at the end`);
  });
}

test("tx restart - a sender whose vCPU is behind (12 Gbit/s offered): a restart of it or of its worker does not disable its vif, the old ring's late messages are ignored and counted, and the invariants hold", (t) => {
  const over = OUT.replace('rate: 3Gbps', 'rate: 12Gbps');
  for (const target of ['vm:0', 'worker:0']) {
    const r = run(over, [`faults=[{at: 4ms, target: ${target}, action: restart}]`]);
    t.true(r.accounting.tx?.balanced, JSON.stringify(r.accounting.tx));
    t.true((r.summary.tx?.staleMessages ?? 0) > 0, `${target}: stale TX ring messages counted`);
    t.false(
      r.events.some((e) => e.kind === 'vif-tx-fatal-error'),
      `${target}: a TX ring write of the old ring was taken for an impossible one`,
    );
  }
});

test('tx restart - a run with restarts beside a sender is deterministic', (t) => {
  const faults = [
    'faults=[{at: 3ms, target: vm:0, action: kill, restartAfter: 1ms}, {at: 5ms, target: worker:0, action: restart}, {at: 7ms, target: nic, action: kill, restartAfter: 500us}]',
  ];
  const a = run(OUT, faults);
  const b = run(OUT, faults);
  t.is(JSON.stringify(a.summary), JSON.stringify(b.summary));
  t.is(JSON.stringify(a.events), JSON.stringify(b.events));
  t.true(a.accounting.tx?.balanced, JSON.stringify(a.accounting.tx));
});
