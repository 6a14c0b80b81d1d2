// deploy/docker-stack.yml on a one-node Swarm of the local engine: NATS cluster, controller and actors as services; the controller's results.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSplitnetImage, dockerCli, exec, docker, localNatsBase, removeLabelled, requireEngine, root, tail } from './docker-helpers.js';
import type { Result } from './docker-helpers.js';

const runId = `${process.pid}-${Date.now().toString(36)}`;
const labels = ['--label', 'splitnet.test=1', '--label', `splitnet.test.run=${runId}`];
const image = `splitnet-test:${runId}`;
const stack = `splitnet-stack-${runId}`;
const stackFile = join(root, 'deploy/docker-stack.yml');
const stackLabel = `label=com.docker.stack.namespace=${stack}`;
let results = '';
// The engine's swarm state is ours to undo only if this test created it.
let initialisedSwarm = false;
let gwbridgeExisted = true;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stackCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return exec(
    docker,
    args,
    {
      ...process.env,
      SPLITNET_IMAGE: image,
      NATS_IMAGE: localNatsBase,
      SPLITNET_RESULTS: results,
      SPLITNET_RUN_ID: 'stack',
      ...env,
    },
    join(root, 'deploy'),
  );
}

/** Polls until `f` returns a value, or throws `what` after `ms`. */
async function waitFor<T>(what: () => Promise<string>, ms: number, f: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(await what());
    await sleep(1000);
  }
}

async function leftovers(): Promise<{ containers: string; networks: string; volumes: string }> {
  return {
    containers: (await dockerCli(['ps', '-aq', '--filter', stackLabel])).stdout.trim(),
    networks: (await dockerCli(['network', 'ls', '-q', '--filter', stackLabel])).stdout.trim(),
    volumes: (await dockerCli(['volume', 'ls', '-q', '--filter', stackLabel])).stdout.trim(),
  };
}

test.before('swarm - the engine is there, a one-node swarm, the image built', async (t) => {
  t.timeout(15 * 60_000, 'building the splitnet image');
  await requireEngine();
  const state = (await dockerCli(['info', '--format', '{{.Swarm.LocalNodeState}}'])).stdout.trim();
  gwbridgeExisted = (await dockerCli(['network', 'inspect', 'docker_gwbridge'])).code === 0;
  if (state === 'inactive') {
    // Loopback: this node is alone and must not offer the swarm on the machine's network.
    const init = await dockerCli(['swarm', 'init', '--advertise-addr', '127.0.0.1', '--listen-addr', '127.0.0.1:2377']);
    if (init.code !== 0) throw new Error(`docker swarm init failed:\n${tail(init)}`);
    initialisedSwarm = true;
  } else if (state !== 'active') {
    throw new Error(`the engine's swarm is "${state}": expected inactive (the test makes a one-node swarm) or active`);
  }
  t.log(await buildSplitnetImage(image, labels));
  results = mkdtempSync(join(tmpdir(), 'splitnet-stack-'));
  if (process.getuid?.() === 0) chownSync(results, 1000, 1000);
  else chmodSync(results, 0o777);
});

test.after.always('swarm - stack rm removes every service, container and network; the swarm is left as found', async (t) => {
  t.timeout(5 * 60_000);
  if ((await dockerCli(['info'])).code !== 0) return;
  if ((await dockerCli(['info', '--format', '{{.Swarm.LocalNodeState}}'])).stdout.trim() === 'active') {
    await stackCli(['stack', 'rm', stack]);
    // Removal is asynchronous: containers stop, then the network goes.
    const left = await waitFor(
      async () => JSON.stringify(await leftovers()),
      90_000,
      async () => {
        const l = await leftovers();
        return l.containers === '' && l.networks === '' ? l : undefined;
      },
    ).catch((err: unknown) => ({ containers: String(err), networks: '', volumes: '' }));
    t.is(left.containers, '', 'containers left behind');
    t.is(left.networks, '', 'networks left behind');
    t.is(left.volumes, '', 'volumes left behind');
  }
  if (initialisedSwarm) {
    const leave = await dockerCli(['swarm', 'leave', '--force']);
    t.is(leave.code, 0, tail(leave));
    // Swarm mode creates this bridge and leaving does not remove it.
    if (!gwbridgeExisted) await dockerCli(['network', 'rm', 'docker_gwbridge']);
  }
  const images = await removeLabelled(`splitnet.test.run=${runId}`);
  t.is(images.images, '', 'images left behind');
  if (results !== '') rmSync(results, { recursive: true, force: true });
});

async function controllerState(): Promise<string> {
  return (await dockerCli(['service', 'ps', `${stack}_controller`, '--no-trunc', '--format', '{{.CurrentState}} {{.Error}}'])).stdout.trim();
}

async function explain(): Promise<string> {
  const ps = await dockerCli(['stack', 'ps', stack, '--no-trunc', '--format', '{{.Name}} {{.CurrentState}} {{.Error}}']);
  const logs = await dockerCli(['service', 'logs', '--raw', `${stack}_controller`]);
  return `${ps.stdout}\n--- controller:\n${tail(logs, 30)}`;
}

test.serial('swarm - stack deploy with 3 VMs: NATS cluster and actors as services, the controller completes, results balance', async (t: ExecutionContext) => {
  t.timeout(10 * 60_000);
  // Here there is no registry: never ask one for the image's digest.
  const deploy = await stackCli(['stack', 'deploy', '--resolve-image', 'never', '-c', stackFile, stack], { SPLITNET_FRONTENDS: '3' });
  t.is(deploy.code, 0, tail(deploy));
  const services = (await dockerCli(['stack', 'services', stack, '--format', '{{.Name}}'])).stdout.split('\n').filter(Boolean).sort();
  t.deepEqual(
    services,
    ['controller', 'driver', 'frontend', 'nats-1', 'nats-2', 'nats-3', 'worker'].map((s) => `${stack}_${s}`),
  );
  // The controller runs once: Complete (exit 0) or Failed with its exit code.
  const state = await waitFor(
    async () => `the controller did not finish in 6 min:\n${await explain()}`,
    6 * 60_000,
    async () => {
      const s = await controllerState();
      return /^(Complete|Failed|Rejected)/.test(s) ? s : undefined;
    },
  );
  t.log(`controller: ${state}`);
  // 3: the live run was invalid (an actor lagged: a loaded 2-core machine); the accounting still has to hold.
  t.true(/^Complete/.test(state) || /non-zero exit \(3\)/.test(state), `${state}\n${await explain()}`);
  const file = join(results, 'stack', 'summary.json');
  if (!existsSync(file)) throw new Error(`no ${file}:\n${await explain()}`);
  const s = JSON.parse(readFileSync(file, 'utf8')) as {
    accounting: { balanced: boolean; unaccounted: number };
    throughput: { perVm: { vm: number; pps: number }[] };
    cpu: Record<string, number>;
  };
  t.true(s.accounting.balanced, JSON.stringify(s.accounting));
  t.is(s.accounting.unaccounted, 0);
  t.deepEqual(
    s.throughput.perVm.map((v) => v.vm),
    [0, 1, 2],
  );
  for (const v of s.throughput.perVm) t.true(v.pps > 0, `vm ${v.vm} delivered nothing`);
  t.is(Object.keys(s.cpu).filter((k) => k.startsWith('dom0.worker')).length, 2);
  const logs = await dockerCli(['service', 'logs', '--raw', `${stack}_controller`]);
  t.regex(logs.stdout, /accounting\s+ok: emitted \d+/, "the summary table is in the controller's log");
});
