// End to end with Docker: build the one splitnet image from this repo on the local engine (no registry) and run its roles.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSplitnetImage, dockerCli, removeLabelled, requireEngine, root, tail } from './docker-helpers.js';
import type { Result } from './docker-helpers.js';

// Everything this file creates carries both labels; the second one tells this run's things from another run's.
const runId = `${process.pid}-${Date.now().toString(36)}`;
const labels = ['--label', 'splitnet.test=1', '--label', `splitnet.test.run=${runId}`];
const image = `splitnet-test:${runId}`;

/** `docker run` of the image under test: never pulls, labelled, removed on exit. */
function runImage(args: string[], options: string[] = []): Promise<Result> {
  return dockerCli(['run', '--rm', '--pull', 'never', ...labels, ...options, image, ...args]);
}

test.before('docker - the engine is running; build the local bases and the image', async (t) => {
  t.timeout(15 * 60_000, 'building the splitnet image');
  await requireEngine();
  t.log(await buildSplitnetImage(image, labels));
});

test.after.always('docker - remove every container and image this run created', async (t) => {
  const left = await removeLabelled(`splitnet.test.run=${runId}`);
  // Only meaningful when the engine answers; the before hook already reported an engine that does not.
  if ((await dockerCli(['info'])).code !== 0) return;
  t.deepEqual(left.containers, '', 'containers left behind');
  t.deepEqual(left.images, '', 'images left behind');
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

test('docker - the container runs as uid 1000 and may write results/ under its working directory; its entry point starts actors from the bundle it holds', async (t) => {
  t.timeout(5 * 60_000);
  const probe =
    "const fs = require('node:fs'); fs.writeFileSync('results/probe', 'x');" +
    "const bundle = fs.statSync('packages/cli/dist/bundle/actor-main.mjs').size > 100000;" +
    'console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), cwd: process.cwd(), bundle }));';
  const r = await runImage(['-e', probe], ['--entrypoint', 'node']);
  t.is(r.code, 0, tail(r));
  t.deepEqual(JSON.parse(r.stdout), { uid: 1000, gid: 1000, cwd: '/app', bundle: true });
  const config = await dockerCli(['image', 'inspect', '--format', '{{json .Config.User}} {{json .Config.Entrypoint}}', image]);
  const [user, entrypoint] = config.stdout.trim().split(' ');
  t.is(JSON.parse(user ?? ''), '1000:1000');
  t.deepEqual(JSON.parse(entrypoint ?? ''), ['node', '/app/packages/cli/dist/src/image-entry.js']);
});

test('docker - the Dockerfile copies the package.json of every npm workspace before npm ci', (t) => {
  const workspaces = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
  const dockerfile = readFileSync(join(root, 'docker/Dockerfile'), 'utf8');
  const copied = [...dockerfile.matchAll(/^COPY (packages\/[^/\s]+)\/package\.json /gm)].map((m) => m[1]);
  t.deepEqual([...copied].sort(), [...workspaces].sort(), 'docker/Dockerfile: one COPY <workspace>/package.json line per workspace');
});
