// Fault injection in live mode: real actor processes over a real nats-server — process signals through the supervisor, a NATS server restart, and `splitnet fault` against a running emulation.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startNatsServer } from '@splitnet/transport/nats-server';
import { completed, eventsOf, processesOf, run, scenarioFile, tmp } from './live-helpers.js';
import type { Ran } from './live-helpers.js';

// One VM, two queues, two workers at a low rate; TDF 50 so that a process restart (seconds of wall
// time on a loaded 2-core machine) costs tens of ms of emulated time.
const base = (faults: string, duration = '400ms', tdf = 50) => `
name: live-faults
duration: ${duration}
warmup: 40ms
sampleInterval: 10ms
topology: { vms: { count: 1, queues: 2 }, workers: 2, vrss: per-flow }
traffic: [ { flows: 8, rate: 100Mbps, size: 1518, pattern: constant } ]
coalescing:
  nic: { policy: static, usecs: 100 }
  backend: { policy: static, usecs: 400, frames: 0 }
live: { tdf: ${tdf}, maxLag: 20ms }
faults:
${faults}
`;

test.serial(
  'faults live - kill, pause/resume, a NATS server restart and a partition: the supervisor restarts, clients reconnect, the run completes, every packet is accounted',
  async (t) => {
    const out = join(tmp(), 'run');
    const runId = `fl1-${process.pid}`;
    const file = scenarioFile(
      base(`  - { at: 80ms, target: worker:1, action: kill }
  - { at: 150ms, duration: 30ms, target: vm:0, action: pause }
  - { at: 250ms, duration: 20ms, target: nats, action: nats-restart }
  - { at: 320ms, duration: 20ms, target: vm:0:queue:0, action: stop-polling }
  - { at: 350ms, duration: 20ms, target: worker:0, action: partition }`),
    );
    const r = await run(['run', file, '--runtime', 'live', '--run-id', runId, '--out', out, '-q']);
    // Valid or not: a paused process and a NATS outage put actors behind the lag bound (see completed).
    t.true(completed(r), r.stderr + r.stdout);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    t.true(summary.accounting.balanced, JSON.stringify(summary.accounting));
    t.true(summary.accounting.delivered > 0);
    const f = summary.faults;
    t.deepEqual(
      f.timeline.map((x: Record<string, unknown>) => x['action']),
      ['kill', 'pause', 'nats-restart', 'stop-polling', 'partition'],
    );
    // The partition acted in the send path of the live hosts: what it dropped is counted.
    t.true(summary.drops['link-drop'] > 0, JSON.stringify(summary.drops));
    t.is(
      summary.drops.total,
      Object.entries(summary.drops)
        .filter(([k]) => k !== 'total')
        .reduce((n, [, v]) => n + (v as number), 0),
    );
    t.is(f.restarts, 1);
    t.true(
      f.stalls.some((s: Record<string, unknown>) => s['cause'] === 'worker-killed' && s['endedBy'] === 'supervisor-restart'),
      JSON.stringify(f.stalls),
    );
    // The guest's own events travel to the controller: the stopped queue's stall and how it ended.
    t.true(
      f.stalls.some((s: Record<string, unknown>) => s['queue'] === 'vm0:q0' && s['cause'] === 'stopped-polling' && s['endedBy'] === 'resume'),
      JSON.stringify(f.stalls),
    );
    const ev = eventsOf(out);
    const kinds = ev.map((e) => e.kind);
    for (const k of [
      'fault-start',
      'fault-end',
      'actor-killed-by-fault',
      'actor-died',
      'actor-restart',
      'actor-rejoined',
      'actor-paused',
      'actor-resumed',
      'nats-down',
      'nats-up',
    ]) {
      t.true(kinds.includes(k), `${k} in ${kinds.join(', ')}`);
    }
    // Every actor process saw the NATS server go and come back; the guest and the workers then announced
    // their ring state again (what the bus lost cannot stall a queue: see Actor.resync).
    for (const name of ['vm.0', 'worker.0', 'nic+backend']) {
      const log = readFileSync(join(out, 'logs', `${name}.log`), 'utf8');
      t.regex(log, /nats disconnect/, name);
      t.regex(log, /nats reconnect/, name);
      if (name !== 'nic+backend') t.regex(log, /"message":"bus resync","round":1/, name);
    }
    // …and said so in the run's event log (a round sent before the controller itself was back is lost with the bus).
    const resyncs = new Set(ev.filter((e) => e.kind === 'bus-resync').map((e) => e.actor));
    t.true(resyncs.has('vm.0') && resyncs.has('worker.0'), [...resyncs].join(', '));
    // The stop-polling command reached the guest's process.
    t.regex(readFileSync(join(out, 'logs', 'vm.0.log'), 'utf8'), /"action":"stop-polling".*"message":"fault","phase":"start"/);
    t.deepEqual(processesOf(runId), [], 'no actor process or nats-server left behind');
  },
);

