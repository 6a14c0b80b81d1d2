// End to end with Docker Compose: deploy/docker-compose.yml runs an exact lockstep emulation, one container per partition (per host of cluster.yaml by default), with sim's result files; docker-compose.live.yml a whole live emulation, one container per actor, and scales the VMs.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildSplitnetImage,
  docker,
  dockerCli,
  exec,
  localNatsBase,
  localPrometheusBase,
  removeLabelled,
  requireEngine,
  root,
  tail,
} from './docker-helpers.js';
import type { Result } from './docker-helpers.js';
import { cli } from './live-helpers.js';

// One project per test process: its containers, network and volumes carry com.docker.compose.project=<project>.
const runId = `${process.pid}-${Date.now().toString(36)}`;
const project = `splitnet-compose-${runId}`;
const labels = ['--label', 'splitnet.test=1', '--label', `splitnet.test.run=${runId}`];
const image = `splitnet-test:${runId}`;
const composeFile = join(root, 'deploy/docker-compose.yml');
// The live variant.
const liveFile = join(root, 'deploy/docker-compose.live.yml');
// The controller writes <results>/<run id>/ as uid 1000 (the image's user); set in the before hook.
let results = '';
// Compose v1 (`docker-compose`, what .ci/run installs) when present, else the v2 plugin (`docker compose`).
let compose: { cmd: string; args: string[] } = { cmd: 'docker-compose', args: [] };

function composeCli(args: string[], runIdOfRun = 'compose', extraEnv: NodeJS.ProcessEnv = {}, file = composeFile): Promise<Result> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...extraEnv,
    NATS_IMAGE: localNatsBase,
    PROMETHEUS_IMAGE: localPrometheusBase,
    SPLITNET_IMAGE: image,
    SPLITNET_RESULTS: results,
    SPLITNET_RUN_ID: runIdOfRun,
  };
  // The project is named by -p; a COMPOSE_* variable from the caller's shell must not redirect it.
  for (const k of Object.keys(env)) if (k.startsWith('COMPOSE_')) delete env[k];
  return exec(compose.cmd, [...compose.args, '-f', file, '-p', project, ...args], env);
}

/** The live variant's compose command. */
const liveCli = (args: string[], runIdOfRun = 'compose', extraEnv: NodeJS.ProcessEnv = {}): Promise<Result> => composeCli(args, runIdOfRun, extraEnv, liveFile);

type Summary = {
  runtime: string;
  throughput: { gbps: number; pps: number };
  interrupts: { perVm: { vm: number; virqPerSec: number }[] };
  cpu: Record<string, number>;
  accounting: { balanced: boolean; unaccounted: number; emitted: number; delivered: number };
};

