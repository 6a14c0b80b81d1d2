// Placement docker: the CLI starts networks, NATS and one container per actor through dockerode (on one engine or several), runs, and removes them all.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { connectNats } from '@splitnet/transport/nats';
import { join } from 'node:path';
import { completed, eventsOf, logLines, started, waitFor } from './live-helpers.js';
import { buildSplitnetImage, dockerCli, engineTcpProxy, exec, localNatsBase, removeLabelled, requireEngine, root } from './docker-helpers.js';

const runTag = `${process.pid}-${Date.now().toString(36)}`;
const labels = ['--label', 'splitnet.test=1', '--label', `splitnet.test.run=${runTag}`];
const image = `splitnet-test:place-${runTag}`;
const cli = join(root, 'packages/cli/dist/src/main.js');

test.before('docker placement - the engine is running; build the image', async (t) => {
  t.timeout(15 * 60_000, 'building the splitnet image');
  await requireEngine();
  await buildSplitnetImage(image, labels);
});

test.after.always('docker placement - remove the test image', async () => {
  await removeLabelled(`splitnet.test.run=${runTag}`);
});

/**
 * Run the scenario file with placement docker on this engine as `runId` (and `extra` flags); checks what every
 * such run must show: it completed (valid or not), accounting balanced, no container left. Returns its results.
 */
async function runFileInContainers(
  t: ExecutionContext,
  scenario: string,
  runId: string,
  extra: readonly string[] = [],
): Promise<{ out: string; summary: ReturnType<typeof JSON.parse> }> {
  const out = join(mkdtempSync(join(tmpdir(), 'splitnet-place-')), 'out');
  const r = await exec(process.execPath, [
    cli,
    'run',
    scenario,
    ...extra,
    '--runtime',
    'live',
    '--placement',
    'docker',
    '--image',
    image,
    '--nats-image',
    localNatsBase,
    '--run-id',
    runId,
    '--out',
    out,
    '-q',
  ]);
  t.true(completed(r), r.stderr + r.stdout);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  t.true(summary.accounting.balanced, JSON.stringify(summary.accounting));
  const left = await dockerCli(['ps', '-aq', '--filter', `label=splitnet.run=${runId}`]);
  t.is(left.stdout.trim(), '', 'no container left');
  return { out, summary };
}

/** Run `yaml` (a 2-VM scenario) as runFileInContainers does, and check that every VM was served. */
async function runInContainers(t: ExecutionContext, yaml: string, runId: string): Promise<{ out: string; summary: ReturnType<typeof JSON.parse> }> {
  const scenario = join(mkdtempSync(join(tmpdir(), 'splitnet-place-')), 's.yaml');
  writeFileSync(scenario, yaml);
  const res = await runFileInContainers(t, scenario, runId);
  t.true(res.summary.interrupts.perVm.every((vm: { virqPerSec: number }) => vm.virqPerSec > 0));
  return res;
}

test.serial('docker placement - a 2-VM run in containers: results balanced, every VM served, nothing left behind', async (t) => {
  t.timeout(5 * 60_000);
  const runId = `place-${runTag}`;
  const { summary } = await runInContainers(
    t,
    'duration: 60ms\nwarmup: 20ms\ntopology: { vms: { count: 2, queues: 2 }, workers: 2 }\ntraffic: [ { flows: 16, rate: 100Mbps } ]\nlive: { tdf: 100, maxLag: 5ms }\n',
    runId,
  );
  t.is(summary.live.processes, 5, 'driver, 2 workers, 2 VMs');
  const nets = await dockerCli(['network', 'ls', '-q', '--filter', `label=splitnet.run=${runId}`]);
  t.is(nets.stdout.trim(), '', 'no network left');
});

test.serial(
  "docker placement - one container per Xen domain: the driver's runs the workers; a worker killed takes its domain's container down, which is restarted",
  async (t) => {
    t.timeout(5 * 60_000);
    const { out, summary } = await runInContainers(
      t,
      'duration: 100ms\nwarmup: 20ms\ntopology: { vms: { count: 2, queues: 2 }, workers: 2 }\ntraffic: [ { flows: 16, rate: 100Mbps } ]\n' +
        'live: { tdf: 100, maxLag: 5ms, processes: per-domain }\nfaults:\n  - { at: 40ms, target: worker:1, action: kill }\n',
      `place-pd-${runTag}`,
    );
    t.is(summary.live.processes, 3, 'the driver domain (NIC, back end, 2 workers) and 2 VMs');
    t.is(Object.keys(summary.cpu).filter((k: string) => k.includes('worker')).length, 2);
    // The kill hit the driver domain's container: it was restarted as a new container, once.
    const events = eventsOf(out);
    const domain = 'nic+backend+worker.0+worker.1';
    t.true(
      events.some((e) => e.kind === 'actor-restart' && e.actor === domain),
      JSON.stringify(events.filter((e) => e.kind.startsWith('actor-'))),
    );
    t.deepEqual(
      summary.live.restarted.map((x: { process: string }) => x.process),
      [domain],
    );
  },
);

