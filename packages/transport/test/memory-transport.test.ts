// Unit tests of the in-memory bus: NATS subject matching, ordering, request/reply, lifecycle and simulated broker loss.
import test from 'ava';
import { SplitnetError } from '@splitnet/model';
import { MemoryBus, subjectMatches } from '../src/memory-transport.js';
import { TransportError } from '../src/transport.js';
import type { Transport, TransportStatus, TransportStatusKind } from '../src/transport.js';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

function nextStatus(t: Transport, kind: TransportStatusKind): Promise<TransportStatus> {
  return new Promise((resolve) => {
    const off = t.onStatus((s) => {
      if (s.kind === kind) {
        off();
        resolve(s);
      }
    });
  });
}

const MATCHES: readonly (readonly [pattern: string, subject: string, expected: boolean])[] = [
  ['sn.r1.worker.3.in', 'sn.r1.worker.3.in', true],
  ['sn.r1.worker.3.in', 'sn.r1.worker.4.in', false],
  ['sn.r1.worker.3.in', 'sn.r1.worker.3', false],
  ['sn.r1.worker.3', 'sn.r1.worker.3.in', false],
  ['sn.r1.worker.*.in', 'sn.r1.worker.3.in', true],
  ['sn.r1.worker.*.in', 'sn.r1.worker.3.out', false],
  ['sn.r1.worker.*.in', 'sn.r1.worker.in', false],
  ['sn.r1.worker.*', 'sn.r1.worker.3.in', false],
  ['sn.*.*.*.in', 'sn.r1.vm.7.in', true],
  ['sn.r1.>', 'sn.r1.vm.7.q.1.rsp', true],
  ['sn.r1.>', 'sn.r1.x', true],
  ['sn.r1.>', 'sn.r1', false],
  ['sn.r1.>', 'sn.r2.x', false],
  ['>', 'sn', true],
  ['>', 'sn.r1.anything.at.all', true],
  ['*', 'sn', true],
  ['*', 'sn.r1', false],
  ['*.>', 'sn.r1', true],
  ['*.>', 'sn', false],
  ['sn.*.hb.>', 'sn.r1.hb.worker.3', true],
  ['sn.*.hb.>', 'sn.r1.stats.worker.3', false],
  ['sn.r1.w*', 'sn.r1.w1', false], // '*' is a whole token, never a glob inside one
];

for (const [pattern, subject, expected] of MATCHES) {
  test(`memory subjects - '${pattern}' ${expected ? 'matches' : 'does not match'} '${subject}'`, (t) => {
    t.is(subjectMatches(pattern, subject), expected);
  });
}

test('memory subjects - wildcard matching on the bus agrees with the table', async (t) => {
  const bus = new MemoryBus();
  const sub = bus.connect('sub');
  const pub = bus.connect('pub');
  const got = new Map<string, string[]>();
  for (const [pattern] of MATCHES) {
    if (got.has(pattern)) continue;
    got.set(pattern, []);
    sub.subscribe(pattern, (_data, subject) => got.get(pattern)?.push(subject));
  }
  const subjects = [...new Set(MATCHES.map(([, s]) => s))];
  for (const s of subjects) pub.publish(s, bytes(1));
  await pub.flush();
  for (const [pattern, subject, expected] of MATCHES) {
    t.is(got.get(pattern)?.includes(subject), expected, `${pattern} vs ${subject}`);
  }
});

test('memory subjects - invalid subjects are usage errors', (t) => {
  const bus = new MemoryBus();
  const c = bus.connect();
  for (const bad of ['', 'a..b', '.a', 'a.', 'a b', 'a.*', 'a.>']) {
    const err = t.throws(() => c.publish(bad, bytes(1)), { instanceOf: SplitnetError }, `publish '${bad}'`);
    t.is(err?.code, 'E_USAGE');
  }
  for (const bad of ['', 'a.>.b', 'a..b', 'a b']) {
    const err = t.throws(() => c.subscribe(bad, () => undefined), { instanceOf: SplitnetError }, `subscribe '${bad}'`);
    t.is(err?.code, 'E_USAGE');
  }
  t.notThrows(() => c.subscribe('a.*.b.>', () => undefined));
});

