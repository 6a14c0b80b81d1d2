// Container fault actions end to end: a docker-placed live run whose emulated node is paused (docker pause) and cut from its network (docker network disconnect), and whose NATS servers are restarted.
import test from 'ava';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSplitnetImage, dockerCli, exec, localNatsBase, removeLabelled, requireEngine, root } from './docker-helpers.js';
import type { Result } from './docker-helpers.js';
import { completed } from './live-helpers.js';

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

/** Start a docker-placed live run of `yaml` (written to a fresh folder); `run` resolves when the CLI exits. */
function startDockerRun(name: string, yaml: string, extra: readonly string[] = []): { run: ReturnType<typeof exec>; runId: string; out: string } {
  const dir = mkdtempSync(join(tmpdir(), `splitnet-${name}-`));
  const scenario = join(dir, 's.yaml');
  writeFileSync(scenario, yaml);
  const runId = `${name}-${runTag}`;
  const out = join(dir, 'out');
  const run = exec(process.execPath, [
    cli,
    'run',
    scenario,
    '--runtime',
    'live',
    '--placement',
    'docker',
    ...extra,
    '--image',
    image,
    '--nats-image',
    localNatsBase,
    '--run-id',
    runId,
    '--out',
    out,
    '--json',
  ]);
  return { run, runId, out };
}