test.serial('faults live - the driver killed during a link-flap comes back with its link still down, until the flap ends', async (t) => {
  const out = join(tmp(), 'run');
  const runId = `fl-flap-${process.pid}`;
  const file = scenarioFile(
    base(`  - { at: 100ms, duration: 200ms, target: nic, action: link-flap }
  - { at: 130ms, target: nic, action: kill }`),
  );
  const r = await run(['run', file, '--runtime', 'live', '--run-id', runId, '--out', out, '-q']);
  t.true(completed(r), r.stderr + r.stdout);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  t.true(summary.accounting.balanced, JSON.stringify(summary.accounting));
  const ev = eventsOf(out);
  const at = (kind: string, actor = 'nic') => ev.filter((e) => e.kind === kind && e.actor === actor).map((e) => e.t);
  const [rejoined] = at('actor-rejoined', 'nic+backend');
  t.true(rejoined !== undefined && rejoined > 130e6 && rejoined < 300e6, `rejoined at ${String(rejoined)} ns: inside the flap`);
  t.deepEqual(
    ev.filter((e) => e.kind === 'fault-reapplied').map((e) => [e.actor, e.detail['id'], e.detail['action']]),
    [['nic', 'f0', 'link-flap']],
  );
  // The fresh NIC takes the link-down at the instant it resumes the wire; up again only at the flap's end.
  const downs = at('nic-link-down');
  t.is(downs.length, 2);
  t.is(downs[1], at('nic-resumed')[0]);
  t.deepEqual(
    at('nic-link-up').map((x) => x >= 300e6),
    [true],
  );
  // Half the run had the link down: frames met it (link-down) or the dead NIC (lost-in-crash), not the guest.
  t.true(summary.accounting.delivered < 0.6 * summary.accounting.emitted, JSON.stringify(summary.accounting));
  t.true(summary.drops['link-down'] > 0);
  t.deepEqual(processesOf(runId), [], 'no actor process or nats-server left behind');
});

test.serial(
  'faults live - message faults act in the live send path: dropped batches are counted, reordered ones reorder flows, nothing a fault sent (duplicates, delays included) is rejected as garbled, every packet is accounted',
  async (t) => {
    const out = join(tmp(), 'messages');
    const runId = `fl4-${process.pid}`;
    // 8 flows at 100 Mbit/s: each flow's frames are ~1 ms apart, so a 3 ms reorder window lets later batches overtake.
    const file = scenarioFile(
      base(`  - { at: 60ms, duration: 60ms, target: "link:backend>worker:*", action: drop-messages, probability: 0.3, kinds: [rx] }
  - { at: 150ms, duration: 60ms, target: "link:backend>worker:*", action: reorder-messages, probability: 0.5, delay: 3ms, kinds: [rx] }
  - { at: 240ms, duration: 40ms, target: "link:worker:*>vm:0", action: duplicate-messages, kinds: [evt] }
  - { at: 300ms, duration: 40ms, target: "link:backend>worker:*", action: delay-messages, delay: 100us }`),
    );
    const r = await run(['run', file, '--runtime', 'live', '--run-id', runId, '--out', out, '-q']);
    t.true(completed(r), r.stderr + r.stdout);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    t.true(summary.accounting.balanced, JSON.stringify(summary.accounting));
    t.deepEqual(
      summary.faults.timeline.map((x: Record<string, unknown>) => x['action']),
      ['drop-messages', 'reorder-messages', 'duplicate-messages', 'delay-messages'],
    );
    t.true(summary.drops['link-drop'] > 0, JSON.stringify(summary.drops));
    t.true(summary.flowOrder.reordered > 0, JSON.stringify(summary.flowOrder));
    // Nothing the faults did looks like garbage to the receivers' decoders.
    t.deepEqual(
      Object.values(summary.live.wire.rejected).reduce((a, b) => (a as number) + (b as number), 0),
      0,
    );
    t.true(summary.accounting.delivered > 0);
    t.deepEqual(processesOf(runId), [], 'no actor process or nats-server left behind');
  },
);

