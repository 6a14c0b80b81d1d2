// End to end with Docker: build the one splitnet image from this repo on the local engine (no registry) and run its roles.
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

// /usr/local/bin/docker (first in PATH here) is a newer CLI without buildx; Debian's /usr/bin/docker has BuildKit built in.
const debianDocker = existsSync('/usr/bin/docker');
const docker = debianDocker ? '/usr/bin/docker' : 'docker';

// Everything this file creates carries both labels; the second one tells this run's things from another run's.
const runId = `${process.pid}-${Date.now().toString(36)}`;
const labels = ['--label', 'splitnet.test=1', '--label', `splitnet.test.run=${runId}`];
const image = `splitnet-test:${runId}`;
const ca = '/etc/ssl/certs/ca-certificates.crt';

type Result = { code: number | null; stdout: string; stderr: string; error?: string };

function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Result> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A missing executable reports 'error' (ENOENT) and then no 'close' with output worth waiting for.
    child.on('error', (e) => done({ code: null, stdout, stderr, error: e.message }));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const dockerCli = (args: string[]) => exec(docker, args);

/** The last lines of a command's output, for failure messages (a build log is long). */
function tail(r: Result, lines = 30): string {
  return `${r.error ?? ''}\n${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-lines).join('\n');
}

/** `docker run` of the image under test: never pulls, labelled, removed on exit. */
function runImage(args: string[], options: string[] = []): Promise<Result> {
  return dockerCli(['run', '--rm', '--pull', 'never', ...labels, ...options, image, ...args]);
}

test.before('docker - the engine is running; build the local bases and the image', async (t) => {
  t.timeout(15 * 60_000, 'building the splitnet image');
  const info = await dockerCli(['info']);
  if (info.code !== 0) {
    // docker info prints the useful line ("Cannot connect to the Docker daemon …") among its client details.
    const lines = `${info.error ?? ''}\n${info.stdout}\n${info.stderr}`.split('\n').map((l) => l.trim()).filter(Boolean);
    const why = lines.find((l) => /cannot connect|permission denied|ENOENT|error during connect/i.test(l)) ?? lines.at(-1) ?? 'no output';
    throw new Error(
      `the Docker engine is not running (${docker} info failed: ${why}).\n` +
        'Start it as root the way .ci/run does: install it if needed (apt-get install -y docker.io), then\n' +
        '  dockerd >/var/log/dockerd.log 2>&1 &\n' +
        "and wait until 'docker info' succeeds. Never start a second dockerd beside a running one.",
    );
  }
  const bases = await exec('bash', [join(root, 'docker/build-local-bases.sh')], { ...process.env, DOCKER: docker });
  if (bases.code !== 0) throw new Error(`docker/build-local-bases.sh failed:\n${tail(bases)}`);
  t.log(bases.stdout.trim());
  const build = await exec(
    docker,
    [
      'build', '--force-rm', '-f', 'docker/Dockerfile', '-t', image, ...labels,
      '--build-arg', 'BASE=splitnet/node-base:local',
      '--build-arg', `NODE_EXTRA_CA_CERTS=${ca}`,
      '.',
    ],
    // Without buildx a newer CLI refuses DOCKER_BUILDKIT=1; left unset it falls back to the legacy builder.
    debianDocker ? { ...process.env, DOCKER_BUILDKIT: '1' } : process.env,
  );
  if (build.code !== 0) throw new Error(`docker build failed:\n${tail(build)}`);
});

test.after.always('docker - remove every container and image this run created', async (t) => {
  const filter = ['--filter', `label=splitnet.test.run=${runId}`];
  const containers = (await dockerCli(['ps', '-aq', ...filter])).stdout.split('\n').filter(Boolean);
  if (containers.length > 0) await dockerCli(['rm', '-f', ...containers]);
  const images = (await dockerCli(['images', '-q', ...filter])).stdout.split('\n').filter(Boolean);
  if (images.length > 0) await dockerCli(['rmi', '-f', ...new Set(images)]);
  // Only meaningful when the engine answers; the before hook already reported an engine that does not.
  if ((await dockerCli(['info'])).code !== 0) return;
  t.deepEqual((await dockerCli(['ps', '-aq', ...filter])).stdout.trim(), '', 'containers left behind');
  t.deepEqual((await dockerCli(['images', '-q', ...filter])).stdout.trim(), '', 'images left behind');
});

test('docker - the quickstart runs in the image: exit 0 and balanced accounting', async (t) => {
  t.timeout(5 * 60_000);
  const r = await runImage(['run', 'examples/quickstart.yaml', '--out', '/tmp/r', '--json']);
  t.is(r.code, 0, tail(r));
  const out = JSON.parse(r.stdout) as { dir: string; summary: { accounting: { balanced: boolean; unaccounted: number } } };
  t.is(out.dir, '/tmp/r');
  t.true(out.summary.accounting.balanced);
  t.is(out.summary.accounting.unaccounted, 0);
});

test('docker - with no command the image prints the CLI help; the role commands are there', async (t) => {
  t.timeout(5 * 60_000);
  const help = await runImage([]);
  t.is(help.code, 0, tail(help));
  t.regex(help.stdout, /Usage: splitnet/);
  for (const role of ['run', 'actor', 'validate', 'rss']) t.regex(help.stdout, new RegExp(`^\\s+${role} `, 'm'));
  const actor = await runImage(['actor', '--help']);
  t.is(actor.code, 0, tail(actor));
  t.regex(actor.stdout, /--id <actor>/);
});

test('docker - the container runs as uid 1000 and may write results/ under its working directory', async (t) => {
  t.timeout(5 * 60_000);
  const probe =
    "const fs = require('node:fs'); fs.writeFileSync('results/probe', 'x');" +
    'console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), cwd: process.cwd() }));';
  const r = await runImage(['-e', probe], ['--entrypoint', 'node']);
  t.is(r.code, 0, tail(r));
  t.deepEqual(JSON.parse(r.stdout), { uid: 1000, gid: 1000, cwd: '/app' });
  const config = await dockerCli(['image', 'inspect', '--format', '{{json .Config.User}}', image]);
  t.is(JSON.parse(config.stdout), '1000:1000');
});

test('docker - the Dockerfile copies the package.json of every npm workspace before npm ci', (t) => {
  const workspaces = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
  const dockerfile = readFileSync(join(root, 'docker/Dockerfile'), 'utf8');
  const copied = [...dockerfile.matchAll(/^COPY (packages\/[^/\s]+)\/package\.json /gm)].map((m) => m[1]);
  t.deepEqual([...copied].sort(), [...workspaces].sort(), 'docker/Dockerfile: one COPY <workspace>/package.json line per workspace');
});
