// Direct links between partitions (direct-links.ts): an offer taken makes the link and what is sent arrives whole and in order; a connection without the offered token is dropped and the sender stays not ready; while not ready, direct-waiting.ts names each pending link and which side waits.
import test from 'ava';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { DirectLinks, isDirectOffer } from '../src/direct-links.js';
import { describeWaiting } from '../src/direct-waiting.js';

const until = async (what: string, ok: () => boolean): Promise<void> => {
  for (let i = 0; i < 500 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!ok()) throw new Error(`gave up waiting for ${what}`);
};

test('direct links - a receiver that takes the offer is connected; the sender is then ready and its messages arrive whole, in order, with their ends', async (t) => {
  const failures: string[] = [];
  const sender = new DirectLinks([1], (why) => failures.push(why));
  const receiver = new DirectLinks([0], (why) => failures.push(why));
  try {
    await until('the sender to listen', () => sender.offer(1) !== null);
    const offer = sender.offer(1) as Uint8Array;
    t.true(isDirectOffer(offer));
    t.false(sender.isReady);
    const got: [number, number, number[]][] = [];
    let arrivals = 0;
    // The offer's bytes are copied when taken (the bus may reuse them): overwrite them at once.
    const copy = new Uint8Array(offer);
    receiver.take(
      0,
      copy,
      (from, to, payload) => got.push([from, to, [...payload]]),
      () => arrivals++,
    );
    copy.fill(0);
    await sender.ready;
    t.true(sender.has(1));
    const big = Array.from({ length: 100_000 }, (_, i) => i % 251);
    sender.send(1, [
      { to: 7, from: 3, payload: new Uint8Array([1, 2, 3]) },
      { to: 8, from: 4, payload: new Uint8Array(big) },
    ]);
    sender.send(1, [{ to: 9, from: 5, payload: new Uint8Array([42]) }]);
    await until('three messages', () => got.length === 3);
    t.deepEqual(got[0], [3, 7, [1, 2, 3]]);
    t.deepEqual(got[1], [4, 8, big]);
    t.deepEqual(got[2], [5, 9, [42]]);
    t.true(arrivals >= 1 && arrivals <= 3);
    t.deepEqual(failures, []);
  } finally {
    sender.close();
    receiver.close();
  }
});

test('direct links - a connection that does not send the offered token is dropped, and the sender stays not ready', async (t) => {
  const sender = new DirectLinks([1], () => {});
  try {
    await until('the sender to listen', () => sender.offer(1) !== null);
    const offer = sender.offer(1) as Uint8Array;
    const port = ((offer[1] as number) << 8) | (offer[2] as number);
    const closed = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => s.write(Buffer.alloc(32, 7)));
      s.on('close', () => resolve(true));
      s.on('error', () => {});
    });
    t.true(closed);
    t.false(sender.isReady);
    t.deepEqual(sender.pending(), [1]);
  } finally {
    sender.close();
  }
});

test('direct links - while not ready, the sender names each receiver still pending and which side waits (offered, not connected; connected, no token), the receiver each sender not reached', async (t) => {
  const sender = new DirectLinks([1, 2], () => {});
  const receiver = new DirectLinks([], () => {});
  const name = (p: number): string => ['vm.0', 'dom0', 'vm.1'][p] ?? '?';
  const open: Socket[] = [];
  try {
    await until('the sender to listen', () => sender.offer(1) !== null);
    t.deepEqual(describeWaiting(sender.waiting(), [], name), ['to dom0: offered, not connected', 'to vm.1: offered, not connected']);
    // The receiver side, before and after it takes sender vm.0's offer.
    t.deepEqual(describeWaiting(receiver.waiting(), [0], name), ['from vm.0: no offer seen yet']);
    receiver.take(
      0,
      sender.offer(1) as Uint8Array,
      () => {},
      () => {},
    );
    await until('receiver dom0 to connect with its token', () => sender.pending().length === 1);
    t.deepEqual(describeWaiting(receiver.waiting(), [0], name), []);
    t.deepEqual(describeWaiting(sender.waiting(), [], name), ['to vm.1: offered, not connected']);
    // A connection that sends no token: which receiver it is, only the token would tell.
    open.push(connectWithoutToken(sender.offer(2) as Uint8Array));
    await until('the connection to be accepted', () => sender.waiting().unproven === 1);
    t.deepEqual(describeWaiting(sender.waiting(), [], name), ['to vm.1: connected, no token']);
    t.false(sender.isReady);
    // Gone before its token: offered, not connected again.
    open[0]?.destroy();
    await until('the connection to close', () => sender.waiting().unproven === 0);
    t.deepEqual(describeWaiting(sender.waiting(), [], name), ['to vm.1: offered, not connected']);
  } finally {
    for (const s of open) s.destroy();
    sender.close();
    receiver.close();
  }
});

test('direct links - a waiting note with more pending receivers than connections without a token says both states may hold', (t) => {
  const w = { listening: true, pending: [1, 2], unproven: 1, taken: [], connected: [] };
  t.deepEqual(
    describeWaiting(w, [], (p) => `p${p}`),
    [
      'to p1: offered, not connected, or connected, no token (1 of the 2 pending receivers connected without a token yet)',
      'to p2: offered, not connected, or connected, no token (1 of the 2 pending receivers connected without a token yet)',
    ],
  );
  t.deepEqual(
    describeWaiting({ ...w, listening: false, unproven: 0 }, [3], (p) => `p${p}`),
    ['to p1: not listening yet, nothing offered', 'to p2: not listening yet, nothing offered', 'from p3: no offer seen yet'],
  );
  t.deepEqual(
    describeWaiting({ ...w, pending: [], taken: [3] }, [3], (p) => `p${p}`),
    ['from p3: offer taken, connecting'],
  );
});

/** A connection to the port `offer` names that sends nothing. */
function connectWithoutToken(offer: Uint8Array): Socket {
  const s = connect({ host: '127.0.0.1', port: ((offer[1] as number) << 8) | (offer[2] as number) });
  s.on('error', () => {});
  return s;
}