test.serial(
  'faults live - rx batches of guest-to-guest frames dropped on a link give the sender its grant slots back: counted link-drop, the sender keeps sending',
  async (t) => {
    const out = join(tmp(), 'g2g-drop');
    const runId = `fl5-${process.pid}`;
    // Half the bridge's batches into guest 1's vif lost for 100 ms: ~1200 frames, far more than guest 0's TX ring
    // (256 slots) and qdisc (1000) hold, so slots never answered would stop its queue and overflow its qdisc.
    const file = scenarioFile(`
name: live-g2g-drop
duration: 200ms
warmup: 20ms
sampleInterval: 10ms
topology: { vms: { count: 2, queues: 1 }, workers: 2, vrss: per-flow }
traffic: [ { name: a-to-b, from: vm.0, to: vm.1, flows: 4, rate: 300Mbps, size: 1518, pattern: constant } ]
live: { tdf: 50, maxLag: 20ms }
faults:
  - { at: 40ms, duration: 100ms, target: "link:backend>worker:*", action: drop-messages, probability: 0.5, kinds: [rx] }
`);
    const r = await run(['run', file, '--runtime', 'live', '--run-id', runId, '--out', out, '-q']);
    t.true(completed(r), r.stderr + r.stdout);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    const a = summary.accounting;
    t.true(a.balanced, JSON.stringify(a));
    t.true(a.tx.balanced, JSON.stringify(a.tx));
    t.true(summary.drops['link-drop'] > 500, JSON.stringify(summary.drops));
    t.is(a.tx.dropped['guest-qdisc-overlimit'], 0, JSON.stringify(a.tx));
    t.true(a.tx.inFlight.guestQdiscs < 50, JSON.stringify(a.tx));
    t.true(a.tx.toGuests >= a.tx.sent - 50, JSON.stringify(a.tx));
    t.deepEqual(processesOf(runId), [], 'no actor process or nats-server left behind');
  },
);

