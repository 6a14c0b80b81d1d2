// Container fault actions end to end: a docker-placed live run whose emulated node is paused (docker pause) and cut from its network (docker network disconnect).
import test from 'ava';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSplitnetImage, dockerCli, exec, localNatsBase, removeLabelled, requireEngine, root } from './docker-helpers.js';

const runTag = `${process.pid}-${Date.now().toString(36)}`;
const labels = ['--label', 'splitnet.test=1', '--label', `splitnet.test.run=${runTag}`];
const image = `splitnet-test:dfaults-${runTag}`;
const cli = join(root, 'packages/cli/dist/src/main.js');

interface LoggedEvent {
  t: number;
  actor: string;
  kind: string;
  detail: Record<string, unknown>;
}

test.before('faults docker - the engine is running; build the image', async (t) => {
  t.timeout(15 * 60_000, 'building the splitnet image');
  await requireEngine();
  await buildSplitnetImage(image, labels);
});

test.after.always('faults docker - remove the test image', async () => {
  await removeLabelled(`splitnet.test.run=${runTag}`);
});

test.serial('faults docker - node:b paused (docker pause) and cut from its network (docker network disconnect): the actions ran on its containers, the run completes, every packet is accounted, nothing left behind', async (t) => {
  t.timeout(5 * 60_000);
  const dir = mkdtempSync(join(tmpdir(), 'splitnet-dfaults-'));
  const scenario = join(dir, 's.yaml');
  // Two emulated nodes, spread: node 0 holds the driver, worker 0 and VMs 0 and 2; node 1 (node:b) holds
  // worker 1 and VMs 1 and 3. TDF 200: each 10 ms fault lasts 2 s of wall time, under the controller's
  // 5 s heartbeat limit for actors it did not start, yet long against Docker's and NATS's reactions.
  writeFileSync(
    scenario,
    `name: docker-faults
duration: 100ms
warmup: 10ms
sampleInterval: 5ms
topology: { vms: { count: 4, queues: 1 }, workers: 2 }
traffic: [ { flows: 16, rate: 100Mbps } ]
coalescing: { nic: { policy: static, usecs: 100 }, backend: { policy: static, usecs: 400, frames: 0 } }
live: { tdf: 200, maxLag: 5ms }
faults:
  - { id: freeze, at: 20ms, duration: 10ms, target: node:1, action: pause }
  - { id: cut, at: 50ms, duration: 10ms, target: node:b, action: partition }
`,
  );
  const runId = `dfaults-${runTag}`;
  const out = join(dir, 'out');
  const r = await exec(process.execPath, [cli, 'run', scenario, '--runtime', 'live', '--placement', 'docker', '--docker-nodes', '2', '--image', image, '--nats-image', localNatsBase, '--run-id', runId, '--out', out, '--json']);
  t.log(r.stderr.split('\n').slice(-15).join('\n'));
  t.log(readFileSync(join(out, 'logs', 'controller.log'), 'utf8').split('\n').filter((l) => /fault|silent|nats/.test(l)).join('\n'));
  // 3: valid results, but actors fell behind the lag bound (a frozen node does that).
  t.true(r.code === 0 || r.code === 3, r.stderr + r.stdout);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  const events = readFileSync(join(out, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LoggedEvent);
  t.log(JSON.stringify({ drops: summary.drops, accounting: summary.accounting, faults: summary.faults }, null, 1));
  t.log(events.filter((e) => e.actor === 'controller' && !e.kind.startsWith('actor-')).map((e) => `${e.t} ${e.kind} ${JSON.stringify(e.detail)}`).join('\n'));

  t.true(summary.accounting.balanced, JSON.stringify(summary.accounting));
  t.true(summary.accounting.delivered > 0);
  t.deepEqual(summary.faults.timeline.map((x: Record<string, unknown>) => [x['id'], x['action'], x['target']]), [
    ['freeze', 'pause', 'node:1'],
    ['cut', 'partition', 'node:1'],
  ]);
  // Docker carried out each step on node 1's three actor containers, and on nothing else.
  const node1 = [`splitnet-${runId}-worker-1`, `splitnet-${runId}-frontend-1`, `splitnet-${runId}-frontend-3`].sort();
  for (const kind of ['node-pause', 'node-unpause', 'node-disconnect', 'node-reconnect']) {
    const e = events.find((x) => x.kind === kind);
    t.truthy(e, `${kind} in ${events.map((x) => x.kind).join(', ')}`);
    const line = String(e?.detail['line']);
    const names = line.slice(line.indexOf(': ') + 2).split(';')[0]?.split(', ').sort();
    t.deepEqual(names, node1, line);
  }
  // Reconnected, each container got its old address back, so its TCP connection to NATS could resume.
  t.notRegex(String(events.find((x) => x.kind === 'node-reconnect')?.detail['line']), /new address/);
  t.false(events.some((e) => e.kind === 'fault-failed' || e.kind === 'fault-skipped'), JSON.stringify(events.filter((e) => e.kind.startsWith('fault-'))));
  t.true(events.some((e) => e.kind === 'node-disconnect' && String(e.detail['line']).startsWith(`docker network disconnect splitnet-${runId}-node1: `)));
  // Containers are not processes of the controller's: nothing was restarted.
  t.is(summary.faults.restarts, 0);
  // The drops add up, with a reason each.
  t.is(summary.drops.total, Object.entries(summary.drops).filter(([k]) => k !== 'total').reduce((n, [, v]) => n + (v as number), 0));
  t.is(summary.drops['lost-in-crash'], 0);
  // Half the guests (and a worker) stood still or were unreachable for two whole sample intervals:
  // throughput dipped during each fault, and came back (the run's last samples are complete).
  for (const rec of summary.faults.recovery as Record<string, unknown>[]) {
    t.true((rec['minGbps'] as number) < (rec['preFaultGbps'] as number), JSON.stringify(rec));
    t.not(rec['recoveryMs'], 'not recovered', JSON.stringify(rec));
  }
  for (const f of readdirSync(join(out, 'logs'))) {
    t.log(f, readFileSync(join(out, 'logs', f), 'utf8').split('\n').filter((l) => /nats|silent|stopped/i.test(l)).join('\n'));
  }

  const left = await dockerCli(['ps', '-aq', '--filter', `label=splitnet.run=${runId}`]);
  t.is(left.stdout.trim(), '', 'no container left');
  const nets = await dockerCli(['network', 'ls', '-q', '--filter', `label=splitnet.run=${runId}`]);
  t.is(nets.stdout.trim(), '', 'no network left');
});
