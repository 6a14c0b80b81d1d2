// Integration tests of NatsTransport against a real nats-server on a random loopback port.
import test from 'ava';
import { createServer } from 'node:net';
import { SplitnetError } from '@splitnet/model';
import { startNatsServer } from '../src/nats-server.js';
import type { NatsServerHandle } from '../src/nats-server.js';
import { compileNatsOptions, connectNats } from '../src/nats-transport.js';
import type { NatsTransport, NatsTransportOptions } from '../src/nats-transport.js';
import { TransportError } from '../src/transport.js';
import type { Transport, TransportStatus, TransportStatusKind } from '../src/transport.js';

let server: NatsServerHandle;
const servers: NatsServerHandle[] = [];
const transports: Transport[] = [];

test.before(async () => {
  server = await startNatsServer();
  servers.push(server);
});

test.after.always(async () => {
  await Promise.all(transports.map((tr) => tr.close()));
  await Promise.all(servers.map((s) => s.stop()));
});

async function open(name: string, extra: Partial<NatsTransportOptions> = {}, url = server.url): Promise<NatsTransport> {
  const tr = await connectNats({ servers: url, name, ...extra });
  transports.push(tr);
  return tr;
}

function nextStatus(tr: Transport, kind: TransportStatusKind): Promise<TransportStatus> {
  return new Promise((resolve) => {
    const off = tr.onStatus((s) => {
      if (s.kind === kind) {
        off();
        resolve(s);
      }
    });
  });
}

/** Collects messages on `subject` and resolves `until(n)` once n have arrived. */
function collect(tr: Transport, subject: string): { got: { subject: string; data: Uint8Array }[]; until(n: number): Promise<void> } {
  const got: { subject: string; data: Uint8Array }[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  tr.subscribe(subject, (data, actual) => {
    got.push({ subject: actual, data: Uint8Array.from(data) });
    for (const w of waiters) if (got.length >= w.n) w.resolve();
  });
  return {
    got,
    until: (n) =>
      got.length >= n
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            waiters.push({ n, resolve });
          }),
  };
}

/** A loopback port nobody listens on. */
async function unusedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const address = srv.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