test.serial('faults live - splitnet fault injects into a running emulation over the control plane and prints what happened', async (t) => {
  const server = await startNatsServer();
  t.teardown(() => server.stop());
  const out = join(tmp(), 'run');
  const runId = `fl2-${process.pid}`;
  // No scheduled fault: everything comes from the command line.
  const file = scenarioFile(base('  []', '1000ms', 20).replace('faults:\n  []', ''));
  const running = run(['run', file, '--runtime', 'live', '--run-id', runId, '--nats', server.url, '--out', out, '-q']);
  const fault = (...args: string[]) => run(['fault', ...args, '--run', runId, '--nats', server.url]);

  // Wait for the run to start: until then the controller answers "not started" (exit 2) or nobody answers (exit 1).
  let first: Ran = { code: null, stdout: '', stderr: '' };
  for (let i = 0; i < 120; i++) {
    first = await fault('stop-polling', 'vm:0:queue:1', '--duration', '40ms');
    if (first.code === 0) break;
    await new Promise((w) => setTimeout(w, 250));
  }
  t.is(first.code, 0, first.stdout + first.stderr);
  t.regex(first.stdout, /^injected: adhoc-\d+: stop-polling on vm:0:queue:1 at [\d.]+ ms emulated; 2 more step\(s\) scheduled$/m);
  t.regex(first.stdout, /stop-polling start sent to vm\.0 \(queues 1\)/);

  const kill = await fault('kill', 'worker:0', '--id', 'cli-kill');
  t.is(kill.code, 0, kill.stdout + kill.stderr);
  t.regex(kill.stdout, /injected: cli-kill: kill on worker:0/);
  t.regex(kill.stdout, /SIGKILL to worker\.0 \(pid \d+\); the supervisor restarts it/);

  const bad = await fault('stop-polling', 'vm:3');
  t.is(bad.code, 2);
  t.regex(bad.stdout, /rejected: faults\[0\]\.target: expected a VM from 0 to 0, found "vm:3"/);
  const msg = await fault('drop-messages', 'link:backend>worker:0');
  t.is(msg.code, 2);
  t.regex(msg.stdout, /schedule it in the scenario's faults instead/);

  const r = await running;
  t.true(completed(r), r.stderr + r.stdout);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  t.true(summary.accounting.balanced, JSON.stringify(summary.accounting));
  const ids = summary.faults.timeline.map((x: Record<string, unknown>) => x['id']);
  t.true(ids.includes('cli-kill'), ids.join(', '));
  t.is(summary.faults.restarts, 1);
  t.true(eventsOf(out).filter((e) => e.kind === 'fault-request').length >= 4);

  const none = await run(['fault', 'kill', 'worker:0', '--run', 'no-such-run', '--nats', server.url, '--timeout', '1']);
  t.is(none.code, 1);
  t.regex(none.stderr, /no controller of run no-such-run answered/);
  t.deepEqual(processesOf(runId), []);
});

/** The process state letter `ps` shows for pid (T: stopped by a signal), or '' once it is gone. */
function stateOf(pid: number): string {
  return spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim();
}

test.serial(
  'faults live - restart, a crash loop and pause/resume of real processes: every kill that hits a live process is restarted by the supervisor, a kill of a process still down is reported as skipped, a paused guest is stopped (SIGSTOP) and resumed without a restart',
  async (t) => {
    const out = join(tmp(), 'run');
    const runId = `fl3-${process.pid}`;
    // TDF 20: the pause lasts 2 s of wall time, long enough to see the stopped process with ps. The
    // default crash loop (every 2 ms = 40 ms of wall time) repeats before the supervisor's first backoff
    // (100 ms after the death) has even elapsed: its 2nd and 3rd kills find the process down, whatever
    // the machine's load, because timers fire in the order of their deadlines.
    const file = scenarioFile(
      base(
        `  - { id: rs, at: 60ms, target: worker:0, action: restart }
  - { id: loop, at: 150ms, target: worker:1, action: crash-loop, repeat: { every: 100ms, count: 2 } }
  - { id: fast, at: 300ms, target: worker:0, action: crash-loop }
  - { id: freeze, at: 400ms, duration: 100ms, target: vm:0, action: pause }`,
        '600ms',
        20,
      ),
    );
    const running = run(['run', file, '--runtime', 'live', '--run-id', runId, '--out', out, '-q']);
    let finished = false;
    void running.then(() => (finished = true));
    // Watch the guest's process until the run ends: the pause must show it stopped by a signal.
    const stopped = new Set<number>();
    while (!finished) {
      for (const line of processesOf(runId).filter((l) => l.includes('--id vm.0'))) {
        const pid = Number(line.trim().split(/\s+/)[0]);
        if (stateOf(pid).startsWith('T')) stopped.add(pid);
      }
      await new Promise((w) => setTimeout(w, 100));
    }
    const r = await running;
    t.true(completed(r), r.stderr + r.stdout);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    t.true(summary.accounting.balanced, JSON.stringify(summary.accounting));
    t.true(summary.accounting.delivered > 0);
    const f = summary.faults;
    t.deepEqual(
      f.timeline.map((x: Record<string, unknown>) => [x['id'], x['action']]),
      [
        ['rs', 'restart'],
        ['loop#1', 'crash-loop'],
        ['loop#2', 'crash-loop'],
        ['fast#1', 'crash-loop'],
        ['fast#2', 'crash-loop'],
        ['fast#3', 'crash-loop'],
        ['freeze', 'pause'],
      ],
    );
    const ev = eventsOf(out);
    const killed = ev.filter((e) => e.kind === 'actor-killed-by-fault');
    const skipped = ev.filter((e) => e.kind === 'fault-skipped');
    t.log(`kills ${JSON.stringify(killed.map((e) => [e.actor, e.detail]))}; skipped ${JSON.stringify(skipped.map((e) => [e.actor, e.detail]))}`);
    // restart: worker.0 dies once and comes back.
    t.deepEqual(
      killed.filter((e) => e.detail['id'] === 'rs').map((e) => e.actor),
      ['worker.0'],
    );
    // crash loop: the first kill finds worker.1 running; the second kills its next incarnation (another
    // pid) or, if the supervisor has not brought it back yet, is reported as skipped rather than as a kill.
    const loop = killed.filter((e) => e.actor === 'worker.1');
    t.is(loop[0]?.detail['id'], 'loop#1');
    t.is(loop.length + skipped.filter((e) => e.detail['id'] === 'loop#2').length, 2);
    t.is(new Set(loop.map((e) => e.detail['pid'])).size, loop.length, 'each kill hit another process');
    // The fast crash loop: its 1st kill may find worker.0 running again or still down after rs; its 2nd
    // and 3rd come before any restart, and say so instead of pretending to kill.
    for (const id of ['fast#2', 'fast#3']) {
      const e = skipped.find((x) => x.detail['id'] === id);
      t.is(e?.actor, 'worker.0', id);
      t.regex(String(e?.detail['reason']), /down: the supervisor has not restarted it yet/);
    }
    t.is(killed.filter((e) => e.detail['id'] === 'fast#1').length + skipped.filter((e) => e.detail['id'] === 'fast#1').length, 1);
    t.is(killed.length + skipped.length, 7 - 1, 'every kill step (all but the pause) killed or was skipped');
    t.is(new Set(killed.filter((e) => e.actor === 'worker.0').map((e) => e.detail['pid'])).size, killed.filter((e) => e.actor === 'worker.0').length);
    // Every kill that hit a process was a death the supervisor answered with a restart and a rejoin.
    t.is(f.restarts, killed.length);
    t.is(summary.live.restarts, killed.length);
    for (const w of ['worker.0', 'worker.1']) {
      const n = killed.filter((e) => e.actor === w).length;
      t.is(ev.filter((e) => e.kind === 'actor-died' && e.actor === w).length, n, w);
      t.is(ev.filter((e) => e.kind === 'actor-restart' && e.actor === w).length, n, w);
      // A kill can hit an incarnation that had not rejoined yet: then two deaths share one rejoin.
      const rejoined = ev.filter((e) => e.kind === 'actor-rejoined' && e.actor === w).length;
      t.true(rejoined >= 1 && rejoined <= n, `${w}: ${rejoined} rejoins for ${n} kills`);
      t.is(
        f.stalls.filter((s: Record<string, unknown>) => s['queue'] === w && s['cause'] === 'worker-killed' && s['endedBy'] === 'supervisor-restart').length,
        n,
        w,
      );
    }
    // pause: SIGSTOP then SIGCONT to the same process, which ps saw stopped; it did not die.
    const paused = ev.find((e) => e.kind === 'actor-paused');
    const resumed = ev.find((e) => e.kind === 'actor-resumed');
    t.is(paused?.actor, 'vm.0');
    t.is(paused?.detail['signal'], 'SIGSTOP');
    t.is(resumed?.detail['signal'], 'SIGCONT');
    t.is(resumed?.detail['pid'], paused?.detail['pid']);
    t.deepEqual([...stopped], [paused?.detail['pid']]);
    t.false(ev.some((e) => e.kind === 'actor-died' && e.actor === 'vm.0'));
    t.deepEqual(processesOf(runId), [], 'no actor process or nats-server left behind');
  },
);
