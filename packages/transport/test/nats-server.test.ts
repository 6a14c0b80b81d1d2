// Integration tests of the private nats-server launcher: readiness, random ports, clean stop, clear failures (that a server dies with the process that started it is the owner's: packages/cli/test/lifetime.test.ts).
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SplitnetError } from '@splitnet/model';
import { findNatsServerBinary, startNatsServer } from '../src/nats-server.js';
import type { NatsServerHandle } from '../src/nats-server.js';
import { connectNats } from '../src/nats-transport.js';
import { TransportError } from '../src/transport.js';
import type { TransportStatus } from '../src/transport.js';
import { renderAuthorization } from '../src/nats-authorization.js';
import type { NatsUser } from '../src/nats-authorization.js';

const started: NatsServerHandle[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'splitnet-nats-server-test-'));

async function start(opts: Parameters<typeof startNatsServer>[0] = {}): Promise<NatsServerHandle> {
  const h = await startNatsServer(opts);
  started.push(h);
  return h;
}

test.after.always(async () => {
  await Promise.all(started.map((h) => h.stop()));
  rmSync(tmp, { recursive: true, force: true });
});

/** True if `pid` is a running process (a zombie waiting for its reaper counts as gone). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function tcpReachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

test('nats-server - start waits for readiness and stop leaves no process behind', async (t) => {
  const h = await start();
  t.regex(h.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
  t.true(h.port > 0);
  t.true(pidAlive(h.pid));
  t.true(await tcpReachable(h.port));
  await h.stop();
  t.false(pidAlive(h.pid), 'the pid is gone (exited and reaped)');
  t.false(await tcpReachable(h.port));
  // nats-server handles SIGTERM itself (it logs "Server Exiting" and exits 1): no SIGKILL was needed.
  t.not((await h.exited).signal, 'SIGKILL');
  t.regex(h.logTail(), /Server Exiting/);
  await h.stop(); // idempotent
  t.false(h.kill(), 'nothing left to signal');
});

test('nats-server - two servers at once get different ports', async (t) => {
  const [a, b] = await Promise.all([start(), start()]);
  t.not(a.port, b.port);
  t.not(a.pid, b.pid);
  t.true(await tcpReachable(a.port));
  t.true(await tcpReachable(b.port));
});

test('nats-server - starts with GOMAXPROCS=1 unless overridden', async (t) => {
  const environOf = (pid: number): string[] => readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
  const dflt = await start();
  t.true(environOf(dflt.pid).includes('GOMAXPROCS=1'));
  const overridden = await start({ env: { GOMAXPROCS: '2' } });
  t.true(environOf(overridden.pid).includes('GOMAXPROCS=2'));
});

test('nats-server - missing binary names PATH and how to install it', async (t) => {
  const err = t.throws(() => findNatsServerBinary({ searchPath: '/nonexistent-dir', fallbackDirs: [] }), { instanceOf: SplitnetError });
  t.is(err?.code, 'E_USAGE');
  t.is(
    err?.message,
    'nats-server not found on PATH: install it (Debian/Ubuntu: apt-get install nats-server; macOS: brew install nats-server) or pass --nats <url>',
  );
  const explicit = await t.throwsAsync(startNatsServer({ binary: '/nonexistent-dir/nats-server' }), { instanceOf: SplitnetError });
  t.is(explicit?.code, 'E_USAGE');
  t.regex(explicit?.message ?? '', /'\/nonexistent-dir\/nats-server' not found or not executable: install it/);
});

test('nats-server - finds the binary in /usr/sbin when PATH lacks it', (t) => {
  const found = findNatsServerBinary({ searchPath: '/nonexistent-dir' });
  t.regex(found, /\/nats-server$/);
});

test('nats-server - a server that exits at start fails with its log tail', async (t) => {
  const err = await t.throwsAsync(start({ args: ['--no-such-flag'] }), { instanceOf: TransportError });
  t.is(err?.code, 'E_SERVER');
  t.regex(err?.message ?? '', /exited before it was ready/);
  t.regex(err?.message ?? '', /no-such-flag/);
});

test('nats-server - a taken port fails with the server saying so', async (t) => {
  const a = await start();
  const err = await t.throwsAsync(start({ port: a.port }), { instanceOf: TransportError });
  t.is(err?.code, 'E_SERVER');
  t.regex(err?.message ?? '', /address already in use/);
  t.true(await tcpReachable(a.port), 'the first server is unharmed');
});

test('nats-server - bad options are rejected before spawning', async (t) => {
  for (const port of [1.5, 70000, -2]) {
    const err = await t.throwsAsync(startNatsServer({ port }), { instanceOf: SplitnetError });
    t.is(err?.code, 'E_USAGE');
  }
});

test('nats-server - kill emulates a crash and exited reports the signal', async (t) => {
  const h = await start();
  t.true(h.kill('SIGKILL'));
  t.deepEqual(await h.exited, { code: null, signal: 'SIGKILL' });
  t.false(pidAlive(h.pid));
});

test('nats-server - the log goes to logFile as well', async (t) => {
  const logFile = join(tmp, 'server.log');
  const h = await start({ logFile });
  await h.stop();
  const log = readFileSync(logFile, 'utf8');
  t.regex(log, new RegExp(`Listening for client connections on 127\\.0\\.0\\.1:${h.port}`));
  t.regex(h.logTail(), /Server Exiting/);
});

test('nats-server - a slow consumer cut off by the server is counted from its log', async (t) => {
  // A tiny max_pending and a raw subscriber that never reads: the server must give up on it.
  const conf = join(tmp, 'slow.conf');
  writeFileSync(conf, 'max_payload: 32768\nmax_pending: 65536\nwrite_deadline: "30s"\n');
  const h = await start({ args: ['-c', conf] });
  const detected = new Promise<string>((resolve) => {
    const off = h.onLog((line) => {
      if (/Slow Consumer Detected/.test(line)) {
        off();
        resolve(line);
      }
    });
  });
  const raw: Socket = tcpConnect({ host: '127.0.0.1', port: h.port });
  await new Promise<void>((resolve) => raw.once('connect', () => resolve()));
  raw.pause(); // never read: the kernel buffers fill, then the server's pending bytes grow
  raw.on('error', () => undefined); // the server resets it
  raw.write('CONNECT {"verbose":false,"pedantic":false}\r\nSUB slow.x 1\r\nPING\r\n');
  const pub = await connectNats({ servers: h.url, name: 'slow-consumer-publisher' });
  const payload = new Uint8Array(16 * 1024);
  let cutOff = false;
  void detected.then(() => {
    cutOff = true;
  });
  // Publish until the server reports it (bounded so a regression fails instead of hanging).
  for (let round = 0; round < 2000 && !cutOff; round++) {
    for (let i = 0; i < 64; i++) pub.publish('slow.x', payload);
    await pub.flush();
  }
  t.regex(await detected, /Slow Consumer Detected/);
  t.is(h.slowConsumers, 1);
  raw.destroy();
  await pub.close();
});

test('nats authorization - what a user block cannot hold is refused before any file is written; an empty list denies everything', (t) => {
  const ok = { user: 'u1', password: 'p-1', publish: ['sn.r.join'], subscribe: ['_INBOX.u1.>'] };
  const cases: [string, NatsUser, RegExp][] = [
    ['a quote in a password', { ...ok, password: 'p"1' }, /user "u1" or its password holds characters a config file cannot take/],
    ['a space in a user', { ...ok, user: 'u 1' }, /user "u 1" or its password/],
    ['a subject with a space', { ...ok, publish: ['sn.r. join'] }, /user u1: subject 'sn\.r\. join' contains whitespace/],
    ['a subject with > inside', { ...ok, subscribe: ['sn.>.x'] }, /has '>' before its last token/],
  ];
  for (const [label, u, why] of cases) t.regex(t.throws(() => renderAuthorization([u]))?.message ?? '', why, label);
  t.regex(t.throws(() => renderAuthorization([ok, ok]))?.message ?? '', /user u1 twice/);
  const text = renderAuthorization([{ ...ok, publish: [] }]);
  t.regex(text, /publish: \{ deny: \[">"\] \}/);
});

test.serial('nats authorization - a real nats-server enforces a rendered block: allowed subjects pass, the rest and an empty list are refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'splitnet-auth-'));
  const file = join(dir, 'auth.conf');
  writeFileSync(
    file,
    renderAuthorization([
      { user: 'watcher', password: 'w-pass', publish: [], subscribe: ['sn.r.>'] },
      { user: 'sender', password: 's-pass', publish: ['sn.r.ok'], subscribe: ['_INBOX.sender.>'], allowResponses: true },
    ]),
  );
  const server = await startNatsServer({ args: ['-c', file] });
  t.teardown(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const watcher = await connectNats({ servers: server.url, name: 'watcher', user: 'watcher', pass: 'w-pass' });
  const sender = await connectNats({ servers: server.url, name: 'sender', user: 'sender', pass: 's-pass', inboxPrefix: '_INBOX.sender' });
  const refused: TransportStatus[] = [];
  for (const c of [watcher, sender]) c.onStatus((st) => st.kind === 'error' && refused.push(st));
  const got: string[] = [];
  watcher.subscribe('sn.r.>', (_, subject) => got.push(subject));
  await watcher.flush();
  sender.publish('sn.r.not-ok', new Uint8Array([1]));
  watcher.publish('sn.r.ok', new Uint8Array([1])); // its publish list is empty: nothing
  const ok = new Promise<void>((res) => watcher.subscribe('sn.r.ok', () => res()));
  await watcher.flush();
  sender.publish('sn.r.ok', new Uint8Array([1]));
  await sender.flush();
  await ok;
  await watcher.flush();
  t.deepEqual(got, ['sn.r.ok']);
  t.true(
    refused.some((st) => st.detail.includes('sn.r.not-ok')),
    JSON.stringify(refused),
  );
  t.true(
    refused.some((st) => /publish/i.test(st.detail) && st.detail.includes('sn.r.ok')),
    JSON.stringify(refused),
  );
  await watcher.close();
  await sender.close();
});