/** `up` with `frontend` VMs until the controller exits; returns the run's summary.json. */
async function upWithVms(t: ExecutionContext, vms: number): Promise<Summary> {
  const id = `vms${vms}`;
  const started = Date.now();
  // As the README tells users: SPLITNET_FRONTENDS sets the replicas and what the controller waits for; --scale agrees.
  const up = await liveCli(['up', '--no-color', '--exit-code-from', 'controller', '--scale', `frontend=${vms}`], id, { SPLITNET_FRONTENDS: String(vms) });
  t.log(`up --scale frontend=${vms}: exit ${up.code} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const controllerLog = join(results, id, 'logs', 'controller.log');
  const why = `${tail(up, 60)}${existsSync(controllerLog) ? `\n--- controller.log:\n${readFileSync(controllerLog, 'utf8').split('\n').slice(-20).join('\n')}` : ''}`;
  t.is(up.code, 0, why);
  // The joined actors outlive the controller, so `up` shows its summary table before stopping everything.
  t.regex(up.stdout, /accounting\s+ok: emitted \d+/, 'the summary table is in the output of up');
  const file = join(results, id, 'summary.json');
  if (!existsSync(file)) throw new Error(`no ${file}:\n${why}`);
  return JSON.parse(readFileSync(file, 'utf8')) as Summary;
}

test.before('compose - the engine and compose are there; build the local bases and the image', async (t) => {
  t.timeout(15 * 60_000, 'building the splitnet image');
  await requireEngine();
  if ((await exec('docker-compose', ['version'])).code !== 0) {
    if ((await exec(docker, ['compose', 'version'])).code !== 0) {
      throw new Error('neither docker-compose (v1) nor the docker compose plugin (v2) is installed: apt-get install -y docker-compose (as .ci/run does)');
    }
    compose = { cmd: docker, args: ['compose'] };
  }
  t.log(await buildSplitnetImage(image, labels));
  results = mkdtempSync(join(tmpdir(), 'splitnet-compose-'));
  // The controller runs as uid 1000; as root, give it the folder the way the README tells users to.
  if (process.getuid?.() === 0) chownSync(results, 1000, 1000);
  else chmodSync(results, 0o777);
});

test.after.always('compose - down removes every container, network and volume of the project; the image goes too', async (t) => {
  t.timeout(5 * 60_000);
  if ((await dockerCli(['info'])).code !== 0) return; // the before hook already said so
  // The live file's services too: either file's `down --remove-orphans` removes the other's containers.
  const down = await composeCli(['down', '-v', '--remove-orphans']);
  t.is(down.code, 0, tail(down));
  const liveDown = await liveCli(['down', '-v', '--remove-orphans']);
  t.is(liveDown.code, 0, tail(liveDown));
  const filter = ['--filter', `label=com.docker.compose.project=${project}`];
  t.is((await dockerCli(['ps', '-aq', ...filter])).stdout.trim(), '', 'containers left behind');
  t.is((await dockerCli(['network', 'ls', '-q', ...filter])).stdout.trim(), '', 'networks left behind');
  t.is((await dockerCli(['volume', 'ls', '-q', ...filter])).stdout.trim(), '', 'volumes left behind');
  const left = await removeLabelled(`splitnet.test.run=${runId}`);
  t.is(left.images, '', 'images left behind');
  if (results !== '') rmSync(results, { recursive: true, force: true });
});

test.serial(
  'compose - the default file is valid for compose, runs cluster.yaml in lockstep with 4 partitions (one per host), publishes nothing and never pulls the splitnet image',
  async (t) => {
    const config = await composeCli(['config']);
    t.is(config.code, 0, tail(config));
    t.notRegex(config.stdout, /^\s+ports:/m, 'no service publishes a port');
    for (const service of ['nats', 'controller', 'partition']) t.regex(config.stdout, new RegExp(`^  ${service}:$`, 'm'));
    t.is([...config.stdout.matchAll(/pull_policy: never/g)].length, 1, 'partition uses the image the controller builds');
    t.regex(config.stdout, /- lockstep\n\s+- --placement\n\s+- external\n/);
    t.regex(config.stdout, /- --expect\n\s+- partition=4\n/, 'the controller expects the default replicas');
    t.regex(config.stdout, /replicas: 4/);
    t.regex(config.stdout, /deploy\/cluster\.yaml:\/app\/deploy\/scenario\.yaml:ro/, 'the default scenario is the multi-host one');
    t.regex(config.stdout, new RegExp(`image: ${image.replace(/[.:]/g, '\\$&')}`));
  },
);

/** deploy/`file` at `duration` (warm-up 1 ms), in a file the controller (uid 1000) can read. */
function shortScenario(file: string, duration: string): string {
  const text = readFileSync(join(root, 'deploy', file), 'utf8')
    .replace(/^duration: .*$/m, `duration: ${duration}`)
    .replace(/^warmup: .*$/m, 'warmup: 1ms');
  const out = join(results, `${duration}-${file}`);
  writeFileSync(out, text, { mode: 0o644 });
  return out;
}

test.serial(
  'compose - up (cluster.yaml in lockstep, --scale partition=4 with SPLITNET_PARTITIONS=4): exit 0, one partition per host, the table printed, summary, metrics, events and latency byte-identical to sim',
  async (t) => {
    t.timeout(10 * 60_000);
    const id = 'lockstep';
    // The default scenario, shorter (3 ms: 1 500 windows of the fabric's 1 us lookahead, twice).
    const scenario = shortScenario('cluster.yaml', '3ms');
    const started = Date.now();
    const up = await composeCli(['up', '--no-color', '--exit-code-from', 'controller', '--scale', 'partition=4'], id, {
      SPLITNET_PARTITIONS: '4',
      SPLITNET_SCENARIO: scenario,
    });
    t.log(`up --scale partition=4: exit ${up.code} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    t.is(up.code, 0, tail(up, 60));
    t.regex(up.stdout, /controller.*accounting\s+ok: emitted \d+/, 'the summary table is in the output of up');
    t.regex(up.stdout, /controller.*fabric accounting\s+ok: sent \d+/, "the table has the fabric's lines");
    t.regex(up.stdout, /partition h3\.nic\+h3\.backend\+\S+ joined \(container [0-9a-f]{12}\): 4 of 4/);
    const sim = await exec(process.execPath, [cli, 'run', scenario, '--runtime', 'sim', '--out', join(results, 'sim'), '-q']);
    t.is(sim.code, 0, tail(sim));
    for (const f of ['summary.json', 'metrics.jsonl', 'events.jsonl', 'latency.json'])
      t.is(readFileSync(join(results, id, f), 'utf8'), readFileSync(join(results, 'sim', f), 'utf8'), f);
    const env = JSON.parse(readFileSync(join(results, id, 'environment.json'), 'utf8')) as { runtime: string; placement: string; partitions: string[] };
    t.deepEqual([env.runtime, env.placement, env.partitions.map((p) => p.split('+')[0])], ['lockstep', 'external', ['h0.nic', 'h1.nic', 'h2.nic', 'h3.nic']]);
    // On the project's one network every pair of neighbours is on a direct link (docs/lockstep.md#direct-links), as each partition's started line says.
    const startedLines = [...(up.stdout + up.stderr).matchAll(/: info: started (\{.*\})\s*$/gm)].map(
      (m) => JSON.parse(m[1] as string) as { partition: string; links: { to: Record<string, string>; from: Record<string, string> } },
    );
    t.deepEqual(startedLines.map((s) => s.partition.split('+')[0]).sort(), ['h0.nic', 'h1.nic', 'h2.nic', 'h3.nic']);
    for (const s of startedLines) for (const path of [...Object.values(s.links.to), ...Object.values(s.links.from)]) t.is(path, 'direct', s.partition);
  },
);

