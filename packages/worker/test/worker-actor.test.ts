// The netback worker on its own: passes, flushes, notify only when the event index says so, the byte-bounded queue and qdisc, back-end coalescing.
import test from 'ava';
import { RecordingEffects, takeBatch, UNIT_TEST_COSTS } from '@splitnet/model';
import type { PacketBatch, PolicySpec } from '@splitnet/model';
import { WorkerActor, type PassRule, type QdiscKind, type WorkerConfig } from '../src/worker-actor.js';

const costs = UNIT_TEST_COSTS;

function batch(n: number, seq0 = 0, len = 1004, flow = 0): PacketBatch {
  const b = takeBatch(n);
  for (let i = 0; i < n; i++) {
    b.flow[i] = flow;
    b.seq[i] = seq0 + i;
    b.len[i] = len;
  }
  b.count = n;
  return b;
}

/** Per-queue netback (per-flow vRSS): 64 packets per pass, a flush every 64 copy ops. */
const PER_QUEUE: PassRule = { maxPackets: 64, ringSlack: 0, copyBatch: 64 };
/** Legacy netback: a ring's worth per pass (MAX_SKB_FRAGS 17 short of it), one flush. */
const LEGACY: PassRule = { maxPackets: Infinity, ringSlack: 17, copyBatch: Infinity };

function config(over: Partial<WorkerConfig> = {}): WorkerConfig {
  return {
    id: 'worker.0',
    index: 0,
    costs,
    pass: PER_QUEUE,
    rxQueueBytes: 512 * 1024,
    qdisc: 'pfifo-fast',
    extraSlots: 0,
    skbHash: new Uint32Array([0x0000_0000, 0x8000_0000]),
    served: [{ vm: 0, queue: 0, frontend: 5, ringSize: 256 }],
    policy: { kind: 'none' },
    ...over,
  };
}

/** 1004-byte frames are 1000 bytes of skb each: rx_queue_max in those units is easy to read. */
function worker(policy: PolicySpec = { kind: 'none' }, rxQueueBytes = 512 * 1024, qdisc: QdiscKind = 'pfifo-fast'): WorkerActor {
  return new WorkerActor(config({ policy, rxQueueBytes, qdisc }));
}

const posted = (reqProd: number, rspEvent: number, seen: number) =>
  ({ kind: 'req', vm: 0, queue: 0, reqProd, rspEvent, rspProdSeen: seen, notify: false }) as const;

test('worker - copies in passes of at most 64 and notifies once when the guest has re-armed', (t) => {
  const fx = new RecordingEffects();
  const w = worker();
  w.receive(posted(256, 1, 0), 0, fx);
  w.receive({ kind: 'rx', vm: 0, queue: 0, batch: batch(100) }, 0, fx);
  fx.drain(w);
  const rsps = fx.of('rsp');
  t.deepEqual(
    rsps.map((r) => r.batch.count),
    [64, 36],
  );
  t.deepEqual(
    rsps.map((r) => r.rspProd),
    [64, 100],
  );
  // rsp_event was 1: the first push crosses it (notify), the second does not (suppressed).
  t.is(fx.of('evt').length, 1);
  t.like(w.queueStats()[0], { notifies: 1, suppressed: 1, copied: 100, passes: 2 });
});

test('worker - an event index that arrives after the push still gets its notification (late re-check)', (t) => {
  const fx = new RecordingEffects();
  const w = worker();
  w.receive(posted(256, 1, 0), 0, fx);
  w.receive({ kind: 'rx', vm: 0, queue: 0, batch: batch(1) }, 0, fx);
  fx.drain(w); // pushes 1, notifies (event 1)
  w.receive({ kind: 'rx', vm: 0, queue: 0, batch: batch(1, 1) }, 10_000, fx);
  fx.drain(w); // pushes 2 with stale event 1: no notify
  t.is(fx.of('evt').length, 1);
  // The guest had consumed 1 and re-armed at 2 having seen only rsp_prod 1: it missed response 2.
  w.receive(posted(257, 2, 1), 20_000, fx);
  t.is(fx.of('evt').length, 2);
  t.is(w.queueStats()[0]?.lateNotifies, 1);
});

