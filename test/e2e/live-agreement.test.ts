// End-to-end: a live run the lag bound calls valid agrees with sim on what the tool measures (virtual interrupts, timer polls, latency p50/p99, throughput); one it calls invalid is flagged, naming the constant it was judged against.
import test from 'ava';
import { join } from 'node:path';
import { AGREEMENT_TOLERANCE, figuresOf, jsonSummary, relativeTo, run, tmp } from './live-helpers.js';

// The quickstart (front-end coalescing 50 µs / 32 frames, 10 GbE of 1518-byte frames over 4 queues), shortened
// so that a run at TDF 2000 takes 30 s of wall time. Its auto lag bound is 5 µs, a tenth of the 50 µs timer.
const SCENARIO = 'examples/quickstart.yaml';
const SHORT = ['--duration', '15ms'];
const CONSTANT = 'frontend coalescing (static usecs 50, vm.0 queue 0)';

test.serial(
  'live agreement - a run within its auto lag bound (TDF 2000, one process per actor) agrees with sim on virtual interrupts, timer polls, latency p50/p99 and throughput',
  async (t) => {
    t.timeout(120_000);
    const sim = await run(['run', SCENARIO, ...SHORT, '--out', join(tmp(), 'sim'), '--json']);
    t.is(sim.code, 0, sim.stderr);
    const live = await run(['run', SCENARIO, ...SHORT, '--runtime', 'live', '--tdf', '2000', '--out', join(tmp(), 'live'), '--json']);
    const l = jsonSummary(live);
    t.log(JSON.stringify({ lag: l.live?.processingLagUs, lateness: l.live?.inputLatenessUs, bound: l.live?.lagBound }));
    t.is(live.code, 0, `a valid run exits 0: ${live.stderr}`);
    t.is(l.live?.verdict, 'valid');
    t.deepEqual(l.live?.lagBound, { us: 5, rule: 'auto', fraction: 0.1, constant: { what: CONSTANT, us: 50 } });
    const rel = relativeTo(figuresOf(jsonSummary(sim)), figuresOf(l));
    t.log(
      `live vs sim: ${Object.entries(rel)
        .map(([k, v]) => `${k} ${(v * 100).toFixed(1)} %`)
        .join(', ')}`,
    );
    for (const [k, tol] of Object.entries(AGREEMENT_TOLERANCE) as [keyof typeof AGREEMENT_TOLERANCE, number][]) {
      t.true(Math.abs(rel[k]) <= tol, `${k}: ${(rel[k] * 100).toFixed(1)} % from sim, tolerance ${tol * 100} %`);
    }
  },
);

test.serial(
  'live agreement - a run at TDF 20 lags far beyond the 5 µs bound: exit 3, invalid, the reason names the 50 µs timer, a larger TDF suggested',
  async (t) => {
    const out = join(tmp(), 'invalid');
    const r = await run(['run', SCENARIO, ...SHORT, '--runtime', 'live', '--tdf', '20', '--processes', 'per-domain', '--out', out, '--json']);
    // 5 µs at TDF 20 is 100 µs of wall time: a bound no wall-clock timer here keeps (they wake ~1 ms late).
    t.is(r.code, 3, r.stderr);
    const l = jsonSummary(r).live;
    t.log(JSON.stringify({ lag: l?.processingLagUs, suggestedTdf: l?.suggestedTdf }));
    t.is(l?.verdict, 'invalid');
    t.true((l?.processingLagUs.p99 ?? 0) > 5);
    t.is(
      l?.invalidReason,
      `actors fell behind emulated time by ${l?.processingLagUs.p99} µs (p99) > the lag bound, 5 µs, auto: 0.1 × the shortest modelled constant, ${CONSTANT} 50 µs`,
    );
    t.true((l?.suggestedTdf ?? 0) > 20, String(l?.suggestedTdf));
    t.regex(
      r.stderr,
      new RegExp(
        `^splitnet: warning: run invalid: actors fell behind emulated time by [\\d.]+ µs \\(p99\\) > the lag bound, 5 µs, auto: .*50 µs; try --tdf ${l?.suggestedTdf}`,
        'm',
      ),
    );
  },
);

test.serial(
  'live agreement - guest to guest (examples/vm-to-vm.yaml at 1.5 Gbit/s, one process per actor, TDF 4000): valid, agrees with sim on virtual interrupts, latency p50/p99 and throughput, and both accountings balance',
  async (t) => {
    t.timeout(120_000);
    // One process per actor: the receiving guest's worker hands the sender's grants back to the sending guest's
    // worker over the bus (a dealloc between workers). 4 ms × TDF 4000 = 16 s of wall time. At the example's own
    // 3 Gbit/s both workers are 93–98 % busy and live measures the latency 1.5 µs (11 %) longer at p50 than sim
    // (docs/model.md §9a); at half the rate, below saturation, it agrees.
    const g2g = ['run', 'examples/vm-to-vm.yaml', '--duration', '4ms', '--set', 'warmup=1ms', '--set', 'traffic.0.rate=1.5Gbps', '--json'];
    const sim = await run([...g2g, '--out', join(tmp(), 'g2g-sim')]);
    t.is(sim.code, 0, sim.stderr);
    const live = await run([...g2g, '--runtime', 'live', '--tdf', '4000', '--out', join(tmp(), 'g2g-live')]);
    const l = jsonSummary(live);
    const s = jsonSummary(sim);
    t.is(live.code, 0, `a valid run exits 0: ${live.stderr}`);
    t.is(l.live?.verdict, 'valid');
    t.true(l.accounting.balanced, JSON.stringify(l.accounting));
    t.true(l.accounting.tx?.balanced, JSON.stringify(l.accounting.tx));
    t.true((l.tx?.toGuestsGbps ?? 0) > 1.4, `forwarded ${String(l.tx?.toGuestsGbps)} Gbit/s`);
    const rel = relativeTo(figuresOf(s), figuresOf(l));
    t.log(`live vs sim: ${JSON.stringify(rel)}; lag p99 ${l.live?.processingLagUs.p99} µs`);
    // No coalescing timer in this scenario: no timer polls in either (their relative difference is 0/0).
    t.is(s.interrupts.timerPollsPerSec, 0);
    t.is(l.interrupts.timerPollsPerSec, 0);
    for (const k of ['gbps', 'virqPerSec', 'latencyP50Us', 'latencyP99Us'] as const) {
      t.true(Math.abs(rel[k]) <= AGREEMENT_TOLERANCE[k], `${k}: ${(rel[k] * 100).toFixed(1)} % from sim, tolerance ${AGREEMENT_TOLERANCE[k] * 100} %`);
    }
  },
);
