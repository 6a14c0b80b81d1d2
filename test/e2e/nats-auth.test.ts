// deploy/nats.conf: per-role NATS users with subject permissions — a front end cannot publish control, strangers are refused.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectNats } from '@splitnet/transport/nats';
import { startNatsServer } from '@splitnet/transport/nats-server';
import type { TransportStatus } from '@splitnet/transport';
import type { NatsServerHandle } from '@splitnet/transport/nats-server';
import { completed } from './live-helpers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const conf = join(root, 'deploy/nats.conf');
const cli = join(root, 'packages/cli/dist/src/main.js');
const pass = (user: string) => `splitnet-${user}-dev`;

let server: NatsServerHandle;
test.before(async () => {
  server = await startNatsServer({ args: ['-c', conf] });
});
test.after.always(async () => {
  await server?.stop();
});

test.serial('nats auth - a client without credentials is refused', async (t) => {
  const err = await t.throwsAsync(connectNats({ servers: server.url, name: 'stranger', maxReconnectAttempts: 0 }));
  t.regex(String(err?.message), /authori[sz]ation/i);
});

test.serial('nats auth - a front end cannot publish on the control subjects, but can on its data subjects', async (t) => {
  const controller = await connectNats({ servers: server.url, name: 'controller', user: 'controller', pass: pass('controller') });
  const frontend = await connectNats({ servers: server.url, name: 'frontend', user: 'frontend', pass: pass('frontend') });
  const statuses: TransportStatus[] = [];
  frontend.onStatus((s) => statuses.push(s));
  let control = 0;
  let data = 0;
  controller.subscribe('sn.r1.ctl.all', () => control++);
  const dataSeen = new Promise<void>((res) => controller.subscribe('sn.r1.worker.0.in', () => (data++, res())));
  await controller.flush();
  frontend.publish('sn.r1.ctl.all', new TextEncoder().encode('{"kind":"stop"}')); // denied by the server
  frontend.publish('sn.r1.worker.0.in', new Uint8Array([1])); // allowed, and sent after the denied one
  await frontend.flush();
  await dataSeen;
  await controller.flush();
  t.is(data, 1);
  t.is(control, 0, 'the stop never reached the controller');
  t.true(statuses.some((s) => s.kind === 'error' && /permission/i.test(s.detail)), JSON.stringify(statuses));
  await frontend.close();
  await controller.close();
});

function run(args: string[], user: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, SPLITNET_NATS_USER: user, SPLITNET_NATS_PASSWORD: pass(user) } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => res({ code, stderr }));
  });
}

test.serial('nats auth - a whole run works with every process on its role\'s credentials', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'splitnet-auth-'));
  const scenario = join(dir, 's.yaml');
  writeFileSync(scenario, 'duration: 40ms\nwarmup: 10ms\ntopology: { vms: { queues: 1 } }\ntraffic: [ { flows: 8, rate: 100Mbps } ]\nlive: { tdf: 100, maxLag: 5ms }\n');
  const runId = `auth-${process.pid}`;
  const out = join(dir, 'out');
  const controller = run(['run', scenario, '--runtime', 'live', '--placement', 'external', '--nats', server.url, '--run-id', runId, '--out', out, '--join-window', '1s', '-q'], 'controller');
  const actors = [run(['actor', '--run', runId, '--nats', server.url, '--role', 'driver'], 'driver'), run(['actor', '--run', runId, '--nats', server.url, '--role', 'worker'], 'worker'), run(['actor', '--run', runId, '--nats', server.url, '--role', 'frontend'], 'frontend'), run(['actor', '--run', runId, '--nats', server.url, '--role', 'frontend'], 'frontend')];
  const r = await controller;
  const a = await Promise.all(actors);
  t.true(completed(r), r.stderr);
  t.deepEqual(a.map((x) => x.code), [0, 0, 0, 0], a.map((x) => x.stderr).join('\n'));
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  t.true(summary.accounting.balanced);
  t.is(summary.interrupts.perVm.length, 2);
  t.true(summary.accounting.delivered > 0);
});
