// Direct links between partitions (direct-links.ts, direct-setup.ts): an offer taken makes the link and what is sent arrives whole and in order; a connection without the offered token is dropped and the sender stays not ready; an address that does not answer in time is passed over, and a receiver that reaches none, or only something that does not answer with the sender's token, declines, which puts the pair on the bus; while not ready, direct-waiting.ts names each pending link and which side waits.
import test from 'ava';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { CONNECT_MS, DirectLinks } from '../src/direct-links.js';
import { containerPlace, decodeSetup, encodeDecline, encodeOffer, isDirectSetup, LOOPBACK } from '../src/direct-setup.js';
import type { DirectDecline, DirectOffer, DirectPlace } from '../src/direct-setup.js';
import { describeWaiting } from '../src/direct-waiting.js';
import { directPlace } from '../src/partition-process.js';

const until = async (what: string, ok: () => boolean, ms = 5000): Promise<void> => {
  for (let i = 0; i < ms / 10 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!ok()) throw new Error(`gave up waiting for ${what}`);
};

/** TEST-NET-1 (RFC 5737): routes nowhere; a connection there is refused by the network or never answered. */
const NOWHERE = '192.0.2.1';

const offerOf = async (sender: DirectLinks, q: number): Promise<DirectOffer> => {
  await until('the sender to listen', () => sender.offer(q) !== null);
  return decodeSetup(sender.offer(q) as Uint8Array) as DirectOffer;
};

/** What receiver `receiver` says as it declines sender partition 0's `offer` (it reaches none of its addresses). */
const declineOf = (receiver: DirectLinks, offer: DirectOffer): Promise<string> =>
  new Promise<string>((resolve) =>
    receiver.take(
      0,
      offer,
      () => {},
      () => {},
      resolve,
    ),
  );

test('direct links - a receiver that takes the offer is connected; the sender is then ready and its messages arrive whole, in order, with their ends', async (t) => {
  const failures: string[] = [];
  const sender = new DirectLinks([1], LOOPBACK, (why) => failures.push(why));
  const receiver = new DirectLinks([0], LOOPBACK, (why) => failures.push(why));
  try {
    await until('the sender to listen', () => sender.offer(1) !== null);
    const bytes = sender.offer(1) as Uint8Array;
    t.true(isDirectSetup(bytes));
    t.false(sender.isReady);
    const got: [number, number, number[]][] = [];
    let arrivals = 0;
    // The offer's bytes are copied when decoded (the bus may reuse them): overwrite them at once.
    const copy = new Uint8Array(bytes);
    const offer = decodeSetup(copy) as DirectOffer;
    copy.fill(0);
    t.deepEqual(offer.addresses, ['127.0.0.1']);
    const declines: string[] = [];
    receiver.take(
      0,
      offer,
      (from, to, payload) => got.push([from, to, [...payload]]),
      () => arrivals++,
      (why) => declines.push(why),
    );
    await sender.ready;
    t.true(sender.has(1));
    t.is(sender.paths().to.get(1), 'direct');
    await until('the answer', () => receiver.paths().from.get(0) === 'direct');
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
    t.deepEqual(declines, []);
  } finally {
    sender.close();
    receiver.close();
  }
});

