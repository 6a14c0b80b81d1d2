// Counters across incarnations of a restarted live process: what carries over from the dead incarnation's last sample, and what does not.
import test from 'ava';
import { LatencyHistogram } from '@splitnet/model';
import type { ClosedLoopEndReport, FrontendReport, NicReport, WorkerReport } from '@splitnet/model';
import { continueReport, Incarnations } from '../src/incarnations.js';

const frontend = (t: number, delivered: number, held: number, virqs: number[]): FrontendReport => ({
  role: 'frontend',
  id: 'vm.0',
  t,
  vm: 0,
  busy: { 'vm0.vcpu0': delivered * 10 },
  held,
  delivered,
  deliveredBytes: delivered * 1518,
  virqs,
  virqsWhilePolling: 1,
  timerPolls: 0,
  idleTimerTicks: 0,
  ringOccupancy: held,
  reordered: 0,
  notificationsLost: 0,
});

test("incarnations - a front end's counters continue from the base; what it holds now is its own", (t) => {
  const base = frontend(20e6, 100, 7, [40, 30]);
  const now = frontend(60e6, 50, 2, [10, 5, 1]);
  const r = continueReport(base, now) as FrontendReport;
  t.is(r.t, 60e6);
  t.is(r.delivered, 150);
  t.is(r.deliveredBytes, 150 * 1518);
  t.deepEqual(r.virqs, [50, 35, 1], 'per queue');
  t.is(r.virqsWhilePolling, 2);
  t.deepEqual(r.busy, { 'vm0.vcpu0': 1500 });
  t.is(r.held, 2, 'a snapshot: not added');
  t.is(r.ringOccupancy, 2);
  t.is(r.vm, 0);
});

test("incarnations - a worker's drops by reason and notifications carry over; its backlog does not", (t) => {
  const w = (dropsNetbackQueueFull: number, backlog: number, notifies: number): WorkerReport => ({
    role: 'worker',
    id: 'worker.0',
    t: 0,
    busy: {},
    held: backlog,
    backlog,
    notifies,
    suppressed: 0,
    notifiesHeld: 0,
    timerNotifies: 0,
    reqNotifies: 0,
    dropsNetbackQueueFull,
    dropsQdiscOverlimit: 2,
    dropsQdiscCongested: 0,
    dropsVifDisabled: 0,
    stallKicks: 0,
  });
  const r = continueReport(w(5, 9, 100), w(1, 3, 10)) as WorkerReport;
  t.like(r, { dropsNetbackQueueFull: 6, dropsQdiscOverlimit: 4, notifies: 110, backlog: 3, held: 3 });
});

test("incarnations - a NIC's emitted frames are its own count (it replays the wire), its interrupts and drops carry over", (t) => {
  const nic = (emitted: number, irqs: number, drops: number): NicReport => ({
    role: 'nic',
    id: 'nic',
    t: 0,
    emitted,
    emittedBytes: emitted * 64,
    physicalIrqs: irqs,
    dropsNicRingFull: drops,
    held: 1,
  });
  const r = continueReport(nic(1000, 10, 3), nic(2500, 4, 1)) as NicReport;
  t.like(r, { emitted: 2500, emittedBytes: 2500 * 64, physicalIrqs: 14, dropsNicRingFull: 4, held: 1 });
  // Frames a fault injected before the crash are not on the replayed wire: they carry over.
  const storm = continueReport({ ...nic(1000, 10, 3), injected: 50, injectedBytes: 50 * 64 }, nic(2500, 4, 1)) as NicReport;
  t.like(storm, { emitted: 2550, emittedBytes: 2550 * 64, injected: 50 });
});