test('memory delivery - is asynchronous (setImmediate), never inside publish', async (t) => {
  const bus = new MemoryBus();
  const c = bus.connect();
  const seen: number[] = [];
  c.subscribe('x', (data) => seen.push(data[0] ?? -1));
  c.publish('x', bytes(7));
  t.deepEqual(seen, []);
  await Promise.resolve(); // not even a microtask later
  t.deepEqual(seen, []);
  await c.flush();
  t.deepEqual(seen, [7]);
  t.is(c.counters.published, 1);
  t.is(c.counters.received, 1);
});

test('memory delivery - keeps publish order per publisher, to every subscriber', async (t) => {
  const bus = new MemoryBus();
  const a = bus.connect('a');
  const b = bus.connect('b');
  const s1 = bus.connect('s1');
  const s2 = bus.connect('s2');
  const got1: string[] = [];
  const got2: string[] = [];
  s1.subscribe('d.>', (data, subject) => got1.push(`${subject}:${data[0] ?? -1}`));
  s2.subscribe('d.*', (data, subject) => got2.push(`${subject}:${data[0] ?? -1}`));
  const expectedA: string[] = [];
  const expectedB: string[] = [];
  for (let i = 0; i < 200; i++) {
    a.publish('d.a', bytes(i));
    expectedA.push(`d.a:${i}`);
    if (i % 3 === 0) {
      b.publish('d.b', bytes(i));
      expectedB.push(`d.b:${i}`);
    }
  }
  await a.flush();
  await b.flush();
  for (const got of [got1, got2]) {
    t.deepEqual(
      got.filter((m) => m.startsWith('d.a')),
      expectedA,
    );
    t.deepEqual(
      got.filter((m) => m.startsWith('d.b')),
      expectedB,
    );
  }
});

test('memory delivery - order survives the queue growing while wrapped around', async (t) => {
  const bus = new MemoryBus();
  const c = bus.connect();
  const seen: number[] = [];
  c.subscribe('x', (data) => seen.push((data[0] ?? 0) | ((data[1] ?? 0) << 8)));
  const send = (from: number, to: number): void => {
    for (let i = from; i < to; i++) c.publish('x', bytes(i & 0xff, i >> 8));
  };
  send(0, 600); // moves the ring's head away from slot 0
  await c.flush();
  send(600, 5000); // wraps, then grows twice
  await c.flush();
  t.is(seen.length, 5000);
  t.true(seen.every((v, i) => v === i));
  t.is(bus.pendingCount, 0);
});

test('memory delivery - messages published by handlers go to a later batch, in order', async (t) => {
  const bus = new MemoryBus();
  const c = bus.connect();
  const seen: string[] = [];
  c.subscribe('ping', (data) => {
    seen.push(`ping${data[0] ?? -1}`);
    c.publish('pong', data);
  });
  c.subscribe('pong', (data) => seen.push(`pong${data[0] ?? -1}`));
  c.publish('ping', bytes(1));
  c.publish('ping', bytes(2));
  await c.flush(); // marks after both pings; pongs are routed after the mark
  t.deepEqual(seen, ['ping1', 'ping2']);
  await c.flush();
  t.deepEqual(seen, ['ping1', 'ping2', 'pong1', 'pong2']);
});

test('memory delivery - payloads are passed by reference, not copied', async (t) => {
  const bus = new MemoryBus();
  const c = bus.connect();
  const sent = bytes(1, 2, 3);
  let received: Uint8Array | undefined;
  c.subscribe('x', (data) => {
    received = data;
  });
  c.publish('x', sent);
  await c.flush();
  t.is(received, sent);
});

