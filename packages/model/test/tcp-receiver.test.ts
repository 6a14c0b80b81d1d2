// Linux's ACK policy in the TCP receiver model: quick-ack start, one ACK per two full segments, the delayed-ACK timer, immediate duplicate ACKs.
import test from 'ava';
import type { Nanos, TcpAck, TcpReceiverOutput } from '../src/index.js';
import { MS, TCP_DELACK_MIN, TCP_MAX_QUICKACKS, TcpReceiver, US } from '../src/index.js';

const MSS = 1448;

/** Records the receiver's ACKs and runs its delayed-ACK timer when asked to. */
class Recorder implements TcpReceiverOutput {
  readonly acks: { ack: TcpAck; at: Nanos }[] = [];
  readonly timers: Nanos[] = [];
  ack(ack: TcpAck, at: Nanos): void {
    this.acks.push({ ack, at });
  }
  timer(at: Nanos): void {
    this.timers.push(at);
  }
  /** Fire every timer due by `until`, in time order, as a runtime would. */
  fireTimers(r: TcpReceiver, until: Nanos): void {
    this.timers.sort((a, b) => a - b);
    while (this.timers.length > 0 && (this.timers[0] as number) <= until) r.onTimer(this.timers.shift() as number, this);
  }
}

/** `n` full segments back to back from `seq`, 1.2 µs apart (10 GbE), starting at `t0`. */
function burst(r: TcpReceiver, out: Recorder, seq: number, n: number, t0: Nanos): Nanos {
  let t = t0;
  for (let i = 0; i < n; i++) {
    t = t0 + i * 1.2 * US;
    r.onSegment(seq + i * MSS, MSS, t, out);
  }
  return t;
}

// tcp_event_data_recv → tcp_incr_quickack (first data) and __tcp_ack_snd_check (rcv_nxt − rcv_wup > rcv_mss).
test('tcp receiver - the first 16 segments are ACKed one by one (quick-ack), then one ACK per two full segments', (t) => {
  const r = new TcpReceiver();
  const out = new Recorder();
  burst(r, out, 0, 40, 0);
  t.is(out.acks.length, TCP_MAX_QUICKACKS + (40 - TCP_MAX_QUICKACKS) / 2);
  t.deepEqual(
    out.acks.map((a) => a.ack.ack / MSS),
    [...Array.from({ length: 16 }, (_, i) => i + 1), ...Array.from({ length: 12 }, (_, i) => 18 + 2 * i)],
  );
  t.false(r.ackPending);
  t.is(r.delivered, 40 * MSS);
});

// tcp_send_delayed_ack (ato = TCP_ATO_MIN 40 ms after back-to-back data) and tcp_delack_timer_handler.
test('tcp receiver - a lone segment after quick-ack is ACKed only by the delayed-ACK timer, 40 ms after it arrived', (t) => {
  const r = new TcpReceiver();
  const out = new Recorder();
  burst(r, out, 0, 40, 0);
  const before = out.acks.length;
  const arrival = 300 * MS;
  r.onSegment(40 * MSS, MSS, arrival, out);
  t.is(out.acks.length, before, 'no ACK at once');
  t.true(r.ackPending);
  out.fireTimers(r, arrival + TCP_DELACK_MIN - 1);
  t.is(out.acks.length, before, 'none before the timeout either');
  out.fireTimers(r, arrival + 200 * MS);
  t.is(out.acks.length, before + 1);
  t.is(out.acks.at(-1)?.at, arrival + TCP_DELACK_MIN);
  t.is(out.acks.at(-1)?.ack.ack, 41 * MSS);
  t.is(r.delayedAckTimeouts, 1);
  t.is(r.delackTimeout, 2 * TCP_DELACK_MIN, 'a timeout doubles ato (tcp_delack_timer_handler)');
});

test('tcp receiver - the delayed-ACK timeout never exceeds TCP_DELACK_MAX (200 ms), however often the timer fired', (t) => {
  const r = new TcpReceiver();
  const out = new Recorder();
  burst(r, out, 0, 40, 0);
  let seq = 40 * MSS;
  let at = 0;
  for (let i = 0; i < 6; i++) {
    at += 900 * MS; // longer than any ato, shorter than the 1 s RTO that would restart quick-ack mode
    r.onSegment(seq, MSS, at, out);
    seq += MSS;
    out.fireTimers(r, at + 900 * MS - 1);
  }
  const delays = out.acks.slice(-6).map((a, i) => a.at - (i + 1) * 900 * MS);
  t.deepEqual(delays, [40 * MS, 80 * MS, 160 * MS, 200 * MS, 200 * MS, 200 * MS]);
});

test('tcp receiver - when this end also sends, a long delayed-ACK timeout is bounded by max(SRTT, 40 ms)', (t) => {
  const r = new TcpReceiver({ srtt: () => 100 * US });
  const out = new Recorder();
  burst(r, out, 0, 40, 0);
  let seq = 40 * MSS;
  let at = 0;
  for (let i = 0; i < 3; i++) {
    at += 900 * MS;
    r.onSegment(seq, MSS, at, out);
    seq += MSS;
    out.fireTimers(r, at + 900 * MS - 1);
  }
  t.deepEqual(
    out.acks.slice(-3).map((a, i) => a.at - (i + 1) * 900 * MS),
    [40 * MS, 40 * MS, 40 * MS],
  );
  t.is(r.delackTimeout, 320 * MS, 'ato itself still doubles');
});

