// netback's transmit side on a worker: TX NAPI, copy-only frames answered at once and mapped ones after the dealloc, the credit scheduler, the fatal ring error; and on a scheduled dom0 vCPU.
import test from 'ava';
import { CpuAccount, RecordingEffects, takeBatch, UNIT_TEST_COSTS, Vcpu } from '@splitnet/model';
import type { PacketBatch, VcpuParams } from '@splitnet/model';
import { WorkerActor, type WorkerConfig, type WorkerSched } from '../src/worker-actor.js';
import type { TxCredit } from '../src/netback-tx.js';

const BACKEND = 1;
const FRONTEND = 5;

function frames(lens: readonly number[], at = 0): PacketBatch {
  const b = takeBatch(lens.length);
  lens.forEach((len, i) => {
    b.flow[i] = 0;
    b.seq[i] = i;
    b.len[i] = len;
    b.emittedAt[i] = at;
  });
  b.count = lens.length;
  return b;
}

/** A worker serving guest 0's one queue, RX and TX; `sched`: bound to a scheduled vCPU (absent: a dedicated core). */
function worker(credit: TxCredit | null = null, sched?: WorkerSched): WorkerActor {
  const cfg: WorkerConfig = {
    id: 'worker.0',
    index: 0,
    costs: UNIT_TEST_COSTS,
    pass: { maxPackets: 64, ringSlack: 0, copyBatch: 64 },
    rxQueueBytes: 512 * 1024,
    qdisc: 'pfifo-fast',
    extraSlots: 0,
    skbHash: new Uint32Array(1),
    served: [{ vm: 0, queue: 0, frontend: FRONTEND, ringSize: 256 }],
    policy: { kind: 'none' },
    tx: { queues: [{ vm: 0, queue: 0, frontend: FRONTEND, ringSize: 256, port: 1 }], backend: BACKEND, budget: 64, credit },
    ...(sched === undefined ? {} : { sched }),
  };
  return new WorkerActor(cfg);
}

/** netfront's write of `lens` new requests after `before` earlier ones (one slot each), notifying. */
function txreq(before: number, lens: readonly number[], notify = true) {
  return { kind: 'txreq', vm: 0, queue: 0, reqProd: before + lens.length, rspEvent: 1, rspProdSeen: 0, notify, batch: frames(lens) } as const;
}

test('netback tx - a notified request is polled: the frame goes to the bridge when the poll is done', (t) => {
  const fx = new RecordingEffects();
  const w = worker();
  w.receive(txreq(0, [1518]), 0, fx);
  fx.drain(w);
  const xmit = fx.of('xmit');
  t.is(xmit.length, 1);
  t.is(xmit[0]?.batch.count, 1);
  // netbackPerPoll 500 + netbackPerPacket 1000 (no per-byte or per-map cost in the unit profile).
  t.is(xmit[0]?.at, 1500);
  t.is(fx.sent.find((s) => s.msg.kind === 'xmit')?.to, BACKEND);
});

test('netback tx - requests published while a poll runs are taken by its final check, not by a notification', (t) => {
  const fx = new RecordingEffects();
  const w = worker();
  w.receive(txreq(0, [1518]), 0, fx);
  // Published before the poll (done at 1.5 µs) ends; netfront did not notify (req_event was not re-armed yet).
  w.receive(txreq(1, [1518], false), 1000, fx);
  fx.drain(w);
  t.is(fx.of('xmit').length, 2);
  t.is(w.report(10_000).tx?.polls, 2);
  t.is(w.report(10_000).tx?.held, 0);
});

test('netback tx - after its final check netback writes req_event = req_cons + 1 for netfront to read', (t) => {
  const fx = new RecordingEffects();
  const w = worker();
  w.receive(txreq(0, [1518]), 0, fx);
  fx.drain(w);
  const writes = fx.of('txrsp');
  t.is(writes.at(-1)?.reqEvent, 2);
  t.is(writes.at(-1)?.rspProd, 0, 'nothing answered yet: the 1518-byte frame waits for its dealloc');
});

