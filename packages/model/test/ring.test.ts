// Tests for the shared ring index arithmetic: sizes, init, push-and-check, final check, u32 wrap, late event index.
import test from 'ava';
import { RxRingBack, RxRingFront, SplitnetError, pushNeedsNotify, ringSlots } from '../src/index.js';

const NEAR_WRAP = 0x1_0000_0000 - 10;

/** Carry the front end's writes to the back end, as a ReqMessage would. */
function sendReq(front: RxRingFront, back: RxRingBack): boolean {
  return back.onRequests(front.reqProd, front.rspEvent, front.rspProd);
}

/** Carry the back end's writes to the front end, as an RspMessage would. */
function sendRsp(back: RxRingBack, front: RxRingFront): void {
  front.onResponses(back.rspProd, back.reqEvent);
}

test('ring - netif RX and TX rings on a 4 KiB page have 256 slots', (t) => {
  t.is(ringSlots(), 256);
  t.is(ringSlots(4096, 8, 64), 256); // RX: 8-byte request/response union, (4096-64)/8 = 504
  t.is(ringSlots(4096, 12, 64), 256); // TX: 12-byte request, (4096-64)/12 = 336
  t.is(ringSlots(8192, 8, 64), 512);
  t.is(ringSlots(64 + 8 * 3, 8, 64), 2); // rounds down to a power of two
});

test('ring - ringSlots rejects a page that holds no entry', (t) => {
  const err = t.throws(() => ringSlots(64, 8, 64), { instanceOf: SplitnetError });
  t.is(err?.code, 'E_SCENARIO');
  t.throws(() => ringSlots(4096, 0, 64), { instanceOf: SplitnetError });
});

test('ring - size must be a power of two', (t) => {
  for (const bad of [0, 3, 100, 255, -4, 2.5, Number.NaN]) {
    const e1 = t.throws(() => new RxRingFront(bad), { instanceOf: SplitnetError });
    t.is(e1?.code, 'E_SCENARIO');
    const e2 = t.throws(() => new RxRingBack(bad), { instanceOf: SplitnetError });
    t.is(e2?.code, 'E_SCENARIO');
  }
  t.is(new RxRingFront(1).size, 1);
  t.is(new RxRingBack(256).size, 256);
});

test('ring - initial values: producers and consumers at the start, event indices one past', (t) => {
  const front = new RxRingFront(256);
  t.deepEqual([front.reqProdPvt, front.reqProd, front.rspCons, front.rspProd, front.reqEvent, front.rspEvent], [0, 0, 0, 0, 1, 1]);
  t.is(front.freeRequestSlots(), 256);
  t.is(front.unconsumed(), 0);
  const back = new RxRingBack(256);
  t.deepEqual([back.reqProd, back.reqCons, back.rspProdPvt, back.rspProd, back.rspProdSeenByFront, back.reqEvent, back.rspEvent], [0, 0, 0, 0, 0, 1, 1]);
  t.is(back.requestsAvailable(), 0);
  t.is(back.pendingResponses(), 0);
});

test('ring - initial index wraps and event indices wrap past 2^32 - 1', (t) => {
  const front = new RxRingFront(8, 0xffff_ffff);
  t.is(front.reqProd, 0xffff_ffff);
  t.is(front.rspEvent, 0);
  t.is(front.reqEvent, 0);
  const back = new RxRingBack(8, 0x1_0000_0000 + 5);
  t.is(back.reqCons, 5);
  t.is(back.rspEvent, 6);
});

test('ring - pushNeedsNotify is true iff the event lies in (old, new], wrap-aware', (t) => {
  t.true(pushNeedsNotify(0, 1, 1));
  t.true(pushNeedsNotify(0, 5, 5));
  t.true(pushNeedsNotify(0, 5, 3));
  t.false(pushNeedsNotify(0, 5, 0)); // at old: already passed
  t.false(pushNeedsNotify(0, 5, 6)); // beyond new: not yet
  t.false(pushNeedsNotify(5, 5, 5)); // no progress, no notify
  t.true(pushNeedsNotify(0xffff_fffe, 2, 0xffff_ffff));
  t.true(pushNeedsNotify(0xffff_fffe, 2, 0));
  t.true(pushNeedsNotify(0xffff_fffe, 2, 2));
  t.false(pushNeedsNotify(0xffff_fffe, 2, 3));
  t.false(pushNeedsNotify(0xffff_fffe, 2, 0xffff_fffe));
});