test('worker - with no posted buffers packets wait in the guest-RX queue; at rx_queue_max netback refuses one and stops the queue, the qdisc holds 32 and drops the rest', (t) => {
  const fx = new RecordingEffects();
  const w = worker({ kind: 'none' }, 10_000); // 10 packets of 1000 skb bytes
  // No buffer posted: 10 packets fill the queue to 10,000 bytes; the 11th is refused (the vif's
  // tx_dropped) and stops the vif's queue; the other 9 wait in the qdisc.
  w.receive({ kind: 'rx', vm: 0, queue: 0, batch: batch(20) }, 0, fx);
  t.like(w.queueStats()[0], { dropsQueueFull: 1, maxBacklog: 10, maxQdisc: 9, ringFullStalls: 1 });
  t.is(w.heldPackets(), 19);
  // The queue stays stopped: 23 more fit in pfifo_fast's tx_queue_len of 32, 17 are dropped over its limit.
  w.receive({ kind: 'rx', vm: 0, queue: 0, batch: batch(40, 20) }, 100_000, fx);
  t.like(w.queueStats()[0], { dropsQueueFull: 1, dropsQdiscOverlimit: 17, maxQdisc: 32 });
  t.is(w.heldPackets(), 42);
  // 6 buffers: a pass takes 6, the queue drops below rx_queue_max and wakes, the qdisc refills it:
  // 6 are admitted, the 7th finds it full again (refused, queue stopped), 25 stay in the qdisc.
  w.receive(posted(6, 1, 0), 200_000, fx);
  t.like(w.queueStats()[0], { dropsQueueFull: 2 });
  t.is(w.heldPackets(), 6 + 10 + 25);
  fx.drain(w);
  t.like(w.queueStats()[0], { copied: 6 });
  const r = w.report(1e6);
  t.like(r, { dropsNetbackQueueFull: 2, dropsQdiscOverlimit: 17, backlog: 35, held: 35 });
});

test('worker - the guest-RX queue is bounded in bytes: small frames queue far more packets than full-size ones', (t) => {
  const depth = (len: number): number => {
    const fx = new RecordingEffects();
    const w = worker();
    w.receive({ kind: 'rx', vm: 0, queue: 0, batch: batch(20_000, 0, len) }, 0, fx); // no buffers posted
    return w.queueStats()[0]?.maxBacklog ?? 0;
  };
  // rx_queue_max 512 KiB: admitted while below it, so ⌈524288 / skb bytes⌉ packets.
  t.is(depth(1518), Math.ceil(524_288 / 1514));
  t.is(depth(64), Math.ceil(524_288 / 60));
});

test('worker - jumbo frames take 3 slots and 5 copy ops; the pass flushes every 64 ops and pushes each flush', (t) => {
  const fx = new RecordingEffects();
  const w = worker();
  w.receive(posted(256, 1, 0), 0, fx);
  // 9018-byte frames: 9014 bytes of skb → 3 pages; source cuts at 4032 and 8128, destination at 4096 and 8192.
  w.receive({ kind: 'rx', vm: 0, queue: 0, batch: batch(30, 0, 9018) }, 0, fx);
  fx.drain(w);
  const s = w.queueStats()[0];
  // 30 × 3 slots = 90 ≤ 256: one pass of 30 packets, 150 ops → flushes before ops 65 and 129 (xenvif_rx_copy_add).
  t.like(s, { passes: 1, copyOps: 150, flushes: 3, slots: 90, copied: 30 });
  const rsps = fx.of('rsp');
  // Op 65 is packet 12's 5th op and op 129 packet 25's 4th: the flushes publish the packets completed before.
  t.deepEqual(
    rsps.map((r) => r.batch.count),
    [12, 13, 5],
  );
  t.deepEqual(
    rsps.map((r) => r.rspProd),
    [36, 75, 90],
  );
  // Each flush is a push-and-check: the first crosses rsp_event 1 and notifies.
  t.is(fx.of('evt').length, 1);
  // Cost: perPass + 3 × perFlush + 30 × perPacket + 30 × 4 further ops × perCopyOp.
  t.is(w.report(1e9).busy['dom0.worker0'], 500 + 3 * 500 + 30 * 1000 + 120 * 500 + 1000);
});

test("worker - legacy netback takes a ring's worth per pass (count + MAX_SKB_FRAGS reaches the ring) in one flush", (t) => {
  const fx = new RecordingEffects();
  const w = new WorkerActor(config({ pass: LEGACY }));
  w.receive(posted(256, 1, 0), 0, fx);
  w.receive({ kind: 'rx', vm: 0, queue: 0, batch: batch(300) }, 0, fx);
  fx.drain(w);
  // 239 in the first pass (239 + 17 = 256), the rest of the posted ring in the next; one flush each.
  t.deepEqual(
    fx.of('rsp').map((r) => r.batch.count),
    [239, 17],
  );
  t.like(w.queueStats()[0], { passes: 2, flushes: 2 });
});

