// The driver domain's NIC driver on its own: the cost of a NAPI poll's batch, the poll given back to the NIC, the split to workers.
import test from 'ava';
import { CpuAccount, RecordingEffects, takeBatch, UNIT_TEST_COSTS, Vcpu } from '@splitnet/model';
import type { CostProfile, DmaMessage, PacketBatch } from '@splitnet/model';
import { BackendActor } from '../src/backend-actor.js';

const costs: CostProfile = {
  name: 'test',
  nic: { irq: 1500 },
  backend: { perBatch: 500, perPacket: 150, toeplitz: 100 },
  worker: { perPass: 500, perFlush: 500, perPacket: 1000, perCopyOp: 500, perByte: 1, notify: 1000, timer: 1500 },
  frontend: { virq: 2500, pollOverhead: 500, perPacket: 600, perByte: 0.25, refillPerPacket: 100, timerTick: 800, notify: 1000, wakeup: 5000 },
  dom0: { contextSwitch: 2000, wakeup: 5000 },
  link: 200,
};

/** NIC ref 0; flows 0 and 1 go to guest queue 0 (worker ref 2), flow 2 to guest queue 1 (worker ref 3). */
function backend(): BackendActor {
  return new BackendActor({
    id: 'backend',
    nic: 0,
    nicQueues: 2,
    budget: 64,
    costs,
    flowGq: new Uint32Array([0, 0, 1]),
    gqWorker: [2, 3],
    gqVm: [0, 0],
    gqQueue: [0, 1],
  });
}

function batchOf(flows: readonly number[]): PacketBatch {
  const b = takeBatch(flows.length);
  flows.forEach((f, i) => {
    b.flow[i] = f;
    b.seq[i] = i;
    b.len[i] = 1518;
    b.emittedAt[i] = 0;
  });
  b.count = flows.length;
  return b;
}

function dma(nicQueue: number, irq: boolean, issuedAt: number, flows: readonly number[]): DmaMessage {
  return { kind: 'dma', nicQueue, irq, issuedAt, batch: batchOf(flows) };
}

test('backend - each batch is given back to the NIC with a poll naming it, when the driver core has processed it', (t) => {
  const fx = new RecordingEffects();
  const b = backend();
  b.receive(dma(1, true, 1_000, [0, 2, 1]), 1_000, fx);
  // Interrupt-started: nic.irq + perBatch + 3 × perPacket.
  const done = 1_000 + 1500 + 500 + 3 * 150;
  t.deepEqual(fx.of('poll'), [{ kind: 'poll', nicQueue: 1, issuedAt: 1_000, at: done }]);
  // The packets leave for their workers at the same time, split by guest queue with their order kept.
  const rx = fx.sent
    .filter((s) => s.msg.kind === 'rx')
    .map((s) => (s.msg.kind === 'rx' ? [s.to, s.at, Array.from(s.msg.batch.flow.subarray(0, s.msg.batch.count))] : []));
  t.deepEqual(rx, [
    [2, done, [0, 1]],
    [3, done, [2]],
  ]);
});

test('backend - a polled batch costs no interrupt, and a full budget is counted as a poll that goes on', (t) => {
  const fx = new RecordingEffects();
  const b = backend();
  b.receive(
    dma(
      0,
      false,
      5_000,
      Array.from({ length: 64 }, () => 0),
    ),
    5_000,
    fx,
  );
  t.deepEqual(fx.of('poll'), [{ kind: 'poll', nicQueue: 0, issuedAt: 5_000, at: 5_000 + 500 + 64 * 150 }]);
  t.like(b.stats, { batches: 1, packets: 64, irqsHandled: 0, polls: 1 });
});

test('backend - each NIC queue has its own core: batches of two queues do not wait for each other', (t) => {
  const fx = new RecordingEffects();
  const b = backend();
  b.receive(dma(0, true, 0, [0]), 0, fx);
  b.receive(dma(1, true, 0, [2]), 0, fx);
  t.deepEqual(
    fx.of('poll').map((p) => [p.nicQueue, p.at]),
    [
      [0, 2150],
      [1, 2150],
    ],
  );
});

test('backend - on a scheduled vCPU a TX completion is a hard interrupt, its clean-up NAPI work there, and the slots go to the dealloc when it is done', (t) => {
  const params = {
    contextSwitch: 2000,
    wakeup: 0,
    timeslice: 1e6,
    netdevBudget: 300,
    netdevBudgetTime: 2e6,
    maxSoftirqTime: 2e6,
    maxSoftirqRestart: 10,
    ksoftirqd: true,
  };
  const v = new Vcpu('dom0.vcpu0', params, (x) => new CpuAccount('dom0.ksoftirqd0', x));
  const account = new CpuAccount('dom0.nic0', v);
  const q = { vcpu: v, napi: v.napi('nic0', account), account };
  const b = new BackendActor({
    id: 'backend',
    nic: 0,
    nicQueues: 1,
    budget: 64,
    costs: UNIT_TEST_COSTS,
    flowGq: new Uint32Array([0, 0, 1]),
    gqWorker: [2, 3],
    gqVm: [0, 0],
    gqQueue: [0, 1],
    sched: { queues: [q], vcpus: [v] },
    tx: {
      flowNicQueue: new Uint16Array(3),
      flowGuestQueue: new Uint16Array(3),
      flowVm: new Int32Array([0, 0, 0]),
      flowReceiver: new Int32Array([-1, -1, -1]),
      vifWorker: [[2]],
    },
  });
  const fx = new RecordingEffects();
  b.receive({ kind: 'txdone', nicQueue: 0, batch: batchOf([0, 1, 2]) }, 1_000, fx);
  t.is(fx.of('dealloc').length, 0, 'nothing is freed before the clean-up is done');
  fx.drain(b);
  // nic.irq (hard interrupt) + 3 × nicCleanPerPacket in NET_RX softirq, no context switch: 1000 + 1000 + 300.
  const d = fx.of('dealloc');
  t.is(d.length, 1);
  t.true(Math.abs((d[0]?.at ?? 0) - 2_300) < 0.01, String(d[0]?.at));
  t.deepEqual([d[0]?.vm, d[0]?.queue, d[0]?.frames, d[0]?.slots], [0, 0, 3, 3]);
  t.true(Math.abs(account.busyThrough(10_000) - 1_300) < 0.01);
  t.is(v.stats.switches, 0);
  t.is(b.report(10_000).tx?.toGuests, 0, 'the transmit figures are reported on a scheduled vCPU too');
});

