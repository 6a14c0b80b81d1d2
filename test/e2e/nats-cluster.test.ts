// deploy/nats-cluster.conf and nats-hub.conf + nats-leaf.conf as written: three routed servers (or a hub and two leaves) in containers, one emulation over all of them.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { derivedPassword } from '@splitnet/live';
import { connectNats } from '@splitnet/transport/nats';
import type { NatsTransport } from '@splitnet/transport/nats';
import { dockerCli, exec, localNatsBase, requireEngine, root, tail } from './docker-helpers.js';
import { completed } from './live-helpers.js';

// Everything this file creates carries these labels; the after hook removes it and checks nothing is left.
const runId = `${process.pid}-${Date.now().toString(36)}`;
const labelArgs = ['--label', 'splitnet.test=1', '--label', `splitnet.test.run=${runId}`];
const network = `splitnet-cluster-${runId}`;
const cli = join(root, 'packages/cli/dist/src/main.js');
/** deploy/nats.conf's passwords: a role's, or a process user's (derived from the controller's). */
const pass = (user: string) => (user.startsWith('sn-') ? derivedPassword('splitnet-controller-dev', user) : `splitnet-${user}-dev`);
let dir = '';

/**
 * One container per NATS server from the local nats base, running a config file of deploy/ (mounted read-only,
 * so its `include nats.conf` resolves as on a real host), reachable from the others by `alias` over one
 * network (the hosts' LAN) and from this machine on an ephemeral loopback port. Returns the client URLs.
 */
async function startServers(servers: readonly { alias: string; conf: string }[]): Promise<Record<string, string>> {
  const urls: Record<string, string> = {};
  for (const s of servers) {
    const name = `${network}-${s.alias}`;
    const r = await dockerCli([
      'run',
      '-d',
      '--pull',
      'never',
      ...labelArgs,
      '--name',
      name,
      '--network',
      network,
      '--network-alias',
      s.alias,
      '-p',
      '127.0.0.1::4222',
      '-v',
      `${join(root, 'deploy')}:/etc/splitnet:ro`,
      localNatsBase,
      '-c',
      `/etc/splitnet/${s.conf}`,
    ]);
    if (r.code !== 0) throw new Error(`docker run ${s.alias} failed:\n${tail(r)}`);
    const port = await dockerCli(['port', name, '4222/tcp']);
    const hostPort = /:(\d+)\s*$/m.exec(port.stdout)?.[1];
    if (port.code !== 0 || hostPort === undefined) throw new Error(`no published port for ${s.alias}:\n${tail(port)}`);
    urls[s.alias] = `nats://127.0.0.1:${hostPort}`;
  }
  return urls;
}

async function serverLogs(aliases: readonly string[]): Promise<string> {
  const out: string[] = [];
  for (const a of aliases) out.push(`--- ${a}:\n${tail(await dockerCli(['logs', `${network}-${a}`]), 15)}`);
  return out.join('\n');
}

async function connectWhenUp(url: string, name: string, user: string): Promise<NatsTransport> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await connectNats({ servers: url, name, user, pass: pass(user), maxReconnectAttempts: 0 });
    } catch (err) {
      if (attempt >= 100) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * Waits until a message published on any server reaches a subscriber on every other one: the routes (or leaf
 * connections) are up and have exchanged their subscriptions. Returns connections, one per server.
 */
async function awaitMesh(t: ExecutionContext, urls: Record<string, string>): Promise<Map<string, NatsTransport>> {
  const conns = new Map<string, NatsTransport>();
  for (const [alias, url] of Object.entries(urls)) conns.set(alias, await connectWhenUp(url, `probe ${alias}`, 'controller'));
  const heard = new Set<string>();
  // The run claim subjects (sn.<run>.run) are the controller's to publish and read: one "run" per server alias.
  for (const [alias, c] of conns) c.subscribe(`sn.${alias}.run`, (data) => heard.add(`${new TextDecoder().decode(data)}->${alias}`));
  for (const c of conns.values()) await c.flush();
  const want = [...conns.keys()].flatMap((from) => [...conns.keys()].filter((to) => to !== from).map((to) => `${from}->${to}`));
  for (let round = 0; want.some((w) => !heard.has(w)); round++) {
    if (round > 150)
      throw new Error(`servers not meshed after 30 s: missing ${want.filter((w) => !heard.has(w)).join(', ')}\n${await serverLogs([...conns.keys()])}`);
    for (const [from, c] of conns) for (const to of conns.keys()) if (to !== from) c.publish(`sn.${to}.run`, new TextEncoder().encode(from));
    for (const c of conns.values()) await c.flush();
    await new Promise((r) => setTimeout(r, 200));
  }
  t.log(`meshed: ${want.length} paths`);
  return conns;
}

function run(args: string[], user: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, SPLITNET_NATS_USER: user, SPLITNET_NATS_PASSWORD: pass(user) } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => res({ code, stdout, stderr }));
  });
}