test('worker - with the hash in an extra slot every packet takes two ring slots', (t) => {
  const fx = new RecordingEffects();
  const w = new WorkerActor(config({ extraSlots: 1 }));
  w.receive(posted(100, 1, 0), 0, fx);
  w.receive({ kind: 'rx', vm: 0, queue: 0, batch: batch(60) }, 0, fx);
  fx.drain(w);
  // 100 posted slots hold 50 packets; the other 10 wait for buffers.
  t.deepEqual(
    fx.of('rsp').map((r) => [r.batch.count, r.rspProd]),
    [[50, 100]],
  );
  t.like(w.queueStats()[0], { slots: 100, copyOps: 50, ringFullStalls: 1 });
  t.is(w.heldPackets(), 10);
});

test('worker - back-end static coalescing holds the notify until the frame count or the timer', (t) => {
  const fx = new RecordingEffects();
  const w = worker({ kind: 'static', usecs: 100, frames: 50 });
  w.receive(posted(256, 1, 0), 0, fx);
  w.receive({ kind: 'rx', vm: 0, queue: 0, batch: batch(10) }, 0, fx);
  fx.drain(w, 50_000);
  t.is(fx.of('evt').length, 0, 'held: 10 < 50 frames and < 100 µs');
  fx.drain(w);
  const evts = fx.sent.filter((s) => s.msg.kind === 'evt');
  t.is(evts.length, 1);
  t.true((evts[0]?.at ?? 0) >= 100_000, 'sent when the 100 µs timer fired');
  t.is(w.queueStats()[0]?.timerNotifies, 1);
});

test('worker - a restarted worker asks each front end for its ring, adopts it and kicks the guest once', (t) => {
  const fx = new RecordingEffects();
  const w = worker();
  w.reconnect(0, fx);
  t.deepEqual(
    fx.of('reconnect').map((m) => [m.vm, m.queue]),
    [[0, 0]],
  );
  // The guest had posted up to 300, consumed/seen 200 responses, and armed its event at 150 (it is owed an interrupt).
  w.receive({ kind: 'ring', vm: 0, queue: 0, reqProd: 300, rspEvent: 150, rspProdSeen: 200, newRing: false, ringAt: 0 }, 10, fx);
  t.is(fx.of('connected').length, 1);
  t.is(fx.of('evt').length, 1, 'the owed interrupt is delivered');
  w.receive({ kind: 'rx', vm: 0, queue: 0, batch: batch(5) }, 20, fx);
  fx.drain(w);
  const [rsp] = fx.of('rsp');
  t.is(rsp?.rspProd, 205, "responses continue from the guest's rsp_prod");
  t.is(rsp?.batch.count, 5);
});

test('worker - a front end reconnecting with a new ring: what the queue held for the old ring is purged and counted, the queue restarts from the new ring', (t) => {
  const fx = new RecordingEffects();
  const w = worker();
  // The guest posted 8 buffers; 100 packets arrive: 8 are being copied, 92 wait in the backlog.
  w.receive(posted(8, 1, 0), 0, fx);
  w.receive({ kind: 'rx', vm: 0, queue: 0, batch: batch(100) }, 0, fx);
  t.is(w.heldPackets(), 100);
  // The guest crashed and came back with a new ring (indices from 0, 256 buffers posted) before the copy ended.
  w.receive({ kind: 'ring', vm: 0, queue: 0, reqProd: 256, rspEvent: 1, rspProdSeen: 0, newRing: true, ringAt: 5 }, 10, fx);
  t.is(w.heldPackets(), 0);
  t.is(w.queueStats()[0]?.purgedOldRing, 100);
  t.is(w.report(10).purgedOldRing, 100);
  t.deepEqual(
    fx.of('connected').map((m) => [m.vm, m.queue]),
    [[0, 0]],
  );
  t.is(fx.of('evt').length, 0, 'nothing to announce on a new ring');
  t.like(fx.events.find((e) => e.kind === 'vif-reconnected')?.detail, { newRing: true, purged: 100 });
  fx.drain(w);
  t.is(fx.of('rsp').length, 0, 'the interrupted copy publishes nothing');
  w.receive({ kind: 'rx', vm: 0, queue: 0, batch: batch(5, 100) }, 20_000, fx);
  fx.drain(w);
  const [rsp] = fx.of('rsp');
  t.is(rsp?.rspProd, 5, "responses start at the new ring's index 0");
  t.is(fx.of('evt').length, 1, 'rsp_event 1 of the new ring: notified');
});