test("incarnations - a NIC's far ends' frames (farArrived) are not on the replayed wire: they carry over into emitted, and their own count goes on", (t) => {
  const nic = (emitted: number, far: number): NicReport => ({
    role: 'nic',
    id: 'nic',
    t: 0,
    emitted,
    emittedBytes: emitted * 64,
    physicalIrqs: 0,
    dropsNicRingFull: 0,
    held: 0,
    farArrived: far,
    farArrivedBytes: far * 64,
  });
  const r = continueReport(nic(1000, 300), nic(2500, 40)) as NicReport;
  t.like(r, { emitted: 2800, emittedBytes: 2800 * 64, farArrived: 340, farArrivedBytes: 340 * 64 });
});

test("incarnations - a restarted NIC's far rr client continues: transactions add up over the whole loop, latency min and mean combine, p50 and p99 the larger, the CDF the successor's", (t) => {
  const client = (n: number, min: number, mean: number, p50: number, p99: number, cdf: [number, number][] = []): ClosedLoopEndReport => ({
    flow: 1,
    side: 'far',
    active: true,
    workload: 'rr',
    sent: {
      deliveredBytes: 0,
      goodputGbps: 0,
      rttSamples: 0,
      rttMinNs: 0,
      rttMeanNs: 0,
      rttP99Ns: 0,
      segmentsSent: n,
      retransmissions: 0,
      fastRetransmits: 0,
      timeouts: 0,
      cwnd: [],
    },
    delivered: n * 64,
    pureAcks: 0,
    startedAt: 10e6,
    rr: { transactions: n, transactionsPerSec: 0, latencyMinNs: min, latencyMeanNs: mean, latencyP50Ns: p50, latencyP99Ns: p99, latencyCdf: cdf },
  });
  const nic = (t: number, end: ClosedLoopEndReport): NicReport => ({
    role: 'nic',
    id: 'nic',
    t,
    emitted: 0,
    emittedBytes: 0,
    physicalIrqs: 0,
    dropsNicRingFull: 0,
    held: 0,
    closedLoop: [end],
  });
  const r = continueReport(nic(20e6, client(30, 2e3, 4e3, 3e3, 9e3)), nic(110e6, client(70, 1e3, 5e3, 4e3, 8e3, [[50, 4e3]])));
  const end = r.role === 'nic' ? r.closedLoop?.[0] : undefined;
  t.like(end, { delivered: 100 * 64, startedAt: 10e6 });
  t.deepEqual(end?.rr, {
    transactions: 100,
    transactionsPerSec: 100 / 0.1,
    latencyMinNs: 1e3,
    latencyMeanNs: (30 * 4e3 + 70 * 5e3) / 100,
    latencyP50Ns: 4e3,
    latencyP99Ns: 9e3,
    latencyCdf: [[50, 4e3]],
  });
});

test('incarnations - each restart continues from the last sample of the incarnation before, chained; an unsampled incarnation passes its base on', (t) => {
  const inc = new Incarnations();
  t.is(inc.base(0), undefined);
  inc.sampled(0, 1e6, [frontend(1e6, 10, 0, [1])]);
  inc.sampled(0, 3e6, [frontend(3e6, 30, 0, [3])]);
  inc.sampled(0, 2e6, [frontend(2e6, 20, 0, [2])]); // late: an older sample never replaces a newer one
  t.is((inc.base(1)?.[0] as FrontendReport).delivered, 30);
  inc.sampled(1, 5e6, [frontend(5e6, 4, 0, [1])]);
  t.is((inc.continued(1, [frontend(5e6, 4, 0, [1])])[0] as FrontendReport).delivered, 34);
  t.is((inc.base(2)?.[0] as FrontendReport).delivered, 34, 'incarnation 2 continues from incarnation 1 continued');
  // Incarnation 2 died before its first sample: incarnation 3 continues from incarnation 2's base.
  t.is((inc.base(3)?.[0] as FrontendReport).delivered, 34);
  t.is(inc.lastSampleAt(2), undefined);
  t.is((inc.continued(3, [frontend(9e6, 6, 0, [1])])[0] as FrontendReport).delivered, 40);
});