test.serial(
  'compose - the one-host variant (SPLITNET_SCENARIO=./lockstep.yaml, per Xen domain), a partition container killed mid-run (docker kill): the controller exits 1 naming the partition and its container',
  async (t) => {
    t.timeout(10 * 60_000);
    const id = 'killed';
    try {
      const up = await composeCli(['up', '-d', '--no-color'], id, { SPLITNET_PARTITIONS: '3', SPLITNET_SCENARIO: './lockstep.yaml' });
      t.is(up.code, 0, tail(up));
      const controller = (await composeCli(['ps', '-q', 'controller'], id)).stdout.trim();
      const logs = async (c: string): Promise<string> => {
        const r = await dockerCli(['logs', c]);
        return r.stdout + r.stderr;
      };
      // Once the run is under way, the container whose partition runs vm.0 says so.
      const partitions = (await composeCli(['ps', '-q', 'partition'], id)).stdout.trim().split('\n');
      let victim: string | undefined;
      for (const until = Date.now() + 120_000; victim === undefined && Date.now() < until;) {
        for (const c of partitions) if ((await logs(c)).includes('vm.0: info: started')) victim = c;
        if (victim === undefined) await new Promise((r) => setTimeout(r, 1000));
      }
      if (victim === undefined) return t.fail(`vm.0 never started:\n${await logs(controller)}`);
      t.is((await dockerCli(['kill', victim])).code, 0);
      const waited = await dockerCli(['wait', controller]);
      const said = await logs(controller);
      t.is(waited.stdout.trim(), '1', said);
      t.regex(said, new RegExp(`lockstep: partition vm\\.0 \\(container ${victim.slice(0, 12)}\\) went silent for \\d+ s before the end of the run`));
    } finally {
      const down = await composeCli(['down', '-v', '--remove-orphans'], id);
      t.is(down.code, 0, tail(down));
    }
  },
);

test.serial(
  "compose - the live file is valid for compose, publishes only the metrics profile's Prometheus (on loopback) and never pulls the splitnet image",
  async (t) => {
    const config = await liveCli(['config']);
    t.is(config.code, 0, tail(config));
    // Only the metrics profile's Prometheus is published, on an ephemeral loopback port.
    t.is([...config.stdout.matchAll(/^\s+ports:/gm)].length, 1, 'one service publishes a port');
    t.regex(config.stdout, /^ {2}prometheus:\n(?: {4}.*\n)*? {4}ports:\n {4}- 127\.0\.0\.1::9090(?:\/tcp)?\n(?: {4}.*\n)*? {4}profiles:\n {4}- metrics$/m);
    for (const service of ['nats', 'controller', 'driver', 'worker', 'frontend']) t.regex(config.stdout, new RegExp(`^  ${service}:$`, 'm'));
    t.is([...config.stdout.matchAll(/pull_policy: never/g)].length, 3, 'driver, worker and frontend use the image the controller builds');
    t.regex(config.stdout, /- frontend=2\n\s+- --expect\n\s+- worker=2/, 'the controller waits for the default replicas');
    t.regex(config.stdout, new RegExp(`image: ${image.replace(/[.:]/g, '\\$&')}`));
  },
);