test('direct links - a connection that does not send the offered token is dropped, and the sender stays not ready', async (t) => {
  const sender = new DirectLinks([1], LOOPBACK, () => {});
  try {
    const { port } = await offerOf(sender, 1);
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

test('direct links - an offered address that does not answer is passed over for the next, within the bound', async (t) => {
  const failures: string[] = [];
  const sender = new DirectLinks([1], { listen: '127.0.0.1', addresses: [NOWHERE, '127.0.0.1'] }, (why) => failures.push(why));
  const receiver = new DirectLinks([0], LOOPBACK, (why) => failures.push(why));
  try {
    const offer = await offerOf(sender, 1);
    t.deepEqual(offer.addresses, [NOWHERE, '127.0.0.1']);
    const t0 = Date.now();
    receiver.take(
      0,
      offer,
      () => {},
      () => {},
      (why) => failures.push(`declined: ${why}`),
    );
    await sender.ready;
    t.true(Date.now() - t0 < CONNECT_MS + 1000, `${Date.now() - t0} ms`);
    await until('the answer', () => receiver.paths().from.get(0) === 'direct');
    t.deepEqual(failures, []);
  } finally {
    sender.close();
    receiver.close();
  }
});

test('direct links - a receiver that reaches no offered address in time declines, and the declined sender is ready with that receiver on the bus, saying why', async (t) => {
  const failures: string[] = [];
  const sender = new DirectLinks([1, 2], { listen: '127.0.0.1', addresses: [NOWHERE] }, (why) => failures.push(why), new Map([[2, 'no channel back']]));
  const receiver = new DirectLinks([0], LOOPBACK, (why) => failures.push(why));
  try {
    const offer = await offerOf(sender, 1);
    t.is(sender.offer(2), null, 'no offer to a receiver on the bus from the start');
    t.deepEqual(sender.pending(), [1]);
    const t0 = Date.now();
    const declined = await declineOf(receiver, offer);
    t.true(Date.now() - t0 <= CONNECT_MS + 1000, `${Date.now() - t0} ms`);
    t.true(declined.startsWith(`${NOWHERE}:${offer.port}: `), declined);
    t.is(receiver.paths().from.get(0), declined);
    // A stranger's decline (another token) is refused; the receiver's puts the pair on the bus.
    const forged: DirectDecline = { kind: 'decline', tokenIn: Buffer.alloc(32, 1), why: 'forged' };
    t.regex(sender.declined(1, forged) ?? '', /declined a direct link it was not offered/);
    t.false(sender.isReady);
    t.is(sender.declined(1, decodeSetup(encodeDecline(offer.tokenIn, declined)) as DirectDecline), undefined);
    await sender.ready;
    t.is(sender.paths().to.get(1), `it could not connect: ${declined}`);
    t.is(sender.paths().to.get(2), 'no channel back');
    t.false(sender.has(1));
    // Its offer again (it had not seen the decline): declined again, without a second try.
    const again = await declineOf(receiver, offer);
    t.is(again, declined);
    t.deepEqual(failures, []);
  } finally {
    sender.close();
    receiver.close();
  }
});

test("direct links - a receiver whose connection is answered without the sender's token (another process at that address) gives up on it and declines", async (t) => {
  const stranger = createServer((s) => {
    s.on('error', () => {});
    s.write(Buffer.alloc(32, 9));
  });
  await new Promise<void>((resolve) => stranger.listen(0, '127.0.0.1', resolve));
  const sender = new DirectLinks([1], LOOPBACK, () => {});
  const receiver = new DirectLinks([0], LOOPBACK, () => {});
  try {
    const real = await offerOf(sender, 1);
    const port = (stranger.address() as AddressInfo).port;
    const offer = decodeSetup(encodeOffer(port, real.tokenIn, real.tokenOut, ['127.0.0.1'])) as DirectOffer;
    const declined = await declineOf(receiver, offer);
    t.is(declined, `127.0.0.1:${port}: what answered there did not send the offered token`);
  } finally {
    sender.close();
    receiver.close();
    stranger.close();
  }
});

test("direct links - a container's place listens on every interface of its own and offers its IPv4 addresses but loopback", (t) => {
  const place = containerPlace();
  t.is(place.listen, '0.0.0.0');
  for (const a of place.addresses) {
    t.regex(a, /^\d+\.\d+\.\d+\.\d+$/);
    t.false(a.startsWith('127.'), a);
  }
});

test("direct links - SPLITNET_LOCKSTEP_DIRECT: 1 on loopback, network on the container's interfaces, anything else none (and why, for the log)", (t) => {
  t.deepEqual(directPlace('1'), LOOPBACK);
  t.is((directPlace('network') as DirectPlace).listen, '0.0.0.0');
  t.is(directPlace('0'), 'SPLITNET_LOCKSTEP_DIRECT=0');
  t.is(directPlace(undefined), 'SPLITNET_LOCKSTEP_DIRECT is not set');
});

test('direct links - while not ready, the sender names each receiver still pending and which side waits (offered, not connected; connected, no token), the receiver each sender not reached', async (t) => {
  const sender = new DirectLinks([1, 2], LOOPBACK, () => {});
  const receiver = new DirectLinks([], LOOPBACK, () => {});
  const name = (p: number): string => ['vm.0', 'dom0', 'vm.1'][p] ?? '?';
  const open: Socket[] = [];
  try {
    const offer1 = await offerOf(sender, 1);
    t.deepEqual(describeWaiting(sender.waiting(), [], name), ['to dom0: offered, not connected', 'to vm.1: offered, not connected']);
    // The receiver side, before and after it takes sender vm.0's offer.
    t.deepEqual(describeWaiting(receiver.waiting(), [0], name), ['from vm.0: no offer seen yet']);
    receiver.take(
      0,
      offer1,
      () => {},
      () => {},
      () => {},
    );
    await until('receiver dom0 to connect with its token', () => sender.pending().length === 1);
    await until('the answer', () => receiver.paths().from.get(0) === 'direct');
    t.deepEqual(describeWaiting(receiver.waiting(), [0], name), []);
    t.deepEqual(describeWaiting(sender.waiting(), [], name), ['to vm.1: offered, not connected']);
    // A connection that sends no token: which receiver it is, only the token would tell.
    const { port } = await offerOf(sender, 2);
    const s = connect({ host: '127.0.0.1', port });
    s.on('error', () => {});
    open.push(s);
    await until('the connection to be accepted', () => sender.waiting().unproven === 1);
    t.deepEqual(describeWaiting(sender.waiting(), [], name), ['to vm.1: connected, no token']);
    t.false(sender.isReady);
    // Gone before its token: offered, not connected again.
    s.destroy();
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