test('netback tx - a copy-only frame is answered at the poll, a mapped one only after its dealloc', (t) => {
  const fx = new RecordingEffects();
  const w = worker();
  w.receive(txreq(0, [100, 1518]), 0, fx);
  fx.drain(w);
  t.is(Math.max(...fx.of('txrsp').map((r) => r.rspProd)), 1, 'the 100-byte frame (96 bytes of data ≤ 128 copied) is answered at once');
  // The NIC has sent the 1518-byte frame; its skb is freed and its slot comes back through the dealloc.
  w.receive({ kind: 'dealloc', vm: 0, queue: 0, frames: 1, slots: 1 }, 10_000, fx);
  const last = fx.of('txrsp').at(-1);
  t.is(last?.rspProd, 2);
  // deallocPerBatch 500 + deallocPerSlot 100.
  t.is(last?.at, 10_600);
  t.is(w.report(10_600).tx?.deallocResponses, 1);
});

test('netback tx - the credit scheduler holds a frame beyond the credit until the next window (tx_credit_exceeded)', (t) => {
  const fx = new RecordingEffects();
  // 3000 bytes per 1 ms: two 1514-byte frames (1518 less the FCS) exceed it, so the second waits.
  const w = worker({ bytes: 3000, interval: 1_000_000 });
  w.receive(txreq(0, [1518, 1518]), 0, fx);
  fx.drain(w, 999_999);
  t.is(fx.of('xmit').length, 1, 'only the first frame within the first window');
  t.is(w.report(0).tx?.creditWaits, 1);
  fx.drain(w);
  const xmit = fx.of('xmit');
  t.is(xmit.length, 2);
  t.true((xmit[1]?.at ?? 0) >= 1_000_000, 'the second frame leaves after the credit timer at 1 ms');
});

test('netback tx - a req_prod more than a ring ahead disables the vif and drops its frames (xenvif_fatal_tx_err)', (t) => {
  const fx = new RecordingEffects();
  const w = worker();
  w.receive({ kind: 'txreq', vm: 0, queue: 0, reqProd: 300, rspEvent: 1, rspProdSeen: 0, notify: true, batch: frames([1518]) }, 0, fx);
  fx.drain(w);
  t.is(fx.of('xmit').length, 0);
  t.is(fx.events[0]?.kind, 'vif-tx-fatal-error');
  t.is(w.report(0).tx?.drops?.['vif-disabled'], 1);
  // Later requests on the disabled vif are dropped too.
  w.receive(txreq(1, [1518]), 10, fx);
  t.is(w.report(10).tx?.drops?.['vif-disabled'], 2);
});

// On a scheduled dom0 vCPU: the kick's TX NAPI in softirq context, the dealloc kernel thread, and what follows each when the vCPU says it is done.

function vcpu(wakeup: number, contextSwitch: number): Vcpu {
  const params: VcpuParams = {
    contextSwitch,
    wakeup,
    timeslice: 1_000_000,
    netdevBudget: 300,
    netdevBudgetTime: 2_000_000,
    maxSoftirqTime: 2_000_000,
    maxSoftirqRestart: 10,
    ksoftirqd: true,
  };
  return new Vcpu('dom0.vcpu0', params, (v) => new CpuAccount('dom0.ksoftirqd0', v));
}

/** The worker bound to `v` as a normal kernel thread, charged to `account`. */
function onVcpu(v: Vcpu, account = new CpuAccount('dom0.worker0', v)): WorkerActor {
  return worker(null, { vcpu: v, src: v.thread('netback0', account, false), account });
}

const kick = { kind: 'txreq', vm: 0, queue: 0, reqProd: 1, rspEvent: 1, rspProdSeen: 0, notify: true } as const;

