// The netfront actor on its own: NAPI budget, final-check re-arm, event-channel merging, front-end coalescing.
import test from 'ava';
import { RecordingEffects, takeBatch, UNIT_TEST_COSTS } from '@splitnet/model';
import type { PacketBatch, PolicySpec } from '@splitnet/model';
import { FrontendActor } from '../src/frontend-actor.js';

const costs = UNIT_TEST_COSTS;

function batch(n: number, flow = 0, seq0 = 0, at = 0): PacketBatch {
  const b = takeBatch(n);
  for (let i = 0; i < n; i++) {
    b.flow[i] = flow;
    b.seq[i] = seq0 + i;
    b.len[i] = 1000;
    b.emittedAt[i] = at;
  }
  b.count = n;
  return b;
}

function frontend(policy: PolicySpec = { kind: 'none' }, ringSize = 256): FrontendActor {
  return new FrontendActor({ id: 'vm.0', vm: 0, queues: 1, ringSize, budget: 64, costs, workers: [1], policy, measureFrom: 0, flowCount: 1 });
}

test('frontend - posts every ring slot at start and re-arms rsp_event at 1', (t) => {
  const fx = new RecordingEffects();
  const fe = frontend();
  fe.start(0, fx);
  const [req] = fx.of('req');
  t.like(req, { reqProd: 256, rspEvent: 1, rspProdSeen: 0 });
});

test('frontend - NAPI polls at most the budget (64) per poll and keeps polling while it uses it all', (t) => {
  const fx = new RecordingEffects();
  const fe = frontend();
  fe.start(0, fx);
  fe.receive({ kind: 'rsp', vm: 0, queue: 0, rspProd: 150, reqEvent: 1, batch: batch(150) }, 10, fx);
  fe.receive({ kind: 'evt', vm: 0, port: 0 }, 10, fx);
  fx.drain(fe);
  const stats = fe.queueStats()[0];
  t.is(stats?.virqs, 1);
  t.is(stats?.polls, 3, '64 + 64 + 22');
  t.is(fe.delivered, 150);
  // After the last (partial) poll NAPI completes: final check re-arms at cons + 1 = 151.
  const last = fx.of('req').at(-1);
  t.like(last, { rspEvent: 151, rspProdSeen: 150, reqProd: 256 + 150 });
});

test('frontend - a response that arrives during the poll is found by the final check (no interrupt needed)', (t) => {
  const fx = new RecordingEffects();
  const fe = frontend();
  fe.start(0, fx);
  fe.receive({ kind: 'rsp', vm: 0, queue: 0, rspProd: 10, reqEvent: 1, batch: batch(10) }, 0, fx);
  fe.receive({ kind: 'evt', vm: 0, port: 0 }, 0, fx);
  fx.drain(fe, 3000); // connect notify (1 µs) + virq (2 µs): the poll starts at 3 µs
  fe.receive({ kind: 'rsp', vm: 0, queue: 0, rspProd: 15, reqEvent: 1, batch: batch(5, 0, 10) }, 3500, fx);
  fx.drain(fe);
  t.is(fe.delivered, 15);
  t.is(fe.queueStats()[0]?.virqs, 1);
  t.is(fe.queueStats()[0]?.polls, 2);
});

/*
 * Xen's 2-level event channels (xen/common/event_2l.c, evtchn_2l_set_pending): a send to a port whose
 * pending bit is already set returns at once, so it raises no second upcall. The guest clears the bit when
 * its upcall handler acks the port (Linux: ack_dynirq / lateeoi_ack_dynirq → clear_evtchn), then runs
 * netfront's handler (xennet_rx_interrupt → napi_schedule). So a notification sent while the port is still
 * pending merges; one sent after the handler cleared it raises another upcall, even if NAPI is scheduled.
 */

/** A started front end with one response on its ring and the notification for it, both at time 0. */
function notified(): { fx: RecordingEffects; fe: FrontendActor } {
  const fx = new RecordingEffects();
  const fe = frontend();
  fe.start(0, fx);
  fe.receive({ kind: 'rsp', vm: 0, queue: 0, rspProd: 1, reqEvent: 1, batch: batch(1) }, 0, fx);
  fe.receive({ kind: 'evt', vm: 0, port: 0 }, 0, fx);
  return { fx, fe };
}

test('frontend - a notification that arrives after the upcall handler cleared the pending bit raises another virtual interrupt, which finds NAPI already scheduled', (t) => {
  const { fx, fe } = notified();
  // connect notify (1 µs) + virq (2 µs): the handler is done and NAPI polls from 3 µs; a second notification meanwhile.
  fx.drain(fe, 3000);
  fe.receive({ kind: 'evt', vm: 0, port: 0 }, 3200, fx);
  fx.drain(fe);
  t.like(fe.queueStats()[0], { virqs: 2, virqsWhilePolling: 1, polls: 1, delivered: 1 });
});