test('incarnations - a base of another actor is refused', (t) => {
  const other = { ...frontend(0, 1, 0, [1]), id: 'vm.1' };
  t.throws(() => continueReport(other, frontend(0, 1, 0, [1])), { message: /cannot be the base/ });
});

test("incarnations - a front end's final latency histogram gets the last one each dead incarnation shipped; samples without one do not move it", (t) => {
  const hist = (...ns: number[]) => {
    const h = new LatencyHistogram();
    for (const v of ns) h.record(v);
    return h.toJSON();
  };
  const inc = new Incarnations();
  // Incarnation 0 ships at 10 ms and 20 ms, then samples without a histogram, then dies.
  inc.sampled(0, 10e6, [{ ...frontend(10e6, 5, 0, [1]), latency: hist(1000) }]);
  inc.sampled(0, 20e6, [{ ...frontend(20e6, 9, 0, [2]), latency: hist(1000, 2000, 3000) }]);
  inc.sampled(0, 25e6, [frontend(25e6, 12, 0, [3])]);
  // Incarnation 1 ships once and dies; incarnation 2 ships nothing before its final report.
  inc.sampled(1, 40e6, [{ ...frontend(40e6, 4, 0, [1]), latency: hist(5000) }]);
  t.is(inc.lastLatencyAt(0), 20e6);
  t.is(inc.lastLatencyAt(1), 40e6);
  t.is(inc.lastLatencyAt(2), undefined);
  const [fin] = inc.continued(2, [{ ...frontend(60e6, 3, 0, [1]), latency: hist(7000, 8000) }]) as FrontendReport[];
  const h = LatencyHistogram.fromJSON(fin?.latency ?? hist());
  t.is(h.count, 3 + 1 + 2);
  t.is(h.min, 1000);
  t.is(h.max, 8000);
  t.is(h.sum, 1000 + 2000 + 3000 + 5000 + 7000 + 8000);
  // Counters continue from the last samples (25 ms and 40 ms), as before.
  t.is(fin?.delivered, 12 + 4 + 3);
  // A sample without a histogram stays without one; the first incarnation's reports are its own.
  t.is((inc.continued(2, [frontend(50e6, 1, 0, [1])])[0] as FrontendReport).latency, undefined);
  t.is((inc.continued(0, [{ ...frontend(5e6, 1, 0, [1]), latency: hist(42) }])[0] as FrontendReport).latency?.count, 1);
});

test("incarnations - a sending guest's transmit side: sent is its own count (it replays its sends), its drops by reason carry over, what its qdisc holds is its own", (t) => {
  const g = (sent: number, held: number, overlimit: number, notifies: number): FrontendReport => ({
    ...frontend(0, 0, 0, [0]),
    tx: { sent, sentBytes: sent * 1518, held, drops: { 'guest-qdisc-overlimit': overlimit }, notifies, virqs: 1 },
  });
  const r = continueReport(g(1000, 40, 3, 200), g(1500, 2, 1, 50)) as FrontendReport;
  t.deepEqual(r.tx, { sent: 1500, sentBytes: 1500 * 1518, held: 2, drops: { 'guest-qdisc-overlimit': 4 }, notifies: 250, virqs: 2 });
});

test("incarnations - a netback worker's transmit side: its drops by reason (a restart's among them) carry over, what its rings hold is its own", (t) => {
  const w = (held: number, drops: Record<string, number>, responses: number): WorkerReport => ({
    role: 'worker',
    id: 'worker.0',
    t: 0,
    busy: {},
    held: 0,
    backlog: 0,
    notifies: 0,
    suppressed: 0,
    notifiesHeld: 0,
    timerNotifies: 0,
    reqNotifies: 0,
    dropsNetbackQueueFull: 0,
    dropsQdiscOverlimit: 0,
    dropsQdiscCongested: 0,
    dropsVifDisabled: 0,
    stallKicks: 0,
    tx: { held, drops, responses },
  });
  const r = continueReport(w(30, { 'vif-disabled': 0 }, 900), w(4, { 'vif-disabled': 0, 'release-tx-bufs': 12 }, 100)) as WorkerReport;
  t.deepEqual(r.tx, { held: 4, drops: { 'vif-disabled': 0, 'release-tx-bufs': 12 }, responses: 1000 });
});

