// The transmit path's bus accounting of a live run: frames between processes on the bus, and those inferred lost in restarted processes.
import test from 'ava';
import type { ActorReport, FrontendReport, WorkerReport } from '@splitnet/model';
import type { HostFinal } from '../src/live-host.js';
import { handoffsToBox, txBusAccount, withBridgeHandoffs } from '../src/tx-bus-accounting.js';

/** A host's final with only what the transmit accounting reads. */
const host = (f: Partial<HostFinal>): HostFinal => ({ reports: [], pendingPackets: 0, sentTo: {}, receivedFrom: {}, ...f }) as unknown as HostFinal;

const guest = (sent: number, held: number): FrontendReport =>
  ({
    role: 'frontend',
    id: 'vm.0',
    t: 0,
    vm: 0,
    busy: {},
    held: 0,
    delivered: 0,
    deliveredBytes: 0,
    virqs: [0],
    tx: { sent, sentBytes: sent * 1518, held, drops: { 'guest-qdisc-overlimit': 0 } },
  }) as unknown as FrontendReport;
const worker = (held: number, released: number): WorkerReport =>
  ({
    role: 'worker',
    id: 'worker.0',
    t: 0,
    busy: {},
    held: 0,
    backlog: 0,
    tx: { held, drops: { 'vif-disabled': 0, 'release-tx-bufs': released } },
  }) as unknown as WorkerReport;

test('tx bus accounting - without restarts, the frames sent and not taken (and taken, due after the end) are on the bus, none lost', (t) => {
  const finals = new Map([
    ['vm.0', host({ txSentTo: { 'worker.0': 100 }, txPending: 0 })],
    ['worker.0', host({ txReceivedFrom: { 'vm.0': 97 }, txSentTo: { backend: 96 }, txPending: 1 })],
    ['nic+backend', host({ txReceivedFrom: { 'worker.0': 95 }, txPending: 2 })],
  ]);
  t.deepEqual(txBusAccount(finals, new Map(), new Set(), 1e6), {
    onBus: 3 + 1 + 1 + 2,
    lost: 0,
    reason: 'release-tx-bufs',
    box: { into: 0, out: 0, known: 0 },
    sentUnsampled: 0,
  });
});

test('tx bus accounting - a restarted worker: what went into it and neither came out nor is known to its counters was lost (release-tx-bufs); its links are not on the bus', (t) => {
  const finals = new Map([
    ['vm.0', host({ txSentTo: { 'worker.0': 100 } })],
    ['worker.0', host({ txReceivedFrom: { 'vm.0': 20 }, txSentTo: { backend: 20 }, txPending: 1 })],
    ['nic+backend', host({ txReceivedFrom: { 'worker.0': 80 } })],
  ]);
  const reports = new Map<string, readonly ActorReport[]>([['worker.0', [worker(3, 5)]]]);
  // 100 in, 80 out, known: 1 due after the end, 3 on its ring, 5 it dropped itself: 11 lost.
  t.deepEqual(txBusAccount(finals, reports, new Set(['worker.0']), 1e6), {
    onBus: 1,
    lost: 11,
    reason: 'release-tx-bufs',
    box: { into: 100, out: 80, known: 9 },
    sentUnsampled: 0,
  });
});

test('tx bus accounting - a restarted guest: what its application sent counts as gone into it, and what did not come out is lost-in-crash', (t) => {
  const finals = new Map([
    ['vm.0', host({})],
    ['worker.0', host({ txReceivedFrom: { 'vm.0': 90 }, txSentTo: { backend: 90 } })],
    ['nic+backend', host({ txReceivedFrom: { 'worker.0': 90 } })],
  ]);
  const reports = new Map<string, readonly ActorReport[]>([['vm.0', [guest(100, 4)]]]);
  t.deepEqual(txBusAccount(finals, reports, new Set(['vm.0']), 1e6), {
    onBus: 0,
    lost: 6,
    reason: 'lost-in-crash',
    box: { into: 100, out: 90, known: 4 },
    sentUnsampled: 0,
  });
});