// Known divergence from Xen (reported with issue 19): the model clears the pending bit at the instant the
// notification arrives, not when the guest's handler acks the port, so a duplicate sent with the original
// raises a second virtual interrupt. `failing` until the model is fixed; then drop `.failing`.
test('frontend - a duplicate notification that arrives while the port is still pending merges into its upcall: one virtual interrupt', (t) => {
  const { fx, fe } = notified();
  // The same notification again, at the same instant: the vCPU has not even started the handler of the first.
  fe.receive({ kind: 'evt', vm: 0, port: 0 }, 0, fx);
  fx.drain(fe);
  t.like(fe.queueStats()[0], { virqs: 1, virqsWhilePolling: 0, polls: 1, delivered: 1 });
});

test('frontend - flow order violations are counted', (t) => {
  const fx = new RecordingEffects();
  const fe = frontend();
  fe.start(0, fx);
  fe.receive({ kind: 'rsp', vm: 0, queue: 0, rspProd: 2, reqEvent: 1, batch: batch(2, 0, 5) }, 0, fx);
  fe.receive({ kind: 'rsp', vm: 0, queue: 0, rspProd: 3, reqEvent: 1, batch: batch(1, 0, 3) }, 0, fx);
  fe.receive({ kind: 'evt', vm: 0, port: 0 }, 0, fx);
  fx.drain(fe);
  t.is(fe.reordered, 1);
});

test('frontend - static front-end coalescing sets rsp_event frames ahead and polls from a guest timer', (t) => {
  const fx = new RecordingEffects();
  const fe = frontend({ kind: 'static', usecs: 50, frames: 32 });
  fe.start(0, fx);
  fe.receive({ kind: 'rsp', vm: 0, queue: 0, rspProd: 4, reqEvent: 1, batch: batch(4) }, 0, fx);
  fe.receive({ kind: 'evt', vm: 0, port: 0 }, 0, fx);
  fx.drain(fe, 10_000);
  t.like(fx.of('req').at(-1), { rspEvent: 4 + 32 });
  // Three more responses arrive without a notification (below the event index): the timer polls them.
  fe.receive({ kind: 'rsp', vm: 0, queue: 0, rspProd: 7, reqEvent: 1, batch: batch(3, 0, 4) }, 20_000, fx);
  fx.drain(fe);
  t.is(fe.delivered, 7);
  t.is(fe.queueStats()[0]?.timerPolls, 1);
  t.is(fe.queueStats()[0]?.virqs, 1);
});

test('frontend - a restarted front end reconnects with new rings and ignores the old ring until the back end says connected', (t) => {
  const fx = new RecordingEffects();
  const fe = frontend();
  fe.reconnect(5_000_000, fx);
  t.is(fx.of('req').length, 0);
  const [ring] = fx.of('ring');
  t.like(ring, { reqProd: 256, rspEvent: 1, rspProdSeen: 0, newRing: true, ringAt: 5_000_000, at: 5_000_000 });
  // A response and a notification on the old ring, still in flight at the crash.
  fe.receive({ kind: 'rsp', vm: 0, queue: 0, rspProd: 9000, reqEvent: 1, batch: batch(3) }, 5_000_100, fx);
  fe.receive({ kind: 'evt', vm: 0, port: 0 }, 5_000_100, fx);
  fx.drain(fe);
  t.like(fe.queueStats()[0], { staleDiscarded: 3, virqs: 0, delivered: 0 });
  t.is(fe.heldPackets(), 0);
  // A worker restarted meanwhile asks for the ring: still a new ring.
  fe.receive({ kind: 'reconnect', vm: 0, queue: 0 }, 5_000_200, fx);
  t.true(fx.of('ring').at(-1)?.newRing);
  fe.receive({ kind: 'connected', vm: 0, queue: 0, ringAt: 0 }, 5_000_250, fx);
  fe.receive({ kind: 'rsp', vm: 0, queue: 0, rspProd: 2, reqEvent: 1, batch: batch(2) }, 5_000_260, fx);
  t.like(fe.queueStats()[0], { staleDiscarded: 5 }, 'an answer for the old ring does not connect the new one');
  fe.receive({ kind: 'connected', vm: 0, queue: 0, ringAt: 5_000_000 }, 5_000_300, fx);
  t.like(fx.events.find((e) => e.kind === 'netfront-connected')?.detail, { vm: 0, queue: 0, staleDiscarded: 5 });
  fe.receive({ kind: 'rsp', vm: 0, queue: 0, rspProd: 4, reqEvent: 1, batch: batch(4) }, 5_001_000, fx);
  fe.receive({ kind: 'evt', vm: 0, port: 0 }, 5_001_000, fx);
  fx.drain(fe);
  t.is(fe.delivered, 4);
  t.like(fx.of('req').at(-1), { reqProd: 260, rspProdSeen: 4 });
  fe.receive({ kind: 'reconnect', vm: 0, queue: 0 }, 5_002_000, fx);
  t.false(fx.of('ring').at(-1)?.newRing, 'connected: the same ring');
});

