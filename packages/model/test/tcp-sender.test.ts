// Behaviour of the TCP sender with its receiver over a modelled bottleneck path: slow start, loss recovery, the RTO, throughput.
import test from 'ava';
import type { CongestionControlName } from '../src/index.js';
import { CUBIC_BETA, MS, SEC, TCP_RTO_MIN, US, tcpFrameBytes, wireTimeNs } from '../src/index.js';
import { Path } from './tcp-path.js';

const MSS = 1448;
/** A queue no test fills: losses happen only where a test chooses them. */
const ROOMY = 64 * 1024 * 1024;
const BIG_RCVBUF = 256 * 1024 * 1024;
const CCS: CongestionControlName[] = ['cubic', 'reno'];
/** The window a CC keeps on loss, as its ssthresh function computes it (cubictcp_recalc_ssthresh, tcp_reno_ssthresh). */
const keep = (cc: CongestionControlName, cwnd: number): number => Math.max(Math.floor(cwnd * (cc === 'cubic' ? CUBIC_BETA : 0.5)), 2);

/** 1 Gbit/s, 2 ms RTT, no queue losses; the first `times` transmissions of segment `segment` are dropped. */
function lossPath(cc: CongestionControlName, segment: number, times: number): Path {
  return new Path({
    forward: { gbps: 1, delay: 1 * MS, queueBytes: ROOMY, drop: [{ seq: segment * MSS, times }] },
    sender: { cc },
    receiver: { rcvbuf: BIG_RCVBUF },
  });
}

for (const cc of CCS) {
  // RFC 5681 §3.1 and Linux tcp_slow_start: cwnd grows by the segments acked, so it doubles per round trip
  // even with delayed ACKs (each covering two segments).
  test(`tcp sender - ${cc}: slow start doubles cwnd every RTT from the initial window of 10`, (t) => {
    const p = new Path({ forward: { gbps: 10, delay: 5 * MS, queueBytes: ROOMY }, sender: { cc }, receiver: { rcvbuf: BIG_RCVBUF } });
    p.a.write(Infinity);
    const seen: number[] = [];
    // Mid-way through each 10 ms round trip every ACK of the previous round is in and none of the next.
    for (let k = 0; k <= 7; k++) {
      p.run(k * 10 * MS + 5 * MS);
      seen.push(p.a.sender.cwnd);
    }
    t.deepEqual(seen, [10, 20, 40, 80, 160, 320, 640, 1280]);
    t.is(p.a.sender.state, 'open');
  });

  // RFC 5681 §3.2 (Linux tcp_fastretrans_alert): the third duplicate ACK resends the missing segment at once.
  test(`tcp sender - ${cc}: one dropped segment is resent after three duplicate ACKs, without an RTO, and the flow completes`, (t) => {
    const segments = 2000;
    const p = lossPath(cc, 100, 1);
    p.a.write(segments * MSS);
    p.run(2 * SEC);
    const s = p.a.sender.stats;
    t.is(p.forward.chosenDrops, 1);
    t.is(s.fastRetransmits, 1);
    t.is(s.timeouts, 0);
    t.is(s.retransmissions, 1);
    t.is(s.deliveredBytes, segments * MSS);
    t.is(p.a.sender.unacked, 0);
    t.is(p.a.sender.state, 'open');
  });

  // cubictcp_recalc_ssthresh (β = 717/1024) vs tcp_reno_ssthresh (½); RFC 6582 §3.2 step 3: a full ACK deflates to ssthresh.
  test(`tcp sender - ${cc}: fast recovery sets ssthresh to ${cc === 'cubic' ? '0.7' : '0.5'}·cwnd and ends at cwnd = ssthresh`, (t) => {
    const p = lossPath(cc, 300, 1);
    p.a.write(5000 * MSS);
    p.run(2 * SEC);
    const enter = p.a.ackLog.filter((e) => e.before === 'open' && e.after === 'recovery');
    const leave = p.a.ackLog.filter((e) => e.before === 'recovery' && e.after === 'open');
    t.is(enter.length, 1);
    t.is(leave.length, 1);
    const e = enter[0];
    const l = leave[0];
    if (!e || !l) return;
    t.true(e.cwndBefore > 100, `the loss should come well into slow start, came at cwnd ${e.cwndBefore}`);
    t.is(e.ssthresh, keep(cc, e.cwndBefore));
    t.is(e.cwnd, e.ssthresh + 3);
    t.is(l.cwnd, e.ssthresh);
  });

  // RFC 6298 §5.4–5.6 and RFC 5681 §3.1 (Linux tcp_retransmit_timer → tcp_enter_loss): when the fast
  // retransmission is lost too, only the RTO recovers: cwnd 1, the timer no shorter than TCP_RTO_MIN.
  test(`tcp sender - ${cc}: a lost retransmission ends in an RTO ≥ 200 ms later with cwnd 1, and the flow completes`, (t) => {
    const segments = 2000;
    const p = lossPath(cc, 100, 2);
    p.a.write(segments * MSS);
    p.run(3 * SEC);
    const s = p.a.sender.stats;
    t.is(p.forward.chosenDrops, 2);
    t.is(s.fastRetransmits, 1);
    t.is(s.timeouts, 1);
    const recoveryAt = p.a.ackLog.find((e) => e.after === 'recovery')?.t ?? NaN;
    const rto = p.a.timeoutLog[0];
    t.truthy(rto);
    if (!rto) return;
    t.is(rto.cwnd, 1);
    t.is(rto.state, 'loss');
    t.true(rto.t - recoveryAt >= TCP_RTO_MIN, `RTO fired ${(rto.t - recoveryAt) / MS} ms after the fast retransmit`);
    t.is(s.deliveredBytes, segments * MSS);
    t.is(p.a.sender.unacked, 0);
  });

  // A long flow through a drop-tail queue: each loss cuts the window to the CC's β and the window grows back
  // until the queue overflows again — the sawtooth — with no RTO.
  test(`tcp sender - ${cc}: through a drop-tail queue the window saws: each loss keeps β of it, each epoch regrows past that, no RTO`, (t) => {
    const p = new Path({ forward: { gbps: 1, delay: 500 * US, queueBytes: 125_000 }, sender: { cc }, receiver: { rcvbuf: BIG_RCVBUF } });
    p.a.write(Infinity);
    p.run(4 * SEC);
    // From 1 s on: slow start's overshoot and the recoveries right after it are over.
    const losses = p.a.ackLog.filter((e) => e.before === 'open' && e.after === 'recovery' && e.t > 1 * SEC);
    t.true(losses.length >= 3, `${losses.length} loss epochs`);
    for (const e of losses) t.is(e.ssthresh, keep(cc, e.cwndBefore));
    for (let i = 1; i < losses.length; i++) {
      const prev = losses[i - 1];
      const cur = losses[i];
      if (prev && cur) t.true(cur.cwndBefore > prev.ssthresh, `epoch ${i} reached ${cur.cwndBefore} from ${prev.ssthresh}`);
    }
    t.is(p.a.sender.stats.timeouts, 0);
    t.true(p.forward.queueDrops > 0);
  });

  // With the buffer at one bandwidth-delay product the bottleneck stays busy through the sawtooth.
  test(`tcp sender - ${cc}: a long flow's goodput reaches ≥ 90 % of the bottleneck's payload rate`, (t) => {
    const gbps = 1;
    const p = new Path({ forward: { gbps, delay: 500 * US, queueBytes: 125_000 }, sender: { cc }, receiver: { rcvbuf: BIG_RCVBUF } });
    p.a.write(Infinity);
    p.run(1 * SEC); // past slow start's overshoot and its recovery
    const from = p.a.sender.stats.deliveredBytes;
    p.run(4 * SEC);
    const goodput = ((p.a.sender.stats.deliveredBytes - from) * 8) / (3 * SEC);
    const payloadRate = (gbps * MSS * 8) / wireTimeNs(tcpFrameBytes(MSS), gbps);
    t.true(goodput >= 0.9 * payloadRate && goodput <= payloadRate, `goodput ${goodput.toFixed(4)} Gbit/s of ${payloadRate.toFixed(4)}`);
  });
}