type Summary = {
  accounting: { balanced: boolean; unaccounted: number; delivered: number };
  throughput: { perVm: { vm: number; pps: number }[] };
  interrupts: { perVm: { vm: number; virqPerSec: number }[] };
  cpu: Record<string, number>;
};

/**
 * A live run whose controller and actors each connect to the server named in `where` (role → server alias):
 * actors joined through the join protocol, sized by --expect. Checks the accounting and that every VM delivered.
 */
async function emulateAcross(
  t: ExecutionContext,
  urls: Record<string, string>,
  controllerAt: string,
  where: readonly [string, string][],
  tag: string,
): Promise<Summary> {
  const scenario = join(dir, `${tag}.yaml`);
  writeFileSync(
    scenario,
    'duration: 40ms\nwarmup: 10ms\ntopology: { vms: { queues: 1 } }\ntraffic: [ { flows: 12, rate: 100Mbps } ]\nlive: { tdf: 100, maxLag: 5ms }\n',
  );
  const id = `${tag}-${process.pid}`;
  const out = join(dir, tag);
  const count = (role: string) => where.filter(([r]) => r === role).length;
  const controller = run(
    [
      'run',
      scenario,
      '--runtime',
      'live',
      '--placement',
      'external',
      '--nats',
      urls[controllerAt] as string,
      '--run-id',
      id,
      '--out',
      out,
      '--join-window',
      '500ms',
      '--expect',
      `frontend=${count('frontend')}`,
      '--expect',
      `worker=${count('worker')}`,
      '-q',
    ],
    'controller',
  );
  const actors = where.map(([role, at]) => run(['actor', '--run', id, '--nats', urls[at] as string, '--role', role], role));
  const r = await controller;
  const a = await Promise.all(actors);
  t.true(completed(r), `controller exit ${r.code}\n${r.stderr}`);
  t.deepEqual(
    a.map((x) => x.code),
    where.map(() => 0),
    a.map((x) => x.stderr).join('\n'),
  );
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
  t.true(summary.accounting.balanced, JSON.stringify(summary.accounting));
  t.is(summary.accounting.unaccounted, 0);
  t.deepEqual(
    summary.throughput.perVm.map((v) => v.vm),
    [...Array(count('frontend')).keys()],
  );
  for (const v of summary.throughput.perVm) t.true(v.pps > 0, `vm ${v.vm} delivered nothing`);
  for (const v of summary.interrupts.perVm) t.true(v.virqPerSec > 0, `vm ${v.vm} took no virtual interrupt`);
  t.is(Object.keys(summary.cpu).filter((k) => k.startsWith('dom0.worker')).length, count('worker'));
  return summary;
}

test.before('nats cluster - the engine is there; the local nats base is built; one network for the servers', async (t) => {
  t.timeout(5 * 60_000);
  await requireEngine();
  const bases = await exec('bash', [join(root, 'docker/build-local-bases.sh')]);
  if (bases.code !== 0) throw new Error(`docker/build-local-bases.sh failed:\n${tail(bases)}`);
  const net = await dockerCli(['network', 'create', ...labelArgs, network]);
  if (net.code !== 0) throw new Error(`docker network create failed:\n${tail(net)}`);
  dir = mkdtempSync(join(tmpdir(), 'splitnet-cluster-'));
});

