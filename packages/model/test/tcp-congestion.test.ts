// The congestion controls on a synthetic ACK clock: Reno's one segment per RTT, CUBIC's curve back to W_max, and the RTO arithmetic.
import test from 'ava';
import type { CongestionControl, CongestionWindow } from '../src/index.js';
import { CUBIC_BETA, CUBIC_C, CubicCongestionControl, MS, RenoCongestionControl, RtoEstimator, SEC, TCP_RTO_MAX, TCP_RTO_MIN } from '../src/index.js';

/**
 * Drive `cc` in congestion avoidance with one ACK per segment, the window's worth of ACKs spread evenly over
 * each RTT (a cwnd-limited flow with a fixed RTT and no queue), from `from` to `to`. Returns the window at
 * the start of every RTT.
 */
function ackClock(cc: CongestionControl, w: CongestionWindow, rtt: number, from: number, to: number): { t: number; cwnd: number }[] {
  const rounds: { t: number; cwnd: number }[] = [];
  for (let start = from; start < to; start += rtt) {
    rounds.push({ t: start, cwnd: w.cwnd });
    const n = w.cwnd;
    for (let i = 0; i < n; i++) cc.congAvoid(w, 1, start + (i * rtt) / n);
  }
  return rounds;
}

// RFC 5681 §3.1 / tcp_reno_cong_avoid → tcp_cong_avoid_ai(tp, cwnd, acked).
test('tcp congestion - Reno in congestion avoidance grows cwnd by exactly one segment per RTT', (t) => {
  const w = { cwnd: 100, cwndCnt: 0, ssthresh: 100 };
  const rounds = ackClock(new RenoCongestionControl(), w, 10 * MS, 0, 200 * MS);
  t.deepEqual(
    rounds.map((r) => r.cwnd),
    Array.from({ length: 20 }, (_, i) => 100 + i),
  );
});

test('tcp congestion - Reno halves the window on loss and keeps at least two segments', (t) => {
  const reno = new RenoCongestionControl();
  t.is(reno.ssthresh({ cwnd: 101, cwndCnt: 0, ssthresh: 0 }), 50);
  t.is(reno.ssthresh({ cwnd: 3, cwndCnt: 0, ssthresh: 0 }), 2);
});

// RFC 9438 §4.2 / bictcp_update: after a loss at W_max the window follows W(t) = C(t − K)³ + W_max,
// K = ∛(W_max(1 − β)/C): concave up to W_max at t = K, then convex beyond it.
test('tcp congestion - CUBIC regrows along C(t − K)³ + W_max: back at W_max after K = ∛(W_max(1−β)/C), within 2 % along the way', (t) => {
  const cubic = new CubicCongestionControl();
  const rtt = 100 * MS;
  const wMax = 10_000;
  cubic.onAcked(rtt, 0); // the minimum RTT the curve is shifted by
  const w = { cwnd: wMax, cwndCnt: 0, ssthresh: 0 };
  w.ssthresh = cubic.ssthresh(w);
  w.cwnd = w.ssthresh;
  t.is(w.ssthresh, Math.floor(wMax * CUBIC_BETA));
  t.is(cubic.wMax, wMax);
  const k = Math.cbrt((wMax - w.cwnd) / CUBIC_C);
  t.true(Math.abs(k - 19.6) < 0.1, `K = ${k} s`);
  const rounds = ackClock(cubic, w, rtt, 0, 25 * SEC);
  // The window at the start of a round is the curve's value one RTT earlier (target = W(t + RTT)).
  const curve = (s: number): number => CUBIC_C * (s - k) ** 3 + wMax;
  for (const at of [2, 5, 10, 15, 19.6, 22, 24.5]) {
    const r = rounds.find((x) => x.t >= at * SEC - 1);
    if (!r) return t.fail(`no round at ${at} s`);
    const dev = Math.abs(r.cwnd - curve(r.t / SEC)) / wMax;
    t.true(dev < 0.02, `at ${at} s: cwnd ${r.cwnd}, curve ${curve(r.t / SEC).toFixed(0)}`);
  }
  // Concave then convex: more growth in the first 5 s than in the 5 s before K, more again in the 5 s after.
  const at = (s: number): number => rounds.find((x) => x.t >= s * SEC - 1)?.cwnd ?? NaN;
  t.true(at(5) - at(0) > at(k) - at(k - 5));
  t.true(at(k + 5) - at(k) > at(k) - at(k - 5));
});