test('backend - after a bus outage, frames netback handed over that never came give their slots back to its dealloc, and resync announces the slots freed so far, at no core time', (t) => {
  const b = new BackendActor({
    id: 'backend',
    nic: 0,
    nicQueues: 1,
    budget: 64,
    costs: UNIT_TEST_COSTS,
    flowGq: new Uint32Array([0]),
    gqWorker: [2],
    gqVm: [0],
    gqQueue: [0],
    tx: {
      flowNicQueue: new Uint16Array(1),
      flowGuestQueue: new Uint16Array(1),
      flowVm: new Int32Array([0]),
      flowReceiver: new Int32Array([-1]),
      vifWorker: [[2]],
    },
  });
  const fx = new RecordingEffects();
  b.receive({ kind: 'xmit', vm: 0, queue: 0, batch: batchOf([0, 0]) }, 0, fx);
  b.receive({ kind: 'xmit', vm: 0, queue: 0, batch: batchOf([0]) }, 1000, fx);
  t.is(fx.of('txpost').length, 2);
  // netback's resync says 6 were handed over: the 3 between never came.
  b.receive({ kind: 'xmit', vm: 0, queue: 0, batch: batchOf([]), sentFrames: 6, sentSlots: 6 }, 2000, fx);
  t.deepEqual(
    fx.of('dealloc').map((d) => [d.frames, d.slots, d.freed, d.at]),
    [[3, 3, 3, 2000]],
  );
  t.like(fx.events.find((e) => e.kind === 'bridge-tx-frames-lost')?.detail, { vm: 0, queue: 0, frames: 3, slots: 3 });
  // Said again (a later resync round): nothing more is freed.
  b.receive({ kind: 'xmit', vm: 0, queue: 0, batch: batchOf([]), sentFrames: 6, sentSlots: 6 }, 3000, fx);
  t.is(fx.of('dealloc').length, 1);
  // The NIC sent the three that came: their clean-up frees them, the count goes on.
  b.receive({ kind: 'txdone', nicQueue: 0, batch: batchOf([0, 0, 0]) }, 4000, fx);
  t.is(fx.of('dealloc').at(-1)?.freed, 6);
  const busy = b.report(3_000_000).busy;
  b.resync(3_000_000, fx);
  const last = fx.of('dealloc').at(-1);
  t.deepEqual([last?.frames, last?.slots, last?.freed, last?.at], [0, 0, 6, 3_000_000]);
  t.deepEqual(b.report(3_000_000).busy, busy);
});

test("backend - a restarted driver domain's bridge tells each vif queue's netback it holds none of its slots, and drops that queue's batches until netback says it counts from 0", (t) => {
  const b = new BackendActor({
    id: 'backend',
    nic: 0,
    nicQueues: 1,
    budget: 64,
    costs: UNIT_TEST_COSTS,
    flowGq: new Uint32Array([0, 1]),
    gqWorker: [2, 3],
    gqVm: [0, 1],
    gqQueue: [0, 0],
    tx: {
      flowNicQueue: new Uint16Array(2),
      flowGuestQueue: new Uint16Array(2),
      flowVm: new Int32Array([0, 1]),
      flowReceiver: new Int32Array([-1, -1]),
      vifWorker: [[2], [3]],
    },
  });
  const fx = new RecordingEffects();
  b.rejoined(5000, fx);
  t.deepEqual(
    fx.sent.map((s) => [s.to, s.msg]),
    [
      [2, { kind: 'dealloc', vm: 0, queue: 0, frames: 0, slots: 0, freed: 0 }],
      [3, { kind: 'dealloc', vm: 1, queue: 0, frames: 0, slots: 0, freed: 0 }],
    ],
  );
  // Frames guest 0's netback handed to the dead bridge, stamped before its word: sent to the dead driver domain.
  b.receive({ kind: 'xmit', vm: 0, queue: 0, batch: batchOf([0, 0]) }, 5100, fx);
  t.is(fx.of('txpost').length, 0);
  b.receive({ kind: 'xmit', vm: 0, queue: 0, batch: batchOf([]), sentFrames: 0, sentSlots: 0 }, 5200, fx);
  t.like(fx.events.find((e) => e.kind === 'bridge-tx-resumed')?.detail, { vm: 0, queue: 0, dropped: 2 });
  // From then on its batches go to the wire, and their deallocs count from 0; guest 1's queue still waits.
  b.receive({ kind: 'xmit', vm: 0, queue: 0, batch: batchOf([0]) }, 6000, fx);
  b.receive({ kind: 'xmit', vm: 1, queue: 0, batch: batchOf([1]) }, 6000, fx);
  t.is(fx.of('txpost').length, 1);
  b.receive({ kind: 'txdone', nicQueue: 0, batch: batchOf([0]) }, 7000, fx);
  t.like(fx.of('dealloc').at(-1), { vm: 0, queue: 0, frames: 1, slots: 1, freed: 1 });
});
