// The transmit path end to end in sim: a guest's frames reach the wire, the accounting holds both ways, the vif's rate= limits, and a run repeats byte for byte.
import test from 'ava';
import { run } from './helpers.js';

/** One guest with `queues` queues that receives 1 Gbit/s and sends `rate` of UDP, 1518-byte frames. */
function guestTx(rate: string, tx = '', queues = 2): string {
  return `
name: tx
duration: 10ms
warmup: 1ms
topology: { link: 10Gbps, nicQueues: 2, vms: { count: 1, queues: ${queues} }, workers: 2, vrss: per-flow }
traffic:
  - { name: in, rate: 1Gbps, flows: 4 }
  - { name: out, from: vm.0, to: wire, protocol: udp, rate: ${rate}, flows: 4 }
${tx}
`;
}

test('tx sim - a guest sending 3 Gbit/s puts it on the wire, and both invariants hold', (t) => {
  const r = run(guestTx('3Gbps'));
  const tx = r.summary.tx;
  t.truthy(tx);
  t.true(Math.abs((tx?.onWireGbps ?? 0) - 3) < 0.1, `on the wire ${String(tx?.onWireGbps)} Gbit/s`);
  t.is(tx?.drops.total, 0);
  t.true(r.accounting.balanced);
  t.true(r.accounting.tx?.balanced);
  t.is(r.accounting.tx?.unaccounted, 0);
  t.true((r.accounting.tx?.onWire ?? 0) > 0);
  // The receive side is still there beside it.
  t.true(r.summary.throughput.gbps > 0.9);
  // Every mapped slot is answered after the NIC sent its frame: 1518-byte frames are never copy-only.
  t.is(tx?.netback.deallocShare, 1);
  t.true((tx?.interrupts.nicIrqPerSec ?? 0) > 0);
  t.true((tx?.interrupts.virqPerSec ?? 0) > 0);
});

test('tx sim - the credit scheduler holds a queue to the vif rate= and the guest qdisc overflows behind it', (t) => {
  // One queue: netback gives each queue the whole rate= (xenbus.c connect: queue->credit_bytes = credit_bytes).
  const r = run(guestTx('4Gbps', 'tx: { rate: 2Gbps, rateInterval: 100us }', 1));
  const tx = r.summary.tx;
  // 2 Gbit/s of credit counts frame bytes less the FCS; the wire rate counts frames: a little above 2.
  t.true(Math.abs((tx?.onWireGbps ?? 0) - 2.0) < 0.1, `on the wire ${String(tx?.onWireGbps)} Gbit/s`);
  t.true((tx?.sentGbps ?? 0) > 3.8, `sent ${String(tx?.sentGbps)} Gbit/s`);
  t.true((tx?.netback.creditWaitsPerSec ?? 0) > 0);
  t.true((tx?.drops['guest-qdisc-overlimit'] ?? 0) > 0);
  t.true(r.accounting.tx?.balanced);
});

test('tx sim - one event channel per queue (no split) gives no TX virtual interrupts of their own, and still balances', (t) => {
  const r = run(guestTx('3Gbps', 'tx: { splitEventChannels: false }'));
  t.is(r.summary.tx?.interrupts.virqPerSec, 0);
  t.true(Math.abs((r.summary.tx?.onWireGbps ?? 0) - 3) < 0.1);
  t.true(r.accounting.tx?.balanced);
});

test('tx sim - the same scenario and seed give byte-identical results', (t) => {
  const a = run(guestTx('4Gbps', 'tx: { rate: 2Gbps, rateInterval: 1ms }'));
  const b = run(guestTx('4Gbps', 'tx: { rate: 2Gbps, rateInterval: 1ms }'));
  t.is(JSON.stringify(a.summary), JSON.stringify(b.summary));
  t.is(JSON.stringify(a.samples), JSON.stringify(b.samples));
  t.is(JSON.stringify(a.events), JSON.stringify(b.events));
});

test('tx sim - a receive-only scenario has no transmit figures at all', (t) => {
  const r = run(`
name: rx
duration: 2ms
topology: { vms: { count: 1, queues: 1 }, workers: 1 }
traffic: [{ rate: 1Gbps }]
`);
  t.is(r.summary.tx, undefined);
  t.is(r.accounting.tx, undefined);
  t.false('tx' in r.summary);
});

