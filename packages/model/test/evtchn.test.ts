// Tests for 2-level event channels: edges, merging, port and upcall masks, re-raise on unmask.
import test from 'ava';
import { EventChannels, SplitnetError } from '../src/index.js';

test('evtchn - a send to an idle unmasked port raises an upcall on its bound vCPU', (t) => {
  const ev = new EventChannels(4, 2);
  ev.bind(3, 1);
  t.is(ev.boundVcpu(3), 1);
  t.is(ev.boundVcpu(0), 0);
  t.true(ev.send(3));
  t.true(ev.isPending(3));
  t.true(ev.isUpcallPending(1));
  t.false(ev.isUpcallPending(0));
  t.is(ev.upcalls, 1);
  t.is(ev.sent, 1);
});

test('evtchn - sends while pending merge into one upcall', (t) => {
  const ev = new EventChannels(2, 1);
  t.true(ev.send(0));
  t.false(ev.send(0));
  t.false(ev.send(0));
  t.is(ev.sent, 3);
  t.is(ev.merged, 2);
  t.is(ev.upcalls, 1);
  // The handler ran and took the port's work: the next send is a new edge.
  ev.ackUpcall(0);
  ev.clearPending(0);
  t.true(ev.send(0));
  t.is(ev.upcalls, 2);
});

test('evtchn - a new port pending on a vCPU whose upcall is already pending rides that upcall', (t) => {
  const ev = new EventChannels(2, 1);
  t.true(ev.send(0));
  t.false(ev.send(1));
  t.true(ev.isPending(1));
  t.is(ev.merged, 0);
  t.is(ev.upcalls, 1);
});

test('evtchn - a send to a masked port stays pending, and unmasking re-raises it', (t) => {
  const ev = new EventChannels(2, 1);
  ev.mask(1);
  t.true(ev.isMasked(1));
  t.false(ev.send(1));
  t.true(ev.isPending(1));
  t.false(ev.isUpcallPending(0));
  t.is(ev.deferredByMask, 1);
  t.false(ev.send(1)); // merges while pending, even masked
  t.is(ev.merged, 1);
  t.true(ev.unmask(1));
  t.false(ev.isMasked(1));
  t.is(ev.upcalls, 1);
  t.true(ev.isUpcallPending(0));
});

test('evtchn - unmasking a port with nothing pending raises nothing', (t) => {
  const ev = new EventChannels(1, 1);
  ev.mask(0);
  t.false(ev.unmask(0));
  t.false(ev.unmask(0));
  t.is(ev.upcalls, 0);
});

test('evtchn - unmask re-raise is picked up by an upcall already pending', (t) => {
  const ev = new EventChannels(2, 1);
  ev.mask(1);
  ev.send(1);
  t.true(ev.send(0));
  t.false(ev.unmask(1));
  t.is(ev.upcalls, 1);
});

test('evtchn - clearing a masked pending port before unmask drops the edge on purpose', (t) => {
  const ev = new EventChannels(1, 1);
  ev.mask(0);
  ev.send(0);
  ev.clearPending(0);
  t.false(ev.unmask(0));
  t.is(ev.upcalls, 0);
});

test('evtchn - an upcall masked vCPU holds the upcall until it unmasks', (t) => {
  const ev = new EventChannels(2, 2);
  ev.bind(0, 1);
  ev.maskUpcall(1);
  t.true(ev.isUpcallMasked(1));
  t.false(ev.send(0));
  t.true(ev.isUpcallPending(1));
  t.is(ev.deferredByMask, 1);
  t.is(ev.upcalls, 0);
  t.true(ev.unmaskUpcall(1));
  t.is(ev.upcalls, 1);
  t.false(ev.unmaskUpcall(1)); // already unmasked
});

test('evtchn - unmasking upcalls re-raises a pending port the handler left behind', (t) => {
  const ev = new EventChannels(3, 2);
  ev.bind(2, 1);
  t.true(ev.send(2));
  ev.maskUpcall(1);
  ev.ackUpcall(1); // handler entered, but did not take port 2's work
  t.true(ev.unmaskUpcall(1));
  t.is(ev.upcalls, 2);
  // A pending port that is masked, or bound elsewhere, does not raise.
  ev.ackUpcall(1);
  ev.clearPending(2);
  ev.mask(2);
  ev.send(2);
  ev.send(0); // vCPU 0
  ev.maskUpcall(1);
  t.false(ev.unmaskUpcall(1));
});

test('evtchn - rebinding under a mask moves a pending edge to the new vCPU', (t) => {
  const ev = new EventChannels(1, 2);
  ev.mask(0);
  ev.send(0);
  ev.bind(0, 1);
  t.true(ev.unmask(0));
  t.true(ev.isUpcallPending(1));
  t.false(ev.isUpcallPending(0));
});

test('evtchn - ports and vCPUs out of range are rejected', (t) => {
  t.throws(() => new EventChannels(0, 1), { instanceOf: SplitnetError });
  t.throws(() => new EventChannels(1, 0), { instanceOf: SplitnetError });
  const ev = new EventChannels(2, 2);
  const err = t.throws(() => ev.send(2), { instanceOf: SplitnetError });
  t.is(err?.code, 'E_INVARIANT');
  t.throws(() => ev.bind(0, 2), { instanceOf: SplitnetError });
  t.throws(() => ev.ackUpcall(-1), { instanceOf: SplitnetError });
  t.throws(() => ev.mask(1.5), { instanceOf: SplitnetError });
});
