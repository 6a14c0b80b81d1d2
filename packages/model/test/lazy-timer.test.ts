// The lazy one-shot timer over uncancellable runtime timers: how many firings it asks for, and which ones count.
import test from 'ava';
import type { Nanos } from '../src/index.js';
import { LazyTimer } from '../src/index.js';

class Port {
  readonly asked: Nanos[] = [];
  timer(at: Nanos): void {
    this.asked.push(at);
  }
}

test('lazy timer - moving the deadline later asks for nothing; the early firing is stale and asks again for the new deadline', (t) => {
  const timer = new LazyTimer();
  const port = new Port();
  timer.set(100, port);
  timer.set(150, port);
  timer.set(200, port);
  t.deepEqual(port.asked, [100]);
  t.false(timer.fire(100, port));
  t.deepEqual(port.asked, [100, 200]);
  t.true(timer.fire(200, port));
  t.is(timer.deadline, undefined);
});

test('lazy timer - moving the deadline earlier asks for a new firing; a stopped timer ignores its firings', (t) => {
  const timer = new LazyTimer();
  const port = new Port();
  timer.set(100, port);
  timer.set(50, port);
  t.deepEqual(port.asked, [100, 50]);
  timer.stop();
  t.false(timer.fire(50, port));
  t.false(timer.fire(100, port));
  t.deepEqual(port.asked, [100, 50]);
});

test('lazy timer - rearm: the firings asked for are gone (their actor died), so the deadline is asked again, at once when it passed', (t) => {
  const timer = new LazyTimer();
  const port = new Port();
  timer.set(100, port);
  timer.rearm(50, port);
  t.deepEqual(port.asked, [100, 100]);
  timer.rearm(150, port);
  t.deepEqual(port.asked, [100, 100, 150]);
  t.true(timer.fire(150, port));
  timer.rearm(200, port);
  t.deepEqual(port.asked, [100, 100, 150], 'a stopped timer asks for nothing');
});