test("incarnations - a guest's closed-loop sends: sent is what its successor recomputed plus the dead guest's closed-loop frames (not replayed), which carry over too", (t) => {
  const g = (sent: number, closedLoopSent: number): FrontendReport => ({
    ...frontend(0, 0, 0, [0]),
    tx: { sent, sentBytes: sent * 66, closedLoopSent, closedLoopSentBytes: closedLoopSent * 66, held: 0, drops: {} },
  });
  // The dead guest sent 700 frames, 500 of them its TCP end's; its successor replayed the other 200 and sent 30 ACKs.
  const r = continueReport(g(700, 500), g(230, 30)) as FrontendReport;
  t.like(r.tx, { sent: 730, sentBytes: 730 * 66, closedLoopSent: 530, closedLoopSentBytes: 530 * 66 });
});

test("incarnations - a restarted guest's closed-loop ends continue from the dead one's last sample: counts add up, the connection's start is the first, the RTT's min and mean combine and its p99 is the larger", (t) => {
  const end = (
    delivered: number,
    segmentsSent: number,
    rtt: [samples: number, min: number, mean: number, p99: number],
    more: Partial<ClosedLoopEndReport> = {},
  ): ClosedLoopEndReport => ({
    flow: 3,
    side: 'guest',
    active: false,
    workload: 'rr',
    sent: {
      deliveredBytes: delivered,
      goodputGbps: 0,
      rttSamples: rtt[0],
      rttMinNs: rtt[1],
      rttMeanNs: rtt[2],
      rttP99Ns: rtt[3],
      segmentsSent,
      retransmissions: 1,
      fastRetransmits: 0,
      timeouts: 1,
      cwnd: [],
    },
    delivered,
    pureAcks: 2,
    startedAt: 5e6,
    ...more,
  });
  const was = { ...frontend(0, 0, 0, [0]), closedLoop: [end(6400, 100, [100, 40e3, 50e3, 90e3])] };
  const now = { ...frontend(0, 0, 0, [0]), closedLoop: [end(640, 10, [10, 30e3, 60e3, 70e3], { startedAt: 300e6, rstSent: 1 })] };
  const r = continueReport(was, now) as FrontendReport;
  t.deepEqual(r.closedLoop, [
    {
      ...end(7040, 110, [110, 30e3, (100 * 50e3 + 10 * 60e3) / 110, 90e3], { rstSent: 1 }),
      sent: { ...end(7040, 110, [110, 30e3, (100 * 50e3 + 10 * 60e3) / 110, 90e3]).sent, retransmissions: 2, timeouts: 2 },
      pureAcks: 4,
    },
  ]);
  // An end with no RTT sample in one incarnation takes the other's minimum.
  const quiet = continueReport({ ...was, closedLoop: [end(0, 0, [0, 0, 0, 0])] }, now) as FrontendReport;
  t.is(quiet.closedLoop?.[0]?.sent.rttMinNs, 30e3);
});