/** The entries of a JSON-lines log the run kept in its logs/ (a line that is not JSON is skipped). */
function logEntries(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

/** A finished run's summary and event log. */
function resultsOf(out: string): { summary: ReturnType<typeof JSON.parse>; events: LoggedEvent[] } {
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  const events = readFileSync(join(out, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as LoggedEvent);
  return { summary, events };
}

test.before('faults docker - the engine is running; build the image', async (t) => {
  t.timeout(15 * 60_000, 'building the splitnet image');
  await requireEngine();
  await buildSplitnetImage(image, labels);
});

test.after.always('faults docker - remove the test image', async () => {
  await removeLabelled(`splitnet.test.run=${runTag}`);
});

test.serial(
  "faults docker - node:b paused (docker pause) and cut from its network (docker network disconnect), the NATS cluster restarted (docker kill, docker start), beside a guest of node:b that sends: the actions ran on their containers, every process resynced at the cut's end, the run completes, every packet and every frame sent is accounted, nothing left behind",
  async (t) => {
    t.timeout(5 * 60_000);
    // Two emulated nodes, spread: node 0 holds the driver, worker 0 and VMs 0 and 2; node 1 (node:b) holds
    // worker 1 and VMs 1 and 3. TDF 200: each 10 ms fault lasts 2 s of wall time, under the controller's
    // 5 s heartbeat limit, yet long against Docker's and NATS's reactions. After the NATS restart the run goes
    // on for 55 ms (11 s): Docker starts the servers again in ~1 s, and the clients retry every 2 s. Guest 1 (on
    // node:b) sends 50 Mbit/s to the wire through its TX ring, which the cut's end resyncs.
    const { run, runId, out } = startDockerRun(
      'dfaults',
      `name: docker-faults
duration: 130ms
warmup: 10ms
sampleInterval: 5ms
topology: { vms: { count: 4, queues: 1 }, workers: 2 }
traffic: [ { flows: 16, rate: 100Mbps }, { name: out, from: vm.1, to: wire, flows: 2, rate: 50Mbps, size: 1518, pattern: constant, protocol: udp } ]
coalescing: { nic: { policy: static, usecs: 100 }, backend: { policy: static, usecs: 400, frames: 0 } }
live: { tdf: 200, maxLag: 5ms }
faults:
  - { id: freeze, at: 20ms, duration: 10ms, target: node:1, action: pause }
  - { id: cut, at: 50ms, duration: 10ms, target: node:b, action: partition }
  - { id: bus, at: 70ms, duration: 5ms, target: nats, action: nats-restart }
`,
      ['--docker-nodes', '2'],
    );
    // Watch the NATS containers from outside: both go down and come back, on the same published port.
    let running = true;
    void run.finally(() => (running = false));
    const natsStates = new Set<string>();
    const natsPorts = new Set<string>();
    while (running) {
      const ps = await dockerCli([
        'ps',
        '-a',
        '--filter',
        `label=splitnet.run=${runId}`,
        '--filter',
        `name=nats`,
        '--format',
        '{{.Names}} {{.State}} {{.Ports}}',
      ]);
      for (const line of ps.stdout.split('\n').filter((x) => x !== '')) {
        const [name, state, ...ports] = line.split(' ');
        natsStates.add(`${name} ${state}`);
        if (name?.endsWith('-nats0') && ports.join(' ').includes('->')) natsPorts.add(ports.join(' '));
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const r = await run;
    t.log(r.stderr.split('\n').slice(-15).join('\n'));
    t.log(
      readFileSync(join(out, 'logs', 'controller.log'), 'utf8')
        .split('\n')
        .filter((l) => /fault|silent|nats/.test(l))
        .join('\n'),
    );
    // Valid or not: a frozen node puts actors behind the lag bound (see completed).
    t.true(completed(r), r.stderr + r.stdout);
    const { summary, events } = resultsOf(out);
    t.log(JSON.stringify({ drops: summary.drops, accounting: summary.accounting, faults: summary.faults }, null, 1));
    t.log(
      events
        .filter((e) => e.actor === 'controller' && !e.kind.startsWith('actor-'))
        .map((e) => `${e.t} ${e.kind} ${JSON.stringify(e.detail)}`)
        .join('\n'),
    );

    t.true(summary.accounting.balanced, JSON.stringify(summary.accounting));
    t.true(summary.accounting.delivered > 0);
    // The transmit path too: every frame guest 1 sent is on the wire, dropped with a reason, or in flight.
    const tx = summary.accounting.tx;
    t.true(tx?.balanced === true && tx.sent > 0 && tx.onWire > 0, JSON.stringify(tx));
    // At the cut's end every process resynced (the TX ring's indices among what it announces), as after a NATS outage.
    const resynced = new Set(events.filter((e) => e.kind === 'bus-resync' && e.detail['why'] === 'partition cut').map((e) => e.actor));
    for (const p of ['vm.1', 'worker.1', 'vm.0']) t.true(resynced.has(p), [...resynced].join(', '));
    t.deepEqual(
      summary.faults.timeline.map((x: Record<string, unknown>) => [x['id'], x['action'], x['target']]),
      [
        ['freeze', 'pause', 'node:1'],
        ['cut', 'partition', 'node:1'],
        ['bus', 'nats-restart', 'nats'],
      ],
    );
    // Both NATS servers were killed and started again; node 0's came back on the port the controller dials.
    for (const n of [0, 1]) {
      t.true(natsStates.has(`splitnet-${runId}-nats${n} exited`), [...natsStates].join('; '));
      t.true(natsStates.has(`splitnet-${runId}-nats${n} running`), [...natsStates].join('; '));
    }
    t.is(natsPorts.size, 1, [...natsPorts].join('; '));
    for (const kind of ['nats-down', 'nats-up'])
      t.truthy(
        events.find((e) => e.kind === kind && e.detail['id'] === 'bus'),
        kind,
      );
    for (const f of ['controller.log', `splitnet-${runId}-worker-1.log`, `splitnet-${runId}-frontend-0.log`]) {
      t.regex(readFileSync(join(out, 'logs', f), 'utf8'), /nats reconnect/, `${f} reconnected`);
    }
    // Docker carried out each step on node 1's three actor containers, and on nothing else.
    const node1 = [`splitnet-${runId}-worker-1`, `splitnet-${runId}-frontend-1`, `splitnet-${runId}-frontend-3`].sort();
    for (const kind of ['node-pause', 'node-unpause', 'node-disconnect', 'node-reconnect']) {
      const e = events.find((x) => x.kind === kind);
      t.truthy(e, `${kind} in ${events.map((x) => x.kind).join(', ')}`);
      const line = String(e?.detail['line']);
      const names = line
        .slice(line.indexOf(': ') + 2)
        .split(';')[0]
        ?.split(', ')
        .sort();
      t.deepEqual(names, node1, line);
    }
    // Reconnected, each container got its old address back, so its TCP connection to NATS could resume.
    t.notRegex(String(events.find((x) => x.kind === 'node-reconnect')?.detail['line']), /new address/);
    t.false(
      events.some((e) => e.kind === 'fault-failed' || e.kind === 'fault-skipped'),
      JSON.stringify(events.filter((e) => e.kind.startsWith('fault-'))),
    );
    t.true(events.some((e) => e.kind === 'node-disconnect' && String(e.detail['line']).startsWith(`docker network disconnect splitnet-${runId}-node1: `)));
    // A frozen or cut-off container is not a dead one: nothing was restarted.
    t.is(summary.faults.restarts, 0);
    // The drops add up, with a reason each.
    t.is(
      summary.drops.total,
      Object.entries(summary.drops)
        .filter(([k]) => k !== 'total')
        .reduce((n, [, v]) => n + (v as number), 0),
    );
    t.is(summary.drops['lost-in-crash'], 0);
    // Half the guests (and a worker) stood still or were unreachable for two whole sample intervals:
    // throughput dipped during each fault, and came back (the run's last samples are complete).
    for (const rec of summary.faults.recovery as Record<string, unknown>[]) {
      t.true((rec['minGbps'] as number) < (rec['preFaultGbps'] as number), JSON.stringify(rec));
      t.not(rec['recoveryMs'], 'not recovered', JSON.stringify(rec));
    }
    for (const f of readdirSync(join(out, 'logs'))) {
      t.log(
        f,
        readFileSync(join(out, 'logs', f), 'utf8')
          .split('\n')
          .filter((l) => /nats|silent|stopped/i.test(l))
          .join('\n'),
      );
    }

    const left = await dockerCli(['ps', '-aq', '--filter', `label=splitnet.run=${runId}`]);
    t.is(left.stdout.trim(), '', 'no container left');
    const nets = await dockerCli(['network', 'ls', '-q', '--filter', `label=splitnet.run=${runId}`]);
    t.is(nets.stdout.trim(), '', 'no network left');
  },
);

/** The second run of this file, shared by the tests below it: each checks one behaviour of its results. */
interface KillRun {
  readonly r: Result;
  readonly runId: string;
  readonly out: string;
  readonly summary: ReturnType<typeof JSON.parse>;
  readonly events: LoggedEvent[];
  /** Containers of the run that `docker ps` showed paused while it ran. */
  readonly pausedSeen: ReadonlySet<string>;
  /** The controller's log entries (some steps are only logged, not events). */
  readonly controllerLog: Record<string, unknown>[];
}

let killRun: Promise<KillRun> | undefined;

/**
 * One docker-placed run (TDF 200: a 1 ms step is 200 ms of wall time) with these faults: worker 1 killed (docker
 * kill); VM 0 paused, then killed while paused; VM 1 paused, and meanwhile its whole node; rx messages to the workers
 * dropped. The gaps between steps whose order the tests check are seconds of wall time, for a loaded machine where a
 * Docker call or a container's start takes one or two: VM 0's successor has 26 ms (5 s) to start before its
 * predecessor's pause ends and 44 ms (9 s) before the node pause; the node pause ends 16 ms (3 s) before VM 1's
 * own. Started by the first test that needs it; the ones after it wait for the same run.
 */
function dockerKillRun(): Promise<KillRun> {
  killRun ??= (async () => {
    const { run, runId, out } = startDockerRun(
      'dkill',
      `name: docker-kill
duration: 120ms
warmup: 10ms
sampleInterval: 5ms
topology: { vms: { count: 2, queues: 1 }, workers: 2 }
traffic: [ { flows: 16, rate: 100Mbps } ]
live: { tdf: 200, maxLag: 5ms }
faults:
  - { id: crash, at: 15ms, target: worker:1, action: kill }
  - { id: icepick, at: 18ms, duration: 30ms, target: vm:0, action: pause }
  - { id: shatter, at: 22ms, target: vm:0, action: kill }
  - { id: freeze, at: 60ms, duration: 30ms, target: vm:1, action: pause }
  - { id: nodefreeze, at: 66ms, duration: 8ms, target: node:0, action: pause }
  - { id: lossy, at: 95ms, duration: 15ms, target: "link:backend>worker:*", action: drop-messages, probability: 0.5, kinds: [rx] }
`,
    );
    // Watch from outside, as a user would: a container of the run shows up paused while the guest is frozen.
    let running = true;
    void run.finally(() => (running = false));
    const pausedSeen = new Set<string>();
    while (running) {
      const ps = await dockerCli(['ps', '--filter', `label=splitnet.run=${runId}`, '--filter', 'status=paused', '--format', '{{.Names}}']);
      for (const n of ps.stdout.split('\n').filter((x) => x !== '')) pausedSeen.add(n);
      await new Promise((r) => setTimeout(r, 200));
    }
    const r = await run;
    if (!completed(r)) throw new Error(`the docker-kill run failed (exit ${String(r.code)}):\n${r.stderr}${r.stdout}`);
    const { summary, events } = resultsOf(out);
    const controllerLog = logEntries(join(out, 'logs', 'controller.log'));
    return { r, runId, out, summary, events, pausedSeen, controllerLog };
  })();
  return killRun;
}

test.serial('faults docker - kill/pause run: it completes, and every packet is delivered, dropped with a reason, or in flight', async (t) => {
  t.timeout(5 * 60_000);
  const { r, summary, events } = await dockerKillRun();
  t.log(r.stderr.split('\n').slice(-15).join('\n'));
  t.log(
    events
      .filter((e) => /actor-(killed|died|restart|rejoined|paused|resumed)|fault-/.test(e.kind))
      .map((e) => `${e.t} ${e.actor} ${e.kind} ${JSON.stringify(e.detail)}`)
      .join('\n'),
  );
  t.true(summary.accounting.balanced, JSON.stringify(summary.accounting));
  t.true(summary.accounting.delivered > 0);
  t.is(
    summary.drops.total,
    Object.entries(summary.drops)
      .filter(([k]) => k !== 'total')
      .reduce((n, [, v]) => n + (v as number), 0),
  );
});

test.serial(
  'faults docker - kill/pause run: a killed worker container (docker kill, exit 137) is started again as a new container, which rejoins',
  async (t) => {
    t.timeout(5 * 60_000);
    const { runId, summary, events } = await dockerKillRun();
    const killed = events.find((e) => e.kind === 'actor-killed-by-fault' && e.actor === 'worker.1');
    const first = String(killed?.detail['container']);
    t.regex(first, new RegExp(`^splitnet-${runId}-worker-[01]$`));
    const died = events.find((e) => e.kind === 'actor-died' && e.actor === 'worker.1');
    t.is(died?.detail['container'], first);
    t.is(died?.detail['code'], 137, 'docker kill: SIGKILL');
    t.truthy(events.find((e) => e.kind === 'actor-restart' && e.actor === 'worker.1' && e.detail['incarnation'] === 1));
    t.truthy(events.find((e) => e.kind === 'actor-rejoined' && e.actor === 'worker.1' && e.detail['container'] === `${first}-r1`));
    t.deepEqual(
      events
        .filter((e) => e.kind === 'actor-died')
        .map((e) => e.actor)
        .sort(),
      ['vm.0', 'worker.1'],
      'only the killed containers died',
    );
    t.is(summary.faults.restarts, 2);
  },
);

test.serial(
  "faults docker - kill/pause run: the restarted container gets the run's scenario from the controller (it has no file of it), and each container's log is kept under its own name",
  async (t) => {
    t.timeout(5 * 60_000);
    const { out, events, controllerLog } = await dockerKillRun();
    const first = String(events.find((e) => e.kind === 'actor-killed-by-fault' && e.actor === 'worker.1')?.detail['container']);
    // The controller handed the run's scenario to the restart (a rejoin: only logged, no event).
    t.truthy(controllerLog.find((e) => e['message'] === 'rejoined' && JSON.stringify(e['ids']) === '["worker.1"]' && e['incarnation'] === 1));
    t.truthy(logEntries(join(out, 'logs', `${first}-r1.log`)).find((e) => e['message'] === 'rejoined' && e['incarnation'] === 1));
    t.truthy(logEntries(join(out, 'logs', `${first}.log`)).find((e) => e['message'] === 'joined' && JSON.stringify(e['ids']) === '["worker.1"]'));
  },
);

test.serial(
  "faults docker - kill/pause run: a guest container killed while paused is ended by docker kill, its successor runs unpaused, and the pause's end leaves it alone",
  async (t) => {
    t.timeout(5 * 60_000);
    const { runId, events, pausedSeen, controllerLog } = await dockerKillRun();
    const iced = String(events.find((e) => e.kind === 'actor-paused' && e.actor === 'vm.0')?.detail['container']);
    t.regex(iced, new RegExp(`^splitnet-${runId}-frontend-[01]$`));
    t.true(pausedSeen.has(iced), `paused containers seen: ${[...pausedSeen].join(', ')}`);
    t.is(events.find((e) => e.kind === 'actor-killed-by-fault' && e.actor === 'vm.0')?.detail['container'], iced);
    const icedDied = events.find((e) => e.kind === 'actor-died' && e.actor === 'vm.0');
    t.is(icedDied?.detail['container'], iced);
    t.is(icedDied?.detail['code'], 137, 'docker kill of a paused container: SIGKILL');
    t.truthy(events.find((e) => e.kind === 'actor-rejoined' && e.actor === 'vm.0' && e.detail['container'] === `${iced}-r1`));
    // The pause's end went to the successor, which was not paused: Docker was not asked (only logged, no event).
    t.truthy(controllerLog.find((e) => e['message'] === 'docker: container not paused, nothing to unpause' && e['container'] === `${iced}-r1`));
    // The node pause below (node 0 hosts every container here) paused the successor as one of the node's running
    // containers, and its end thawed it.
    for (const kind of ['node-pause', 'node-unpause']) {
      const done = String(events.find((e) => e.kind === kind)?.detail['line']).split(';')[0] ?? '';
      t.true(done.split(/[:,] /).includes(`${iced}-r1`), `${kind}: ${done}`);
    }
  },
);

test.serial(
  'faults docker - kill/pause run: a node paused while one of its guests is paused by its own fault pauses and thaws only its other containers; the guest stays paused until its own pause ends',
  async (t) => {
    t.timeout(5 * 60_000);
    const { runId, events, pausedSeen, controllerLog } = await dockerKillRun();
    const paused = events.find((e) => e.kind === 'actor-paused' && e.actor === 'vm.1');
    const guest = String(paused?.detail['container']);
    t.regex(guest, new RegExp(`^splitnet-${runId}-frontend-[01]$`));
    t.true(pausedSeen.has(guest), `paused containers seen: ${[...pausedSeen].join(', ')}`);
    t.truthy(events.find((e) => e.kind === 'actor-resumed' && e.actor === 'vm.1'));
    t.false(
      events.some((e) => e.kind === 'actor-died' && e.actor === 'vm.1'),
      'paused, not restarted',
    );
    // One `docker pause` each: the node's other containers only, and thawed them only.
    const nodePause = String(events.find((e) => e.kind === 'node-pause')?.detail['line']);
    const nodeUnpause = String(events.find((e) => e.kind === 'node-unpause')?.detail['line']);
    t.regex(nodePause, new RegExp(`; already paused by another fault: ${guest}$`));
    t.regex(nodeUnpause, new RegExp(`; still paused by another fault: ${guest}$`));
    t.notRegex(nodePause.split(';')[0] ?? '', new RegExp(guest));
    t.regex(nodePause, new RegExp(`splitnet-${runId}-driver-0`));
    t.false(
      events.some((e) => e.kind === 'fault-failed' || e.kind === 'fault-skipped'),
      JSON.stringify(events.filter((e) => e.kind.startsWith('fault-'))),
    );
    // A failed Docker call is only logged (no event).
    const failed = controllerLog.filter((e) => /^docker: (pause|unpause|kill \w+) failed$|^rejoin refused$/.test(String(e['message'])));
    t.deepEqual(failed, []);
  },
);

test.serial(
  "faults docker - kill/pause run: rx messages dropped in the containers' send path are counted as link-drop, and nothing reaches a decoder garbled",
  async (t) => {
    t.timeout(5 * 60_000);
    const { summary } = await dockerKillRun();
    t.true(summary.drops['link-drop'] > 0, JSON.stringify(summary.drops));
    t.is(
      Object.values(summary.live.wire.rejected as Record<string, number>).reduce((a, b) => a + b, 0),
      0,
    );
  },
);

test.serial('faults docker - kill/pause run: no container of the run is left on the engine, the dead ones included', async (t) => {
  t.timeout(5 * 60_000);
  const { runId } = await dockerKillRun();
  const left = await dockerCli(['ps', '-aq', '--filter', `label=splitnet.run=${runId}`]);
  t.is(left.stdout.trim(), '');
});
