// Closed-loop TCP in sim, end to end through the emulated datapath: TCP_RR under coalescing, the window law, loss and recovery, both invariants, determinism.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileScenarioText } from '@splitnet/scenario';
import { cwndCsv, summaryRow, type RunResult, type TcpFlowSummary } from '@splitnet/results';
import { TCP_WINDOW_SHARE } from '@splitnet/model';
import { runSim } from '../src/run-sim.js';
import { run } from './helpers.js';

const EXAMPLES = fileURLToPath(new URL('../../../../examples/', import.meta.url));

const rr = `
name: rr
duration: 10ms
warmup: 1ms
topology: { link: 10Gbps, nicQueues: 1, vms: { count: 1, queues: 1 }, workers: 1, vrss: per-flow }
traffic:
  - { flows: 1, rr: { request: 64, response: 64 } }
`;

const bulk = `
name: bulk
duration: 10ms
warmup: 2ms
topology: { link: 10Gbps, nicQueues: 1, vms: { count: 1, queues: 1 }, workers: 1, vrss: per-flow }
traffic:
  - { flows: 1, tcp: { rcvbuf: 65536 } }
`;

/** Two guests on one host: guest 0 is the active end of a connection to guest 1, each on a netback worker of its own. */
const g2g = (keys: string): string => `
name: g2g
duration: 10ms
warmup: 2ms
topology: { link: 10Gbps, nicQueues: 1, vms: { count: 2, queues: 1 }, workers: 2, vrss: per-flow }
traffic:
  - { from: vm.0, to: vm.1, flows: 1, ${keys} }
`;
const g2gBulk = g2g('tcp: { rcvbuf: 65536 }');
const g2gRr = g2g('rr: { request: 64, response: 64 }');

function flow(r: RunResult): TcpFlowSummary {
  const f = r.summary.tcp?.flows[0];
  if (f === undefined) throw new Error('no tcp flow in the summary');
  return f;
}

function rrFlow(r: RunResult): NonNullable<RunResult['summary']['tcp']>['rr'][number] {
  const f = r.summary.tcp?.rr[0];
  if (f === undefined) throw new Error('no rr flow in the summary');
  return f;
}

test('tcp - front-end coalescing of 50 us lowers TCP_RR transactions/s and raises its p50 against none, and lowers CPU per transaction', (t) => {
  const none = rrFlow(run(rr, ['coalescing.frontend=none']));
  const coalesced = rrFlow(run(rr, ['coalescing.frontend={policy: static, usecs: 50, frames: 32}']));
  t.true(none.transactions > 100, `transactions without coalescing: ${none.transactions}`);
  t.true(coalesced.transactionsPerSec < none.transactionsPerSec, `${coalesced.transactionsPerSec} < ${none.transactionsPerSec} transactions/s`);
  t.true(coalesced.latencyUs.p50 > none.latencyUs.p50, `p50 ${coalesced.latencyUs.p50} > ${none.latencyUs.p50} µs`);
  t.true(coalesced.cpuUsPerTransaction < none.cpuUsPerTransaction, `CPU ${coalesced.cpuUsPerTransaction} < ${none.cpuUsPerTransaction} µs per transaction`);
});

test('tcp - a bulk stream limited by its receive window goes at window / RTT, and a larger window goes faster', (t) => {
  const goodputs: number[] = [];
  for (const rcvbuf of [32_768, 65_536]) {
    const f = flow(run(bulk, [`traffic.0.tcp.rcvbuf=${rcvbuf}`]));
    const windowBits = rcvbuf * TCP_WINDOW_SHARE * 8;
    const lawGbps = windowBits / (f.rttUs.mean * 1000);
    t.true(f.retransmissions === 0, `no loss: ${f.retransmissions} retransmissions`);
    // Goodput counts payload only and the mean RTT is over the whole run: within 15 % of the law.
    t.true(Math.abs(f.goodputGbps - lawGbps) / lawGbps < 0.15, `rcvbuf ${rcvbuf}: goodput ${f.goodputGbps} Gbit/s against window/RTT ${lawGbps}`);
    goodputs.push(f.goodputGbps);
  }
  t.true((goodputs[1] as number) > (goodputs[0] as number), `goodputs ${goodputs.join(' < ')}`);
});