test('memory delivery - oversized payloads are usage errors', (t) => {
  const bus = new MemoryBus({ maxPayload: 8 });
  const c = bus.connect();
  t.notThrows(() => c.publish('x', new Uint8Array(8)));
  const err = t.throws(() => c.publish('x', new Uint8Array(9)), { instanceOf: SplitnetError });
  t.is(err?.code, 'E_USAGE');
  t.regex(err?.message ?? '', /max_payload/);
});

test('memory delivery - a throwing handler raises an error status and delivery goes on', async (t) => {
  const bus = new MemoryBus();
  const c = bus.connect();
  const seen: number[] = [];
  c.subscribe('x', (data) => {
    if (data[0] === 1) throw new Error('boom');
    seen.push(data[0] ?? -1);
  });
  const error = nextStatus(c, 'error');
  c.publish('x', bytes(1));
  c.publish('x', bytes(2));
  await c.flush();
  t.deepEqual(seen, [2]);
  t.regex((await error).detail, /handler for 'x' threw: boom/);
});

test('memory unsubscribe - stops delivery and removes the subscription from the bus', async (t) => {
  const bus = new MemoryBus();
  const pub = bus.connect('pub');
  const c = bus.connect('c');
  const seen: number[] = [];
  const sub = c.subscribe('x', (data) => seen.push(data[0] ?? -1));
  t.is(bus.subscriptionCount, 1);
  pub.publish('x', bytes(1));
  await pub.flush();
  sub.unsubscribe();
  sub.unsubscribe(); // idempotent
  t.is(bus.subscriptionCount, 0);
  pub.publish('x', bytes(2));
  await pub.flush();
  t.deepEqual(seen, [1]);
});

test('memory unsubscribe - a message already routed is not delivered after unsubscribe', async (t) => {
  const bus = new MemoryBus();
  const c = bus.connect();
  const seen: number[] = [];
  const sub = c.subscribe('x', (data) => seen.push(data[0] ?? -1));
  c.publish('x', bytes(1));
  sub.unsubscribe();
  await c.flush();
  t.deepEqual(seen, []);
});

test('memory request - reply from a synchronous and an asynchronous responder', async (t) => {
  const bus = new MemoryBus();
  const server = bus.connect('server');
  const client = bus.connect('client');
  server.respond('svc.double', (data) => data.map((v) => v * 2));
  server.respond('svc.async', async (data) => {
    await Promise.resolve();
    return data.map((v) => v + 1);
  });
  t.deepEqual([...(await client.request('svc.double', bytes(1, 2, 3), 1000))], [2, 4, 6]);
  t.deepEqual([...(await client.request('svc.async', bytes(1, 2, 3), 1000))], [2, 3, 4]);
  // Concurrent requests get their own replies.
  const replies = await Promise.all([1, 2, 3, 4].map((v) => client.request('svc.double', bytes(v), 1000)));
  t.deepEqual(
    replies.map((r) => r[0]),
    [2, 4, 6, 8],
  );
  // Replies are control plane: not counted as data-plane messages.
  t.is(client.counters.received, 0);
});

test('memory request - times out when subscribers exist but nobody replies', async (t) => {
  const bus = new MemoryBus();
  const listener = bus.connect('listener');
  const client = bus.connect('client');
  let heard = 0;
  listener.subscribe('svc.silent', () => {
    heard++;
  });
  const err = await t.throwsAsync(client.request('svc.silent', bytes(1), 20), { instanceOf: TransportError });
  t.is(err?.code, 'E_TIMEOUT');
  t.regex(err?.message ?? '', /'svc\.silent' got no reply within 20 ms/);
  t.is(heard, 1);
});

test('memory request - a responder that throws sends no reply and raises an error status', async (t) => {
  const bus = new MemoryBus();
  const server = bus.connect('server');
  const client = bus.connect('client');
  server.respond('svc.bad', () => {
    throw new Error('cannot');
  });
  const error = nextStatus(server, 'error');
  const err = await t.throwsAsync(client.request('svc.bad', bytes(1), 20), { instanceOf: TransportError });
  t.is(err?.code, 'E_TIMEOUT');
  t.regex((await error).detail, /responder on 'svc\.bad' threw: cannot/);
});

