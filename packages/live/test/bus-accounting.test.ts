// The bus accounting of a live run per link: refused packets a sender really sent are dropped, a forger's count nowhere, packets taken beyond what was sent are forged.
import test from 'ava';
import { LatencyHistogram } from '@splitnet/model';
import type { ActorReport } from '@splitnet/model';
import { busAccount } from '../src/bus-accounting.js';
import type { HostFinal, LinkCounts } from '../src/live-host.js';

/** A process's final report with nothing in it but its links. */
function final(links: Record<string, LinkCounts>, extra: Partial<HostFinal> = {}): HostFinal {
  const h = new LatencyHistogram().toJSON();
  return {
    reports: [],
    pendingPackets: 0,
    sentTo: {},
    receivedFrom: {},
    rejected: { malformed: 0, truncated: 0, 'wrong-run': 0, duplicate: 0, 'invalid-batch': 0, misrouted: 0, spoofed: 0, 'not-allowed': 0, 'seq-jump': 0 },
    gaps: 0,
    lastRejection: '',
    inputLateness: h,
    processingLag: h,
    eventsProcessed: 0,
    pumps: 0,
    framesSent: 0,
    envelopesSent: 0,
    links,
    ...extra,
  };
}

test('bus accounting - per link: on the bus, refused packets dropped up to what was sent and not taken, forged packets found', (t) => {
  const finals = new Map<string, HostFinal>([
    ['nic+backend', final({ 'backend>worker.0': { sent: 100 }, 'backend>worker.1': { sent: 80 } })],
    // worker.0 took 60 of the back end's 100 and refused 50 (the 40 it never took, and 10 replays of ones it had).
    ['worker.0', final({ 'backend>worker.0': { received: 60, rejected: 50 }, 'worker.0>vm.0': { sent: 30 } })],
    // worker.1 refused 20 frames claiming the back end that the back end never sent: 80 sent, 80 taken.
    ['worker.1', final({ 'backend>worker.1': { received: 80, rejected: 20 } })],
    // vm.0 took 1030 packets from worker.0, which sent it 30; and 3 of its sequence numbers never came.
    ['vm.0', final({ 'worker.0>vm.0': { received: 1030, gaps: 3 } }, { disconnects: 1 })],
  ]);
  const bus = busAccount(finals, new Map(), new Set(), 1e6);
  t.is(bus.rejected, 40, 'dropped as rejected: what the back end sent worker.0 and it did not take');
  t.is(bus.onBus, 0);
  t.deepEqual(bus.forged, [{ from: 'worker.0', to: 'vm.0', packets: 1000 }]);
  t.deepEqual(bus.gapped, [{ from: 'worker.0', to: 'vm.0', gaps: 3 }]);
  t.deepEqual(bus.disconnected, ['vm.0']);
});

test('bus accounting - packets sent and neither taken nor refused are on the bus; links of restarted actors are left to the box', (t) => {
  const finals = new Map<string, HostFinal>([
    ['nic+backend', final({ 'backend>worker.0': { sent: 100 }, 'backend>worker.1': { sent: 70 } })],
    ['worker.0', final({ 'backend>worker.0': { received: 90 } })],
    ['worker.1', final({ 'backend>worker.1': { received: 500, rejected: 9 } })],
  ]);
  const bus = busAccount(finals, new Map(), new Set(['worker.1']), 1e6);
  t.is(bus.onBus, 10);
  t.is(bus.rejected, 0);
  t.deepEqual(bus.forged, [], "worker.1 restarted: its counters are not the survivors'");
});

test("bus accounting - a restarted NIC's far ends' frames after its last sample that came out of the box count as emitted, not a negative loss; without far ends the box's loss stands", (t) => {
  const nic = (closedLoop: boolean): ActorReport => ({
    role: 'nic',
    id: 'nic',
    t: 1e6,
    emitted: 100,
    emittedBytes: 6400,
    physicalIrqs: 0,
    dropsNicRingFull: 0,
    held: 0,
    ...(closedLoop ? { closedLoop: [] } : {}),
  });
  // The box (the NIC's process) emitted 100 by its counters and sent the survivors 112: 12 more than are known.
  const finals = new Map<string, HostFinal>([
    ['nic+backend', final({}, { sentTo: { 'worker.0': 112 } })],
    ['worker.0', final({}, { receivedFrom: { backend: 112 } })],
  ]);
  const far = busAccount(finals, new Map([['nic+backend', [nic(true)]]]), new Set(['nic', 'backend']), 1e6);
  t.like(far, { emittedUnsampled: 12, inferredLost: 0 });
  const open = busAccount(finals, new Map([['nic+backend', [nic(false)]]]), new Set(['nic', 'backend']), 1e6);
  t.like(open, { emittedUnsampled: 0, inferredLost: -12 });
});