test.serial(
  'docker placement - guest to guest (examples/vm-to-vm.yaml) in containers: the bridge forwards to guest 1, both accountings balance, nothing left behind',
  async (t) => {
    t.timeout(5 * 60_000);
    // Valid or not (the lag depends on the machine's load): the run completes and accounts for both directions.
    const { summary } = await runFileInContainers(t, join(root, 'examples/vm-to-vm.yaml'), `place-g2g-${runTag}`, [
      '--duration',
      '4ms',
      '--set',
      'warmup=1ms',
      '--tdf',
      '500',
    ]);
    t.is(summary.live.processes, 5, 'the driver, 2 workers and 2 VMs, each in its own container');
    t.not(summary.live.verdict, 'tainted', JSON.stringify(summary.live.tainted));
    t.true(summary.accounting.tx.balanced, JSON.stringify(summary.accounting.tx));
    t.true(summary.accounting.tx.toGuests > 0);
    t.true(summary.interrupts.perVm[1].virqPerSec > 0, 'guest 1 received');
  },
);

test.serial('docker placement - a missing image is a clear error before anything starts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'splitnet-place-'));
  const scenario = join(dir, 's.yaml');
  writeFileSync(scenario, 'duration: 10ms\n');
  const r = await exec(process.execPath, [
    cli,
    'run',
    scenario,
    '--runtime',
    'live',
    '--placement',
    'docker',
    '--image',
    'splitnet-test:does-not-exist',
    '--nats-image',
    localNatsBase,
    '--out',
    join(dir, 'o'),
  ]);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /splitnet image "splitnet-test:does-not-exist" is not on this Docker engine/);
});

test.serial(
  'docker placement - a run over two emulated nodes (--docker-nodes 2) agrees with processes on throughput and virq/s (10 %), balances, and leaves no container or network behind',
  async (t) => {
    t.timeout(5 * 60_000);
    const dir = mkdtempSync(join(tmpdir(), 'splitnet-place-'));
    const scenario = join(dir, 's.yaml');
    writeFileSync(
      scenario,
      'duration: 60ms\nwarmup: 20ms\ntopology: { vms: { count: 4, queues: 1 }, workers: 2 }\ntraffic: [ { flows: 16, rate: 100Mbps } ]\ncoalescing: { nic: { policy: static, usecs: 100 }, backend: { policy: static, usecs: 400, frames: 0 } }\n# TDF 200: a containerised run beside other test files must not be timing-sensitive (1 ms of jitter = 5 µs emulated).\nlive: { tdf: 200, maxLag: 5ms }\n',
    );
    const runId = `nodes-${runTag}`;
    const docker = await exec(process.execPath, [
      cli,
      'run',
      scenario,
      '--runtime',
      'live',
      '--placement',
      'docker',
      '--docker-nodes',
      '2',
      '--image',
      image,
      '--nats-image',
      localNatsBase,
      '--run-id',
      runId,
      '--out',
      join(dir, 'docker'),
      '--json',
    ]);
    const procs = await exec(process.execPath, [cli, 'run', scenario, '--runtime', 'live', '--out', join(dir, 'procs'), '--json']);
    t.true(completed(docker), docker.stderr);
    t.true(completed(procs), procs.stderr);
    const d = JSON.parse(docker.stdout).summary;
    const p = JSON.parse(procs.stdout).summary;
    t.log(
      `docker 2 nodes: ${d.throughput.gbps} Gbit/s, ${d.interrupts.virqPerSec} virq/s; processes: ${p.throughput.gbps} Gbit/s, ${p.interrupts.virqPerSec} virq/s`,
    );
    t.true(d.accounting.balanced);
    t.is(d.interrupts.perVm.length, 4);
    t.true(Math.abs(d.throughput.gbps - p.throughput.gbps) <= 0.1 * p.throughput.gbps);
    t.true(Math.abs(d.interrupts.virqPerSec - p.interrupts.virqPerSec) <= 0.1 * p.interrupts.virqPerSec);
    const left = await dockerCli(['ps', '-aq', '--filter', `label=splitnet.run=${runId}`]);
    t.is(left.stdout.trim(), '');
    const nets = await dockerCli(['network', 'ls', '-q', '--filter', `label=splitnet.run=${runId}`]);
    t.is(nets.stdout.trim(), '');
  },
);

