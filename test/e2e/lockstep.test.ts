// Lockstep end to end: `splitnet run --runtime lockstep` (one process per Xen domain over the run's own nats-server) writes sim's result files byte for byte; a partition that dies ends the run and leaves nothing running; bad flags are refused.
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { completed, cores, processPool, recordedProcesses, run, scenarioFile, stillRuns, tmp, waitFor, logLines, started, root } from './live-helpers.js';

const FILES = ['summary.json', 'metrics.jsonl', 'events.jsonl', 'latency.json'];

/** Several guests with vRSS workers and netback stalls (the lockstep package's in-process test runs it too). */
const severalGuests = join(root, 'packages/lockstep/test/fixtures/several-guests.yaml');

const quickstart = join(root, 'examples/quickstart.yaml');

/**
 * ava starts every test of this file at once: ~33 runs, more than 40 processes (a lockstep run is its controller and
 * one process per partition, besides its nats-server), and on 2 cores partitions then missed the 60 s hello deadline.
 * Each run takes slots of this pool (a sim run or a refused command 1, a lockstep run its partitions and controller),
 * 4 per core: on 2 cores a 4-partition run beside a 2-partition one, or a few commands beside them.
 */
const slots = processPool(4 * cores);

/** The run's result files as written. */
function files(dir: string): Record<string, string> {
  return Object.fromEntries(FILES.map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

/**
 * `byKey`: the scenario says `runtime: lockstep` itself, so the lockstep run takes no --runtime and the sim run
 * says --runtime sim. (The quickstart runs only this way: one run of its partitions checks both that the key alone
 * makes a lockstep run and that the quickstart's files are sim's; every other case gives --runtime lockstep.)
 * `fewerWindowsThan`: each partition ran fewer windows than that (its neighbours' promises let it skip the rest).
 * `bus`: its partitions' frames and promises go through the NATS server (SPLITNET_LOCKSTEP_DIRECT=0); the others'
 * on direct loopback links between the partitions (the processes placement's default), which their logs say.
 */
const cases: { name: string; args: () => string[]; partitions: number; byKey?: true; fewerWindowsThan?: number; bus?: true }[] = [
  {
    name: 'the quickstart (3 ms) from a scenario file saying runtime: lockstep, without --runtime',
    args: () => [scenarioFile(`${readFileSync(quickstart, 'utf8')}\nruntime: lockstep\n`), '--duration', '3ms', '--set', 'warmup=1ms'],
    partitions: 2,
    byKey: true,
    bus: true,
  },
  { name: 'three guests with 2 queues each and 3 vRSS workers, with netback stalls', args: () => [severalGuests], partitions: 4 },
  {
    name: 'a guest sending to the wire beside a stream it receives (guest-tx, 3 ms)',
    args: () => [join(root, 'examples/guest-tx.yaml'), '--duration', '3ms', '--set', 'warmup=1ms'],
    partitions: 2,
  },
  {
    name: 'a guest sending to another guest through the bridge (vm-to-vm, 3 ms)',
    args: () => [join(root, 'examples/vm-to-vm.yaml'), '--duration', '3ms', '--set', 'warmup=1ms'],
    partitions: 3,
    bus: true,
  },
  {
    name: 'a TCP stream whose ACKs go through netback TX on one scheduled dom0 vCPU (tcp-bulk, 3 ms)',
    args: () => [join(root, 'examples/tcp-bulk.yaml'), '--duration', '3ms', '--set', 'warmup=1ms', '--set', 'topology.dom0.vcpus=1'],
    partitions: 2,
  },
  {
    name: 'every fault kind sim takes on actors of every partition and on links between them (6 ms)',
    args: () => [join(root, 'packages/lockstep/test/fixtures/faults-every-kind.yaml')],
    partitions: 3,
  },
  {
    name: 'three hosts on one switch, TCP across hosts and an incast that fills a switch port (one partition per host)',
    args: () => [join(root, 'packages/lockstep/test/fixtures/three-hosts.yaml')],
    partitions: 3,
  },
  {
    name: 'two hosts that exchange a trickle beside traffic from outside (cluster-trickle, 6 ms), in fewer windows than a tenth of its 6 000 lookaheads',
    args: () => [join(root, 'examples/cluster-trickle.yaml'), '--duration', '6ms'],
    partitions: 2,
    fewerWindowsThan: 600,
  },
];

for (const c of cases) {
  test(`lockstep - ${c.name}: processes placement per Xen domain writes summary, metrics, events and latency byte-identical to sim; environment.json names its partitions, their barrier wait shares and the slowest`, async (t) => {
    const simDir = join(tmp(), 'sim');
    const lsDir = join(tmp(), 'lockstep');
    const args = c.args();
    // The sim baseline beside the lockstep run (neither reads the other's files).
    const [sim, ls] = await Promise.all([
      slots(1, () => run(['run', ...args, ...(c.byKey ? ['--runtime', 'sim'] : []), '--out', simDir, '-q'])),
      slots(c.partitions + 1, () =>
        run(
          ['run', ...args, ...(c.byKey ? [] : ['--runtime', 'lockstep']), '--placement', 'processes', '--out', lsDir, '-q'],
          c.bus ? { SPLITNET_LOCKSTEP_DIRECT: '0' } : {},
        ),
      ),
    ]);
    t.is(sim.code, 0, sim.stderr);
    t.is(ls.code, 0, ls.stderr);
    const a = files(simDir);
    const b = files(lsDir);
    for (const f of FILES) t.is(b[f], a[f], f);
    const env = JSON.parse(readFileSync(join(lsDir, 'environment.json'), 'utf8')) as {
      runtime: string;
      partitions: string[];
      waitShares: number[];
      windows: number[];
      slowest: { partition: string; shareOfChecks: number } | null;
    };
    if (c.fewerWindowsThan !== undefined) for (const w of env.windows) t.true(w < c.fewerWindowsThan, `${w} windows`);
    t.is(env.runtime, 'lockstep');
    t.is(env.partitions.length, c.partitions);
    // How the run went (wall time: in environment.json, not in the result files): each partition's barrier wait, and which was behind.
    t.is(env.waitShares.length, c.partitions);
    for (const w of env.waitShares) t.true(w >= 0 && w <= 1, String(w));
    t.true(env.partitions.includes(env.slowest?.partition ?? ''), JSON.stringify(env.slowest));
    for (const p of env.partitions) t.true(existsSync(join(lsDir, 'logs', `${p}.log`)), `${p}.log`);
    // Which path their messages took: each partition's log says how many neighbours it sent to on direct links.
    for (const p of env.partitions) {
      const direct = logLines(join(lsDir, 'logs', `${p}.log`)).find((l) => l['message'] === 'started')?.['directLinks'];
      if (c.bus) t.is(direct, 0, p);
      else t.true(typeof direct === 'number' && direct > 0, `${p}: ${String(direct)}`);
    }
  });
}

test('lockstep - a partition killed mid-run ends the run with exit 1 naming it and its log, which is kept, and leaves no process running', async (t) => {
  const out = join(tmp(), 'killed');
  const log = join(out, 'logs', 'vm.0.log');
  // Its two partitions and controller.
  const { ended, victim } = await slots(3, async () => {
    const r = started(['run', quickstart, '--runtime', 'lockstep', '--out', out, '-q']);
    const up = await waitFor('partition vm.0 to start running', () => logLines(log).some((l) => l['message'] === 'started'), 120_000).then(
      () => recordedProcesses(out).find((q) => q.what.includes('vm.0')),
      () => undefined,
    );
    // Without a victim, the run is ended here (its slots are then free for the rest).
    if (up === undefined) r.child.kill('SIGINT');
    else process.kill(up.pid, 'SIGKILL');
    return { ended: await r.exit, victim: up };
  });
  if (victim === undefined) return t.fail(`vm.0 did not start running within 120 s, or is not in processes.jsonl: ${ended.stderr}`);
  t.is(ended.code, 1, ended.stderr);
  const lines = ended.stderr.trim().split('\n');
  t.is(lines.length, 1, ended.stderr);
  t.regex(
    ended.stderr,
    /lockstep: partition vm\.0 \(pid \d+\) exited before the end of the run, at [\d.]+ ms emulated of 50 ms; the run ends here \(its log: .*logs\/vm\.0\.log\)/,
  );
  t.true(existsSync(log));
  await waitFor('every process of the run to be gone', () => recordedProcesses(out).every((p) => !stillRuns(p)), 15_000);
  t.pass();
});

/** A scenario with both message faults lockstep refuses together. */
const reorderAndDelay = (): string =>
  scenarioFile(
    [
      'name: pair',
      'duration: 1ms',
      'faults:',
      "  - { id: shuffle, at: 100us, duration: 100us, target: 'link:vm:0>worker:*', action: reorder-messages }",
      "  - { id: slow, at: 100us, duration: 100us, target: 'link:worker:*>vm:0', action: delay-messages }",
      '',
    ].join('\n'),
  );

const bad: { name: string; args: () => string[]; message: RegExp }[] = [
  {
    name: '--placement inprocess',
    args: () => [quickstart, '--runtime', 'lockstep', '--placement', 'inprocess'],
    message: /^splitnet: error: --placement inprocess: lockstep runs its partitions on placement processes, docker, external/,
  },
  {
    name: '--docker-host (other engines)',
    args: () => [quickstart, '--runtime', 'lockstep', '--placement', 'docker', '--docker-host', 'tcp://10.0.0.2:2375'],
    message: /^splitnet: error: --docker-host: lockstep's docker placement runs on this machine's engine only today/,
  },
  {
    name: '--docker-nodes without --placement docker',
    args: () => [quickstart, '--runtime', 'lockstep', '--docker-nodes', '2'],
    message: /^splitnet: error: --docker-nodes: only with --placement docker; this lockstep run's placement is processes/,
  },
  {
    name: '--placement external without --nats',
    args: () => [quickstart, '--runtime', 'lockstep', '--placement', 'external'],
    message: /^splitnet: error: --placement external: the partitions of a lockstep run join over a NATS server of yours, .*give --nats <url>/,
  },
  {
    name: '--expect without --placement external',
    args: () => [quickstart, '--runtime', 'lockstep', '--expect', 'partition=3'],
    message: /^splitnet: error: --expect: only for partitions that join \(--placement external\)/,
  },
  {
    name: "--expect of a live run's role",
    args: () => [quickstart, '--runtime', 'lockstep', '--placement', 'external', '--nats', 'nats://127.0.0.1:1', '--expect', 'frontend=3'],
    message: /^splitnet: error: --expect frontend=3: a lockstep run expects its partitions only: give --expect partition=<n> once \(n ≥ 2\)/,
  },
  {
    name: '--expect partition=1',
    args: () => [quickstart, '--runtime', 'lockstep', '--placement', 'external', '--nats', 'nats://127.0.0.1:1', '--expect', 'partition=1'],
    message: /^splitnet: error: --expect partition=1: a lockstep run per Xen domain has at least 2 partitions/,
  },
  {
    name: '--expect partition=N of a multi-host scenario whose traffic names a host beyond N',
    args: () => [
      scenarioFile(
        'name: four\nduration: 1ms\nruntime: lockstep\nhosts: 4\ntopology: { vms: { count: 2 } }\ntraffic:\n  - { from: h0.vm.0, to: h1.vm.0, rate: 1Gbps }\n  - { from: h3.vm.0, to: h0.vm.1, rate: 1Gbps }\n',
      ),
      '--placement',
      'external',
      '--nats',
      'nats://127.0.0.1:1',
      '--expect',
      'partition=3',
    ],
    message:
      /^splitnet: error: .*:8:13: traffic\[1\]\.from: expected a host from h0 to h2 \(hosts: 3\), found "h3\.vm\.0" \(with --expect partition=3 \(3 hosts, one partition each\)\)/,
  },
  {
    name: '--expect partition=N of a multi-host scenario whose hosts differ',
    args: () => [
      scenarioFile(
        'name: unlike\nduration: 1ms\nruntime: lockstep\nhosts: [ {}, { topology: { vms: { count: 2 } } } ]\ntraffic: [ { from: h0.vm.0, to: h1.vm.0, rate: 1Gbps } ]\n',
      ),
      '--placement',
      'external',
      '--nats',
      'nats://127.0.0.1:1',
      '--expect',
      'partition=3',
    ],
    message:
      /^splitnet: error: --expect partition=3: this scenario's 2 hosts are not all alike \(hosts: a list, some with settings of their own\), so it is not sized to 3: expect partition=2 \(one partition per host\)/,
  },
  {
    name: '--join-window',
    args: () => [quickstart, '--runtime', 'lockstep', '--placement', 'external', '--nats', 'nats://127.0.0.1:1', '--join-window', '2s'],
    message: /^splitnet: error: --join-window: a lockstep run takes exactly its partitions as they join/,
  },
  {
    name: 'reorder-messages beside delay-messages',
    args: () => [reorderAndDelay(), '--runtime', 'lockstep'],
    message: /^splitnet: error: lockstep: faults shuffle \(reorder-messages\) and slow \(delay-messages\) in one run cannot be exact across partitions/,
  },
  {
    name: 'links without delay between domains',
    args: () => [scenarioFile('name: zero\nduration: 1ms\ncosts: { profile: default, override: { link: 0 } }\n'), '--runtime', 'lockstep'],
    message: /^splitnet: error: lockstep: the link worker\.0 → vm\.0 crosses partitions .* with no delay \(costs\.link = 0 ns\); lockstep needs a delay > 0/,
  },
  {
    name: '--tdf',
    args: () => [quickstart, '--runtime', 'lockstep', '--tdf', '10'],
    message: /^splitnet: error: --tdf 10: only for a live run .* this run is lockstep/,
  },
  {
    name: 'a scenario saying runtime: lockstep with reorder-messages beside delay-messages',
    args: () => [reorderAndDelay(), '--set', 'runtime=lockstep'],
    message: /^splitnet: error: lockstep: faults shuffle \(reorder-messages\) and slow \(delay-messages\) in one run cannot be exact/,
  },
  {
    name: 'a fault on the NATS server, which sim has not either',
    args: () => [
      scenarioFile('name: n\nduration: 1ms\nfaults: [{ at: 100us, duration: 100us, target: nats, action: nats-restart }]\n'),
      '--runtime',
      'lockstep',
    ],
    message: /^splitnet: error: .*the NATS server exists only in live runs/,
  },
];

for (const c of bad) {
  test(`lockstep - ${c.name} is refused before anything starts: one line, exit 2`, async (t) => {
    const r = await slots(1, () => run(['run', ...c.args(), '--out', join(tmp(), 'refused'), '-q']));
    t.is(r.code, 2, r.stderr);
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    t.regex(r.stderr, c.message);
    t.false(completed(r));
  });
}
