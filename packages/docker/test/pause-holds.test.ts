// PauseHolds: overlapping pauses of one container (its node's and its actor's) pause it once and thaw it once, at the last release.
import test from 'ava';
import { PauseHolds } from '../src/pause-holds.js';

test('pause holds - the first hold pauses, the last release unpauses, whatever the order', (t) => {
  const h = new PauseHolds();
  t.true(h.hold('c1', 'node:1'), 'first hold: pause');
  t.false(h.hold('c1', 'actor'), 'already paused');
  t.deepEqual(h.othersHolding('c1', 'node:1'), ['actor']);
  t.false(h.release('c1', 'node:1'), 'the actor still holds it');
  t.true(h.release('c1', 'actor'), 'last release: unpause');
  // Released the other way round, and a second cycle starts afresh.
  t.true(h.hold('c1', 'actor'));
  t.false(h.hold('c1', 'node:1'));
  t.false(h.release('c1', 'actor'));
  t.true(h.release('c1', 'node:1'));
  t.true(h.hold('c1', 'node:1'));
});

test('pause holds - a release by a fault that held nothing (a container started after the node was paused) does not unpause', (t) => {
  const h = new PauseHolds();
  t.false(h.release('c2', 'node:0'));
  t.true(h.hold('c3', 'actor'));
  t.false(h.release('c3', 'node:0'), 'the node fault did not pause it');
  t.deepEqual(h.othersHolding('c3', 'node:0'), ['actor']);
  t.true(h.release('c3', 'actor'));
});

test('pause holds - a container that exited holds nothing any more: a later release does not unpause, its successor is not held', (t) => {
  const h = new PauseHolds();
  t.true(h.hold('vm-0', 'actor'));
  t.false(h.hold('vm-0', 'node:0'));
  t.true(h.held('vm-0'));
  h.forget('vm-0');
  t.false(h.held('vm-0'));
  t.false(h.release('vm-0', 'actor'));
  t.false(h.release('vm-0', 'node:0'));
  t.false(h.held('vm-0-r1'));
  t.deepEqual(h.othersHolding('vm-0', 'actor'), []);
  // A new hold on the name starts afresh.
  t.true(h.hold('vm-0', 'node:0'));
});
