// The dilated clock: emulated ns = (wall ms − epoch) · 10⁶ ÷ TDF, and the conversions the live host, supervisor and fault injector use.
import test from 'ava';
import { SplitnetError } from '@splitnet/model';
import { DilatedClock } from '../src/dilated-clock.js';
import type { WallClock } from '../src/dilated-clock.js';

/** A wall clock the test moves by hand. */
function wall(ms: number): WallClock & { ms: number } {
  const w = { ms, nowMs: () => w.ms };
  return w;
}

test('dilated clock - before the start it has no epoch; emulated time is 0 for the log and −Infinity for hosts', (t) => {
  const c = new DilatedClock(wall(1000), 10);
  t.false(c.started);
  t.is(c.epochMs, Infinity);
  t.is(c.stamp(), 0);
  t.is(c.now(), -Infinity);
});

test('dilated clock - emulated time runs TDF times slower than wall time from the epoch', (t) => {
  const w = wall(1000);
  const c = new DilatedClock(w, 100);
  c.start(1500);
  t.true(c.started);
  t.is(c.now(), -5e6, '0.5 s before the epoch is −5 ms emulated at TDF 100');
  t.is(c.stamp(), 0, 'the log never stamps before 0');
  w.ms = 2500;
  t.is(c.now(), 1e7, '1 s of wall time is 10 ms emulated');
  t.is(c.stamp(), 1e7);
});

test('dilated clock - wall spans, time until an emulated instant, and the epoch that makes an instant now', (t) => {
  const w = wall(10_000);
  const c = new DilatedClock(w, 50);
  t.is(c.wallMs(2e6), 100, '2 ms emulated take 100 ms of wall time at TDF 50');
  c.start(10_000);
  t.is(c.msUntil(1e6), 50);
  w.ms = 10_080;
  t.is(c.msUntil(1e6), -30, 'negative once the instant has passed');
  const d = new DilatedClock(w, 50);
  d.start(d.epochWhereNowIs(4e6));
  t.is(d.now(), 4e6);
});

test('dilated clock - a TDF below 1 is refused', (t) => {
  for (const tdf of [0, 0.5, Number.NaN]) {
    const err = t.throws(() => new DilatedClock(wall(0), tdf), { instanceOf: SplitnetError });
    t.is(err?.code, 'E_USAGE');
  }
});