test("netback tx on a vcpu - a kick wakes the blocked vCPU and the poll's frame goes to the bridge when the vCPU says the poll is done, charged to the worker", (t) => {
  const v = vcpu(5000, 2000);
  const account = new CpuAccount('dom0.worker0', v);
  const w = onVcpu(v, account);
  const fx = new RecordingEffects();
  // At 10 µs the vCPU has been idle, hence blocked, since the start.
  w.receive({ ...kick, batch: frames([1518]) }, 10_000, fx);
  fx.drain(w);
  const xmit = fx.of('xmit');
  t.is(xmit.length, 1);
  // The vCPU's wake-up (5 µs), then the poll (netbackPerPoll 500 + netbackPerPacket 1000) in softirq: no context switch.
  t.true(Math.abs((xmit[0]?.at ?? 0) - 16_500) < 0.01, String(xmit[0]?.at));
  t.true(Math.abs(account.busyThrough(30_000) - 1500) < 0.01, String(account.busyNs));
  t.is(v.stats.switches, 0);
});

test('netback tx on a vcpu - the kick preempts a thread running on the vCPU: the TX poll runs in softirq at once, not after the thread', (t) => {
  const v = vcpu(0, 0);
  const other = v.thread('busy', new CpuAccount('other', v), false);
  v.submit(other, 0, 100_000, false, 0, () => {});
  const w = onVcpu(v);
  const fx = new RecordingEffects();
  w.receive({ ...kick, batch: frames([1518]) }, 10_000, fx);
  fx.drain(w);
  t.true(Math.abs((fx.of('xmit')[0]?.at ?? 0) - 11_500) < 0.01, String(fx.of('xmit')[0]?.at));
});

test('netback tx on a vcpu - the dealloc is a kernel thread: woken by the zero-copy callback, it pays the wake-up and a context switch before it answers the slot', (t) => {
  const v = vcpu(5000, 2000);
  const w = onVcpu(v);
  const fx = new RecordingEffects();
  w.receive({ ...kick, batch: frames([1518]) }, 0, fx);
  fx.drain(w);
  t.is(fx.of('txrsp').at(-1)?.rspProd, 0, 'the mapped slot waits for its dealloc');
  w.receive({ kind: 'dealloc', vm: 0, queue: 0, frames: 1, slots: 1 }, 100_000, fx);
  fx.drain(w);
  const answer = fx.of('txrsp').find((m) => m.rspProd === 1);
  // Wake-up 5 µs, switch 2 µs, deallocPerBatch 500 + deallocPerSlot 100.
  t.true(Math.abs((answer?.at ?? 0) - 107_600) < 0.01, String(answer?.at));
  t.is(v.stats.switches, 1);
  t.is(w.report(200_000).tx?.held, 0);
});

test('netback tx - requests whose ring write the bus lost are consumed and answered as errors at once, at no modelled cost; the frames that came go out', (t) => {
  const fx = new RecordingEffects();
  const w = worker();
  w.receive(txreq(0, [1518]), 0, fx);
  fx.drain(w);
  const busy = w.report(100_000).busy;
  // The writes of requests 2 and 3 (with their frames) died with the NATS server; request 4's arrives.
  w.receive(txreq(3, [1518]), 100_000, fx);
  t.like(fx.events.find((e) => e.kind === 'vif-tx-requests-lost')?.detail, { vm: 0, queue: 0, slots: 2 });
  // Answered before any dealloc: rsp_prod covers the two lost slots, and netfront is kicked on the TX port.
  t.is(Math.max(...fx.of('txrsp').map((r) => r.rspProd)), 2);
  t.true(fx.sent.some((s) => s.msg.kind === 'evt' && s.msg.port === 1 && s.at === 100_000));
  t.deepEqual(w.report(100_000).busy, busy);
  fx.drain(w);
  t.is(fx.of('xmit').length, 2, 'the frames of requests 1 and 4');
  t.is(w.report(1e6).tx?.held, 0);
  // Their slots come back through the dealloc: every request of the four is answered.
  w.receive({ kind: 'dealloc', vm: 0, queue: 0, frames: 2, slots: 2 }, 1e6, fx);
  fx.drain(w);
  t.is(fx.of('txrsp').at(-1)?.rspProd, 4);
});