/** What is labelled with `label` on the engine: containers and networks, one id a line (empty when nothing). */
async function labelled(label: string): Promise<string> {
  const cs = await dockerCli(['ps', '-aq', '--filter', `label=${label}`]);
  const ns = await dockerCli(['network', 'ls', '-q', '--filter', `label=${label}`]);
  return (cs.stdout + ns.stdout).trim();
}

/**
 * A run over two endpoints of the local engine; `advertise`, when given, is passed as --docker-advertise for
 * both (else the default, the bridge gateway, applies) and must be where node 0's server published its ports.
 */
async function twoEngineRun(t: ExecutionContext, tag: string, advertise?: string, natsRestart = false): Promise<void> {
  t.timeout(5 * 60_000);
  const proxy = await engineTcpProxy();
  t.teardown(proxy.close);
  const dir = mkdtempSync(join(tmpdir(), 'splitnet-place-'));
  const scenario = join(dir, 's.yaml');
  // With natsRestart: both engines' NATS servers are killed at 25 ms and started again 5 ms (1 s) later; the
  // run goes on for 45 ms (9 s) after, for the clients (retrying every 2 s) and the routes to come back.
  const faults = natsRestart ? 'duration: 80ms\nfaults:\n  - { id: bus, at: 25ms, duration: 5ms, target: nats, action: nats-restart }\n' : 'duration: 60ms\n';
  writeFileSync(
    scenario,
    `${faults}warmup: 20ms\ntopology: { vms: { count: 4, queues: 1 }, workers: 2 }\ntraffic: [ { flows: 16, rate: 100Mbps } ]\nlive: { tdf: 200, maxLag: 5ms }\n`,
  );
  const runId = `${tag}-${runTag}`;
  const out = join(dir, 'out');
  // Watch the run's containers while it runs: which node each one is on, and whether node 1's server routed to node 0's.
  const seen = new Set<string>();
  let routed = '';
  let anonymous = '';
  let running = true;
  const watch = (async () => {
    while (running) {
      const ps = await dockerCli(['ps', '--filter', `label=splitnet.run=${runId}`, '--format', '{{.Label "splitnet.node"}} {{.Names}}']);
      for (const line of ps.stdout.split('\n').filter(Boolean)) seen.add(line);
      if (!routed) {
        const logs = await dockerCli(['logs', `splitnet-${runId}-nats1`]);
        routed = (logs.stdout + logs.stderr).split('\n').find((l) => /Route connection created/.test(l)) ?? '';
      }
      if (!anonymous) {
        // Node 0's client port, published beyond loopback: a client without the run's password is refused.
        const port = (await dockerCli(['port', `splitnet-${runId}-nats0`, '4222/tcp'])).stdout.trim().split('\n')[0] ?? '';
        const answer = port
          ? await connectNats({ servers: `nats://${port}`, name: 'intruder', maxReconnectAttempts: 0 }).then(
              (c) => {
                void c.close();
                return 'connected';
              },
              (e: unknown) => String(e),
            )
          : '';
        // A server still starting refuses the connection: ask again; any other answer is the verdict.
        if (answer && !/ECONNREFUSED|ECONNRESET|cannot reach/.test(answer)) anonymous = answer;
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  const r = await exec(process.execPath, [
    cli,
    'run',
    scenario,
    '--runtime',
    'live',
    '--placement',
    'docker',
    '--docker-host',
    'unix:///var/run/docker.sock',
    '--docker-host',
    proxy.url,
    ...(advertise ? ['--docker-advertise', `${advertise},${advertise}`] : []),
    '--image',
    image,
    '--nats-image',
    localNatsBase,
    '--run-id',
    runId,
    '--out',
    out,
    '--json',
  ]);
  running = false;
  await watch;
  t.true(completed(r), r.stderr + r.stdout);
  const summary = JSON.parse(r.stdout).summary;
  t.true(summary.accounting.balanced, JSON.stringify(summary.accounting));
  t.is(summary.interrupts.perVm.length, 4);
  t.true(
    summary.interrupts.perVm.every((vm: { virqPerSec: number }) => vm.virqPerSec > 0),
    'every VM delivered',
  );
  for (const v of [0, 1, 2, 3]) t.true(seen.has(`${v % 2} splitnet-${runId}-frontend-${v}`), `VM ${v} on node ${v % 2}: saw ${[...seen].join(', ')}`);
  t.true(seen.has(`1 splitnet-${runId}-nats1`));
  // Routes go between engines through the published route port on the advertised address (here the bridge
  // gateway, both engines being on this machine): node 1's server dialled node 0's.
  const up = readFileSync(join(out, 'logs', 'controller.log'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((e) => e.message === 'docker: node up');
  t.deepEqual(
    up.map((e) => [e.node, e.engine]),
    [
      [0, 'unix:///var/run/docker.sock'],
      [1, proxy.url],
    ],
  );
  t.regex(up[0].advertise, /^\d+\.\d+\.\d+\.\d+$/);
  t.not(up[0].advertise, '127.0.0.1', "loopback would be each container's own");
  if (advertise) t.is(up[0].advertise, advertise);
  t.true(routed.includes(`${up[0].advertise}:${up[0].routePort} - rid:`), routed);
  t.regex(anonymous, /authori[sz]ation/i);
  if (natsRestart) {
    // Both servers went and came back on their ports (the controller's URL and the routes' seeds stay
    // right); every VM delivered again afterwards, and the restart's dip recovered.
    const events = readFileSync(join(out, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; t: number; actor: string });
    for (const kind of ['nats-down', 'nats-up'])
      t.truthy(
        events.find((e) => e.kind === kind),
        kind,
      );
    t.false(events.some((e) => e.kind === 'fault-failed' || e.kind === 'nats-restart-failed'));
    const bus = (summary.faults.recovery as { id: string; recoveryMs: unknown }[]).find((x) => x.id === 'bus');
    t.truthy(bus, JSON.stringify(summary.faults.recovery));
    t.is(typeof bus?.recoveryMs, 'number', JSON.stringify(bus));
    t.true(readFileSync(join(out, 'logs', 'controller.log'), 'utf8').includes('"message":"nats reconnect"'));
  }
  t.is(await labelled(`splitnet.run=${runId}`), '', 'nothing left on the engine');
}

test.serial(
  'docker placement - two engine endpoints (the socket and a TCP port to it): one node each, VMs spread, NATS routed through published ports, both servers restarted mid-run and back on their ports, nothing left on either',
  async (t) => {
    await twoEngineRun(t, 'engines', undefined, true);
  },
);

test.serial('docker placement - two engine endpoints with --docker-advertise set to an address of this host: ports published and routed there', async (t) => {
  // An address of this host's own network interfaces (not loopback, not a Docker bridge), as a real host's would be.
  const own = Object.entries(networkInterfaces())
    .filter(([name]) => !/^(lo|docker|br-|veth)/.test(name))
    .flatMap(([, addrs]) => addrs ?? [])
    .find((a) => a.family === 'IPv4' && !a.internal);
  if (!own) throw new Error('this host has no non-loopback IPv4 address outside Docker bridges to advertise');
  await twoEngineRun(t, 'advertise', own.address);
});

test.serial(
  'docker placement - several engines: an engine that does not answer stops the run before anything is created; --docker-nodes with several is refused',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'splitnet-place-'));
    const scenario = join(dir, 's.yaml');
    writeFileSync(scenario, 'duration: 10ms\n');
    const runId = `dead-${runTag}`;
    // Port 1 on loopback: nothing listens there.
    const dead = await exec(process.execPath, [
      cli,
      'run',
      scenario,
      '--runtime',
      'live',
      '--placement',
      'docker',
      '--docker-host',
      'unix:///var/run/docker.sock,tcp://127.0.0.1:1',
      '--image',
      image,
      '--nats-image',
      localNatsBase,
      '--run-id',
      runId,
      '--out',
      join(dir, 'a'),
    ]);
    t.is(dead.code, 2, dead.stderr);
    t.regex(dead.stderr, /no Docker engine answers at tcp:\/\/127\.0\.0\.1:1/);
    t.is(await labelled(`splitnet.run=${runId}`), '');
    const both = await exec(process.execPath, [
      cli,
      'run',
      scenario,
      '--runtime',
      'live',
      '--placement',
      'docker',
      '--docker-host',
      'unix:///var/run/docker.sock',
      '--docker-host',
      'unix:///var/run/docker.sock',
      '--docker-nodes',
      '2',
      '--image',
      image,
      '--nats-image',
      localNatsBase,
      '--out',
      join(dir, 'b'),
    ]);
    t.is(both.code, 2, both.stderr);
    t.regex(both.stderr, /--docker-nodes 2 emulates nodes on one engine; with 2 --docker-host engines each engine is one node/);
    const adv = await exec(process.execPath, [
      cli,
      'run',
      scenario,
      '--runtime',
      'live',
      '--placement',
      'docker',
      '--docker-host',
      'unix:///var/run/docker.sock,tcp://127.0.0.1:1',
      '--docker-advertise',
      '127.0.0.1',
      '--image',
      image,
      '--nats-image',
      localNatsBase,
      '--out',
      join(dir, 'c'),
    ]);
    t.is(adv.code, 2, adv.stderr);
    t.regex(adv.stderr, /--docker-advertise: give one address per --docker-host, in the same order \(2 engine\(s\), 1 address\(es\)\)/);
  },
);

test.serial('docker placement - splitnet cleanup cleans every engine given, and names the one it could not reach', async (t) => {
  const proxy = await engineTcpProxy();
  t.teardown(proxy.close);
  const tag = `cleanup-${runTag}`;
  // A network as a crashed run leaves it (labelled managed, with its run).
  const made = await dockerCli(['network', 'create', '--label', 'splitnet.managed=1', '--label', `splitnet.run=${tag}`, `splitnet-${tag}`]);
  t.is(made.code, 0, made.stderr);
  // --run: only this test's run (other runs on this shared engine are not ours to remove).
  const r = await exec(process.execPath, [cli, 'cleanup', '--docker-host', `${proxy.url},tcp://127.0.0.1:1`, '--run', tag]);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /could not clean tcp:\/\/127\.0\.0\.1:1/);
  t.is(await labelled(`splitnet.run=${tag}`), '', 'removed through the engine that answered');
});

/**
 * Start a long run over two endpoints of the local engine, wait until both nodes have front ends, and send
 * `signal` to the controller; resolves once it exited, with what it printed and the endpoints it used.
 */
async function interruptedRun(
  t: ExecutionContext,
  tag: string,
  signal: NodeJS.Signals,
): Promise<{ runId: string; code: number | null; stderr: string; endpoints: string }> {
  t.timeout(3 * 60_000);
  const proxy = await engineTcpProxy();
  t.teardown(proxy.close);
  const dir = mkdtempSync(join(tmpdir(), 'splitnet-place-'));
  const scenario = join(dir, 's.yaml');
  // Long enough (10 s emulated = 2000 s of wall time at TDF 200) that only the signal ends it.
  writeFileSync(scenario, 'duration: 10s\ntopology: { vms: { count: 2, queues: 1 }, workers: 1 }\nlive: { tdf: 200 }\n');
  const runId = `${tag}-${runTag}`;
  const endpoints = `unix:///var/run/docker.sock,${proxy.url}`;
  const child = spawn(
    process.execPath,
    [
      cli,
      'run',
      scenario,
      '--runtime',
      'live',
      '--placement',
      'docker',
      '--docker-host',
      endpoints,
      '--image',
      image,
      '--nats-image',
      localNatsBase,
      '--run-id',
      runId,
      '--out',
      join(dir, 'out'),
      '-q',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  // Wait until both nodes have actor containers (the last front end is on node 1), then interrupt.
  let nodes = new Set<string>();
  for (let i = 0; i < 600 && nodes.size < 2; i++) {
    const ps = await dockerCli([
      'ps',
      '--filter',
      `label=splitnet.run=${runId}`,
      '--filter',
      'label=splitnet.role=frontend',
      '--format',
      '{{.Label "splitnet.node"}}',
    ]);
    nodes = new Set(ps.stdout.split('\n').filter(Boolean));
    if (nodes.size < 2) await new Promise((r) => setTimeout(r, 200));
  }
  t.deepEqual([...nodes].sort(), ['0', '1'], stderr);
  child.kill(signal);
  return { runId, code: await exited, stderr, endpoints };
}

test.serial('docker placement - Ctrl-C during a run over two engine endpoints removes everything from both', async (t) => {
  const r = await interruptedRun(t, 'sigint', 'SIGINT');
  t.not(r.code, 0, 'an interrupted run does not report success');
  t.is(await labelled(`splitnet.run=${r.runId}`), '', `nothing left on the engine; stderr: ${r.stderr}`);
});

test.serial('docker placement - after a controller crash over two engine endpoints, splitnet cleanup with both finds and removes what it left', async (t) => {
  const r = await interruptedRun(t, 'crash', 'SIGKILL');
  t.not(await labelled(`splitnet.run=${r.runId}`), '', 'a killed controller cannot clean up');
  const c = await exec(process.execPath, [cli, 'cleanup', '--docker-host', r.endpoints, '--run', r.runId]);
  t.is(c.code, 0, c.stderr);
  t.regex(c.stdout, /removed \d+ container\(s\)\/network\(s\) labelled splitnet\.run=/);
  t.is(await labelled(`splitnet.run=${r.runId}`), '');
});

/**
 * Which path each pair of neighbouring partitions took, as their logs' `started` lines say (docs/lockstep.md#direct-links),
 * checked: the sender and the receiver agree; partitions on one emulated node (one Docker network; the k-th partition
 * of the plan is on node k mod `nodes`) are on direct links; a pair across nodes is on a direct link if it connected,
 * else on the bus with the address it could not reach. Returns each pair's path ('a → b': 'direct' or why).
 */
function checkLinkPaths(t: ExecutionContext, out: string, partitions: readonly string[], nodes: number): Record<string, string> {
  const links = partitions.map((p) => {
    const started = logLines(join(out, 'logs', `${p}.log`)).find((l) => l['message'] === 'started');
    return (started?.['links'] ?? { to: {}, from: {} }) as { to: Record<string, string>; from: Record<string, string> };
  });
  const pairs: Record<string, string> = {};
  partitions.forEach((p, i) => {
    for (const [q, path] of Object.entries(links[i]?.to ?? {})) {
      const j = partitions.indexOf(q);
      const theirs = links[j]?.from[p];
      pairs[`${p} → ${q}`] = path;
      t.is(path === 'direct', theirs === 'direct', `${p} → ${q}: the sender says ${path}, the receiver ${String(theirs)}`);
      if (i % nodes === j % nodes) t.is(path, 'direct', `${p} → ${q}, on one node`);
      else if (path !== 'direct') t.regex(path, /^it could not connect: \d+\.\d+\.\d+\.\d+:\d+: /, `${p} → ${q}`);
    }
  });
  t.true(Object.keys(pairs).length > 0, 'no neighbours in the logs');
  return pairs;
}

/** The result files lockstep must write byte for byte as sim does. */
const RESULT_FILES = ['summary.json', 'metrics.jsonl', 'events.jsonl', 'latency.json'];

/** Two guests, the first sending to the second through the bridge (three partitions: the driver domain and each guest), 2 ms. */
const lockstepArgs = [join(root, 'examples/vm-to-vm.yaml'), '--duration', '2ms', '--set', 'warmup=500us', '-q'];

for (const nodes of [1, 2]) {
  test.serial(
    `docker placement - lockstep with a container per partition on ${nodes} emulated Docker node(s) writes summary, metrics, events and latency byte-identical to sim, a log per partition, and leaves no container`,
    async (t) => {
      t.timeout(5 * 60_000);
      const dir = mkdtempSync(join(tmpdir(), 'splitnet-lockstep-docker-'));
      const sim = await exec(process.execPath, [cli, 'run', ...lockstepArgs, '--out', join(dir, 'sim')]);
      t.is(sim.code, 0, sim.stderr);
      const runId = `lockstep-${nodes}-${runTag}`;
      const out = join(dir, 'lockstep');
      const placement = ['--placement', 'docker', '--docker-nodes', String(nodes), '--image', image, '--nats-image', localNatsBase];
      const ls = await exec(process.execPath, [cli, 'run', ...lockstepArgs, '--runtime', 'lockstep', ...placement, '--run-id', runId, '--out', out]);
      t.is(ls.code, 0, ls.stderr);
      for (const f of RESULT_FILES) t.is(readFileSync(join(out, f), 'utf8'), readFileSync(join(dir, 'sim', f), 'utf8'), f);
      const env = JSON.parse(readFileSync(join(out, 'environment.json'), 'utf8')) as { placement: string; dockerNodes: number; partitions: string[] };
      t.is(env.placement, 'docker');
      t.is(env.dockerNodes, nodes);
      t.is(env.partitions.length, 3);
      for (const p of env.partitions) t.true(existsSync(join(out, 'logs', `${p}.log`)), `${p}.log`);
      // Direct links between the partitions that reach each other (all, on one node), the bus between the others.
      t.log(checkLinkPaths(t, out, env.partitions, nodes));
      const left = await dockerCli(['ps', '-aq', '--filter', `label=splitnet.run=${runId}`]);
      t.is(left.stdout.trim(), '', 'no container left');
    },
  );
}

/** Three hosts on a switch, TCP across hosts and (from 1 ms) an incast into h0: one partition per host, h0's with the switch. */
const hostsArgs = [join(root, 'packages/lockstep/test/fixtures/three-hosts.yaml'), '--duration', '1100us', '--set', 'warmup=300us', '-q'];

test.serial(
  'docker placement - lockstep of a three-host scenario, a container per host on 2 emulated Docker nodes, writes summary, metrics, events and latency byte-identical to sim, and leaves no container',
  async (t) => {
    t.timeout(5 * 60_000);
    const dir = mkdtempSync(join(tmpdir(), 'splitnet-lockstep-docker-'));
    const sim = await exec(process.execPath, [cli, 'run', ...hostsArgs, '--out', join(dir, 'sim')]);
    t.is(sim.code, 0, sim.stderr);
    const runId = `lockstep-hosts-${runTag}`;
    const out = join(dir, 'lockstep');
    const placement = ['--placement', 'docker', '--docker-nodes', '2', '--image', image, '--nats-image', localNatsBase];
    const ls = await exec(process.execPath, [cli, 'run', ...hostsArgs, '--runtime', 'lockstep', ...placement, '--run-id', runId, '--out', out]);
    t.is(ls.code, 0, ls.stderr);
    for (const f of RESULT_FILES) t.is(readFileSync(join(out, f), 'utf8'), readFileSync(join(dir, 'sim', f), 'utf8'), f);
    const env = JSON.parse(readFileSync(join(out, 'environment.json'), 'utf8')) as { dockerNodes: number; partitions: string[] };
    t.is(env.dockerNodes, 2);
    t.deepEqual(
      env.partitions.map((p) => p.split('+')[0]),
      ['h0.nic', 'h1.nic', 'h2.nic'],
    );
    t.log(checkLinkPaths(t, out, env.partitions, 2));
    const left = await dockerCli(['ps', '-aq', '--filter', `label=splitnet.run=${runId}`]);
    t.is(left.stdout.trim(), '', 'no container left');
  },
);

test.serial(
  'docker placement - a lockstep partition whose container is killed mid-run ends the run with exit 1 naming it, its container and its log, which is kept, and leaves no container',
  async (t) => {
    t.timeout(5 * 60_000);
    const out = join(mkdtempSync(join(tmpdir(), 'splitnet-lockstep-docker-')), 'killed');
    const runId = `lockstep-killed-${runTag}`;
    const placement = ['--placement', 'docker', '--image', image, '--nats-image', localNatsBase];
    const r = started(['run', join(root, 'examples/quickstart.yaml'), '--runtime', 'lockstep', ...placement, '--run-id', runId, '--out', out, '-q']);
    const log = join(out, 'logs', 'vm.0.log');
    await waitFor('partition vm.0 to start running', () => logLines(log).some((l) => l['message'] === 'started'), 120_000);
    const kill = await dockerCli(['kill', `splitnet-${runId}-partition-vm.0`]);
    t.is(kill.code, 0, kill.stderr);
    const ended = await r.exit;
    t.is(ended.code, 1, ended.stderr);
    t.is(ended.stderr.trim().split('\n').length, 1, ended.stderr);
    t.regex(
      ended.stderr,
      /lockstep: partition vm\.0 \(container splitnet-.*-partition-vm\.0\) exited with code \d+ before the end of the run, .*\(its log: .*logs\/vm\.0\.log\)/,
    );
    t.true(existsSync(log));
    const left = await dockerCli(['ps', '-aq', '--filter', `label=splitnet.run=${runId}`]);
    t.is(left.stdout.trim(), '', 'no container left');
  },
);