// The window/RTT law (issue 23 acceptance (b)): when the receive window is the limit, throughput is
// window/RTT however fast the link. The window is rcvbuf/2 (tcp_adv_win_scale 1) and the sender only sends
// whole segments into it (tcp_snd_wnd_test), so the law counts the whole segments that fit. (With an odd
// count, such as the default rcvbuf's 45, the last segment of each window waits for the next round's first
// to be ACKed, as in Linux: one segment per RTT less, about 2 % here.)
for (const [rcvbuf, segments] of [
  [2 * 44 * MSS, 44],
  [262_144, 90],
] as const) {
  test(`tcp sender - a flow limited by a ${segments}-segment receive window moves it once per RTT: goodput = window/RTT within 1.5 %`, (t) => {
    const rtt = 10 * MS;
    const p = new Path({ forward: { gbps: 1, delay: rtt / 2, queueBytes: ROOMY }, receiver: { rcvbuf } });
    p.a.write(Infinity);
    p.run(1 * SEC);
    const from = p.a.sender.stats.deliveredBytes;
    p.run(3 * SEC);
    const goodput = ((p.a.sender.stats.deliveredBytes - from) * 8) / (2 * SEC);
    t.is(Math.floor(p.b.receiver.maxWindow / MSS), segments);
    const law = (segments * MSS * 8) / rtt;
    t.true(Math.abs(goodput / law - 1) < 0.015, `goodput ${goodput} Gbit/s, window/RTT ${law}`);
    t.is(p.a.sender.stats.retransmissions, 0);
  });
}

test('tcp sender - the same path and flow give identical traces (no hidden randomness or wall time)', (t) => {
  const run = (): string => {
    const p = new Path({ forward: { gbps: 1, delay: 500 * US, queueBytes: 125_000 }, receiver: { rcvbuf: BIG_RCVBUF } });
    p.a.write(Infinity);
    p.run(0.5 * SEC);
    return JSON.stringify(p.a.sender.stats.summary(0.5 * SEC));
  };
  t.is(run(), run());
});