test.after.always('nats cluster - every container and network of the test is removed', async (t) => {
  if ((await dockerCli(['info'])).code !== 0) return;
  const filter = ['--filter', `label=splitnet.test.run=${runId}`];
  const containers = (await dockerCli(['ps', '-aq', ...filter])).stdout.split('\n').filter(Boolean);
  if (containers.length > 0) await dockerCli(['rm', '-f', ...containers]);
  const networks = (await dockerCli(['network', 'ls', '-q', ...filter])).stdout.split('\n').filter(Boolean);
  if (networks.length > 0) await dockerCli(['network', 'rm', ...networks]);
  t.is((await dockerCli(['ps', '-aq', ...filter])).stdout.trim(), '', 'containers left behind');
  t.is((await dockerCli(['network', 'ls', '-q', ...filter])).stdout.trim(), '', 'networks left behind');
  t.is((await dockerCli(['volume', 'ls', '-q', ...filter])).stdout.trim(), '', 'volumes left behind');
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

test.serial('nats cluster - three servers from nats-cluster.conf route to each other; the per-role permissions hold across them', async (t) => {
  t.timeout(5 * 60_000);
  const urls = await startServers(['nats-1', 'nats-2', 'nats-3'].map((alias) => ({ alias, conf: 'nats-cluster.conf' })));
  const conns = await awaitMesh(t, urls);
  try {
    // The users of nats.conf (included) on every server: a stranger is refused; the front end's join login on
    // nats-2 reaches neither a VM's control subject nor a worker's packet inbox on nats-1, only the join subject.
    const stranger = await t.throwsAsync(connectNats({ servers: urls['nats-3'] as string, name: 'stranger', maxReconnectAttempts: 0 }));
    t.regex(String(stranger?.message), /authori[sz]ation/i);
    const c1 = conns.get('nats-1') as NatsTransport;
    const vm0 = await connectWhenUp(urls['nats-1'] as string, 'vm.0', 'sn-vm-0');
    const worker0 = await connectWhenUp(urls['nats-1'] as string, 'worker.0', 'sn-worker-0');
    let leaked = 0;
    vm0.subscribe('sn.c.ctl.vm.0', () => leaked++);
    worker0.subscribe('sn.c.worker.0.from.>', () => leaked++);
    const joined = new Promise<void>((res) => c1.subscribe('sn.c.join', () => res()));
    for (const c of [c1, vm0, worker0]) await c.flush();
    const frontend = await connectWhenUp(urls['nats-2'] as string, 'frontend', 'frontend');
    frontend.publish('sn.c.ctl.vm.0', new TextEncoder().encode('{"kind":"stop"}')); // denied by nats-2
    frontend.publish('sn.c.worker.0.from.backend', new Uint8Array([1])); // denied by nats-2
    frontend.publish('sn.c.join', new Uint8Array([1])); // allowed, routed to nats-1 after the denied ones
    await frontend.flush();
    await joined;
    for (const c of [c1, vm0, worker0]) await c.flush();
    t.is(leaked, 0, "a front end on another server reached a VM's control or a worker's packet inbox");
    for (const c of [frontend, vm0, worker0]) await c.close();
  } finally {
    for (const c of conns.values()) await c.close();
  }
  // The controller on nats-1; the driver, workers and VMs spread over all three.
  await emulateAcross(
    t,
    urls,
    'nats-1',
    [
      ['driver', 'nats-2'],
      ['worker', 'nats-3'],
      ['worker', 'nats-1'],
      ['frontend', 'nats-1'],
      ['frontend', 'nats-2'],
      ['frontend', 'nats-3'],
    ],
    'cluster',
  );
});

test.serial('nats cluster - a hub (nats-hub.conf) and two leaves (nats-leaf.conf): one run over all three', async (t) => {
  t.timeout(5 * 60_000);
  const urls = await startServers([
    { alias: 'nats-hub', conf: 'nats-hub.conf' },
    { alias: 'leaf-a', conf: 'nats-leaf.conf' },
    { alias: 'leaf-b', conf: 'nats-leaf.conf' },
  ]);
  const conns = await awaitMesh(t, urls);
  try {
    const stranger = await t.throwsAsync(connectNats({ servers: urls['leaf-b'] as string, name: 'stranger', maxReconnectAttempts: 0 }));
    t.regex(String(stranger?.message), /authori[sz]ation/i, 'a leaf enforces the users of nats.conf');
  } finally {
    for (const c of conns.values()) await c.close();
  }
  // The controller on the hub, as a user would run it; each "host" (leaf) has a worker and VMs.
  await emulateAcross(
    t,
    urls,
    'nats-hub',
    [
      ['driver', 'leaf-a'],
      ['worker', 'leaf-a'],
      ['worker', 'leaf-b'],
      ['frontend', 'leaf-a'],
      ['frontend', 'leaf-b'],
      ['frontend', 'nats-hub'],
    ],
    'leaf',
  );
});