test('nats connect - an unreachable server is a clear E_CONNECT', async (t) => {
  const port = await unusedPort();
  const err = await t.throwsAsync(connectNats({ servers: `nats://127.0.0.1:${port}`, name: 'nobody' }), { instanceOf: TransportError });
  t.is(err?.code, 'E_CONNECT');
  t.regex(err?.message ?? '', new RegExp(`^cannot reach NATS at nats://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
});

test('nats connect - bad options are usage errors raised before any I/O', (t) => {
  const bad: NatsTransportOptions[] = [
    { servers: [], name: 'x' },
    { servers: 'nats://a b', name: 'x' },
    { servers: 'nats://127.0.0.1:1', name: '' },
    { servers: 'nats://127.0.0.1:1', name: 'x', user: 'u' },
    { servers: 'nats://127.0.0.1:1', name: 'x', user: 'u', pass: 'p', token: 't' },
    { servers: 'nats://127.0.0.1:1', name: 'x', maxReconnectAttempts: -2 },
    { servers: 'nats://127.0.0.1:1', name: 'x', reconnectTimeWaitMs: -1 },
    { servers: 'nats://127.0.0.1:1', name: 'x', pingIntervalMs: 0 },
    { servers: 'nats://127.0.0.1:1', name: 'x', caFile: '' },
    { servers: 'nats://127.0.0.1:1,', name: 'x' },
  ];
  for (const opts of bad) {
    const err = t.throws(() => compileNatsOptions(opts), { instanceOf: SplitnetError }, JSON.stringify(opts));
    t.is(err?.code, 'E_USAGE');
  }
  t.is(compileNatsOptions({ servers: 'nats://127.0.0.1:1', name: 'x' }).maxReconnectAttempts, -1, 'reconnects forever by default');
});

test('nats connect - a comma-separated list is several servers; a tls:// URL or a CA file requires TLS', (t) => {
  const plain = compileNatsOptions({ servers: 'nats://a:4222, nats://b:4222,c:4222', name: 'x' });
  t.deepEqual(plain.servers, ['nats://a:4222', 'nats://b:4222', 'c:4222']);
  t.false(plain.tls);
  t.true(compileNatsOptions({ servers: 'nats://a:4222,tls://b:4222', name: 'x' }).tls, 'one tls:// URL requires TLS of every server');
  const ca = compileNatsOptions({ servers: 'nats://a:4222', name: 'x', caFile: '/etc/ca.pem' });
  t.true(ca.tls);
  t.is(ca.caFile, '/etc/ca.pem');
});

test('nats connect - credentials are checked by the server', async (t) => {
  const secured = await startNatsServer({ args: ['--user', 'splitnet', '--pass', 's3cret'] });
  servers.push(secured);
  const err = await t.throwsAsync(connectNats({ servers: secured.url, name: 'intruder', user: 'splitnet', pass: 'wrong' }), {
    instanceOf: TransportError,
  });
  t.is(err?.code, 'E_CONNECT');
  t.regex(err?.message ?? '', /refused the credentials/);
  const ok = await open('friend', { user: 'splitnet', pass: 's3cret' }, secured.url);
  await ok.flush();
  t.pass();
});

test('nats pub/sub - binary payloads arrive intact and in order', async (t) => {
  const a = await open('pub');
  const b = await open('sub');
  const rx = collect(b, 'bin.x');
  await b.flush(); // the server has the subscription before anything is published
  const every = Uint8Array.from({ length: 256 }, (_, i) => i);
  const big = new Uint8Array(64 * 1024).map((_, i) => (i * 7919) & 0xff);
  const payloads = [every, new Uint8Array(0), big, Uint8Array.of(0, 13, 10, 0)];
  for (const p of payloads) a.publish('bin.x', p);
  await rx.until(payloads.length);
  t.deepEqual(
    rx.got.map((m) => m.data),
    payloads,
  );
  t.true(rx.got.every((m) => m.subject === 'bin.x'));
  t.is(a.counters.published, payloads.length);
  t.is(b.counters.received, payloads.length);
});

test('nats pub/sub - wildcard subscriptions report the actual subject', async (t) => {
  const a = await open('pub');
  const b = await open('sub');
  const star = collect(b, 'sn.w1.worker.*.in');
  const tail = collect(b, 'sn.w1.>');
  await b.flush();
  a.publish('sn.w1.worker.3.in', Uint8Array.of(3));
  a.publish('sn.w1.vm.7.q.1.rsp', Uint8Array.of(7));
  a.publish('sn.w1.worker.4.in', Uint8Array.of(4));
  await tail.until(3);
  await star.until(2);
  t.deepEqual(
    star.got.map((m) => m.subject),
    ['sn.w1.worker.3.in', 'sn.w1.worker.4.in'],
  );
  t.deepEqual(
    tail.got.map((m) => m.subject),
    ['sn.w1.worker.3.in', 'sn.w1.vm.7.q.1.rsp', 'sn.w1.worker.4.in'],
  );
});

test('nats pub/sub - a throwing handler raises an error status and the connection keeps reading', async (t) => {
  const a = await open('pub');
  const b = await open('sub');
  const seen: number[] = [];
  const error = nextStatus(b, 'error');
  b.subscribe('throws.x', (data) => {
    if (data[0] === 1) throw new Error('handler bug');
  });
  const rx = collect(b, 'throws.y');
  await b.flush();
  a.publish('throws.x', Uint8Array.of(1));
  a.publish('throws.y', Uint8Array.of(2));
  await rx.until(1);
  seen.push(...rx.got.map((m) => m.data[0] ?? -1));
  t.deepEqual(seen, [2]);
  t.regex((await error).detail, /handler for 'throws\.x' threw: handler bug/);
});

test('nats pub/sub - invalid subjects are usage errors', async (t) => {
  const a = await open('pub');
  for (const bad of ['', 'a..b', 'a b', 'a.*', 'a.>']) {
    const err = t.throws(() => a.publish(bad, Uint8Array.of(1)), { instanceOf: SplitnetError }, bad);
    t.is(err?.code, 'E_USAGE');
  }
  const err = t.throws(() => a.subscribe('a.>.b', () => undefined), { instanceOf: SplitnetError });
  t.is(err?.code, 'E_USAGE');
});

test('nats request - reply, timeout and no responders', async (t) => {
  const svc = await open('svc');
  const client = await open('client');
  svc.respond('ctl.w1.double', (data) => data.map((v) => v * 2));
  svc.respond('ctl.w1.async', async (data) => {
    await svc.flush();
    return data.map((v) => v + 1);
  });
  svc.subscribe('ctl.w1.silent', () => undefined); // hears requests, never answers
  await svc.flush();
  t.deepEqual([...(await client.request('ctl.w1.double', Uint8Array.of(1, 2, 3), 2000))], [2, 4, 6]);
  t.deepEqual([...(await client.request('ctl.w1.async', Uint8Array.of(1, 2, 3), 2000))], [2, 3, 4]);

  const timeout = await t.throwsAsync(client.request('ctl.w1.silent', Uint8Array.of(1), 50), { instanceOf: TransportError });
  t.is(timeout?.code, 'E_TIMEOUT');
  t.regex(timeout?.message ?? '', /'ctl\.w1\.silent' got no reply within 50 ms/);

  const nobody = await t.throwsAsync(client.request('ctl.w1.nobody', Uint8Array.of(1), 60_000), { instanceOf: TransportError });
  t.is(nobody?.code, 'E_NO_RESPONDERS');
});

test('nats isolation - two runs on one server do not see each other', async (t) => {
  const runA = await open('run-a');
  const runB = await open('run-b');
  const atA = collect(runA, 'sn.runA.>');
  const atB = collect(runB, 'sn.runB.>');
  await runA.flush();
  await runB.flush();
  const pub = await open('pub');
  pub.publish('sn.runA.worker.0.in', Uint8Array.of(1));
  pub.publish('sn.runB.worker.0.in', Uint8Array.of(2));
  // The server handles one publisher's messages in order: once the last marker has arrived at
  // both, anything misrouted would have arrived before it.
  pub.publish('sn.runA.end', Uint8Array.of(9));
  pub.publish('sn.runB.end', Uint8Array.of(9));
  await atA.until(2);
  await atB.until(2);
  t.deepEqual(
    atA.got.map((m) => m.subject),
    ['sn.runA.worker.0.in', 'sn.runA.end'],
  );
  t.deepEqual(
    atB.got.map((m) => m.subject),
    ['sn.runB.worker.0.in', 'sn.runB.end'],
  );
});

test('nats reconnect - server stop is reported, a restart on the same port reconnects and messages flow again', async (t) => {
  const own = await startNatsServer();
  servers.push(own);
  const tr = await open('survivor', { reconnectTimeWaitMs: 20 }, own.url);
  const tiny = await open('tiny-buffer', { reconnectTimeWaitMs: 20, reconnectBufferBytes: 4 }, own.url);
  // Each connection listens to itself: another connection's re-subscription may come after our replay.
  const rx = collect(tr, 'rc.x');
  const tinyRx = collect(tiny, 'rc.tiny');
  await tr.flush();
  await tiny.flush();
  tr.publish('rc.x', Uint8Array.of(1));
  await rx.until(1);

  const down = nextStatus(tr, 'disconnect');
  const tinyDown = nextStatus(tiny, 'disconnect');
  await own.stop();
  const d = await down;
  await tinyDown;
  t.regex(d.detail, new RegExp(`lost the connection to nats://127\\.0\\.0\\.1:${own.port}`));
  t.is(tr.counters.disconnects, 1);

  // While disconnected, publishes are held (nats.js v3 itself would drop them): no throw, no loss.
  tr.publish('rc.x', Uint8Array.of(2));
  tr.publish('rc.x', Uint8Array.of(3));
  t.like(tr.counters, { published: 3, publishFailed: 0 });
  // Beyond the reconnect buffer they are dropped, counted and reported once.
  const overflow = nextStatus(tiny, 'error');
  tiny.publish('rc.tiny', Uint8Array.of(10, 11, 12));
  tiny.publish('rc.tiny', Uint8Array.of(13, 14));
  tiny.publish('rc.tiny', Uint8Array.of(15, 16));
  t.like(tiny.counters, { published: 1, publishFailed: 2 });
  t.regex((await overflow).detail, /reconnect buffer full \(4 bytes\)/);

  const up = nextStatus(tr, 'reconnect');
  const tinyUp = nextStatus(tiny, 'reconnect');
  const again = await startNatsServer({ port: own.port });
  servers.push(again);
  t.is(again.port, own.port);
  t.regex((await up).detail, /sent 2 messages held while disconnected/);
  await tinyUp;
  t.is(tr.counters.reconnects, 1);
  // The client re-subscribes before the held messages are sent, so they arrive, in order.
  await rx.until(3);
  tr.publish('rc.x', Uint8Array.of(4));
  await rx.until(4);
  t.deepEqual(
    rx.got.map((m) => m.data[0]),
    [1, 2, 3, 4],
  );
  await tinyRx.until(1);
  t.deepEqual(
    tinyRx.got.map((m) => [...m.data]),
    [[10, 11, 12]],
  );
});

test('nats close - publish after close does not throw and is counted; closed is reported once', async (t) => {
  const tr = await open('closer');
  const statuses: TransportStatus[] = [];
  tr.onStatus((s) => statuses.push(s));
  tr.publish('cl.x', Uint8Array.of(1));
  await tr.close();
  await tr.close();
  t.notThrows(() => tr.publish('cl.x', Uint8Array.of(2)));
  t.notThrows(() => tr.publish('cl.x', Uint8Array.of(3)));
  t.is(tr.counters.published, 1);
  t.is(tr.counters.publishFailed, 2);
  t.deepEqual(
    statuses.map((s) => s.kind),
    ['closed'],
  );
  const sub = t.throws(() => tr.subscribe('cl.x', () => undefined), { instanceOf: TransportError });
  t.is(sub?.code, 'E_CLOSED');
  const req = await t.throwsAsync(tr.request('cl.x', Uint8Array.of(1), 100), { instanceOf: TransportError });
  t.is(req?.code, 'E_CLOSED');
  await t.throwsAsync(tr.flush(), { instanceOf: TransportError });
  await t.notThrowsAsync(tr.drain());
});

test('nats drain - a publisher drain delivers everything it published', async (t) => {
  const pub = await open('drain-pub');
  const sub = await open('drain-sub');
  const rx = collect(sub, 'dr.x');
  await sub.flush();
  const n = 5000;
  for (let i = 0; i < n; i++) pub.publish('dr.x', Uint8Array.of(i & 0xff, i >> 8));
  const closed = nextStatus(pub, 'closed');
  await pub.drain(); // nothing awaited between publish and drain: all n are still in the client's buffer
  await closed;
  await rx.until(n);
  t.is(rx.got.length, n);
  t.true(rx.got.every((m, i) => ((m.data[0] ?? 0) | ((m.data[1] ?? 0) << 8)) === i));
  pub.publish('dr.x', Uint8Array.of(0));
  t.is(pub.counters.publishFailed, 1);
});

test('nats drain - a subscriber drain handles the messages already sent to it', async (t) => {
  const pub = await open('drain2-pub');
  const sub = await open('drain2-sub');
  const rx = collect(sub, 'dr2.x');
  await sub.flush();
  const n = 2000;
  for (let i = 0; i < n; i++) pub.publish('dr2.x', Uint8Array.of(i & 0xff));
  // Once the server has answered the publisher's PING it has routed all n to the subscriber.
  await pub.flush();
  await sub.drain();
  t.is(rx.got.length, n);
});
