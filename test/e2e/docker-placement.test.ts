// Placement docker: the CLI starts a network, NATS and one container per actor through dockerode, runs, and removes them all.
import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSplitnetImage, dockerCli, exec, localNatsBase, removeLabelled, requireEngine, root } from './docker-helpers.js';

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

test.serial('docker placement - a 2-VM run in containers: results balanced, every VM served, nothing left behind', async (t) => {
  t.timeout(5 * 60_000);
  const dir = mkdtempSync(join(tmpdir(), 'splitnet-place-'));
  const scenario = join(dir, 's.yaml');
  writeFileSync(scenario, 'duration: 60ms\nwarmup: 20ms\ntopology: { vms: { count: 2, queues: 2 }, workers: 2 }\ntraffic: [ { flows: 16, rate: 100Mbps } ]\nlive: { tdf: 100, maxLag: 5ms }\n');
  const runId = `place-${runTag}`;
  const out = join(dir, 'out');
  const r = await exec(process.execPath, [cli, 'run', scenario, '--runtime', 'live', '--placement', 'docker', '--image', image, '--nats-image', localNatsBase, '--run-id', runId, '--out', out, '-q']);
  t.true(r.code === 0 || r.code === 3, r.stderr + r.stdout);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  t.true(summary.accounting.balanced, JSON.stringify(summary.accounting));
  t.is(summary.live.processes, 5, 'driver, 2 workers, 2 VMs');
  t.true(summary.interrupts.perVm.every((vm: { virqPerSec: number }) => vm.virqPerSec > 0));
  const left = await dockerCli(['ps', '-aq', '--filter', `label=splitnet.run=${runId}`]);
  t.is(left.stdout.trim(), '', 'no container left');
  const nets = await dockerCli(['network', 'ls', '-q', '--filter', `label=splitnet.run=${runId}`]);
  t.is(nets.stdout.trim(), '', 'no network left');
});

test.serial('docker placement - a missing image is a clear error before anything starts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'splitnet-place-'));
  const scenario = join(dir, 's.yaml');
  writeFileSync(scenario, 'duration: 10ms\n');
  const r = await exec(process.execPath, [cli, 'run', scenario, '--runtime', 'live', '--placement', 'docker', '--image', 'splitnet-test:does-not-exist', '--nats-image', localNatsBase, '--out', join(dir, 'o')]);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /splitnet image "splitnet-test:does-not-exist" is not on this Docker engine/);
});

test.serial('docker placement - VMs spread over two emulated nodes (own network and NATS server each, clustered) agree with processes', async (t) => {
  t.timeout(5 * 60_000);
  const dir = mkdtempSync(join(tmpdir(), 'splitnet-place-'));
  const scenario = join(dir, 's.yaml');
  writeFileSync(scenario, 'duration: 60ms\nwarmup: 20ms\ntopology: { vms: { count: 4, queues: 1 }, workers: 2 }\ntraffic: [ { flows: 16, rate: 100Mbps } ]\ncoalescing: { nic: { policy: static, usecs: 100 }, backend: { policy: static, usecs: 400, frames: 0 } }\n# TDF 200: a containerised run beside other test files must not be timing-sensitive (1 ms of jitter = 5 µs emulated).\nlive: { tdf: 200, maxLag: 5ms }\n');
  const runId = `nodes-${runTag}`;
  const docker = await exec(process.execPath, [cli, 'run', scenario, '--runtime', 'live', '--placement', 'docker', '--docker-nodes', '2', '--image', image, '--nats-image', localNatsBase, '--run-id', runId, '--out', join(dir, 'docker'), '--json']);
  const procs = await exec(process.execPath, [cli, 'run', scenario, '--runtime', 'live', '--out', join(dir, 'procs'), '--json']);
  t.true(docker.code === 0 || docker.code === 3, docker.stderr);
  t.true(procs.code === 0 || procs.code === 3, procs.stderr);
  const d = JSON.parse(docker.stdout).summary;
  const p = JSON.parse(procs.stdout).summary;
  t.log(`docker 2 nodes: ${d.throughput.gbps} Gbit/s, ${d.interrupts.virqPerSec} virq/s; processes: ${p.throughput.gbps} Gbit/s, ${p.interrupts.virqPerSec} virq/s`);
  t.true(d.accounting.balanced);
  t.is(d.interrupts.perVm.length, 4);
  t.true(Math.abs(d.throughput.gbps - p.throughput.gbps) <= 0.1 * p.throughput.gbps);
  t.true(Math.abs(d.interrupts.virqPerSec - p.interrupts.virqPerSec) <= 0.1 * p.interrupts.virqPerSec);
  const left = await dockerCli(['ps', '-aq', '--filter', `label=splitnet.run=${runId}`]);
  t.is(left.stdout.trim(), '');
  const nets = await dockerCli(['network', 'ls', '-q', '--filter', `label=splitnet.run=${runId}`]);
  t.is(nets.stdout.trim(), '');
});
