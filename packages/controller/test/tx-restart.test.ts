// Process faults beside a guest that sends, in sim: a guest that only receives is killed and restarted while another sends to it, and the sender does not notice.
import test from 'ava';
import { run } from './helpers.js';

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
