// End-to-end tests of how the splitnet command fails: every bad input and operational failure is one line naming what was wrong, the documented exit code, no stack trace, no hang. Serial: each case is a process, and the machine is small.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const cli = join(root, 'packages/cli/dist/src/main.js');

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Run the CLI as a process. Asynchronous, so that the test's own timeout can fire if the command hangs
 * (a spawnSync would block it); the process is killed when the test ends, whatever the outcome.
 */
function splitnet(t: ExecutionContext, args: readonly string[]): Promise<Ran> {
  const child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((done, fail) => {
    child.once('error', fail);
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'splitnet-bad-input-'));
}

function write(dir: string, name: string, text: string): string {
  const f = join(dir, name);
  mkdirSync(dirname(f), { recursive: true });
  writeFileSync(f, text);
  return f;
}

const SMALL = `name: small
duration: 4ms
topology: { vms: { count: 1, queues: 2 }, workers: 2 }
traffic: [ { flows: 8, rate: 2Gbps, size: 1518, pattern: poisson } ]
`;

/** A directory with a small scenario, a regular file, and a finished run (`run/`) to report on. */
interface Place {
  readonly dir: string;
  readonly scenario: string;
  /** A regular file: paths below it cannot be directories. */
  readonly file: string;
  readonly run: string;
}

let shared: Promise<Place> | undefined;

/** Made once: the run costs a process start and is only read by the report cases. */
function place(t: ExecutionContext): Promise<Place> {
  shared ??= makePlace(t);
  return shared;
}

async function makePlace(t: ExecutionContext): Promise<Place> {
  const dir = tmp();
  const scenario = write(dir, 'small.yaml', SMALL);
  const file = write(dir, 'notes.txt', 'a regular file\n');
  const run = join(dir, 'run');
  const r = await splitnet(t, ['run', scenario, '--out', run, '--quiet']);
  if (r.code !== 0) throw new Error(`the run to report on failed: ${r.stderr}`);
  return { dir, scenario, file, run };
}

