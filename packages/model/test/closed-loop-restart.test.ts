// A connection's two ends across a restart of the guest hosting one: RST to the old connection's segments, the far end's reset, SYN, SYN-ACK, the workload again on a new connection.
import test from 'ava';
import { ClosedLoopEnds, TCP_RST, TCP_SYN, type ClosedLoopFlow, type Effects, type Nanos, type TcpHeader } from '../src/index.js';

const FLOW: ClosedLoopFlow = { flow: 0, spec: { workload: 'bulk', cc: 'reno', rcvbuf: 65536, mss: 1448 }, start: 0, stop: Infinity };
const RR: ClosedLoopFlow = { ...FLOW, spec: { ...FLOW.spec, workload: 'rr', requestBytes: 64, responseBytes: 64 } };
const DELAY = 1_000_000;

/**
 * Two sides joined by a 1 ms link each way, driven in time order (ties in the order sent): the far side's ends
 * (active) and the guest's, which a restart replaces. `dropSyns` SYNs are lost on their way to the guest.
 */
class Path {
  now: Nanos = 0;
  far: ClosedLoopEnds;
  guest: ClosedLoopEnds;
  private readonly queue: { at: Nanos; run: () => void }[] = [];
  readonly frames: { to: 'far' | 'guest'; h: TcpHeader; at: Nanos }[] = [];
  readonly events: string[] = [];
  /** While true the guest is down: what reaches it is lost. */
  down = false;
  /** While true the far side is down (live: the NIC's process died with it): what reaches it is lost. */
  farDown = false;
  dropSyns = 0;

  constructor(private readonly f: ClosedLoopFlow) {
    this.far = this.ends('far');
    this.guest = this.ends('guest');
    this.far.start(
      0,
      this.fx(() => this.far),
    );
    this.guest.start(
      0,
      this.fx(() => this.guest),
    );
  }

  ends(side: 'far' | 'guest'): ClosedLoopEnds {
    const to = side === 'far' ? 'guest' : 'far';
    return new ClosedLoopEnds([this.f], side, 1000, 1, (flow, _len, scratch, at) => {
      // The ends' header is a scratch they rewrite for the next frame: the harness copies it at once, as actors do.
      const h = { ...scratch };
      this.frames.push({ to, h, at });
      this.at(at + DELAY, () => {
        if (to === 'guest' && this.down) return;
        if (to === 'far' && this.farDown) return;
        if (to === 'guest' && (h.flags & TCP_SYN) !== 0 && this.dropSyns > 0) {
          this.dropSyns--;
          return;
        }
        const dst = to === 'far' ? this.far : this.guest;
        dst.onSegment(
          flow,
          h,
          this.now,
          this.fx(() => dst),
        );
      });
    });
  }

  fx(self: () => ClosedLoopEnds): Effects {
    return {
      send: () => undefined,
      timer: (at, tag) => {
        const owner = self();
        this.at(at, () => {
          if (self() === owner) owner.timer(tag, this.now, this.fx(self));
        });
      },
      event: (kind) => this.events.push(kind),
    };
  }

  at(t: Nanos, run: () => void): void {
    let i = this.queue.length;
    while (i > 0 && (this.queue[i - 1] as { at: Nanos }).at > t) i--;
    this.queue.splice(i, 0, { at: t, run });
  }

  runUntil(t: Nanos): void {
    while (this.queue.length > 0 && (this.queue[0] as { at: Nanos }).at <= t) {
      const e = this.queue.shift() as { at: Nanos; run: () => void };
      this.now = e.at;
      e.run();
    }
    this.now = t;
  }

  /**
   * Live: the far side (the NIC's process) dies now and is back `after` later with new ends that know nothing of the
   * dead ones (NicActor.rejoined → lostWithProcess); the frames the dead ones had sent still arrive.
   */
  restartFarLive(after: Nanos): void {
    this.farDown = true;
    this.far = this.ends('far');
    this.runUntil(this.now + after);
    this.farDown = false;
    this.far.lostWithProcess(
      this.now,
      this.fx(() => this.far),
    );
  }

  /** The guest dies now and is back `after` later, with fresh ends that take over the measurement. */
  restartGuest(after: Nanos): void {
    this.down = true;
    const dead = this.guest;
    this.guest = this.ends('guest'); // its timers are the dead one's no more
    this.runUntil(this.now + after);
    this.down = false;
    this.guest.adopt(dead);
    this.guest.restarted(
      this.now,
      this.fx(() => this.guest),
    );
  }
}

