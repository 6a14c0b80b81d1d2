// deploy/nats-tls.conf with a throwaway CA: TLS clients with the CA get in and run a whole emulation; plaintext and untrusting clients are refused.
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectNats } from '@splitnet/transport/nats';
import { startNatsServer } from '@splitnet/transport/nats-server';
import type { NatsServerHandle } from '@splitnet/transport/nats-server';
import { completed } from './live-helpers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const conf = join(root, 'deploy/nats-tls.conf');
const cli = join(root, 'packages/cli/dist/src/main.js');
const pass = (user: string) => `splitnet-${user}-dev`;

let dir = '';
let ca = '';
let server: NatsServerHandle;
let tlsUrl = '';

/** A CA, and a server certificate it signs for 127.0.0.1 and localhost, made with openssl for this test only. */
function makeCertificates(into: string): { ca: string; cert: string; key: string } {
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: into, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=splitnet test CA']);
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server-key.pem', '-out', 'server.csr', '-subj', '/CN=localhost']);
    writeFileSync(join(into, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    openssl([
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca-key.pem',
      '-CAcreateserial',
      '-out',
      'server-cert.pem',
      '-days',
      '1',
      '-extfile',
      'san.ext',
    ]);
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer };
    throw new Error(e.code === 'ENOENT' ? 'openssl is not installed (apt-get install -y openssl)' : `openssl failed: ${e.stderr?.toString() ?? String(err)}`);
  }
  return { ca: join(into, 'ca.pem'), cert: join(into, 'server-cert.pem'), key: join(into, 'server-key.pem') };
}

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'splitnet-tls-'));
  const c = makeCertificates(dir);
  ca = c.ca;
  // The deploy file itself: it names the certificate and key through these variables.
  server = await startNatsServer({ args: ['-c', conf], env: { SPLITNET_NATS_TLS_CERT: c.cert, SPLITNET_NATS_TLS_KEY: c.key } });
  tlsUrl = server.url.replace(/^nats:/, 'tls:');
});
test.after.always(async () => {
  await server?.stop();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

test.serial('nats tls - a plaintext client is refused: the server answers its CONNECT and PING with no PONG and closes', async (t) => {
  const { info, rest } = await new Promise<{ info: string; rest: string }>((res, rej) => {
    const sock = tcpConnect(server.port, server.host);
    let got = '';
    let sent = false;
    sock.on('data', (d: Buffer) => {
      got += d.toString();
      if (!sent && got.includes('\r\n')) {
        sent = true;
        // What a client that ignores tls_required would send: credentials in the clear.
        sock.write(`CONNECT {"user":"controller","pass":"${pass('controller')}","verbose":false}\r\nPING\r\n`);
      }
    });
    sock.on('error', () => {}); // a reset after the server gives up is the refusal itself
    sock.on('close', () => {
      const nl = got.indexOf('\r\n');
      if (nl < 0) rej(new Error(`no INFO from the server: ${JSON.stringify(got)}`));
      else res({ info: got.slice(0, nl), rest: got.slice(nl + 2) });
    });
  });
  t.regex(info, /^INFO .*"tls_required":true/);
  t.notRegex(rest, /PONG/, 'the plaintext client was served');
});

test.serial('nats tls - a client that does not trust the CA is refused, with a message saying why', async (t) => {
  const err = await t.throwsAsync(connectNats({ servers: tlsUrl, name: 'untrusting', user: 'controller', pass: pass('controller'), maxReconnectAttempts: 0 }));
  t.regex(String(err?.message), /^TLS with NATS at tls:\/\/.* failed: .*certificate/);
});

test.serial('nats tls - a tls:// URL refuses a server without TLS instead of talking in the clear', async (t) => {
  const plain = await startNatsServer({});
  try {
    const err = await t.throwsAsync(connectNats({ servers: plain.url.replace(/^nats:/, 'tls:'), name: 'careful', maxReconnectAttempts: 0 }));
    t.regex(String(err?.message), /does not offer TLS/);
  } finally {
    await plain.stop();
  }
});

function run(args: string[], user: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: root,
      env: { ...process.env, SPLITNET_NATS_USER: user, SPLITNET_NATS_PASSWORD: pass(user), ...env },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => res({ code, stderr }));
  });
}

test.serial('nats tls - an actor without SPLITNET_NATS_CA stops at once and says to set it', async (t) => {
  const r = await run(['actor', '--run', 'tls-none', '--nats', tlsUrl, '--role', 'worker'], 'worker', { SPLITNET_NATS_CA: '' });
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /TLS with NATS at tls:\/\/.*certificate.*set SPLITNET_NATS_CA/);
});

test.serial('nats tls - SPLITNET_NATS_CA naming a missing file is a usage error saying so', async (t) => {
  const missing = join(dir, 'no-such-ca.pem');
  const r = await run(['actor', '--run', 'tls-missing', '--nats', tlsUrl, '--role', 'worker'], 'worker', { SPLITNET_NATS_CA: missing });
  t.is(r.code, 2, r.stderr);
  t.true(r.stderr.includes(`SPLITNET_NATS_CA: no such file "${missing}"`), r.stderr);
});

test.serial('nats tls - a whole run over tls:// with SPLITNET_NATS_CA: every process connects, accounting balances, both VMs receive', async (t) => {
  const scenario = join(dir, 's.yaml');
  writeFileSync(
    scenario,
    'duration: 40ms\nwarmup: 10ms\ntopology: { vms: { queues: 1 } }\ntraffic: [ { flows: 8, rate: 100Mbps } ]\nlive: { tdf: 100, maxLag: 5ms }\n',
  );
  const runId = `tls-${process.pid}`;
  const out = join(dir, 'out');
  const env = { SPLITNET_NATS_CA: ca };
  const actor = (role: string) => run(['actor', '--run', runId, '--nats', tlsUrl, '--role', role], role, env);
  const controller = run(
    ['run', scenario, '--runtime', 'live', '--placement', 'external', '--nats', tlsUrl, '--run-id', runId, '--out', out, '--join-window', '1s', '-q'],
    'controller',
    env,
  );
  const actors = [actor('driver'), actor('worker'), actor('frontend'), actor('frontend')];
  const r = await controller;
  const a = await Promise.all(actors);
  t.true(completed(r), r.stderr);
  t.deepEqual(
    a.map((x) => x.code),
    [0, 0, 0, 0],
    a.map((x) => x.stderr).join('\n'),
  );
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
    accounting: { balanced: boolean; delivered: number };
    interrupts: { perVm: { vm: number; virqPerSec: number }[] };
    throughput: { perVm: { vm: number; pps: number }[] };
  };
  t.true(summary.accounting.balanced);
  t.true(summary.accounting.delivered > 0);
  t.deepEqual(
    summary.interrupts.perVm.map((v) => v.vm),
    [0, 1],
  );
  for (const v of summary.interrupts.perVm) t.true(v.virqPerSec > 0, `vm ${v.vm} took no virtual interrupt`);
  t.deepEqual(
    summary.throughput.perVm.map((v) => v.vm),
    [0, 1],
  );
  for (const v of summary.throughput.perVm) t.true(v.pps > 0, `vm ${v.vm} delivered nothing`);
});