test('tcp - a UDP burst that fills netback drops segments of the stream, which retransmits them and recovers most of its loss-free goodput', (t) => {
  const big = ['traffic.0.tcp.rcvbuf=1048576'];
  const clean = run(bulk, big);
  // 9 Gbit/s of UDP for 1 ms into the same guest queue: netback's guest-RX queue overflows. (0.5 ms did before the
  // guest's GRO: acking each GRO packet instead of every second segment left its vCPU room to drain such a burst.)
  const burst = '{flows: 4, protocol: udp, rate: 9Gbps, start: 3ms, stop: 4ms}';
  const lossy = run(bulk, [`traffic=[{flows: 1, tcp: {rcvbuf: 1048576}}, ${burst}]`]);
  t.is(clean.summary.drops.total, 0);
  t.true(lossy.summary.drops.total > 0, `drops ${JSON.stringify(lossy.summary.drops)}`);
  const f = flow(lossy);
  t.true(f.retransmissions > 0, `retransmissions ${f.retransmissions}`);
  t.true(f.fastRetransmits + f.timeouts > 0, 'loss detected by duplicate ACKs or the RTO');
  // Half, not 0.6 as with the 0.5 ms burst: the longer burst also takes a ninth of the measured window's line time.
  t.true(f.goodputGbps > 0.5 * flow(clean).goodputGbps, `goodput with loss ${f.goodputGbps} against ${flow(clean).goodputGbps} Gbit/s without`);
  // After the last sample with a new drop, the stream still delivers: it did not stall.
  const drops = lossy.samples.map((row) => row['dropsTotal'] as number);
  const lastDrop = drops.findIndex((d) => d === drops.at(-1));
  const after = lossy.samples.slice(lastDrop + 1).reduce((sum, row) => sum + (row['gbps'] as number), 0);
  t.true(lastDrop < lossy.samples.length - 5 && after > 0, `samples after the last drop (${lastDrop}) deliver ${after}`);
});

for (const [name, yaml, overrides] of [
  ['bulk', bulk, []],
  ['rr', rr, ['coalescing.frontend={policy: static, usecs: 50, frames: 32}']],
  ['bulk with ring-full drops', bulk, ['traffic.0.tcp.rcvbuf=1048576', 'topology.nicRingSize=8', 'coalescing.nic={policy: static, usecs: 20, frames: 0}']],
  ['bulk with netback drops', bulk, ['traffic=[{flows: 1, tcp: {rcvbuf: 1048576}}, {flows: 4, protocol: udp, rate: 9Gbps, start: 3ms, stop: 4ms}]']],
  ['bulk beside open-loop UDP into the same guest', bulk, ['traffic=[{flows: 1, tcp: {}}, {flows: 4, rate: 3Gbps, protocol: udp}]']],
  ['guest to guest: a bulk stream', g2gBulk, []],
  ['guest to guest: TCP_RR', g2gRr, ['coalescing.frontend={policy: static, usecs: 50, frames: 32}']],
  [
    'a guest as the active end: its bulk stream out and its TCP_RR client',
    bulk,
    ['traffic=[{flows: 1, from: vm.0, tcp: {}}, {flows: 1, from: vm.0, rr: {request: 64, response: 64}}]'],
  ],
] as const) {
  test(`tcp - the receive and the transmit invariants both hold: ${name}`, (t) => {
    const r = run(yaml, [...overrides]);
    const a = r.accounting;
    t.true(a.emitted > 100, `emitted ${a.emitted}`);
    t.is(a.unaccounted, 0, JSON.stringify(a));
    t.truthy(a.tx, 'the guest sent (its ACKs)');
    t.is(a.tx?.unaccounted, 0, JSON.stringify(a.tx));
    t.true(a.balanced);
    t.true((a.tx?.sent ?? 0) > 0);
  });
}

test('tcp - a guest that sends bulk TCP to the wire is limited by the far receiver’s window like a far sender', (t) => {
  const f = flow(run(bulk, ['traffic=[{flows: 1, from: vm.0, tcp: {rcvbuf: 65536}}]']));
  t.is(f.active, 'guest');
  const lawGbps = (65_536 * TCP_WINDOW_SHARE * 8) / (f.rttUs.mean * 1000);
  t.true(Math.abs(f.goodputGbps - lawGbps) / lawGbps < 0.15, `goodput ${f.goodputGbps} Gbit/s against window/RTT ${lawGbps}`);
});