test('closed-loop restart - a restarted guest answers the far sender with an RST, the far end resets and opens a new connection, and the stream goes on from slow start', (t) => {
  const p = new Path(FLOW);
  p.runUntil(20_000_000);
  const before = p.guest.report(p.now, false)[0]?.delivered ?? 0;
  t.true(before > 1e5, `delivered before the restart: ${before}`);
  p.restartGuest(5_000_000);
  // Everything in flight went with the guest: the far sender waits for its RTO (≥ 200 ms) and resends.
  p.runUntil(400_000_000);
  const rst = p.frames.filter((f) => f.to === 'far' && (f.h.flags & TCP_RST) !== 0);
  const syn = p.frames.filter((f) => (f.h.flags & TCP_SYN) !== 0);
  t.is(rst.length, 1, 'one RST, for the far end’s retransmission');
  t.deepEqual(
    syn.map((f) => f.to),
    ['guest', 'far'],
    'the SYN and its SYN-ACK',
  );
  t.deepEqual(p.events, ['tcp-connection-reset', 'tcp-connection-opened']);
  const [far] = p.far.report(p.now, false);
  const [guest] = p.guest.report(p.now, false);
  t.like(far, { resets: 1, reconnects: 1 });
  t.like(guest, { rstSent: 1 });
  // The new connection's data counts from 0 again, and the guest's measurement goes on from its dead incarnation's.
  t.true((guest?.delivered ?? 0) > before + 1e5, `delivered: ${guest?.delivered} after ${before}`);
  t.true((far?.sent.timeouts ?? 0) >= 1);
});

test('closed-loop restart - a restarted TCP_RR server: the client abandons its transaction, reconnects and completes transactions again', (t) => {
  const p = new Path(RR);
  p.runUntil(20_000_000);
  const before = p.far.report(p.now, false)[0]?.rr?.transactions ?? 0;
  t.true(before >= 5, `transactions before: ${before}`);
  p.restartGuest(1_000_000);
  p.runUntil(300_000_000);
  const after = p.far.report(p.now, false)[0]?.rr?.transactions ?? 0;
  t.like(p.far.report(p.now, false)[0], { resets: 1, reconnects: 1 });
  t.true(after > before + 10, `transactions: ${before} → ${after}`);
});

test('closed-loop restart - a lost SYN is sent again after TCP_TIMEOUT_INIT (1 s), and the connection opens then', (t) => {
  const p = new Path(FLOW);
  p.runUntil(20_000_000);
  p.restartGuest(5_000_000);
  p.dropSyns = 1;
  p.runUntil(1_600_000_000);
  const syns = p.frames.filter((f) => f.to === 'guest' && (f.h.flags & TCP_SYN) !== 0).map((f) => f.at);
  t.is(syns.length, 2, JSON.stringify(syns));
  t.is((syns[1] as number) - (syns[0] as number), 1_000_000_000);
  t.like(p.far.report(p.now, false)[0], { resets: 1, reconnects: 1 });
});

test('closed-loop restart - live, a restarted NIC whose far sender died with it: the new far end opens a new connection at once (a SYN the guest accepts), no RST, no reset, and the stream goes on', (t) => {
  const p = new Path(FLOW);
  p.runUntil(20_000_000);
  const before = p.guest.report(p.now, false)[0]?.delivered ?? 0;
  p.restartFarLive(5_000_000);
  p.runUntil(100_000_000);
  t.deepEqual(
    p.frames.filter((f) => (f.h.flags & TCP_SYN) !== 0).map((f) => [f.to, f.at]),
    [
      ['guest', 25_000_000],
      ['far', 26_000_000],
    ],
    'the SYN at the restart and its SYN-ACK',
  );
  t.is(p.frames.filter((f) => (f.h.flags & TCP_RST) !== 0).length, 0);
  t.deepEqual(p.events, ['tcp-connection-opened']);
  t.like(p.far.report(p.now, false)[0], { reconnects: 1 });
  t.is(p.guest.report(p.now, false)[0]?.resets, undefined);
  t.true((p.guest.report(p.now, false)[0]?.delivered ?? 0) > before + 1e5);
});

test('closed-loop restart - live, a restarted NIC whose far TCP_RR client died with it: the new client reconnects and completes transactions from then', (t) => {
  const p = new Path(RR);
  p.runUntil(20_000_000);
  p.restartFarLive(1_000_000);
  p.runUntil(100_000_000);
  const [far] = p.far.report(p.now, false);
  t.like(far, { reconnects: 1 });
  t.true((far?.rr?.transactions ?? 0) > 10, JSON.stringify(far?.rr));
  // Its rate counts from its own start (the restart): the controller joins it to the dead one's.
  t.true((far?.rr?.transactionsPerSec ?? 0) > 0);
});

test("closed-loop restart - live, a restarted NIC whose far receiver died with it: the guest sender's next segment meets an RST, the guest resets and opens a new connection, and its stream goes on", (t) => {
  const p = new Path({ ...FLOW, spec: { ...FLOW.spec, active: 'guest' } });
  p.runUntil(20_000_000);
  p.restartFarLive(5_000_000);
  p.runUntil(600_000_000);
  t.true(p.frames.filter((f) => f.to === 'guest' && (f.h.flags & TCP_RST) !== 0).length >= 1, 'an RST to the guest');
  t.deepEqual(p.events.slice(0, 2), ['tcp-connection-reset', 'tcp-connection-opened']);
  t.like(p.guest.report(p.now, false)[0], { resets: 1, reconnects: 1 });
  t.true((p.far.report(p.now, false)[0]?.delivered ?? 0) > 1e5, JSON.stringify(p.far.report(p.now, false)[0]));
});
