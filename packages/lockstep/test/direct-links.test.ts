// Direct links between partitions (direct-links.ts): an offer taken makes the link and what is sent arrives whole and in order; a connection without the offered token is dropped and the sender stays not ready.
import test from 'ava';
import { connect } from 'node:net';
import { DirectLinks, isDirectOffer } from '../src/direct-links.js';

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