// cubictcp_recalc_ssthresh: fast convergence (RFC 9438 §4.7) lowers W_max when a loss comes before the
// window regained the previous one.
test('tcp congestion - CUBIC fast convergence: a loss below the previous W_max sets W_max to cwnd·(1+β)/2', (t) => {
  const cubic = new CubicCongestionControl();
  cubic.ssthresh({ cwnd: 1000, cwndCnt: 0, ssthresh: 0 });
  t.is(cubic.wMax, 1000);
  t.is(cubic.ssthresh({ cwnd: 800, cwndCnt: 0, ssthresh: 0 }), Math.floor(800 * CUBIC_BETA));
  t.is(cubic.wMax, (800 * (1 + CUBIC_BETA)) / 2);
  cubic.onTimeout();
  t.is(cubic.wMax, 0, 'an RTO forgets W_max (cubictcp_state → bictcp_reset)');
});

// RFC 9438 §4.3 (Reno-friendly region): with a small window and short RTT, Reno's estimate outruns the cubic
// curve, and CUBIC grows at least as fast as Reno with β = 0.7 would (α ≈ 0.53 per RTT).
test('tcp congestion - CUBIC is never slower than its Reno-friendly estimate on a short-RTT path', (t) => {
  const cubic = new CubicCongestionControl();
  const w = { cwnd: 100, cwndCnt: 0, ssthresh: 0 };
  w.ssthresh = cubic.ssthresh(w);
  w.cwnd = w.ssthresh; // 71
  const rounds = ackClock(cubic, w, 1 * MS, 0, 200 * MS);
  const grown = (rounds.at(-1)?.cwnd ?? 0) - 71;
  // 200 RTTs at ≈ 0.53 segments per RTT ≈ 106 segments; the cubic curve alone would give only ≈ 29 by W_max.
  t.true(grown >= 95, `grew ${grown} segments in 200 RTTs`);
  // The same without the Reno-friendly region: the curve alone, near its plateau, grows far less.
  const plain = new CubicCongestionControl(true, false);
  const p = { cwnd: 100, cwndCnt: 0, ssthresh: 0 };
  p.ssthresh = plain.ssthresh(p);
  p.cwnd = p.ssthresh;
  const plainGrown = (ackClock(plain, p, 1 * MS, 0, 200 * MS).at(-1)?.cwnd ?? 0) - 71;
  t.true(plainGrown < grown / 2, `without it: ${plainGrown} segments`);
});

// RFC 6298 §2 with Linux's RTO floor (tcp_rtt_estimator / __tcp_set_rto).
test('tcp rto - 1 s before any sample; SRTT + max(4·RTTVAR, 200 ms) after; doubles per expiry up to 120 s; a sample clears the back-off', (t) => {
  const e = new RtoEstimator();
  t.is(e.rto, SEC);
  e.sample(100_000); // 100 µs: RTTVAR 50 µs, 4·RTTVAR far under the floor
  t.is(e.srtt, 100_000);
  t.is(e.rttvar, 50_000);
  t.is(e.rto, 100_000 + TCP_RTO_MIN);
  e.sample(300_000);
  t.is(e.rttvar, 0.75 * 50_000 + 0.25 * 200_000);
  t.is(e.srtt, 0.875 * 100_000 + 0.125 * 300_000);
  const big = new RtoEstimator();
  big.sample(400 * MS); // 4·RTTVAR = 800 ms > the floor
  t.is(big.rto, 1200 * MS);
  big.backOff();
  t.is(big.rto, 2400 * MS);
  for (let i = 0; i < 10; i++) big.backOff();
  t.is(big.rto, TCP_RTO_MAX);
  big.sample(400 * MS);
  t.is(big.backoff, 0);
});
