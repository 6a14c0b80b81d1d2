// End-to-end: a live run the lag bound calls valid agrees with sim on what the tool measures (virtual interrupts, timer polls, latency p50/p99, throughput; TCP_RR's transactions/s and latency); one it calls invalid is flagged, naming the constant it was judged against.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { Summary } from '@splitnet/results';
import { join } from 'node:path';
import { AGREEMENT_TOLERANCE, figuresOf, jsonSummary, relativeTo, rrDisagreements, rrFiguresOf, run, tmp } from './live-helpers.js';

// The quickstart (front-end coalescing 50 µs / 32 frames, 10 GbE of 1518-byte frames over 4 queues), shortened
// so that a run at TDF 2000 takes 30 s of wall time. Its auto lag bound is 5 µs, a tenth of the 50 µs timer.
const SCENARIO = 'examples/quickstart.yaml';
const SHORT = ['--duration', '15ms'];
const CONSTANT = 'frontend coalescing (static usecs 50, vm.0 queue 0)';

test.serial(
  'live agreement - a run within its auto lag bound (TDF 2000, one process per actor) agrees with sim on virtual interrupts, timer polls, latency p50/p99 and throughput',
  async (t) => {
    t.timeout(200_000);
    const sim = await run(['run', SCENARIO, ...SHORT, '--out', join(tmp(), 'sim'), '--json']);
    t.is(sim.code, 0, sim.stderr);
    // A stall of the loaded host (a GC pause, a process not scheduled for a second) can push one run's p99 lag past the
    // bound; such a run is flagged invalid, as it must be (the next test pins that), and says nothing of agreement. One
    // more try then: what this test asserts is that a run the bound calls valid agrees with sim.
    let live = await run(['run', SCENARIO, ...SHORT, '--runtime', 'live', '--tdf', '2000', '--out', join(tmp(), 'live'), '--json']);
    if (live.code === 3) {
      t.log(`first run invalid (${jsonSummary(live).live?.processingLagUs.p99} µs p99 lag): tried again`);
      live = await run(['run', SCENARIO, ...SHORT, '--runtime', 'live', '--tdf', '2000', '--out', join(tmp(), 'live-again'), '--json']);
    }
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

/**
 * A live run judged as its lag says: valid (exit 0) when its p99 processing lag is within the bound, else invalid
 * (exit 3) with a reason naming the bound's constant and a larger TDF suggested. On a loaded 2-core host, stalls of
 * 50–300 ms of wall time (GC pauses, event-loop delays, a process not scheduled) set the p99 lag of the runs below,
 * and at their 1 µs bounds they come out either way (docs/live.md, "TCP_RR, and guests that send"); what each
 * asserts of its figures is said where it is run.
 */
function judgedByItsLag(t: ExecutionContext, r: { code: number | null; stderr: string }, l: Summary['live'], tdf: number, constant: string): void {
  if (l === undefined) return void t.fail('a live summary');
  if (l.processingLagUs.p99 <= l.lagBound.us) {
    t.is(r.code, 0, `within its bound: valid, exit 0: ${r.stderr}`);
    t.is(l.verdict, 'valid');
    return;
  }
  t.is(r.code, 3, `beyond its bound: invalid, exit 3: ${r.stderr}`);
  t.is(l.verdict, 'invalid');
  t.true((l.invalidReason ?? '').includes(constant), l.invalidReason);
  t.true((l.suggestedTdf ?? 0) > tdf, String(l.suggestedTdf));
}

// examples/tcp-rr.yaml (one TCP_RR flow into a guest, 64-byte request and response, front-end coalescing 50 µs) for
// 3 ms: 39 transactions of 52 µs in the 2 ms window. Its auto bound is 1 µs (the NIC's adaptive ITR in its
// lowest-latency state, 10 µs; the transaction time per bus hop, 52 µs ÷ 4, comes next): at TDF 10000 that is 10
// ms of wall time, what the quickstart's 5 µs is at TDF 2000. 3 ms × 10000 = 30 s of wall time.
const RR_BASE = ['run', 'examples/tcp-rr.yaml', '--json'];
const RR = [...RR_BASE, '--duration', '3ms', '--set', 'warmup=1ms'];
const RR_CONSTANT = { what: 'NIC coalescing (adaptive-itr lowest-latency state at 0.00152 bytes/µs, NIC queue 0)', us: 10 };
/** RR in sim: one reference run for both process layouts (sim is deterministic). */
let rrSimRun: ReturnType<typeof run> | undefined;
const rrSim = (): ReturnType<typeof run> => (rrSimRun ??= run([...RR, '--out', join(tmp(), 'rr-sim')]));
for (const processes of ['per-actor', 'per-domain'] as const) {
  test.serial(
    `live agreement - TCP_RR (examples/tcp-rr.yaml, ${processes === 'per-actor' ? 'one process per actor' : 'one process per domain'}, TDF 10000): judged against its 1 µs auto bound, agrees with sim on transactions/s and transaction latency p50/p99`,
    async (t) => {
      t.timeout(120_000);
      const sim = await rrSim();
      t.is(sim.code, 0, sim.stderr);
      const live = await run([...RR, '--runtime', 'live', '--tdf', '10000', '--processes', processes, '--out', join(tmp(), `rr-live-${processes}`)]);
      const l = jsonSummary(live);
      const s = rrFiguresOf(jsonSummary(sim));
      const lr = rrFiguresOf(l);
      t.log(JSON.stringify({ sim: s, live: lr, lag: l.live?.processingLagUs, trend: l.live?.lagTrend, verdict: l.live?.verdict }));
      t.deepEqual(l.live?.lagBound, { us: 1, rule: 'auto', fraction: 0.1, constant: RR_CONSTANT });
      judgedByItsLag(t, live, l.live, 10000, RR_CONSTANT.what);
      // Asserted whatever the verdict: with one transaction outstanding a late message reaches an idle actor and is
      // run at its own time, so only a lag of tens of µs moves these figures (measured: none in 9 runs at TDF 10000).
      if (s === undefined || lr === undefined) return t.fail('both runs report the TCP_RR flow');
      t.true(lr.transactionsPerSec > 0);
      t.deepEqual(rrDisagreements(s, lr), []);
      return undefined;
    },
  );
}

test.serial(
  'live agreement - TCP_RR at TDF 300 lags far beyond its 1 µs bound (a wall-clock timer alone is 3.7 µs late): exit 3, invalid, the reason names the NIC’s 10 µs adaptive ITR',
  async (t) => {
    const r = await run([...RR, '--runtime', 'live', '--tdf', '300', '--out', join(tmp(), 'rr-invalid')]);
    const l = jsonSummary(r);
    t.log(JSON.stringify({ lag: l.live?.processingLagUs, rr: rrFiguresOf(l) }));
    t.is(r.code, 3, r.stderr);
    t.is(l.live?.verdict, 'invalid');
    t.true((l.live?.processingLagUs.p99 ?? 0) > 1);
    t.true(
      (l.live?.invalidReason ?? '').endsWith(`> the lag bound, 1 µs, auto: 0.1 × the shortest modelled constant, ${RR_CONSTANT.what} 10 µs`),
      l.live?.invalidReason,
    );
  },
);

test.serial(
  'live agreement - guest to guest (examples/vm-to-vm.yaml at 1.5 Gbit/s, one process per actor, TDF 4000): judged against its 1 µs auto bound, both accountings balance, throughput agrees with sim, and so do virtual interrupts and latency p50/p99 when the run is valid',
  async (t) => {
    t.timeout(120_000);
    // One process per actor: the receiving guest's worker hands the sender's grants back to the sending guest's
    // worker over the bus (a dealloc between workers). 4 ms × TDF 4000 = 16 s of wall time. No coalescing anywhere
    // on the path: the auto bound is the floor, 1 µs (a tenth of the 8.2 µs gap between packets is less). At the
    // example's own 3 Gbit/s both workers are 93–98 % busy and live measures the latency 1.5 µs (11 %) longer at
    // p50 than sim (docs/model.md §9a); at half the rate, below saturation, it agrees.
    const g2g = ['run', 'examples/vm-to-vm.yaml', '--duration', '4ms', '--set', 'warmup=1ms', '--set', 'traffic.0.rate=1.5Gbps', '--json'];
    const sim = await run([...g2g, '--out', join(tmp(), 'g2g-sim')]);
    t.is(sim.code, 0, sim.stderr);
    const live = await run([...g2g, '--runtime', 'live', '--tdf', '4000', '--out', join(tmp(), 'g2g-live')]);
    const l = jsonSummary(live);
    const s = jsonSummary(sim);
    t.is(l.live?.lagBound.us, 1);
    judgedByItsLag(t, live, l.live, 4000, 'packet gap with no coalescing on the path (122 k packets/s, vm.1 queue 0) 8.2 µs');
    t.true(l.accounting.balanced, JSON.stringify(l.accounting));
    t.true(l.accounting.tx?.balanced, JSON.stringify(l.accounting.tx));
    t.true((l.tx?.toGuestsGbps ?? 0) > 1.4, `forwarded ${String(l.tx?.toGuestsGbps)} Gbit/s`);
    const rel = relativeTo(figuresOf(s), figuresOf(l));
    t.log(`live vs sim: ${JSON.stringify(rel)}; lag p99 ${l.live?.processingLagUs.p99} µs`);
    // No coalescing timer in this scenario: no timer polls in either (their relative difference is 0/0).
    t.is(s.interrupts.timerPollsPerSec, 0);
    t.is(l.interrupts.timerPollsPerSec, 0);
    // Throughput holds whatever the lag; interrupts and latency only within the bound (an open-loop stream, unlike
    // TCP_RR, keeps every actor busy: at a lag p99 of 55 µs here live had 10 % fewer virtual interrupts and a p99
    // latency 3.7 times sim's — and the verdict said invalid).
    const held = l.live?.verdict === 'valid' ? (['gbps', 'virqPerSec', 'latencyP50Us', 'latencyP99Us'] as const) : (['gbps'] as const);
    for (const k of held) {
      t.true(Math.abs(rel[k]) <= AGREEMENT_TOLERANCE[k], `${k}: ${(rel[k] * 100).toFixed(1)} % from sim, tolerance ${AGREEMENT_TOLERANCE[k] * 100} %`);
    }
  },
);