test('tx bus accounting - a restarted guest with TCP ends: the frames they sent after its last sample came out of it unknown to its counters; they count as sent, and the box lost none', (t) => {
  const finals = new Map([
    ['vm.0', host({})],
    ['worker.0', host({ txReceivedFrom: { 'vm.0': 113 }, txSentTo: { backend: 113 } })],
    ['nic+backend', host({ txReceivedFrom: { 'worker.0': 113 } })],
  ]);
  const tcp = { ...guest(100, 0), closedLoop: [] } as FrontendReport;
  // 100 sent by its counters (continued from the last sample), 113 came out: 13 sent after that sample.
  t.deepEqual(txBusAccount(finals, new Map([['vm.0', [tcp]]]), new Set(['vm.0']), 1e6), {
    onBus: 0,
    lost: 0,
    reason: 'lost-in-crash',
    box: { into: 100, out: 113, known: 0 },
    sentUnsampled: 13,
  });
  // Without TCP ends a guest replays its sends exactly: the same shortfall is not hidden.
  t.is(txBusAccount(finals, new Map([['vm.0', [guest(100, 0)]]]), new Set(['vm.0']), 1e6).lost, -13);
});

test('tx bus accounting - a restarted driver domain (the NIC and the back end; per Xen domain, its workers too): what went into it and did not leave on the wire or stay known is lost-in-crash', (t) => {
  const nic = { role: 'nic', id: 'nic', t: 0, tx: { onWire: 70, held: 2, drops: { 'nic-tx-queue-full': 0, 'link-down': 0 } } } as unknown as ActorReport;
  const perActor = new Map([
    ['vm.0', host({ txSentTo: { 'worker.0': 100 } })],
    ['worker.0', host({ txReceivedFrom: { 'vm.0': 100 }, txSentTo: { backend: 100 } })],
    ['nic+backend', host({})],
  ]);
  // 100 into the box, 70 on the wire and 2 on its TX queues (its successor's counters, continued): 28 lost with it.
  t.deepEqual(txBusAccount(perActor, new Map([['nic+backend', [nic]]]), new Set(['nic', 'backend']), 1e6), {
    onBus: 0,
    lost: 28,
    reason: 'lost-in-crash',
    box: { into: 100, out: 0, known: 72 },
    sentUnsampled: 0,
  });
  const perDomain = new Map([
    ['vm.0', host({ txSentTo: { 'worker.0': 100 } })],
    ['nic+backend+worker.0', host({})],
  ]);
  t.deepEqual(txBusAccount(perDomain, new Map([['nic+backend+worker.0', [nic, worker(1, 3)]]]), new Set(['nic', 'backend', 'worker.0']), 1e6), {
    onBus: 0,
    lost: 24,
    reason: 'lost-in-crash',
    box: { into: 100, out: 0, known: 76 },
    sentUnsampled: 0,
  });
});

test("tx bus accounting - a restarted bridge's guest-to-guest handoffs are the workers' count of what they took from it, which both accountings read", (t) => {
  // Its own count, continued from its dead incarnation's last sample, has 60; the workers took 75 from it (the 15 it
  // handed over after that sample among them), and 3 frames from the wire came with them (not counted).
  const bridge = { role: 'backend', id: 'backend', t: 0, busy: {}, held: 0, tx: { held: 0, toGuests: 60, toGuestsBytes: 60 * 1518 } } as unknown as ActorReport;
  const nic = { role: 'nic', id: 'nic', t: 0, tx: { onWire: 0, held: 0 } } as unknown as ActorReport;
  const finals = new Map([
    ['vm.0', host({ txSentTo: { 'worker.0': 100 } })],
    ['worker.0', host({ txReceivedFrom: { 'vm.0': 100 }, txSentTo: { backend: 100 } })],
    ['worker.1', host({ receivedFrom: { backend: 78 }, guestFramesFrom: { backend: { frames: 75, bytes: 75 * 1518 } } })],
    ['nic+backend', host({})],
  ]);
  const reports = new Map<string, readonly ActorReport[]>([['nic+backend', [nic, bridge]]]);
  const restarted = new Set(['nic', 'backend']);
  const noLosses = (): { rx: number; tx: number } => t.fail('no inference without a restarted worker') ?? { rx: 0, tx: 0 };
  const { reports: out, handoffs } = withBridgeHandoffs(finals, reports, restarted, noLosses);
  t.deepEqual(handoffs, { bridge: 'backend', reported: 60, taken: 75 });
  const b = out.get('nic+backend')?.find((r) => r.role === 'backend');
  t.like(b, { tx: { toGuests: 75, toGuestsBytes: 75 * 1518 } });
  t.is(reports.get('nic+backend')?.[1], bridge, 'the reports given are not changed');
  // 100 into the box, 75 handed to guest 1: 25 lost with it (with the bridge's own count, 40).
  t.like(txBusAccount(finals, out, restarted, 1e6), { lost: 25, box: { into: 100, out: 0, known: 75 } });
  t.like(txBusAccount(finals, reports, restarted, 1e6), { lost: 40 });
  // Nothing restarted: left as they are.
  t.is(withBridgeHandoffs(finals, reports, new Set(), noLosses).reports, reports);
});