/** Escape text for a RegExp. */
function re(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

interface Case {
  /** What the user did wrong, as the title says it. */
  readonly what: string;
  readonly args: (p: Place) => readonly string[];
  readonly exit: 1 | 2;
  /** The whole message line after `splitnet: error: `. */
  readonly message: (p: Place) => RegExp;
}

const cases: readonly Case[] = [
  // Paths the CLI writes to.
  {
    what: 'run --out below a regular file',
    args: (p) => ['run', p.scenario, '--out', join(p.file, 'sub')],
    exit: 2,
    message: (p) => new RegExp(`^--out ${re(join(p.file, 'sub'))}: ${re(p.file)} is a file, not a directory$`),
  },
  {
    what: 'run --out that is a regular file',
    args: (p) => ['run', p.scenario, '--out', p.file],
    exit: 2,
    message: (p) => new RegExp(`^--out ${re(p.file)}: is a file, not a directory$`),
  },
  {
    what: 'run --out under /proc (where recursive mkdir spins for ever)',
    args: (p) => ['run', p.scenario, '--out', '/proc/splitnet-test/out'],
    exit: 2,
    message: () => /^--out \/proc\/splitnet-test\/out: cannot create the directory \/proc\/splitnet-test: that file system does not allow new directories$/,
  },
  {
    what: 'report --out below a regular file',
    args: (p) => ['report', p.run, '--out', join(p.file, 'report.html')],
    exit: 2,
    message: (p) => new RegExp(`^--out ${re(join(p.file, 'report.html'))}: ${re(p.file)} is a file, not a directory$`),
  },
  {
    what: 'report --out that is a directory',
    args: (p) => ['report', p.run, '--out', p.dir],
    exit: 2,
    message: (p) => new RegExp(`^--out ${re(p.dir)}: is a directory; give the file to write$`),
  },
  {
    what: 'report --figures below a regular file',
    args: (p) => ['report', p.run, '--figures', join(p.file, 'figures')],
    exit: 2,
    message: (p) => new RegExp(`^--figures ${re(join(p.file, 'figures'))}: ${re(p.file)} is a file, not a directory$`),
  },
  {
    what: 'report --figures under /proc',
    args: (p) => ['report', p.run, '--figures', '/proc/splitnet-test'],
    exit: 2,
    message: () => /^--figures \/proc\/splitnet-test: cannot create the directory \/proc\/splitnet-test: that file system does not allow new directories$/,
  },
  // The dashboard's flags.
  ...['abc', '65536', '-1'].map((port): Case => ({
    what: `run --dashboard ${port}`,
    args: (p) => ['run', p.scenario, `--dashboard=${port}`, '--out', join(p.dir, 'dashboard-port')],
    exit: 2,
    message: () => new RegExp(`^--dashboard: expected a port number from 0 to 65535 \\(0: a free one\\), found "${re(port)}"$`),
  })),
  {
    what: 'dashboard --port abc',
    args: (p) => ['dashboard', p.run, '--port', 'abc'],
    exit: 2,
    message: () => /^--port: expected a port number from 0 to 65535 \(0: a free one\), found "abc"$/,
  },
  {
    what: 'dashboard --replay 0',
    args: (p) => ['dashboard', p.run, '--port', '0', '--replay', '0'],
    exit: 2,
    message: () => /^--replay: expected the seconds a replay of the run takes, more than 0 and at most 86400, found "0"$/,
  },
  {
    what: 'run --dashboard-host without --dashboard',
    args: (p) => ['run', p.scenario, '--dashboard-host', '0.0.0.0', '--out', join(p.dir, 'dashboard-host')],
    exit: 2,
    message: () => /^--dashboard-host 0\.0\.0\.0: only with --dashboard \(it says where the dashboard listens\)$/,
  },
  {
    what: 'run --dashboard-host that is no address of this machine',
    args: (p) => ['run', p.scenario, '--dashboard', '0', '--dashboard-host', '192.0.2.1', '--quiet', '--out', join(p.dir, 'dashboard-elsewhere')],
    exit: 2,
    message: () => /^--dashboard-host 192\.0\.2\.1: cannot listen there \(EADDRNOTAVAIL\); give an address of this machine, e\.g\. 127\.0\.0\.1$/,
  },
  {
    what: 'dashboard of a directory that holds no results',
    args: (p) => ['dashboard', p.dir, '--port', '0'],
    exit: 2,
    message: (p) => new RegExp(`^${re(p.dir)}: neither a run's results \\(no summary\\.json\\) nor a sweep's \\(no sweep\\.json\\); give the directory`),
  },
  {
    what: 'sweep --out below a regular file',
    args: (p) => [
      'sweep',
      write(p.dir, 'sweep.yaml', 'base: small.yaml\naxes:\n  - path: topology.workers\n    values: [1]\n'),
      '--out',
      join(p.file, 'sweep'),
    ],
    exit: 2,
    message: (p) => new RegExp(`^--out ${re(join(p.file, 'sweep'))}: ${re(p.file)} is a file, not a directory$`),
  },
  {
    what: 'run --out holding another run (another seed)',
    args: (p) => ['run', p.scenario, '--out', p.run, '--seed', '2'],
    exit: 2,
    message: (p) =>
      new RegExp(
        `^--out ${re(p.run)}: it holds another run \\(its scenario\\.resolved\\.yaml: name small, seed 1; not the same resolved scenario as this run\\); give a new or empty directory, or add --force to write into it anyway$`,
      ),
  },
  {
    what: 'run --out holding files that are not a run',
    args: (p) => ['run', p.scenario, '--out', p.dir],
    exit: 2,
    message: (p) =>
      new RegExp(
        `^--out ${re(p.dir)}: it holds \\d+ file\\(s\\) and no splitnet run \\(no scenario\\.resolved\\.yaml\\); give a new or empty directory, or add --force`,
      ),
  },

  // The fault command: checked before it connects; an unreachable NATS is an operational failure.
  {
    what: 'fault with an unknown action (before connecting to an unreachable NATS)',
    args: () => ['fault', 'explode', 'worker:1', '--run', 'x', '--nats', 'nats://127.0.0.1:1'],
    exit: 2,
    message: () => /^fault explode: unknown action \(expected one of: lose-notifications, .*nats-restart\)$/,
  },
  {
    what: 'fault with a target that is not one',
    args: () => ['fault', 'kill', 'worker:x', '--run', 'x', '--nats', 'nats://127.0.0.1:1'],
    exit: 2,
    message: () => /^fault kill worker:x: expected a target such as worker:2, .*, found "worker:x"$/,
  },
  {
    what: 'fault with a target its action does not take',
    args: () => ['fault', 'link-flap', 'worker:1', '--duration', '5ms', '--run', 'x', '--nats', 'nats://127.0.0.1:1'],
    exit: 2,
    message: () => /^fault link-flap worker:1: expected a target for link-flap: nic$/,
  },
  {
    what: 'fault with a parameter its action does not take',
    args: () => ['fault', 'kill', 'worker:1', '--factor', '2', '--run', 'x', '--nats', 'nats://127.0.0.1:1'],
    exit: 2,
    message: () => /^fault kill worker:1: --factor: kill takes no factor \(its parameters: restartAfter\)$/,
  },
  {
    what: 'fault at an unreachable NATS server',
    args: () => ['fault', 'kill', 'worker:1', '--run', 'x', '--nats', 'nats://127.0.0.1:1'],
    exit: 1,
    message: () => /^cannot reach NATS at nats:\/\/127\.0\.0\.1:1: .*ECONNREFUSED.* \(is run x still going\? --nats must be the URL of its NATS server\)$/,
  },
  {
    what: 'an actor started with --id but without the control secret its controller hands it',
    args: (p) => ['actor', '--run', 'x', '--nats', 'nats://127.0.0.1:1', '--id', 'vm.0', '--scenario', p.scenario],
    exit: 2,
    message: () =>
      /^actor: SPLITNET_CONTROL_SECRET is not set: a process started with --id gets it from its controller \(splitnet run\); to join a run started elsewhere, use --role$/,
  },
  {
    what: 'nats-config for no VMs',
    args: () => ['nats-config', '--vms', '0'],
    exit: 2,
    message: () => /^--vms: expected a whole number from 1 to 1024, found "0"$/,
  },
  {
    // --ready-timeout below 30 s also bounds the controller's wait for NATS (docs/live.md): given up on after 2 s, not 30.
    what: 'a live run at an unreachable NATS server (--ready-timeout 2s)',
    args: (p) => [
      'run',
      p.scenario,
      '--runtime',
      'live',
      '--nats',
      'nats://127.0.0.1:1',
      '--ready-timeout',
      '2s',
      '--out',
      join(p.dir, 'live-unreachable'),
      '--quiet',
    ],
    exit: 1,
    message: () =>
      /^live run failed: cannot reach NATS at nats:\/\/127\.0\.0\.1:1: .*ECONNREFUSED.* \(check that the NATS server runs and that the URL \(--nats\) is right\)$/,
  },

  // One rule for the seed, wherever it is given.
  {
    what: '--set seed above 2^32 − 1',
    args: (p) => ['run', p.scenario, '--set', 'seed=99999999999', '--out', join(p.dir, 'seed-set')],
    exit: 2,
    message: () => /^--set seed=99999999999: seed: expected an integer from 0 to 4294967295, found 99999999999$/,
  },
  {
    what: '--seed above 2^32 − 1',
    args: (p) => ['run', p.scenario, '--seed', '4294967296', '--out', join(p.dir, 'seed-flag')],
    exit: 2,
    message: () => /^--seed: expected a whole number from 0 to 4294967295, found "4294967296"$/,
  },
  {
    what: 'a sweep seed above 2^32 − 1',
    args: (p) => [
      'sweep',
      write(p.dir, 'sweeps/seed.yaml', `base: ${p.scenario}\nseed: 4294967296\naxes:\n  - path: topology.workers\n    values: [1]\n`),
      '--dry-run',
    ],
    exit: 2,
    message: (p) => new RegExp(`^${re(join(p.dir, 'sweeps/seed.yaml'))}:2:7: seed: expected a whole number from 0 to 4294967295, found 4294967296$`),
  },
  {
    what: 'a sweep whose absolute base does not exist',
    args: (p) => [
      'sweep',
      write(p.dir, 'sweeps/missing.yaml', `base: ${join(p.dir, 'missing.yaml')}\naxes:\n  - path: topology.workers\n    values: [1]\n`),
      '--dry-run',
    ],
    exit: 2,
    message: (p) => new RegExp(`^${re(join(p.dir, 'sweeps/missing.yaml'))}:1:7: base: no such scenario file: ${re(join(p.dir, 'missing.yaml'))}$`),
  },

  // Live and Docker flags on a run that would ignore them.
  ...[
    ['--placement', 'docker'],
    ['--tdf', '100'],
    ['--nats', 'nats://127.0.0.1:4222'],
    ['--processes', 'per-domain'],
  ].map(([flag, value]): Case => ({
    what: `${flag} on a sim run`,
    args: (p) => ['run', p.scenario, flag as string, value as string, '--out', join(p.dir, 'sim-live-flag')],
    exit: 2,
    message: () =>
      new RegExp(
        `^${re(`${flag} ${value}`)}: only for a live run \\(add --runtime live, or runtime: live in the scenario\\); this run is sim, which would ignore it$`,
      ),
  })),
  ...[['--image', 'splitnet:dev'], ['--nats-image', 'nats:2'], ['--docker-host', 'tcp://10.0.0.2:2376'], ['--docker-nodes', '2'], ['--pack']].map(
    ([flag, value]): Case => ({
      what: `${flag} on a sim run`,
      args: (p) => ['run', p.scenario, flag as string, ...(value !== undefined ? [value] : []), '--out', join(p.dir, 'sim-docker-flag')],
      exit: 2,
      message: () =>
        new RegExp(
          `^${re(value !== undefined ? `${flag} ${value}` : (flag as string))}: only for a live run with placement docker \\(--runtime live --placement docker\\); this run is sim, which would ignore it$`,
        ),
    }),
  ),
  {
    what: '--join-window on a sim run',
    args: (p) => ['run', p.scenario, '--join-window', '5s', '--out', join(p.dir, 'sim-join')],
    exit: 2,
    message: () =>
      /^--join-window 5s: only for a live run with placement external \(actors that join: --runtime live --placement external\); this run is sim, which would ignore it$/,
  },
  {
    what: '--image on a live run (runtime: live in the scenario) that is not placement docker',
    args: (p) => ['run', write(p.dir, 'live.yaml', `${SMALL}runtime: live\n`), '--image', 'splitnet:dev', '--out', join(p.dir, 'live-image')],
    exit: 2,
    message: () =>
      /^--image splitnet:dev: only for a live run with placement docker \(--runtime live --placement docker\); this live run's placement is processes, which would ignore it$/,
  },
  {
    what: '--pack on a run made live by --set runtime=live',
    args: (p) => ['run', p.scenario, '--set', 'runtime=live', '--pack', '--out', join(p.dir, 'set-live-pack')],
    exit: 2,
    message: () =>
      /^--pack: only for a live run with placement docker \(--runtime live --placement docker\); this live run's placement is processes, which would ignore it$/,
  },

  // Flag values are named as the user typed them.
  {
    what: 'an unknown --runtime',
    args: (p) => ['run', p.scenario, '--runtime', 'foo'],
    exit: 2,
    message: () => /^--runtime foo: expected one of "sim", "live" or "lockstep", found "foo"$/,
  },
  {
    what: 'a --tdf that is not a number',
    args: (p) => ['run', p.scenario, '--runtime', 'live', '--tdf', 'abc'],
    exit: 2,
    message: () => /^--tdf abc: live\.tdf: expected a number ≥ 1, found "abc"$/,
  },
  {
    what: 'a --ready-timeout that is no duration',
    args: (p) => ['run', p.scenario, '--runtime', 'live', '--ready-timeout', '30'],
    exit: 2,
    message: () => /^--ready-timeout 30: live\.readyTimeout: expected "auto" or a positive duration with a unit \(ms, s\) such as 90s, found "30"$/,
  },
  {
    what: '--ready-timeout on a sim run',
    args: (p) => ['run', p.scenario, '--ready-timeout', '90s'],
    exit: 2,
    message: () =>
      /^--ready-timeout 90s: only for a live run \(add --runtime live, or runtime: live in the scenario\); this run is sim, which would ignore it$/,
  },
  {
    what: '--metrics-port on a sim run',
    args: (p) => ['run', p.scenario, '--metrics-port', '0', '--out', join(p.dir, 'sim-metrics')],
    exit: 2,
    message: () => /^--metrics-port 0: only for a live run \(add --runtime live, or runtime: live in the scenario\); this run is sim, which would ignore it$/,
  },
  ...['70000', '-1', 'http', '9100x'].map((port): Case => ({
    what: `a --metrics-port of ${port}`,
    args: (p) => ['run', p.scenario, '--runtime', 'live', `--metrics-port=${port}`, '--out', join(p.dir, 'bad-metrics-port')],
    exit: 2,
    message: () => new RegExp(`^--metrics-port: expected a port number from 0 to 65535 \\(0: any free port\\), found "${re(port)}"$`),
  })),
  {
    what: '--metrics-host without --metrics-port',
    args: (p) => ['run', p.scenario, '--runtime', 'live', '--metrics-host', '0.0.0.0', '--out', join(p.dir, 'lone-metrics-host')],
    exit: 2,
    message: () => /^--metrics-host: only with --metrics-port <port>, which turns the metrics endpoint on$/,
  },
  {
    what: 'a --metrics-linger that is no duration',
    args: (p) => ['run', p.scenario, '--runtime', 'live', '--metrics-port', '0', '--metrics-linger', 'soon', '--out', join(p.dir, 'bad-linger')],
    exit: 2,
    message: () => /^--metrics-linger: expected a duration such as 30s or 0s, found "soon"$/,
  },
  {
    what: 'cleanup --results without --run',
    args: (p) => ['cleanup', '--results', p.dir],
    exit: 2,
    message: () => /^--results: only with --run \(it names where that run's results are\)$/,
  },

  // Scenario files with nothing in them.
  {
    what: 'an empty scenario file',
    args: (p) => ['run', write(p.dir, 'empty.yaml', '')],
    exit: 2,
    message: (p) => new RegExp(`^${re(join(p.dir, 'empty.yaml'))}: the scenario file is empty \\(no settings, only whitespace or comments\\)`),
  },
  {
    what: 'a multi-host scenario naming a guest without its host',
    args: (p) => ['run', write(p.dir, 'hosts.yaml', 'hosts: 2\ntraffic:\n  - { from: vm.1, to: h1.vm.0 }\n'), '--out', join(p.dir, 'out-hosts')],
    exit: 2,
    message: (p) =>
      new RegExp(`^${re(join(p.dir, 'hosts.yaml'))}:3:13: traffic\\[0\\]\\.from: expected h<host>\\.vm\\.1 \\(this scenario has hosts: write h0\\.vm\\.1`),
  },
  {
    what: 'a multi-host scenario run live with placement docker',
    args: (p) => ['run', join(root, 'examples/cluster-4x8.yaml'), '--runtime', 'live', '--placement', 'docker', '--out', join(p.dir, 'out-hosts-docker')],
    exit: 2,
    message: () =>
      /^--placement docker: live runs a multi-host scenario with placement processes or inprocess \(its containers would join as one host's driver, worker or frontend, and no role names a host or the switch yet\); run it in lockstep for docker$/m,
  },
  {
    what: 'a multi-host scenario with a host fault run with --runtime live',
    args: (p) => [
      'run',
      write(p.dir, 'hosts-fault-live.yaml', 'hosts: 2\ntraffic:\n  - { from: h1.vm.0, to: h0.vm.0 }\nfaults:\n  - { at: 1ms, target: h1, action: kill }\n'),
      '--runtime',
      'live',
      '--out',
      join(p.dir, 'out-hosts-fault-live'),
    ],
    exit: 2,
    message: () =>
      /^faults: host-kill \(f0\): live runs no host kill of a multi-host scenario yet \(it runs switch-port faults, a host's pause, and datapath, message, pause and partition faults on one host's actors\); run it in sim or lockstep$/m,
  },
  {
    what: "a multi-host scenario with a fault on one host's actors run with --runtime live",
    args: (p) => [
      'run',
      write(
        p.dir,
        'hosts-own-fault-live.yaml',
        'hosts: 2\ntraffic:\n  - { from: h1.vm.0, to: h0.vm.0 }\nfaults:\n  - { at: 1ms, target: h1.worker:0, action: kill }\n',
      ),
      '--runtime',
      'live',
      '--out',
      join(p.dir, 'out-hosts-own-fault-live'),
    ],
    exit: 2,
    message: () =>
      /^faults: kill of h1\.worker:0 \(f0\): live runs only datapath and message faults, pause and partition on a multi-host scenario's actors \(lose-notifications, .*, pause, partition\); run it in sim or lockstep$/m,
  },
  {
    what: 'a multi-host scenario run with --pcap-out (it writes one capture per host)',
    args: (p) => [
      'run',
      join(root, 'examples/cluster-4x8.yaml'),
      '--pcap',
      'nic-rx',
      '--pcap-out',
      join(p.dir, 'one.pcapng'),
      '--out',
      join(p.dir, 'out-hosts-pcap'),
    ],
    exit: 2,
    message: (p) =>
      new RegExp(
        `^--pcap-out ${re(join(p.dir, 'one.pcapng'))}: a multi-host scenario \\(hosts:\\) writes one capture per host, packets-h0\\.pcapng … in its results directory$`,
      ),
  },
  {
    what: 'a scenario file of only comments and blank lines',
    args: (p) => ['validate', write(p.dir, 'comments.yaml', '# to do: the topology\n\n   \n# and the traffic\n')],
    exit: 2,
    message: (p) => new RegExp(`^${re(join(p.dir, 'comments.yaml'))}: the scenario file is empty \\(no settings, only whitespace or comments\\)`),
  },
];

for (const c of cases) {
  test.serial(`cli bad input - ${c.what}: one line naming it, exit code ${c.exit}, no stack trace`, async (t) => {
    // A command that hangs fails here instead of holding up the suite (the process is killed at teardown).
    t.timeout(30_000);
    const p = await place(t);
    const r = await splitnet(t, c.args(p));
    t.is(r.code, c.exit, r.stderr);
    t.regex(r.stderr, /^splitnet: error: [^\n]*\n$/, 'exactly one line on stderr');
    t.regex(r.stderr.replace(/^splitnet: error: /, '').trimEnd(), c.message(p));
    t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
    t.is(r.stdout, '');
  });
}

test.serial('cli - a --metrics-port in use is one line naming the flag and the port, exit 2, before any actor starts', async (t) => {
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  t.teardown(() => busy.close());
  const port = (busy.address() as AddressInfo).port;
  const dir = tmp();
  const scenario = write(dir, 'small.yaml', SMALL);
  const r = await splitnet(t, ['run', scenario, '--runtime', 'live', '--metrics-port', String(port), '--out', join(dir, 'run'), '-q']);
  t.is(r.code, 2, r.stderr);
  t.is(r.stderr.trim(), `splitnet: error: --metrics-port ${port}: the port is in use on 127.0.0.1; give another, or 0 for any free one`);
  t.false(existsSync(join(dir, 'run', 'logs')), 'no actor process was started');
  t.false(existsSync(join(dir, 'run')), 'no empty results directory is left behind');
});

test.serial(
  'cli bad input - a dashboard port in use (run --dashboard, dashboard --port): one line naming the flag and the port, exit code 2, no empty results directory left',
  async (t) => {
    const p = await place(t);
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    t.teardown(() => busy.close());
    const port = (busy.address() as AddressInfo).port;
    for (const [args, flag] of [
      [['run', p.scenario, '--dashboard', String(port), '--quiet', '--out', join(p.dir, 'dashboard-busy')], '--dashboard'],
      [['dashboard', p.run, '--port', String(port)], '--port'],
    ] as const) {
      const r = await splitnet(t, args);
      t.is(r.code, 2, r.stderr);
      t.is(r.stderr, `splitnet: error: ${flag} ${port}: port ${port} on 127.0.0.1 is in use; give another port, or 0 for a free one\n`);
    }
    t.false(existsSync(join(p.dir, 'dashboard-busy')), 'the refused run left no empty results directory');
  },
);

test.serial('cli - the largest seed, 2^32 − 1, is accepted by --seed and by --set seed alike', async (t) => {
  const p = await place(t);
  for (const args of [
    ['--seed', '4294967295'],
    ['--set', 'seed=4294967295'],
  ]) {
    const out = join(tmp(), 'run');
    const r = await splitnet(t, ['run', p.scenario, ...args, '--out', out, '--json']);
    t.is(r.code, 0, r.stderr);
    t.is((JSON.parse(r.stdout) as { summary: { seed: number } }).summary.seed, 4294967295, args.join(' '));
  }
});

test.serial("cli - a sweep reads an absolute base path as it is, not from the sweep file's directory", async (t) => {
  const p = await place(t);
  const sweep = write(tmp(), 'elsewhere/sweep.yaml', `base: ${p.scenario}\naxes:\n  - path: topology.workers\n    values: [1, 2]\n`);
  const r = await splitnet(t, ['sweep', sweep, '--dry-run']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^sweep sweep: 2 points × 1 repetitions = 2 runs/);
  t.regex(r.stdout, /p001 {2}topology\.workers=2/);
});

test.serial('cli - --out holding a run of the same resolved scenario is written again', async (t) => {
  const p = await place(t);
  const out = join(tmp(), 'again');
  t.is((await splitnet(t, ['run', p.scenario, '--out', out, '--quiet'])).code, 0);
  const first = readFileSync(join(out, 'summary.json'), 'utf8');
  const again = await splitnet(t, ['run', p.scenario, '--out', out, '--quiet']);
  t.is(again.code, 0, again.stderr);
  t.is(readFileSync(join(out, 'summary.json'), 'utf8'), first, 'same scenario and seed in sim: the same summary');
});

test.serial('cli - --force writes into a directory holding another run', async (t) => {
  const p = await place(t);
  const out = join(tmp(), 'forced');
  t.is((await splitnet(t, ['run', p.scenario, '--out', out, '--quiet'])).code, 0);
  const refused = await splitnet(t, ['run', p.scenario, '--out', out, '--quiet', '--seed', '9']);
  t.is(refused.code, 2);
  const forced = await splitnet(t, ['run', p.scenario, '--out', out, '--quiet', '--seed', '9', '--force']);
  t.is(forced.code, 0, forced.stderr);
  t.is((JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { seed: number }).seed, 9);
});

test.serial('cli - an empty --out directory is used', async (t) => {
  const p = await place(t);
  const out = tmp();
  const r = await splitnet(t, ['run', p.scenario, '--out', out, '--quiet']);
  t.is(r.code, 0, r.stderr);
  t.true(existsSync(join(out, 'summary.json')));
});

test.serial('cli - traffic above the link rate is run capped, with a warning on stderr, in the table and in summary.throughput.offeredCapped', async (t) => {
  const p = await place(t);
  const out = join(tmp(), 'capped');
  const r = await splitnet(t, ['run', p.scenario, '--set', 'traffic.0.rate=50Gbps', '--out', out]);
  t.is(r.code, 0, r.stderr);
  t.regex(
    r.stderr,
    /^splitnet: warning: the traffic asks for 50 Gbit\/s on the wire but topology\.link is 10 Gbit\/s: it is offered at line rate, the rest is never sent \(summary\.throughput\.offeredCapped\)$/m,
  );
  t.regex(r.stdout, /^warning +offered load capped: the traffic asks for 50\.00 Gbit\/s on a 10\.00 Gbit\/s link/m);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
    throughput: { offeredCapped?: unknown; offeredGbps: number; lineRateGbps: number };
  };
  t.deepEqual(summary.throughput.offeredCapped, { requestedGbps: 50, linkGbps: 10 });
  t.true(summary.throughput.offeredGbps <= summary.throughput.lineRateGbps * 1.001, 'what the wire took is at most line rate');
});

test.serial('cli - traffic at exactly the link rate is not reported as capped', async (t) => {
  const p = await place(t);
  const out = join(tmp(), 'line-rate');
  const r = await splitnet(t, ['run', p.scenario, '--set', 'traffic.0.rate=10Gbps', '--out', out]);
  t.is(r.code, 0, r.stderr);
  t.notRegex(r.stderr, /warning/);
  t.notRegex(r.stdout, /capped/);
  t.false('offeredCapped' in (JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { throughput: object }).throughput);
});