// tcp_data_queue_ofo + __tcp_ack_snd_check without SACK: out-of-order data is answered at once with a
// duplicate ACK; the segment that fills the hole is ACKed at once and the ACK covers the queued data.
test('tcp receiver - out-of-order segments get immediate duplicate ACKs with an unchanged window; the hole-filler is ACKed at once past the queued data', (t) => {
  const r = new TcpReceiver();
  const out = new Recorder();
  burst(r, out, 0, 40, 0); // leave quick-ack mode
  const n = out.acks.length;
  const t0 = 10 * MS;
  // Segment 40 is lost; 41, 42, 43 arrive.
  for (let i = 1; i <= 3; i++) r.onSegment((40 + i) * MSS, MSS, t0 + i * US, out);
  const dups = out.acks.slice(n);
  t.is(dups.length, 3);
  t.true(dups.every((d) => d.ack.ack === 40 * MSS));
  t.true(
    dups.every((d) => d.ack.window === dups[0]?.ack.window),
    'a duplicate must carry the same window to count',
  );
  t.false(r.ackPending);
  r.onSegment(40 * MSS, MSS, t0 + 10 * US, out);
  t.is(out.acks.length, n + 4);
  t.is(out.acks.at(-1)?.ack.ack, 44 * MSS);
  t.is(out.acks.at(-1)?.at, t0 + 10 * US);
});

// GRO (model/src/gro.ts): a packet of several segments is one skb for TCP. In order, __tcp_ack_snd_check acks it once;
// above a hole it gets one duplicate ACK per segment it holds (the model's stand-in for SACK, docs/model.md §12).
test('tcp receiver - an in-order GRO packet of 10 segments gets one ACK; one of 3 segments above a hole gets 3 duplicate ACKs', (t) => {
  const r = new TcpReceiver();
  const out = new Recorder();
  burst(r, out, 0, 40, 0); // leave quick-ack mode
  const n = out.acks.length;
  const t0 = 10 * MS;
  r.onSegment(40 * MSS, 10 * MSS, t0, out);
  t.is(out.acks.length, n + 1);
  t.is(out.acks.at(-1)?.ack.ack, 50 * MSS);
  // Segment 50 is lost; 51–53 arrive merged.
  r.onSegment(51 * MSS, 3 * MSS, t0 + 10 * US, out);
  const dups = out.acks.slice(n + 1);
  t.is(dups.length, 3);
  t.true(dups.every((d) => d.ack.ack === 50 * MSS && d.ack.window === dups[0]?.ack.window));
});

// tcp_data_queue: "A retransmit, 2nd most common case. Force an immediate ack." → tcp_enter_quickack_mode.
test('tcp receiver - data it already has is ACKed at once and restarts quick-ack mode', (t) => {
  const r = new TcpReceiver();
  const out = new Recorder();
  burst(r, out, 0, 40, 0);
  t.is(r.quickAcksLeft, 0);
  const n = out.acks.length;
  r.onSegment(10 * MSS, MSS, 5 * MS, out);
  t.is(out.acks.length, n + 1);
  t.is(out.acks.at(-1)?.ack.ack, 40 * MSS);
  t.is(r.quickAcksLeft, TCP_MAX_QUICKACKS - 1);
});

// tcp_win_from_space with tcp_adv_win_scale = 1; tcp_select_window never moves the right edge left.
test('tcp receiver - advertises half its rcvbuf, less out-of-order data, but never pulls the right edge back', (t) => {
  const r = new TcpReceiver({ rcvbuf: 131_072 });
  const out = new Recorder();
  r.onSegment(0, MSS, 0, out);
  t.is(out.acks[0]?.ack.window, 65_536);
  // Out-of-order data beyond a hole occupies the buffer: the free space shrinks, the edge must not.
  r.onSegment(2 * MSS, MSS, 1 * US, out);
  const a = out.acks.at(-1)?.ack;
  t.is(a?.ack, MSS);
  t.is((a?.ack ?? 0) + (a?.window ?? 0), MSS + 65_536);
  t.is(r.maxWindow, 65_536);
});

test('tcp receiver - an rcvbuf too small for a two-segment window is refused with what was expected', (t) => {
  const e = t.throws(() => new TcpReceiver({ rcvbuf: 4096 }));
  t.is(e?.message, 'TcpReceiver: expected an rcvbuf of at least 5792 bytes (a window of two segments), found 4096');
});

/** A Recorder that takes the ACK's fields apart (ackFields, as TcpEndpoint's port does) instead of a TcpAck. */
class FieldsRecorder extends Recorder {
  ackFields(ack: number, window: number, at: Nanos): void {
    this.acks.push({ ack: { ack, window }, at });
  }
  override ack(): void {
    throw new Error('ack called although ackFields is there');
  }
}

test('tcp receiver - an output with ackFields gets the same ACKs, fields apart, as one with ack only (and piggybackInto the same as piggyback)', (t) => {
  const a = new TcpReceiver();
  const b = new TcpReceiver();
  const outA = new Recorder();
  const outB = new FieldsRecorder();
  // In order, a hole (immediate duplicate ACKs), the hole filled, then quiet until the delayed-ACK timer fires.
  let tA = burst(a, outA, 0, 30, 0);
  let tB = burst(b, outB, 0, 30, 0);
  t.is(tA, tB);
  tA = burst(a, outA, 32 * MSS, 4, tA + US);
  tB = burst(b, outB, 32 * MSS, 4, tB + US);
  burst(a, outA, 30 * MSS, 3, tA + US);
  burst(b, outB, 30 * MSS, 3, tB + US);
  outA.fireTimers(a, 1 * MS);
  outB.fireTimers(b, 1 * MS);
  t.true(outA.acks.length > 20);
  t.deepEqual(outB.acks, outA.acks);
  const into = { ack: -1, window: -1 };
  b.piggybackInto(into);
  t.deepEqual(into, a.piggyback());
});
