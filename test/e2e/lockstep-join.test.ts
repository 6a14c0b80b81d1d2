// Lockstep partitions that join (placement external, as compose runs them): over a nats-server with deploy/nats.conf's users, joined `splitnet partition --join` processes write sim's result files; one too many and a live actor are refused; a partition that dies ends the run naming it.
import test from 'ava';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startNatsServer } from '@splitnet/transport/nats-server';
import type { NatsServerHandle } from '@splitnet/transport/nats-server';
import { cli, root, tmp, waitFor } from './live-helpers.js';
import type { Ran } from './live-helpers.js';

const FILES = ['summary.json', 'metrics.jsonl', 'events.jsonl', 'latency.json'];

/** deploy/docker-compose.yml's scenario, at a length a test can afford. */
const scenario = join(root, 'deploy/lockstep.yaml');

/** The logins compose gives its containers (deploy/nats.conf's development passwords). */
const LOGINS = {
  controller: { SPLITNET_NATS_USER: 'controller', SPLITNET_NATS_PASSWORD: 'splitnet-controller-dev' },
  partition: { SPLITNET_NATS_USER: 'partition', SPLITNET_NATS_PASSWORD: 'splitnet-partition-dev' },
  frontend: { SPLITNET_NATS_USER: 'frontend', SPLITNET_NATS_PASSWORD: 'splitnet-frontend-dev' },
};

let server: NatsServerHandle;

test.before(async () => {
  server = await startNatsServer({ args: ['-c', join(root, 'deploy/nats.conf')] });
});

test.after.always(async () => {
  await server.stop();
});

interface Started {
  readonly child: ReturnType<typeof spawn>;
  readonly stderr: () => string;
  readonly exit: Promise<Ran>;
}

/** `splitnet <args>` with `env` added to this process's environment. */
function splitnet(args: string[], env: Record<string, string>): Started {
  const child = spawn(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<Ran>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, stderr: () => stderr, exit };
}

/** A partition joining run `runId`, as compose's partition service starts it. */
function partition(runId: string, container: string): Started {
  return splitnet(['partition', '--join', '--run', runId, '--nats', server.url], { ...LOGINS.partition, SPLITNET_CONTAINER: container });
}

test('lockstep join - three joined partitions write sim result files byte for byte; a fourth joiner and a live front end are refused, one line each, exit 2', async (t) => {
  t.timeout(5 * 60_000);
  const runId = `join-${process.pid}`;
  const simDir = join(tmp(), 'sim');
  const lsDir = join(tmp(), 'lockstep');
  const short = ['--duration', '2ms', '--set', 'warmup=1ms'];
  const sim = await splitnet(['run', scenario, '--runtime', 'sim', '--set', 'topology.vms.count=2', ...short, '--out', simDir, '-q'], {}).exit;
  t.is(sim.code, 0, sim.stderr);
  const controller = splitnet(
    ['run', scenario, ...short, '--placement', 'external', '--nats', server.url, '--run-id', runId, '--out', lsDir, '--expect', 'partition=3'],
    LOGINS.controller,
  );
  // Four partitions for three places, all at once: whichever comes last is one too many.
  const joiners = ['c1', 'c2', 'c3', 'c4'].map((c) => partition(runId, c));
  const live = splitnet(['actor', '--run', runId, '--nats', server.url, '--role', 'frontend'], LOGINS.frontend);
  const ended = await controller.exit;
  t.is(ended.code, 0, ended.stderr);
  t.regex(ended.stdout, /accounting\s+ok: emitted \d+/, 'the summary table');
  for (const f of FILES) t.is(readFileSync(join(lsDir, f), 'utf8'), readFileSync(join(simDir, f), 'utf8'), f);
  const env = JSON.parse(readFileSync(join(lsDir, 'environment.json'), 'utf8')) as { placement: string; partitions: string[] };
  t.is(env.placement, 'external');
  t.deepEqual(env.partitions, ['nic+backend+worker.0+worker.1+worker.2+worker.3', 'vm.0', 'vm.1']);
  const codes = await Promise.all(joiners.map((j) => j.exit));
  t.deepEqual(codes.map((c) => c.code).sort(), [0, 0, 0, 2], codes.map((c) => c.stderr).join('\n---\n'));
  const refused = codes.find((c) => c.code === 2) as Ran;
  t.is(refused.stderr.trim().split('\n').length, 1, refused.stderr);
  t.regex(
    refused.stderr,
    new RegExp(`^splitnet: error: join refused by the controller of run ${runId}: run ${runId} has its 3 partitions already .*one too many`),
  );
  const actor = await live.exit;
  t.is(actor.code, 2, actor.stderr);
  t.regex(actor.stderr, new RegExp(`join refused by the controller of run ${runId}: run ${runId} is a lockstep run: its partitions join it`));
  t.regex(ended.stderr, /run join-\d+: partition vm\.1 joined \(container c\d\): 3 of 3/);
});

test('lockstep join - a joined partition killed mid-run ends the run with exit 1 naming it and its container; the others exit', async (t) => {
  t.timeout(5 * 60_000);
  const runId = `killed-${process.pid}`;
  const controller = splitnet(
    ['run', scenario, '--placement', 'external', '--nats', server.url, '--run-id', runId, '--out', join(tmp(), 'killed'), '--expect', 'partition=3', '-q'],
    LOGINS.controller,
  );
  const joiners = ['d1', 'd2', 'd3'].map((c) => partition(runId, c));
  // The partition running vm.0 says so in its log once the run has started.
  await waitFor('vm.0 to start', () => joiners.some((j) => j.stderr().includes('vm.0: info: started')), 120_000);
  const victim = joiners.findIndex((j) => j.stderr().includes('vm.0: info: started'));
  joiners[victim]?.child.kill('SIGKILL');
  const ended = await controller.exit;
  t.is(ended.code, 1, ended.stderr);
  t.is(ended.stderr.trim().split('\n').length, 1, ended.stderr);
  t.regex(
    ended.stderr,
    new RegExp(`lockstep: partition vm\\.0 \\(container d${victim + 1}\\) went silent for \\d+ s before the end of the run, at [\\d.]+ ms emulated of 100 ms`),
  );
  // The others were told to stop: they exit once the controller has gone.
  const others = await Promise.all(joiners.filter((_, i) => i !== victim).map((j) => j.exit));
  t.deepEqual(
    others.map((o) => o.code),
    [0, 0],
    others.map((o) => o.stderr).join('\n---\n'),
  );
});