test('memory request - no responders fails fast with E_NO_RESPONDERS', async (t) => {
  const bus = new MemoryBus();
  const client = bus.connect('client');
  // A timeout far longer than the test: only the no-responders path can end it.
  const err = await t.throwsAsync(client.request('svc.nobody', bytes(1), 60_000), { instanceOf: TransportError });
  t.is(err?.code, 'E_NO_RESPONDERS');
  t.regex(err?.message ?? '', /no responders on 'svc\.nobody'/);
});

test('memory request - bad timeout is a usage error', async (t) => {
  const bus = new MemoryBus();
  const client = bus.connect('client');
  const err = await t.throwsAsync(client.request('svc', bytes(1), 0), { instanceOf: SplitnetError });
  t.is(err?.code, 'E_USAGE');
});

test('memory close - publish after close does not throw and is counted; pending requests reject', async (t) => {
  const bus = new MemoryBus();
  const server = bus.connect('server');
  const client = bus.connect('client');
  server.subscribe('svc.silent', () => undefined);
  const pending = client.request('svc.silent', bytes(1), 60_000);
  const closed = nextStatus(client, 'closed');
  await client.close();
  await client.close(); // idempotent
  t.truthy(await closed);
  const err = await t.throwsAsync(pending, { instanceOf: TransportError });
  t.is(err?.code, 'E_CLOSED');
  t.notThrows(() => client.publish('x', bytes(1)));
  t.is(client.counters.publishFailed, 1);
  t.is(client.counters.published, 0);
  const subErr = t.throws(() => client.subscribe('x', () => undefined), { instanceOf: TransportError });
  t.is(subErr?.code, 'E_CLOSED');
  await t.throwsAsync(client.flush(), { instanceOf: TransportError });
  t.is(bus.subscriptionCount, 1, 'only the server subscription is left');
});

test('memory drain - delivers what was pending, then closes', async (t) => {
  const bus = new MemoryBus();
  const a = bus.connect('a');
  const b = bus.connect('b');
  const atB: number[] = [];
  const atA: number[] = [];
  b.subscribe('to-b', (data) => atB.push(data[0] ?? -1));
  a.subscribe('to-a', (data) => atA.push(data[0] ?? -1));
  for (let i = 0; i < 10; i++) {
    a.publish('to-b', bytes(i));
    b.publish('to-a', bytes(i));
  }
  const closed = nextStatus(a, 'closed');
  await a.drain();
  await closed;
  t.deepEqual(atA, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'messages for the draining client were delivered');
  await b.flush();
  t.deepEqual(atB, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], "the draining client's own messages went out");
  a.publish('to-b', bytes(99));
  t.is(a.counters.publishFailed, 1);
});

test('memory disconnect - publishes are buffered and sent on reconnect; messages for the client are lost', async (t) => {
  const bus = new MemoryBus();
  const a = bus.connect('a');
  const b = bus.connect('b');
  const atA: number[] = [];
  const atB: number[] = [];
  a.subscribe('to-a', (data) => atA.push(data[0] ?? -1));
  b.subscribe('to-b', (data) => atB.push(data[0] ?? -1));

  const down = nextStatus(a, 'disconnect');
  a.simulateDisconnect('broker restarted');
  t.is((await down).detail, 'broker restarted');
  a.publish('to-b', bytes(1));
  a.publish('to-b', bytes(2));
  b.publish('to-a', bytes(3)); // lost: a has no connection
  const flushed = a.flush(); // completes only after reconnect
  await b.flush();
  t.deepEqual(atB, []);
  t.deepEqual(atA, []);

  const up = nextStatus(a, 'reconnect');
  a.simulateReconnect();
  await up;
  await flushed;
  t.deepEqual(atB, [1, 2]);
  b.publish('to-a', bytes(4));
  await b.flush();
  t.deepEqual(atA, [4]);
  t.like(a.counters, { disconnects: 1, reconnects: 1, published: 2, publishFailed: 0 });
});
