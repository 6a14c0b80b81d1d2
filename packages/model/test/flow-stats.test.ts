// Per-flow statistics: the cwnd trace stays within its memory bound over any run length; goodput counts in-order payload.
import test from 'ava';
import { CwndTrace, FlowStats, MS, SEC, US } from '../src/index.js';

test('flow stats - the cwnd trace keeps between capacity/2 and capacity evenly spaced samples however long the run', (t) => {
  const trace = new CwndTrace(64, 10 * US);
  for (let i = 0; i < 1_000_000; i++) trace.record(i * US, i % 100);
  t.true(trace.length >= 32 && trace.length < 64, `${trace.length} samples`);
  const s = trace.samples();
  t.is(s[0]?.t, 0, 'the first sample survives every halving');
  const gaps = new Set(s.slice(1).map((x, i) => x.t - (s[i]?.t ?? 0)));
  t.deepEqual([...gaps], [trace.spacing], 'samples are evenly spaced');
  t.true((s.at(-1)?.t ?? 0) >= 1 * SEC - 2 * trace.spacing, 'and reach the end of the run');
});

test('flow stats - a trace records at most one sample per interval', (t) => {
  const trace = new CwndTrace(1024, 1 * MS);
  trace.record(0, 10);
  trace.record(0.5 * MS, 20);
  trace.record(1 * MS, 30);
  t.deepEqual(trace.samples(), [
    { t: 0, cwnd: 10 },
    { t: 1 * MS, cwnd: 30 },
  ]);
});

test('flow stats - goodput is in-order payload bits per ns since the flow started, 0 before it did', (t) => {
  const f = new FlowStats();
  t.is(f.goodputGbps(SEC), 0);
  f.start(1 * SEC);
  f.start(2 * SEC); // a second start does not move it
  f.recordDelivered(125_000_000);
  t.is(f.goodputGbps(2 * SEC), 1);
  f.rtt.record(100 * US);
  f.rtt.record(300 * US);
  const s = f.summary(2 * SEC);
  t.is(s.rttMinNs, 100 * US);
  t.is(s.rttMeanNs, 200 * US);
  t.is(s.rttP99Ns, 300 * US);
});