test("tx sim - guest to guest: the bridge hands every frame to the other guest's receive path, and both invariants hold", (t) => {
  const r = run(`
name: vm2vm
duration: 10ms
warmup: 1ms
topology: { link: 10Gbps, nicQueues: 1, vms: { count: 2, queues: 1 }, workers: 2, vrss: per-flow }
traffic:
  - { name: a2b, from: vm.0, to: vm.1, protocol: udp, rate: 2Gbps, flows: 2 }
`);
  const tx = r.summary.tx;
  t.is(tx?.onWirePps, 0, 'nothing leaves on the wire');
  t.true(Math.abs((tx?.toGuestsGbps ?? 0) - 2) < 0.1, `to guests ${String(tx?.toGuestsGbps)} Gbit/s`);
  const vm1 = r.summary.throughput.perVm[1];
  t.true(Math.abs((vm1?.gbps ?? 0) - 2) < 0.1, `vm 1 receives ${String(vm1?.gbps)} Gbit/s`);
  t.is(r.summary.throughput.perVm[0]?.pps, 0);
  t.true(r.accounting.balanced);
  t.true(r.accounting.tx?.balanced);
  t.true((r.accounting.tx?.toGuests ?? 0) > 0);
  // The grants of guest 0's slots come back once guest 1's vif has the frames: its TX ring keeps moving.
  t.is(tx?.netback.deallocShare, 1);
  t.true((r.summary.latencyUs.count ?? 0) > 0, "guest 1 measures the one-way latency from guest 0's send");
});

/**
 * Guest 0 → guest 1 through the bridge crosses netback twice: guest 0's TX direction (its worker's TX poll) and
 * guest 1's RX direction (its worker's RX pass), each queue on a worker core of its own. `slow` makes one of them
 * the bottleneck through a cost override; each direction is then measured alone with the same costs (guest 0
 * to the wire; the wire to guest 1), and guest to guest must carry the slower one's throughput.
 */
function twoDirections(slow: string, txCosts: boolean): { both: number; txAlone: number; rxAlone: number } {
  const base = (traffic: string, sends: boolean) => `
name: directions
duration: 10ms
warmup: 2ms
topology: { link: 10Gbps, nicQueues: 2, vms: { count: 2, queues: 1 }, workers: 2, vrss: per-flow }
traffic:
${traffic}
costs: { profile: default, override: ${sends || !txCosts ? slow : '{}'} }
`;
  const both = run(base('  - { from: vm.0, to: vm.1, protocol: udp, rate: 6Gbps, flows: 4 }', true));
  const txAlone = run(base('  - { from: vm.0, to: wire, protocol: udp, rate: 6Gbps, flows: 4 }', true));
  const rxAlone = run(base('  - { vms: [1], rate: 6Gbps, flows: 4 }', false));
  assertBalanced(both, txAlone, rxAlone);
  return {
    both: both.summary.throughput.perVm[1]?.gbps ?? 0,
    txAlone: txAlone.summary.tx?.onWireGbps ?? 0,
    rxAlone: rxAlone.summary.throughput.perVm[1]?.gbps ?? 0,
  };
}

/** Every run of the comparison balances both ways. */
function assertBalanced(...runs: ReturnType<typeof run>[]): void {
  for (const r of runs) if (!r.accounting.balanced || r.accounting.tx?.balanced === false) throw new Error(`unbalanced: ${JSON.stringify(r.accounting)}`);
}

for (const [what, slow, txCosts] of [
  ['the TX direction (netback TX per frame)', '{ tx: { netbackPerPacket: 6000 } }', true],
  ['the RX direction (netback RX per packet)', '{ worker: { perPacket: 6000 } }', false],
] as const) {
  test(`tx sim - guest to guest carries what the slower netback direction carries alone: ${what} slowed`, (t) => {
    const d = twoDirections(slow, txCosts);
    const slower = Math.min(d.txAlone, d.rxAlone);
    const faster = Math.max(d.txAlone, d.rxAlone);
    t.log(`TX alone ${d.txAlone.toFixed(3)}, RX alone ${d.rxAlone.toFixed(3)}, guest to guest ${d.both.toFixed(3)} Gbit/s`);
    // The slowed direction is the bottleneck by a clear margin, so the bound below tells the two apart.
    t.true(faster > 1.5 * slower, `directions ${d.txAlone} and ${d.rxAlone} Gbit/s`);
    t.true((txCosts ? d.txAlone : d.rxAlone) === slower, 'the slowed direction is the slower one');
    t.true(d.both <= slower * 1.03, `guest to guest ${d.both} Gbit/s above the slower direction's ${slower}`);
    t.true(d.both >= slower * 0.9, `guest to guest ${d.both} Gbit/s well below the slower direction's ${slower}`);
  });
}