test('worker - both ends restarted: the second state of the same new ring is ignored, so rsp_prod never moves back', (t) => {
  const fx = new RecordingEffects();
  const w = worker();
  w.reconnect(1_000, fx);
  // The front end's own announcement of its new ring (set up at 900) arrives first: the queue connects.
  w.receive({ kind: 'ring', vm: 0, queue: 0, reqProd: 256, rspEvent: 1, rspProdSeen: 0, newRing: true, ringAt: 900 }, 1_100, fx);
  t.is(fx.of('connected').length, 1);
  t.is(fx.of('connected')[0]?.ringAt, 900);
  w.receive({ kind: 'rx', vm: 0, queue: 0, batch: batch(5) }, 1_200, fx);
  fx.drain(w);
  t.is(fx.of('rsp').at(-1)?.rspProd, 5);
  // Its answer to our `reconnect`, sent before it saw those responses: the same ring, an older state.
  w.receive({ kind: 'ring', vm: 0, queue: 0, reqProd: 256, rspEvent: 1, rspProdSeen: 0, newRing: true, ringAt: 900 }, 30_000, fx);
  t.is(fx.of('connected').length, 1, 'not answered again');
  t.is(w.queueStats()[0]?.staleRingStates, 1);
  t.like(fx.events.find((e) => e.kind === 'vif-ring-state-ignored')?.detail, { vm: 0, queue: 0, ringAt: 900, serving: 900 });
  w.receive({ kind: 'rx', vm: 0, queue: 0, batch: batch(3, 5) }, 40_000, fx);
  fx.drain(w);
  t.is(fx.of('rsp').at(-1)?.rspProd, 8, 'responses go on from 5, not from the stale 0');
  // A later new ring (the front end restarted again) is taken.
  w.receive({ kind: 'ring', vm: 0, queue: 0, reqProd: 256, rspEvent: 1, rspProdSeen: 0, newRing: true, ringAt: 50_000 }, 50_100, fx);
  t.is(fx.of('connected').length, 2);
});

test('worker - the rx stall timer acts at its deadline when fractional times round (it is not re-armed at the same instant forever)', (t) => {
  const fx = new RecordingEffects();
  const w = new WorkerActor(config({ rxStallTimeout: 2_000_000 }));
  // The stall starts at `a`; its deadline a + 2 ms rounds so that deadline − a is just under 2 ms. Live mode
  // hands actors such fractional times; the check `now − since < timeout` then re-armed the timer at `now`,
  // and the host processed that timer forever (a run that never ended).
  const a = 763563.8681597889;
  t.true(a + 2_000_000 - a < 2_000_000, 'the rounding this test is about');
  w.receive({ kind: 'rx', vm: 0, queue: 0, batch: batch(5) }, a, fx); // no buffers posted: the ring is full
  const deadline = a + 2_000_000;
  const stall = fx.timers.find((x) => x.at === deadline);
  t.truthy(stall, JSON.stringify(fx.timers));
  fx.timers.length = 0;
  w.timer((stall as { tag: number }).tag, deadline, fx);
  t.true(
    fx.events.some((e) => e.kind === 'netback-stall-detected'),
    JSON.stringify(fx.events),
  );
  t.false(
    fx.timers.some((x) => x.at <= deadline && x.tag === (stall as { tag: number }).tag),
    'not re-armed at the same instant',
  );
});

test('worker - after a bus outage, resync announces rsp_prod (no packets) and kicks the guest, at no modelled cost', (t) => {
  const fx = new RecordingEffects();
  const w = worker();
  w.receive(posted(256, 1, 0), 0, fx);
  w.receive({ kind: 'rx', vm: 0, queue: 0, batch: batch(10) }, 0, fx);
  fx.drain(w);
  t.is(fx.of('evt').length, 1);
  const before = w.queueStats()[0];
  const busy = w.report(1e9).busy;
  // The rsp and evt above may have been lost on the bus: the guest would wait for good.
  w.resync(1e9, fx);
  const rsp = fx.of('rsp').at(-1);
  t.like(rsp, { rspProd: 10, vm: 0, queue: 0 });
  t.is(rsp?.batch.count, 0);
  t.is(fx.of('evt').length, 2);
  // Not a hypercall of the model: no notify counted, no core time.
  t.deepEqual(w.queueStats()[0], before);
  t.deepEqual(w.report(1e9).busy, busy);
});

test('worker - restarted and still waiting for the ring state when the bus comes back: resync asks the front end again, and announces nothing for a ring it does not serve', (t) => {
  const fx = new RecordingEffects();
  const w = worker();
  w.reconnect(0, fx);
  t.is(fx.of('reconnect').length, 1);
  // That request may have died with the NATS server.
  w.resync(1e6, fx);
  t.is(fx.of('reconnect').length, 2);
  t.is(fx.of('rsp').length, 0);
  t.is(fx.of('evt').length, 0);
  // Once the state has come, resync announces the ring instead.
  w.receive({ kind: 'ring', vm: 0, queue: 0, reqProd: 300, rspEvent: 150, rspProdSeen: 200, newRing: false, ringAt: 0 }, 2e6, fx);
  w.resync(3e6, fx);
  t.is(fx.of('reconnect').length, 2);
  t.is(fx.of('rsp').at(-1)?.rspProd, 200);
});