test.serial('compose - live: up with 2 frontends: the controller exits 0, accounting balances, both VMs receive traffic', async (t) => {
  t.timeout(10 * 60_000);
  const s = await upWithVms(t, 2);
  t.is(s.runtime, 'live');
  t.true(s.accounting.balanced);
  t.is(s.accounting.unaccounted, 0);
  t.true(s.throughput.gbps > 0);
  t.deepEqual(
    s.interrupts.perVm.map((v) => v.vm),
    [0, 1],
  );
  for (const v of s.interrupts.perVm) {
    t.true(v.virqPerSec > 0, `vm ${v.vm} took no virtual interrupt`);
    t.true((s.cpu[`vm${v.vm}.vcpu0`] ?? 0) > 0, `vm ${v.vm} spent no CPU receiving`);
  }
  // Two worker containers joined: topology.workers = 2.
  t.deepEqual(
    Object.keys(s.cpu)
      .filter((k) => k.startsWith('dom0.worker'))
      .sort(),
    ['dom0.worker0', 'dom0.worker1'],
  );
});

test.serial('compose - live: up again with --scale frontend=4: four VMs, each receives traffic', async (t) => {
  t.timeout(10 * 60_000);
  const s = await upWithVms(t, 4);
  t.true(s.accounting.balanced);
  t.is(s.accounting.unaccounted, 0);
  t.true(s.throughput.gbps > 0);
  t.deepEqual(
    s.interrupts.perVm.map((v) => v.vm),
    [0, 1, 2, 3],
  );
  for (const v of s.interrupts.perVm) {
    t.true(v.virqPerSec > 0, `vm ${v.vm} took no virtual interrupt`);
    t.true((s.cpu[`vm${v.vm}.vcpu0`] ?? 0) > 0, `vm ${v.vm} spent no CPU receiving`);
  }
});

test.serial("compose - with --profile metrics, Prometheus scrapes the controller: its HTTP API gives the run's final delivered packets", async (t) => {
  t.timeout(10 * 60_000);
  const id = 'metrics';
  const metrics = ['--profile', 'metrics'];
  try {
    const up = await liveCli([...metrics, 'up', '-d', '--no-color'], id);
    t.is(up.code, 0, tail(up));
    const controller = (await liveCli(['ps', '-q', 'controller'], id)).stdout.trim();
    // The controller's exit is the run's end; Prometheus keeps running for the query.
    const waited = await dockerCli(['wait', controller]);
    t.is(waited.stdout.trim(), '0', `controller exit code\n${tail(await dockerCli(['logs', controller]), 40)}`);
    const summary = JSON.parse(readFileSync(join(results, id, 'summary.json'), 'utf8')) as Summary;
    const published = (await liveCli(['port', 'prometheus', '9090'], id)).stdout.trim();
    t.regex(published, /^127\.0\.0\.1:\d+$/);
    // The target is gone, so its series are marked stale now: last_over_time reads the last value scraped.
    const query = async (q: string): Promise<number> => {
      const res = await fetch(`http://${published}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = (await res.json()) as { status: string; data: { result: { value: [number, string] }[] } };
      t.is(body.status, 'success', q);
      const v = body.data.result[0]?.value[1];
      if (v === undefined) throw new Error(`no result for ${q}: ${JSON.stringify(body)}`);
      return Number(v);
    };
    t.is(await query(`max(last_over_time(splitnet_run_complete{run="${id}",job="splitnet"}[10m]))`), 1, 'Prometheus scraped the final values');
    t.is(await query(`sum(last_over_time(splitnet_packets_delivered_total{run="${id}"}[10m]))`), summary.accounting.delivered);
    t.is(await query(`sum(last_over_time(splitnet_packets_emitted_total{run="${id}"}[10m]))`), summary.accounting.emitted);
  } finally {
    const down = await liveCli([...metrics, 'down', '-v', '--remove-orphans'], id);
    t.is(down.code, 0, tail(down));
  }
});