test('netback tx - after a bus outage, resync announces TX rsp_prod and req_event and kicks the TX port, at no modelled cost', (t) => {
  const fx = new RecordingEffects();
  const w = worker();
  w.receive(txreq(0, [100]), 0, fx);
  fx.drain(w);
  const before = fx.of('txrsp').at(-1);
  const busy = w.report(1e6).busy;
  const polls = w.report(1e6).tx?.polls;
  // That txrsp and its notification may have been lost on the bus: netfront would not reclaim the slot.
  w.resync(1e6, fx);
  t.like(fx.of('txrsp').at(-1), { rspProd: 1, reqEvent: before?.reqEvent, at: 1e6 });
  t.true(fx.sent.some((s) => s.msg.kind === 'evt' && s.msg.port === 1 && s.at === 1e6));
  t.deepEqual(w.report(1e6).busy, busy);
  t.is(w.report(1e6).tx?.polls, polls);
  t.is(fx.events.filter((e) => e.kind === 'vif-tx-requests-lost').length, 0);
});

test("netback tx - after a bus outage, the bridge's deallocs the bus lost are answered when its count of slots freed comes, and resync tells the bridge what was handed over", (t) => {
  const fx = new RecordingEffects();
  const w = worker();
  w.receive(txreq(0, [1518, 1518, 1518]), 0, fx);
  fx.drain(w);
  t.is(fx.of('xmit').length, 1);
  // The bridge freed 1 slot, then 1 more (that dealloc was lost), then 1.
  w.receive({ kind: 'dealloc', vm: 0, queue: 0, frames: 1, slots: 1, freed: 1 }, 10_000, fx);
  w.receive({ kind: 'dealloc', vm: 0, queue: 0, frames: 1, slots: 1, freed: 3 }, 20_000, fx);
  fx.drain(w);
  t.is(Math.max(...fx.of('txrsp').map((r) => r.rspProd)), 2, 'deallocs may come out of order: nothing is inferred from one');
  // Its resync: 3 freed so far. The one that never came is answered.
  w.receive({ kind: 'dealloc', vm: 0, queue: 0, frames: 0, slots: 0, freed: 3 }, 30_000, fx);
  fx.drain(w);
  t.is(Math.max(...fx.of('txrsp').map((r) => r.rspProd)), 3);
  t.like(fx.events.find((e) => e.kind === 'vif-tx-deallocs-lost')?.detail, { vm: 0, queue: 0, slots: 1 });
  w.resync(1e6, fx);
  t.like(fx.of('xmit').at(-1), { sentFrames: 3, sentSlots: 3, at: 1e6 });
  t.is(fx.of('xmit').at(-1)?.batch.count, 0);
});

test("netback tx - a receiving worker's deallocs carry its own count (from), kept apart from the bridge's: one lost comes back by that count alone", (t) => {
  const fx = new RecordingEffects();
  const w = worker();
  w.receive(txreq(0, [1518, 1518, 1518, 1518]), 0, fx);
  fx.drain(w);
  // The bridge freed 1 slot; worker 3 released 1, then 1 more in a dealloc that was lost, then its count of 2 came.
  w.receive({ kind: 'dealloc', vm: 0, queue: 0, frames: 1, slots: 1, freed: 1 }, 10_000, fx);
  w.receive({ kind: 'dealloc', vm: 0, queue: 0, frames: 1, slots: 1, freed: 1, from: 3 }, 11_000, fx);
  fx.drain(w);
  t.is(Math.max(...fx.of('txrsp').map((r) => r.rspProd)), 2);
  // The bridge's count of 1 says nothing is missing from it; worker 3's count of 2 says one of its releases was lost.
  w.receive({ kind: 'dealloc', vm: 0, queue: 0, frames: 0, slots: 0, freed: 1 }, 20_000, fx);
  fx.drain(w);
  t.is(fx.events.filter((e) => e.kind === 'vif-tx-deallocs-lost').length, 0);
  w.receive({ kind: 'dealloc', vm: 0, queue: 0, frames: 0, slots: 0, freed: 2, from: 3 }, 30_000, fx);
  fx.drain(w);
  t.is(Math.max(...fx.of('txrsp').map((r) => r.rspProd)), 3);
  t.like(fx.events.find((e) => e.kind === 'vif-tx-deallocs-lost')?.detail, { vm: 0, queue: 0, slots: 1, from: 'worker.3' });
});

