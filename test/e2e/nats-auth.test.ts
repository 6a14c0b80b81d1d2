// deploy/nats.conf as written: strangers are refused, a role's join login may only join, each process's own login only its own subjects; a whole run on them.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectNats } from '@splitnet/transport/nats';
import { startNatsServer } from '@splitnet/transport/nats-server';
import type { Transport, TransportStatus } from '@splitnet/transport';
import { deploymentConfig, derivedPassword, DEV_PASSWORDS } from '@splitnet/live';
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

/** A client of deploy/nats.conf that records what the server refused it (permission violations arrive as error statuses). */
async function client(user: string, password: string): Promise<{ t: Transport; refused: () => string }> {
  const t = await connectNats({ servers: server.url, name: user, user, pass: password, inboxPrefix: `_INBOX.${user}` });
  const statuses: TransportStatus[] = [];
  t.onStatus((s) => statuses.push(s));
  return {
    t,
    refused: () =>
      statuses
        .filter((s) => s.kind === 'error' && /permission/i.test(s.detail))
        .map((s) => s.detail)
        .join('\n'),
  };
}

const bytes = new TextEncoder().encode('{"kind":"stop"}');

test.serial("nats auth - the front end's join login may only ask to join: no control, no worker's packet inbox, no VM's inbox", async (t) => {
  const worker = await client('sn-worker-0', derivedPassword(pass('controller'), 'sn-worker-0'));
  const controller = await client('controller', pass('controller'));
  const frontend = await client('frontend', pass('frontend'));
  let leaked = 0;
  worker.t.subscribe('sn.r1.worker.0.from.>', () => leaked++);
  controller.t.subscribe('sn.r1.hello.>', () => leaked++);
  const joined = new Promise<void>((res) => controller.t.subscribe('sn.r1.join', () => res()));
  await worker.t.flush();
  await controller.t.flush();
  for (const subject of ['sn.r1.ctl.vm.0', 'sn.r1.worker.0.from.backend', 'sn.r1.worker.0.from.vm.0', 'sn.r1.hello.vm.0']) frontend.t.publish(subject, bytes);
  for (const subject of ['sn.r1.vm.0.from.>', 'sn.r1.vm.1.from.>', 'sn.*.vm.*.from.>', '_INBOX.>', '_INBOX.sn-vm-0.>'])
    frontend.t.subscribe(subject, () => leaked++);
  frontend.t.publish('sn.r1.join', bytes); // allowed, and sent after the denied ones
  await frontend.t.flush();
  await joined;
  await worker.t.flush();
  await controller.t.flush();
  t.is(leaked, 0, 'nothing the front end published reached a worker or the controller, and it read nothing');
  const refused = frontend.refused();
  for (const subject of ['sn.r1.ctl.vm.0', 'sn.r1.worker.0.from.backend', 'sn.r1.worker.0.from.vm.0', 'sn.r1.vm.1.from.>', '_INBOX.>'])
    t.true(refused.includes(subject), `${subject} refused:\n${refused}`);
  for (const c of [frontend, worker, controller]) await c.t.close();
});

test.serial("nats auth - a VM's own login (handed out at join) sends only as itself to workers and reads only its own inbox", async (t) => {
  const vm0 = await client('sn-vm-0', derivedPassword(pass('controller'), 'sn-vm-0'));
  const worker = await client('sn-worker-0', derivedPassword(pass('controller'), 'sn-worker-0'));
  const got: string[] = [];
  worker.t.subscribe('sn.r1.worker.0.from.>', (_, subject) => got.push(subject));
  await worker.t.flush();
  for (const subject of ['sn.r1.worker.0.from.backend', 'sn.r1.worker.0.from.vm.1', 'sn.r1.vm.1.from.worker.0']) vm0.t.publish(subject, bytes);
  vm0.t.subscribe('sn.r1.vm.1.from.>', () => got.push('vm.1 read'));
  vm0.t.subscribe('sn.r1.vm.0.from.>', () => {});
  const own = new Promise<void>((res) => worker.t.subscribe('sn.r1.worker.0.from.vm.0', () => res()));
  await worker.t.flush();
  vm0.t.publish('sn.r1.worker.0.from.vm.0', bytes);
  await vm0.t.flush();
  await own;
  await worker.t.flush();
  t.deepEqual(got, ['sn.r1.worker.0.from.vm.0'], 'only its own request reached the worker');
  const refused = vm0.refused();
  for (const subject of ['sn.r1.worker.0.from.backend', 'sn.r1.worker.0.from.vm.1', 'sn.r1.vm.1.from.worker.0', 'sn.r1.vm.1.from.>'])
    t.true(refused.includes(subject), `${subject} refused:\n${refused}`);
  t.false(refused.includes('sn.r1.vm.0.from.>'), 'its own inbox is its to read');
  for (const c of [vm0, worker]) await c.t.close();
});

test.serial('nats auth - deploy/nats.conf is what splitnet nats-config writes with the development passwords', (t) => {
  t.is(readFileSync(conf, 'utf8'), deploymentConfig(DEV_PASSWORDS, 16, 16));
});

function run(args: string[], user: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, SPLITNET_NATS_USER: user, SPLITNET_NATS_PASSWORD: pass(user) } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => res({ code, stderr }));
  });
}

test.serial("nats auth - a whole run works with every process on its role's credentials", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'splitnet-auth-'));
  const scenario = join(dir, 's.yaml');
  writeFileSync(
    scenario,
    'duration: 40ms\nwarmup: 10ms\ntopology: { vms: { queues: 1 } }\ntraffic: [ { flows: 8, rate: 100Mbps } ]\nlive: { tdf: 100, maxLag: 5ms }\n',
  );
  const runId = `auth-${process.pid}`;
  const out = join(dir, 'out');
  const controller = run(
    ['run', scenario, '--runtime', 'live', '--placement', 'external', '--nats', server.url, '--run-id', runId, '--out', out, '--join-window', '1s', '-q'],
    'controller',
  );
  const actors = [
    run(['actor', '--run', runId, '--nats', server.url, '--role', 'driver'], 'driver'),
    run(['actor', '--run', runId, '--nats', server.url, '--role', 'worker'], 'worker'),
    run(['actor', '--run', runId, '--nats', server.url, '--role', 'frontend'], 'frontend'),
    run(['actor', '--run', runId, '--nats', server.url, '--role', 'frontend'], 'frontend'),
  ];
  const r = await controller;
  const a = await Promise.all(actors);
  t.true(completed(r), r.stderr);
  t.deepEqual(
    a.map((x) => x.code),
    [0, 0, 0, 0],
    a.map((x) => x.stderr).join('\n'),
  );
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  t.true(summary.accounting.balanced);
  t.is(summary.interrupts.perVm.length, 2);
  t.true(summary.accounting.delivered > 0);
});