test('tcp - a guest-to-guest bulk stream limited by its receive window goes at window / RTT, reported once from guest 0, and only through the bridge', (t) => {
  const goodputs: number[] = [];
  for (const rcvbuf of [32_768, 65_536]) {
    const r = run(g2gBulk, [`traffic.0.tcp.rcvbuf=${rcvbuf}`]);
    t.is(r.summary.tcp?.flows.length, 1, 'one connection, one entry');
    const f = flow(r);
    t.is(f.flow, 0);
    t.is(f.active, 'guest');
    t.is(f.retransmissions, 0);
    const lawGbps = (rcvbuf * TCP_WINDOW_SHARE * 8) / (f.rttUs.mean * 1000);
    t.true(Math.abs(f.goodputGbps - lawGbps) / lawGbps < 0.15, `rcvbuf ${rcvbuf}: goodput ${f.goodputGbps} Gbit/s against window/RTT ${lawGbps}`);
    // Guest 1 receives the data, guest 0 its ACKs; nothing leaves on the wire.
    const tx = r.summary.tx;
    t.is(tx?.onWirePps, 0);
    t.true((r.accounting.tx?.toGuests ?? 0) > 100, JSON.stringify(r.accounting.tx));
    goodputs.push(f.goodputGbps);
  }
  t.true((goodputs[1] as number) > (goodputs[0] as number), `goodputs ${goodputs.join(' < ')}`);
});

test('tcp - TCP_RR between two guests runs, and front-end coalescing of 50 us (in both guests) lowers its transactions/s and raises its p50', (t) => {
  const none = rrFlow(run(g2gRr));
  const coalesced = rrFlow(run(g2gRr, ['coalescing.frontend={policy: static, usecs: 50, frames: 32}']));
  t.is(none.flow, 0);
  t.true(none.transactions > 100, `transactions without coalescing: ${none.transactions}`);
  t.true(coalesced.transactionsPerSec < none.transactionsPerSec, `${coalesced.transactionsPerSec} < ${none.transactionsPerSec} transactions/s`);
  t.true(coalesced.latencyUs.p50 > none.latencyUs.p50, `p50 ${coalesced.latencyUs.p50} > ${none.latencyUs.p50} µs`);
});

test('tcp - a guest-to-guest bulk stream and TCP_RR give byte-identical summaries and cwnd traces for the same seed', (t) => {
  for (const yaml of [g2gBulk, g2gRr]) {
    const a = run(yaml);
    const b = run(yaml);
    t.true(flow(a).segmentsSent > 100);
    t.is(JSON.stringify(a.summary), JSON.stringify(b.summary));
    t.is(
      cwndCsv(a.end.closedLoop ?? [], (x) => x),
      cwndCsv(b.end.closedLoop ?? [], (x) => x),
    );
  }
});

test('tcp - examples/tcp-bulk.yaml gives byte-identical summaries and cwnd traces for the same seed', (t) => {
  const text = readFileSync(`${EXAMPLES}tcp-bulk.yaml`, 'utf8');
  const once = (): RunResult => runSim(compileScenarioText(text, 'tcp-bulk.yaml', { overrides: ['duration=5ms', 'warmup=1ms'] }));
  const a = once();
  const b = once();
  t.is(JSON.stringify(a.summary), JSON.stringify(b.summary));
  t.is(JSON.stringify(a.samples), JSON.stringify(b.samples));
  const trace = (r: RunResult): string => cwndCsv(r.end.closedLoop ?? [], (x) => x);
  t.true(trace(a).split('\n').length > 3);
  t.is(trace(a), trace(b));
});

test("tcp - summary.csv carries each closed-loop flow's figures and the transmit path's, as summary.json has them", (t) => {
  const b = run(bulk).summary;
  const r = run(rr).summary;
  const cells = (s: typeof b) => new Map(summaryRow(s));
  const bc = cells(b);
  const rc = cells(r);
  const f = flow({ summary: b } as RunResult);
  t.is(bc.get('tcp_flow0_goodput_gbps'), f.goodputGbps);
  t.is(bc.get('tcp_flow0_rtt_p99_us'), f.rttUs.p99);
  t.is(bc.get('tcp_flow0_retransmissions'), f.retransmissions);
  t.is(bc.get('tx_on_wire_per_s'), b.tx?.onWirePps, "the guest's ACKs are the transmit path's traffic");
  t.false(bc.has('rr_flow0_transactions_per_s'), 'a bulk run has no TCP_RR columns');
  const x = rrFlow({ summary: r } as RunResult);
  t.is(rc.get('rr_flow0_transactions_per_s'), x.transactionsPerSec);
  t.is(rc.get('rr_flow0_latency_p50_us'), x.latencyUs.p50);
  t.is(rc.get('rr_flow0_cpu_per_transaction_us'), x.cpuUsPerTransaction);
  t.false(new Map(summaryRow(run(`name: udp\nduration: 2ms\nwarmup: 1ms\n`).summary)).has('tx_sent_gbps'), 'a receive-only run has no TX or TCP columns');
});