test("tx bus accounting - a restarted bridge's handoffs to netback workers restarted too are its own count, at least what the receive path saw come out of the box, at most what the transmit path misses in it", (t) => {
  // Its own count up to its last sample, less what surviving receivers took; what each accounting finds lost without them.
  t.is(handoffsToBox(60, { rx: 5, tx: 90 }), 60, 'its own count, when both accountings stay whole with it');
  t.is(handoffsToBox(60, { rx: -72, tx: 90 }), 72, 'at least the frames the guests got from the box that nothing else explains');
  t.is(handoffsToBox(60, { rx: 5, tx: 40 }), 40, 'at most what the transmit path misses in the box');
  t.is(handoffsToBox(-3, { rx: 0, tx: 10 }), 0, 'never fewer than none');
  t.is(handoffsToBox(60, { rx: -50, tx: 30 }), 50, 'the receive path kept whole when the two cannot both be');
});

test("tx bus accounting - with one process per Xen domain the restarted bridge's handoffs went to its own workers: its count, raised to what the receiving guest got from them, both accountings whole", (t) => {
  const bridge = { role: 'backend', id: 'backend', t: 0, busy: {}, held: 0, tx: { held: 0, toGuests: 60, toGuestsBytes: 60 * 1000 } } as unknown as ActorReport;
  const nic = { role: 'nic', id: 'nic', t: 0, tx: { onWire: 0, held: 0 } } as unknown as ActorReport;
  const finals = new Map([
    ['vm.0', host({ txSentTo: { 'worker.0': 100 } })],
    ['vm.1', host({ receivedFrom: { 'worker.1': 70 } })],
    ['nic+backend+worker.0+worker.1', host({})],
  ]);
  const reports = new Map<string, readonly ActorReport[]>([['nic+backend+worker.0+worker.1', [nic, bridge]]]);
  const restarted = new Set(['nic', 'backend', 'worker.0', 'worker.1']);
  // The receive path without handoffs: 70 came out of the box, none went in (no wire traffic) — the 10 handed over
  // after the last sample and delivered among them.
  const losses = (r: ReadonlyMap<string, readonly ActorReport[]>): { rx: number; tx: number } => {
    const toGuests = r.get('nic+backend+worker.0+worker.1')?.find((x) => x.role === 'backend')?.tx?.toGuests ?? 0;
    const box = txBusAccount(finals, r, restarted, 1e6).box;
    return { rx: toGuests - 70, tx: box.into - box.out - box.known };
  };
  const { reports: out, handoffs } = withBridgeHandoffs(finals, reports, restarted, losses);
  t.deepEqual(handoffs, { bridge: 'backend', reported: 60, taken: 0, inferred: 70 });
  t.like(
    out.get('nic+backend+worker.0+worker.1')?.find((r) => r.role === 'backend'),
    { tx: { toGuests: 70, toGuestsBytes: 70 * 1000 } },
  );
  t.deepEqual(losses(out), { rx: 0, tx: 30 });
  // No guest sends to another (no `losses`): nothing to infer, left as they are.
  t.is(withBridgeHandoffs(finals, reports, restarted, undefined).reports, reports);
});