test('frontend - a response with an impossible rsp_prod (the old ring, delayed past the reconnect) is refused and counted, not a crash', (t) => {
  const fx = new RecordingEffects();
  const fe = frontend();
  fe.reconnect(1_000_000, fx);
  fe.receive({ kind: 'connected', vm: 0, queue: 0, ringAt: 1_000_000 }, 1_000_100, fx);
  fe.receive({ kind: 'rsp', vm: 0, queue: 0, rspProd: 4, reqEvent: 1, batch: batch(4) }, 1_000_200, fx);
  // The old ring's indices were far ahead: 9000 is beyond the 256 requests the new ring posted.
  t.notThrows(() => fe.receive({ kind: 'rsp', vm: 0, queue: 0, rspProd: 9000, reqEvent: 1, batch: batch(5) }, 1_000_300, fx));
  fe.receive({ kind: 'rsp', vm: 0, queue: 0, rspProd: 9100, reqEvent: 1, batch: batch(2) }, 1_000_400, fx);
  fe.receive({ kind: 'evt', vm: 0, port: 0 }, 1_000_500, fx);
  fx.drain(fe);
  t.is(fe.delivered, 4, 'the new ring still delivers');
  t.like(fe.queueStats()[0], { staleDiscarded: 7, badResponses: 2 });
  t.is(fx.events.filter((e) => e.kind === 'netfront-bad-response').length, 1, 'one event, then counted');
  t.like(fe.report(2_000_000, false), { discardedOldRing: 7 });
});

test('frontend - a response with more packets than its rsp_prod moves on (sent after a stale resync) is refused and counted, not a crash', (t) => {
  const fx = new RecordingEffects();
  const fe = frontend();
  fe.start(0, fx);
  fe.receive({ kind: 'rsp', vm: 0, queue: 0, rspProd: 59, reqEvent: 1, batch: batch(59) }, 1_000, fx);
  // rsp_prod unchanged, yet 59 packets: these slots were already answered.
  t.notThrows(() => fe.receive({ kind: 'rsp', vm: 0, queue: 0, rspProd: 59, reqEvent: 1, batch: batch(59, 0, 59) }, 2_000, fx));
  fe.receive({ kind: 'evt', vm: 0, port: 0 }, 3_000, fx);
  fx.drain(fe);
  t.is(fe.delivered, 59);
  t.like(fe.queueStats()[0], { staleDiscarded: 59, badResponses: 1 });
});

test('frontend - responses and their notification lost on the bus: the guest waits until the resync, then takes the lost slots as errors, re-posts them and goes on', (t) => {
  const fx = new RecordingEffects();
  const fe = frontend();
  fe.start(0, fx);
  fe.receive({ kind: 'rsp', vm: 0, queue: 0, rspProd: 64, reqEvent: 1, batch: batch(64) }, 10, fx);
  fe.receive({ kind: 'evt', vm: 0, port: 0 }, 10, fx);
  fx.drain(fe);
  t.is(fe.delivered, 64);
  // Responses 64..127 and their evt were lost with the NATS server: nothing arrives, nothing happens.
  fx.drain(fe);
  t.is(fe.delivered, 64);
  // The guest's own resync re-announces its ring writes (not a notify hypercall: no notify counted).
  const notifies = fe.queueStats()[0]?.reqNotifies;
  fe.resync(1e6, fx);
  t.like(fx.of('req').at(-1), { reqProd: 256 + 64, rspProdSeen: 64, notify: false });
  t.is(fe.queueStats()[0]?.reqNotifies, notifies);
  // The worker's resync: rsp_prod 128 without packets, and a kick.
  fe.receive({ kind: 'rsp', vm: 0, queue: 0, rspProd: 128, reqEvent: 1, batch: takeBatch(0) }, 1e6, fx);
  fe.receive({ kind: 'evt', vm: 0, port: 0 }, 1e6, fx);
  fx.drain(fe);
  t.is(fe.queueStats()[0]?.rxErrors, 64);
  // The slots are posted again, and the next responses are delivered.
  t.like(fx.of('req').at(-1), { reqProd: 256 + 128, rspProdSeen: 128 });
  fe.receive({ kind: 'rsp', vm: 0, queue: 0, rspProd: 138, reqEvent: 1, batch: batch(10, 0, 128) }, 2e6, fx);
  fe.receive({ kind: 'evt', vm: 0, port: 0 }, 2e6, fx);
  fx.drain(fe);
  t.is(fe.delivered, 74);
});

test('frontend - restarted and still waiting for netback to connect its new ring when the bus comes back: resync sends the ring state again', (t) => {
  const fx = new RecordingEffects();
  const fe = frontend();
  fe.reconnect(5_000_000, fx);
  t.is(fx.of('ring').length, 1);
  // That state may have died with the NATS server.
  fe.resync(6_000_000, fx);
  t.is(fx.of('ring').length, 2);
  t.like(fx.of('ring').at(-1), { newRing: true, ringAt: 5_000_000 });
  t.is(fx.of('req').length, 0);
  // Connected, resync re-announces the ring writes instead.
  fe.receive({ kind: 'connected', vm: 0, queue: 0, ringAt: 5_000_000 }, 6_000_100, fx);
  fe.resync(7_000_000, fx);
  t.is(fx.of('ring').length, 2);
  t.like(fx.of('req').at(-1), { reqProd: 256, notify: false });
});
