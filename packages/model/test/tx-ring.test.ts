// The guest TX ring's index rules (netback's view) and how a frame lies on TX slots.
import test from 'ava';
import { RxRingFront, TxRingBack, txCopyOnly, txSlots, XEN_NETBACK_TX_COPY_LEN } from '../src/index.js';

test('tx ring - a frame takes one slot per started 4 KiB page of its data (FCS excluded)', (t) => {
  t.is(txSlots(64), 1);
  t.is(txSlots(1518), 1);
  t.is(txSlots(4100), 1); // 4096 bytes of data: one page exactly
  t.is(txSlots(4101), 2);
  t.is(txSlots(9018), 3);
});

test('tx ring - only a frame whose data fits the 128 copied header bytes is copy-only', (t) => {
  t.is(XEN_NETBACK_TX_COPY_LEN, 128);
  t.true(txCopyOnly(132)); // 128 bytes of data
  t.false(txCopyOnly(133));
  t.false(txCopyOnly(1518));
});

test('tx ring - responses come after the requests are consumed, and a push notifies only across rsp_event', (t) => {
  const back = new TxRingBack(256);
  const front = new RxRingFront(256);
  front.postRequests(3);
  t.true(front.pushRequests(), 'the first request notifies: req_event starts at 1');
  t.false(back.onRequests(front.reqProd, front.rspEvent, front.rspProd));
  back.consume(3);
  t.is(back.unanswered(), 3);
  back.respond(1);
  t.true(back.pushResponses(), 'rsp_event 1 lies in (0, 1]');
  back.respond(2);
  t.false(back.pushResponses(), 'netfront has not re-armed: (1, 3] misses rsp_event 1');
  t.is(back.rspProd, 3);
  t.throws(() => back.respond(1), { message: /unanswered requests/ });
});

test('tx ring - a req_prod more than a ring past req_cons is an overflow, one behind is stale', (t) => {
  const back = new TxRingBack(256);
  back.onRequests(10, 1, 0);
  t.is(back.judgeRequests(256 + 1), 'overflow');
  t.is(back.judgeRequests(5), 'stale');
  t.is(back.judgeRequests(256), 'ok');
});

test('tx ring - indices wrap at 2^32', (t) => {
  const start = 0xffff_fffe;
  const back = new TxRingBack(256, start);
  t.false(back.onRequests(2, start + 1, start), 'req_prod 2 is 4 requests past 2^32 − 2');
  t.is(back.unconsumed(), 4);
  back.consume(4);
  back.respond(4);
  t.true(back.pushResponses());
  t.is(back.rspProd, 2);
  t.false(back.finalCheckRequests());
  t.is(back.reqEvent, 3);
});
