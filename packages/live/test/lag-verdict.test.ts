// The lag part of a live run's verdict: within the bound or not, the reason naming the bound (and auto's constant), the TDF suggested; and a run that measured nothing.
import test from 'ava';
import type { LagBound } from '@splitnet/results';
import { LatencyHistogram } from '@splitnet/model';
import { judgeLag, nothingMeasured } from '../src/collect.js';
import { scenario } from './helpers.js';

const AUTO: LagBound = { us: 5, rule: 'auto', fraction: 0.1, constant: { what: 'frontend coalescing (static usecs 50, vm.0 queue 0)', us: 50 } };
const SET: LagBound = { us: 5000, rule: 'set', constant: { what: 'frontend coalescing (static usecs 50, vm.0 queue 0)', us: 50 } };

// [what, bound, tdf, p99 lag ns, ok, reason, suggested TDF]
const cases: [string, LagBound, number, number, boolean, string, number][] = [
  [
    'auto: a lag of 81 µs at TDF 100 is beyond 5 µs, and the reason names the 50 µs timer',
    AUTO,
    100,
    81_000,
    false,
    'actors fell behind emulated time by 81 µs (p99) > the lag bound, 5 µs, auto: 0.1 × the shortest modelled constant, frontend coalescing (static usecs 50, vm.0 queue 0) 50 µs',
    3240,
  ],
  ['auto: a lag at the bound is within it', AUTO, 1000, 5_000, true, '', 2000],
  [
    'set: an explicit bound keeps the message it always had',
    SET,
    100,
    7_250_000,
    false,
    'actors fell behind emulated time by 7250 µs (p99) > maxLag 5000 µs',
    290,
  ],
  ['set: a lag of 81 µs is within an explicit 5 ms, however far it is from the constant', SET, 100, 81_000, true, '', 4],
];
for (const [what, bound, tdf, lag, ok, reason, suggested] of cases) {
  test(`lag verdict - ${what}`, (t) => {
    const v = judgeLag(bound, tdf, lag);
    t.is(v.ok, ok);
    if (!ok) t.is(v.reason, reason);
    t.is(v.suggestedTdf, suggested);
  });
}

// A run that measured nothing (no event in its window: an empty lag histogram, whose p99 of 0 proves nothing) is not valid.
// [what, yaml, end of the run ns, events in the window, packets delivered and frames sent in it, the reason's start or undefined]
const measured: [string, string, number, number, number, string | undefined][] = [
  [
    'a run interrupted within its warm-up has an empty window: nothing measured, the reason says why',
    'duration: 3ms\nwarmup: 1ms\n',
    0.5e6,
    0,
    0,
    'nothing was measured: the run ended at 0.5 ms, within its warm-up (1 ms), so its measured window is empty',
  ],
  [
    'a window with no event in it: nothing measured',
    'duration: 3ms\nwarmup: 1ms\n',
    3e6,
    0,
    0,
    'nothing was measured: no actor processed an event in the measured window (1 ms to 3 ms)',
  ],
  [
    'a window with events but no packet delivered and no frame sent (a TCP_RR run with no transaction): nothing measured',
    'duration: 3ms\nwarmup: 1ms\n',
    3e6,
    5,
    0,
    'nothing was measured: no packet was delivered and no guest sent a frame in the measured window (1 ms to 3 ms)',
  ],
  ['a window with events and packets delivered in it measured something', 'duration: 3ms\nwarmup: 1ms\n', 3e6, 5, 40, undefined],
];
for (const [what, yaml, endT, events, moved, reason] of measured) {
  test(`lag verdict - ${what}`, (t) => {
    const lag = new LatencyHistogram();
    for (let i = 0; i < events; i++) lag.record(1000);
    const why = nothingMeasured(scenario(yaml), { lag }, endT, moved);
    if (reason === undefined) t.is(why, undefined);
    else t.true(why?.startsWith(reason), why);
  });
}