test('netback tx - lost requests answered outside a poll: netback checks its ring as a poll ends, re-arming req_event so that the next push notifies it', (t) => {
  const fx = new RecordingEffects();
  const w = worker();
  w.receive(txreq(0, [100]), 0, fx);
  fx.drain(w);
  // Requests 2 to 4 were published (their ring writes lost); netfront, its ring in that state, re-announces req_prod.
  w.receive({ kind: 'txreq', vm: 0, queue: 0, reqProd: 4, rspEvent: 2, rspProdSeen: 1, notify: false, batch: frames([]) }, 1e6, fx);
  t.like(fx.events.find((e) => e.kind === 'vif-tx-requests-lost')?.detail, { slots: 3, reqCons: 4 });
  // The announce carries req_event = req_cons + 1: netfront's next push (request 5) crosses it and notifies.
  t.like(fx.of('txrsp').at(-1), { rspProd: 4, reqEvent: 5 });
  w.receive(txreq(4, [100], false), 2e6, fx);
  fx.drain(w);
  t.is(fx.of('xmit').at(-1)?.batch.count, 1, 'the new request was polled: its frame went to the bridge');
});

test("netback tx - a restarted driver domain's bridge announces it holds none of the queue's slots: those handed to the dead one whose dealloc never came are answered, and both ends count from 0", (t) => {
  const fx = new RecordingEffects();
  const w = worker();
  w.receive(txreq(0, [1518, 1518, 1518, 1518]), 0, fx);
  fx.drain(w);
  t.is(fx.of('xmit')[0]?.batch.count, 4);
  // The bridge freed one frame's slot; then the driver domain died holding three.
  w.receive({ kind: 'dealloc', vm: 0, queue: 0, frames: 1, slots: 1, freed: 1 }, 10_000, fx);
  fx.drain(w);
  t.is(Math.max(...fx.of('txrsp').map((r) => r.rspProd)), 1);
  // Its successor: a dealloc of none with freed 0.
  w.receive({ kind: 'dealloc', vm: 0, queue: 0, frames: 0, slots: 0, freed: 0 }, 50_000, fx);
  fx.drain(w);
  t.like(fx.events.find((e) => e.kind === 'vif-tx-bridge-restarted')?.detail, { vm: 0, queue: 0, slots: 3 });
  // The dealloc thread unmaps and answers them (as the zero-copy callbacks of their freed skbs would have had it do).
  t.is(Math.max(...fx.of('txrsp').map((r) => r.rspProd)), 4);
  t.is(w.report(1e6).tx?.deallocResponses, 4);
  // netback's word that it counts from 0, after every batch it handed over.
  t.like(fx.of('xmit').at(-1), { sentFrames: 0, sentSlots: 0, at: 50_000 });
  t.is(fx.of('xmit').at(-1)?.batch.count, 0);
  // A later resync tells the new bridge what it had in the new count: nothing yet.
  w.resync(1e6, fx);
  t.like(fx.of('xmit').at(-1), { sentFrames: 0, sentSlots: 0 });
  // A frame handed to the new bridge comes back by its dealloc, counted from 0.
  w.receive(txreq(4, [1518]), 2e6, fx);
  fx.drain(w);
  w.receive({ kind: 'dealloc', vm: 0, queue: 0, frames: 1, slots: 1, freed: 1 }, 3e6, fx);
  fx.drain(w);
  t.is(Math.max(...fx.of('txrsp').map((r) => r.rspProd)), 5);
  t.is(fx.events.filter((e) => e.kind === 'vif-tx-deallocs-lost').length, 0);
});