test("incarnations - a restarted guest's rr client (an active end): transactions and RTT samples add up, and its final report's p50, p99, latency CDF and cwnd trace are both incarnations' (the dead one's as it last shipped them)", (t) => {
  const hist = (...ns: number[]) => {
    const h = new LatencyHistogram();
    for (const v of ns) h.record(v);
    return h;
  };
  const client = (at: number, txn: number[], rtt: number[], cwnd: number[], full: boolean, startedAt = 5e6): ClosedLoopEndReport => {
    const lat = hist(...txn);
    const r = hist(...rtt);
    return {
      flow: 3,
      side: 'guest',
      active: true,
      workload: 'rr',
      sent: {
        deliveredBytes: 0,
        goodputGbps: 0,
        rttSamples: r.count,
        rttMinNs: r.min,
        rttMeanNs: r.mean,
        rttP99Ns: r.percentile(99),
        segmentsSent: txn.length,
        retransmissions: 0,
        fastRetransmits: 0,
        timeouts: 0,
        cwnd: full ? cwnd.map((c, i) => ({ t: at - (cwnd.length - i) * 1e6, cwnd: c })) : [],
      },
      delivered: txn.length * 64,
      pureAcks: 1,
      startedAt,
      rr: {
        transactions: lat.count,
        transactionsPerSec: 0,
        latencyMinNs: lat.min,
        latencyMeanNs: lat.mean,
        latencyP50Ns: lat.percentile(50),
        latencyP99Ns: lat.percentile(99),
        latencyCdf: [],
      },
      ...(full ? { histograms: { rtt: r.toJSON(), transactions: lat.toJSON() } } : {}),
    };
  };
  const guest = (at: number, end: ClosedLoopEndReport, full: boolean): FrontendReport => ({
    ...frontend(at, 0, 0, [0]),
    closedLoop: [end],
    ...(full ? { latency: hist(1000).toJSON() } : {}),
  });
  const inc = new Incarnations();
  // Incarnation 0: a full sample at 10 ms (three slow transactions), then a plain one at 12 ms (a fourth), then it dies.
  inc.sampled(0, 10e6, [guest(10e6, client(10e6, [900e3, 950e3, 990e3], [40e3, 41e3], [10, 12], true), true)]);
  inc.sampled(0, 12e6, [guest(12e6, client(12e6, [900e3, 950e3, 990e3, 980e3], [40e3, 41e3, 42e3], [], false), false)]);
  // Incarnation 1 (fresh client, started at its restart) ends the run with two fast transactions.
  const fin = inc.continued(1, [guest(30e6, client(30e6, [100e3, 110e3], [20e3], [2, 4], true, 20e6), true)])[0] as FrontendReport;
  const e = fin.closedLoop?.[0];
  // Counts: the last sample's (12 ms) and the successor's; the connection started with the first incarnation.
  t.is(e?.rr?.transactions, 6);
  t.is(e?.startedAt, 5e6);
  t.is(e?.rr?.transactionsPerSec, (6 * 1e9) / (30e6 - 5e6));
  t.is(e?.sent.rttSamples, 4);
  t.is(e?.sent.rttMinNs, 20e3);
  t.is(e?.rr?.latencyMinNs, hist(100e3).min);
  // Percentiles from the merged histograms: the dead client's three shipped transactions and the successor's two.
  const both = hist(900e3, 950e3, 990e3, 100e3, 110e3);
  t.is(e?.rr?.latencyP50Ns, both.percentile(50));
  t.is(e?.rr?.latencyP99Ns, both.percentile(99));
  t.deepEqual(e?.rr?.latencyCdf.at(-1), [100, both.percentile(100)]);
  t.is(e?.rr?.latencyCdf.length, 12);
  t.is(e?.sent.rttP99Ns, hist(40e3, 41e3, 20e3).percentile(99));
  t.is(LatencyHistogram.fromJSON(e?.histograms?.transactions ?? hist().toJSON()).count, 5);
  // The cwnd trace: the dead incarnation's as it shipped it, then the successor's.
  t.deepEqual(
    e?.sent.cwnd.map((c) => c.cwnd),
    [10, 12, 2, 4],
  );
  // A sample of the successor (no histograms) is continued by counts, its percentiles an upper bound.
  const s = inc.continued(1, [guest(25e6, client(25e6, [100e3], [20e3], [], false, 20e6), false)])[0] as FrontendReport;
  t.is(s.closedLoop?.[0]?.rr?.transactions, 5);
  t.is(s.closedLoop?.[0]?.rr?.latencyP99Ns, hist(990e3).percentile(99));
});