test('ring - the first push notifies, and a push past a stale event index does not', (t) => {
  const front = new RxRingFront(256);
  front.postRequests(64);
  t.is(front.freeRequestSlots(), 192);
  t.true(front.pushRequests()); // req_event = 1 ∈ (0, 64]
  front.postRequests(10);
  t.false(front.pushRequests()); // req_event 1 already passed
  t.false(front.pushRequests()); // nothing new

  const back = new RxRingBack(256);
  back.onRequests(74, 1, 0);
  t.is(back.requestsAvailable(), 74);
  back.produce(3);
  t.is(back.pendingResponses(), 3);
  t.true(back.pushResponses()); // rsp_event = 1 ∈ (0, 3]
  t.is(back.pendingResponses(), 0);
  back.produce(3);
  t.false(back.pushResponses());
});

test('ring - postRequests and consume refuse more than the ring allows', (t) => {
  const front = new RxRingFront(4);
  front.postRequests(4);
  t.is(front.freeRequestSlots(), 0);
  const err = t.throws(() => front.postRequests(1), { instanceOf: SplitnetError });
  t.is(err?.code, 'E_INVARIANT');
  t.throws(() => front.consume(1), { instanceOf: SplitnetError });
  t.throws(() => front.postRequests(-1), { instanceOf: SplitnetError });
  const back = new RxRingBack(4);
  t.throws(() => back.produce(1), { instanceOf: SplitnetError });
});

test('ring - consuming responses frees request slots', (t) => {
  const front = new RxRingFront(4);
  const back = new RxRingBack(4);
  front.postRequests(4);
  front.pushRequests();
  sendReq(front, back);
  back.produce(4);
  back.pushResponses();
  sendRsp(back, front);
  t.is(front.unconsumed(), 4);
  t.is(front.freeRequestSlots(), 0);
  front.consume(3);
  t.is(front.freeRequestSlots(), 3);
  t.is(front.unconsumed(), 1);
});

test('ring - front final check re-arms rsp_event at rsp_cons + 1, or further ahead for coalescing', (t) => {
  const front = new RxRingFront(256);
  const back = new RxRingBack(256);
  front.postRequests(256);
  front.pushRequests();
  sendReq(front, back);
  back.produce(10);
  back.pushResponses();
  sendRsp(back, front);
  // Work waiting: report it and leave rsp_event alone, as RING_FINAL_CHECK_FOR_RESPONSES does.
  t.true(front.finalCheck());
  t.is(front.rspEvent, 1);
  front.consume(10);
  t.false(front.finalCheck());
  t.is(front.rspEvent, 11);
  // The back end sees the re-armed index: the next single response notifies.
  t.false(sendReq(front, back));
  back.produce(1);
  t.true(back.pushResponses());
  sendRsp(back, front);
  front.consume(1);
  // Coalescing: ask to be woken only at the 8th next response.
  t.false(front.finalCheck(8));
  t.is(front.rspEvent, 19);
  sendReq(front, back);
  back.produce(7);
  t.false(back.pushResponses());
  back.produce(1);
  t.true(back.pushResponses());
  t.throws(() => front.finalCheck(0), { instanceOf: SplitnetError });
});

test('ring - back final check re-arms req_event at req_cons + 1', (t) => {
  const front = new RxRingFront(256);
  const back = new RxRingBack(256);
  front.postRequests(5);
  t.true(front.pushRequests());
  sendReq(front, back);
  t.true(back.finalCheckRequests());
  t.is(back.reqEvent, 1); // untouched while requests are waiting
  back.produce(5);
  t.false(back.finalCheckRequests());
  t.is(back.reqEvent, 6);
  back.pushResponses();
  sendRsp(back, front);
  t.is(front.reqEvent, 6);
  front.postRequests(2);
  t.true(front.pushRequests()); // 6 ∈ (5, 7]
  front.postRequests(2);
  t.false(front.pushRequests());
});

test('ring - traffic across the 2^32 wrap keeps every count right on both sides', (t) => {
  const size = 16;
  const front = new RxRingFront(size, NEAR_WRAP);
  const back = new RxRingBack(size, NEAR_WRAP);
  let delivered = 0;
  let rxNotifies = 0;
  // 40 rounds of 3 responses each: 120 responses, crossing 2^32 after the 10th.
  for (let round = 0; round < 40; round++) {
    front.postRequests(front.freeRequestSlots());
    front.pushRequests();
    t.false(sendReq(front, back));
    t.is(back.outstandingRequests(), size - front.unconsumed());
    t.is(back.requestsAvailable(), back.outstandingRequests());
    back.produce(3);
    t.is(back.pendingResponses(), 3);
    if (back.pushResponses()) rxNotifies++;
    t.true(back.finalCheckRequests()); // the rest of the posted buffers are still waiting
    sendRsp(back, front);
    t.is(front.unconsumed(), 3);
    front.consume(3);
    delivered += 3;
    t.false(front.finalCheck());
    t.is(front.freeRequestSlots(), 3);
  }
  t.is(delivered, 120);
  t.is(rxNotifies, 40); // every push crossed the freshly re-armed rsp_event
  t.is(front.rspCons, (NEAR_WRAP + 120) % 0x1_0000_0000);
  t.is(back.rspProd, 110);
  t.is(back.reqCons, 110);
  t.is(front.reqProd, 123); // posted up to a full ring before the last round consumed 3
  t.is(front.rspEvent, 111);
});

