// Shared by the Docker e2e tests: run commands, reach the local engine, build the local bases and the splitnet image.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from test/dist/e2e/). */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

// /usr/local/bin/docker (first in PATH here) is a newer CLI without buildx; Debian's /usr/bin/docker has BuildKit built in.
const debianDocker = existsSync('/usr/bin/docker');
export const docker = debianDocker ? '/usr/bin/docker' : 'docker';

/** The host CA bundle, passed to the image build for npm behind a TLS-intercepting proxy. */
export const hostCaBundle = '/etc/ssl/certs/ca-certificates.crt';

/** The local bases docker/build-local-bases.sh builds from this host's own files (no registry needed). */
export const localNodeBase = 'splitnet/node-base:local';
export const localNatsBase = 'splitnet/nats-base:local';
/** Prometheus from Debian's package (docker/build-local-bases.sh), for deploy/docker-compose.live.yml's metrics profile. */
export const localPrometheusBase = 'splitnet/prometheus-base:local';

export type Result = { code: number | null; stdout: string; stderr: string; error?: string };

export function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd: string = root): Promise<Result> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A missing executable reports 'error' (ENOENT) and then no 'close' with output worth waiting for.
    child.on('error', (e) => done({ code: null, stdout, stderr, error: e.message }));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

export const dockerCli = (args: string[]): Promise<Result> => exec(docker, args);

/** The last lines of a command's output, for failure messages (a build log is long). */
export function tail(r: Result, lines = 30): string {
  return `${r.error ?? ''}\n${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-lines).join('\n');
}

/** Throws, saying how to start one, unless a Docker engine answers. */
export async function requireEngine(): Promise<void> {
  const info = await dockerCli(['info']);
  if (info.code === 0) return;
  // docker info prints the useful line ("Cannot connect to the Docker daemon …") among its client details.
  const lines = `${info.error ?? ''}\n${info.stdout}\n${info.stderr}`
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const why = lines.find((l) => /cannot connect|permission denied|ENOENT|error during connect/i.test(l)) ?? lines.at(-1) ?? 'no output';
  throw new Error(
    `the Docker engine is not running (${docker} info failed: ${why}).\n` +
      'Start it as root the way .ci/run does: install it if needed (apt-get install -y docker.io), then\n' +
      '  dockerd >/var/log/dockerd.log 2>&1 &\n' +
      "and wait until 'docker info' succeeds. Never start a second dockerd beside a running one.",
  );
}

/**
 * Builds the local bases (skipped when their inputs are unchanged) and the splitnet image FROM the node one,
 * tagged `image` and carrying `labels` (`--label k=v` pairs) so that the caller can remove it. Returns the
 * bases script's report.
 */
export async function buildSplitnetImage(image: string, labels: readonly string[]): Promise<string> {
  const bases = await exec('bash', [join(root, 'docker/build-local-bases.sh')], { ...process.env, DOCKER: docker });
  if (bases.code !== 0) throw new Error(`docker/build-local-bases.sh failed:\n${tail(bases)}`);
  const build = await exec(
    docker,
    [
      'build',
      '--force-rm',
      '-f',
      'docker/Dockerfile',
      '-t',
      image,
      ...labels,
      '--build-arg',
      `BASE=${localNodeBase}`,
      '--build-arg',
      `NODE_EXTRA_CA_CERTS=${hostCaBundle}`,
      '.',
    ],
    // Without buildx a newer CLI refuses DOCKER_BUILDKIT=1; left unset it falls back to the legacy builder.
    debianDocker ? { ...process.env, DOCKER_BUILDKIT: '1' } : process.env,
  );
  if (build.code !== 0) throw new Error(`docker build failed:\n${tail(build)}`);
  return bases.stdout.trim();
}

/** Removes the containers, then the images, that carry `label` (`key=value`); returns what is still there. */
export async function removeLabelled(label: string): Promise<{ containers: string; images: string }> {
  const filter = ['--filter', `label=${label}`];
  const containers = (await dockerCli(['ps', '-aq', ...filter])).stdout.split('\n').filter(Boolean);
  if (containers.length > 0) await dockerCli(['rm', '-f', ...containers]);
  const images = (await dockerCli(['images', '-q', ...filter])).stdout.split('\n').filter(Boolean);
  if (images.length > 0) await dockerCli(['rmi', '-f', ...new Set(images)]);
  return {
    containers: (await dockerCli(['ps', '-aq', ...filter])).stdout.trim(),
    images: (await dockerCli(['images', '-q', ...filter])).stdout.trim(),
  };
}

/**
 * A TCP port on loopback that forwards every connection to the local engine's socket: a second endpoint
 * (tcp://127.0.0.1:port) for the same engine, so that a run can be given "two engines" on one machine
 * (a second dockerd beside the first is not an option: it deletes the first one's docker0 bridge).
 */
export async function engineTcpProxy(socketPath = '/var/run/docker.sock'): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection(socketPath);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `tcp://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      }),
  };
}