test('ring - a full ring across the wrap: nothing to produce until buffers are posted', (t) => {
  const front = new RxRingFront(8, 0xffff_fffc);
  const back = new RxRingBack(8, 0xffff_fffc);
  front.postRequests(8);
  t.is(front.reqProdPvt, 4);
  t.true(front.pushRequests());
  sendReq(front, back);
  t.is(back.requestsAvailable(), 8);
  back.produce(8);
  t.is(back.requestsAvailable(), 0);
  t.true(back.pushResponses());
  sendRsp(back, front);
  t.is(front.unconsumed(), 8);
  t.is(front.freeRequestSlots(), 0);
  front.consume(8);
  t.is(front.freeRequestSlots(), 8);
});

test('ring - late event index: responses pushed while rsp_event was in flight are notified on arrival', (t) => {
  const front = new RxRingFront(256, NEAR_WRAP);
  const back = new RxRingBack(256, NEAR_WRAP);
  front.postRequests(32);
  front.pushRequests();
  sendReq(front, back);
  // The first push notifies; the front end consumes and re-arms at rsp_cons + 1.
  back.produce(4);
  t.true(back.pushResponses());
  sendRsp(back, front);
  front.consume(4);
  t.false(front.finalCheck());
  // Its write is in flight while the back end pushes more (crossing 2^32) against the stale rsp_event.
  back.produce(8);
  t.false(back.pushResponses());
  // On arrival the new rsp_event lies in (rsp_prod seen, rsp_prod]: a notification is owed now.
  t.true(sendReq(front, back));
  t.is(back.rspProdSeenByFront, front.rspProd);
  // Had the front end already seen those responses, nothing would be owed.
  sendRsp(back, front);
  t.false(sendReq(front, back));
});

test('ring - late event index: no notification owed when the event is still ahead of rsp_prod', (t) => {
  const front = new RxRingFront(256);
  const back = new RxRingBack(256);
  front.postRequests(32);
  front.pushRequests();
  sendReq(front, back);
  back.produce(2);
  t.true(back.pushResponses());
  sendRsp(back, front);
  front.consume(2);
  t.false(front.finalCheck(16)); // coalescing: rsp_event = 18
  back.produce(5); // rsp_prod 7 < 18, in flight
  back.pushResponses();
  t.false(sendReq(front, back)); // 18 ∉ (2, 7]
  back.produce(11);
  t.true(back.pushResponses()); // now the push itself crosses 18
});

test('ring - a lost wake-up without the late event rule is visible in the indices', (t) => {
  // The same race as above, checked from the front end's side: its final check found nothing,
  // so only the back end can see that the responses it pushed cover the new event index.
  const front = new RxRingFront(64);
  const back = new RxRingBack(64);
  front.postRequests(64);
  front.pushRequests();
  sendReq(front, back);
  back.produce(1);
  back.pushResponses();
  sendRsp(back, front);
  front.consume(1);
  t.false(front.finalCheck());
  back.produce(1);
  t.false(back.pushResponses()); // stale rsp_event = 1
  t.true(sendReq(front, back));
});

test('ring - the front end rejects responses it never asked for', (t) => {
  const front = new RxRingFront(8);
  front.postRequests(4);
  front.pushRequests();
  const err = t.throws(() => front.onResponses(5, 1), { instanceOf: SplitnetError });
  t.is(err?.code, 'E_INVARIANT');
  front.onResponses(4, 1);
  t.throws(() => front.onResponses(3, 1), { instanceOf: SplitnetError }); // rsp_prod moved back
});

test('ring - the back end rejects indices that break the ring', (t) => {
  const back = new RxRingBack(8);
  t.throws(() => back.onRequests(9, 1, 0), { instanceOf: SplitnetError }); // more than a ring of requests
  t.throws(() => back.onRequests(4, 1, 1), { instanceOf: SplitnetError }); // saw responses never pushed
  t.false(back.onRequests(4, 1, 0));
  t.is(back.outstandingRequests(), 4);
});
