// `splitnet fault` against a live run whose guest sends: each fault given by hand gets the verdict the scenario compiler gives the same fault scheduled in faults:, the same one line when it refuses.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startNatsServer } from '@splitnet/transport/nats-server';
import { completed, processesOf, run, scenarioFile, tmp } from './live-helpers.js';
import type { Ran } from './live-helpers.js';

// Guest 0 sends to the wire, guest 1 only listens: the transmit path's rules (docs/faults.md, "the transmit
// path, a guest that sends") apply. TDF 50: 800 ms emulated are 40 s of wall time to answer every request.
const scenario = `
name: fault-command-rules
duration: 800ms
warmup: 20ms
sampleInterval: 10ms
topology: { vms: { count: 2, queues: 1 }, workers: 1 }
traffic: [ { name: out, from: vm.0, to: wire, flows: 4, rate: 100Mbps, size: 1518, pattern: constant, protocol: udp } ]
live: { tdf: 50, maxLag: 20ms }
`;

/** Faults by hand, as `splitnet fault` arguments, and the same fault as a scenario's faults item. */
const cases: readonly { readonly args: readonly string[]; readonly item: string }[] = [
  { args: ['kill', 'vm:0'], item: '{ at: 10ms, target: vm:0, action: kill }' },
  { args: ['kill', 'worker:0'], item: '{ at: 10ms, target: worker:0, action: kill }' },
  { args: ['restart', 'nic'], item: '{ at: 10ms, target: nic, action: restart }' },
  { args: ['crash-loop', 'backend'], item: '{ at: 10ms, target: backend, action: crash-loop }' },
  { args: ['nats-restart', 'nats', '--duration', '5ms'], item: '{ at: 10ms, duration: 5ms, target: nats, action: nats-restart }' },
  { args: ['stop-polling', 'vm:1', '--duration', '5ms'], item: '{ at: 10ms, duration: 5ms, target: vm:1, action: stop-polling }' },
  // Refused for good: a transmit-path fault on the guest that does not send.
  { args: ['stop-tx-completion', 'vm:1', '--duration', '5ms'], item: '{ at: 10ms, duration: 5ms, target: vm:1, action: stop-tx-completion }' },
];

/** What the scenario compiler says of `item` scheduled in the scenario, run live: null if it accepts it, else its message without the file position. */
async function scheduledVerdict(item: string): Promise<string | null> {
  const r = await run(['validate', scenarioFile(`${scenario}faults:\n  - ${item}\n`), '--set', 'runtime=live']);
  if (r.code === 0) return null;
  const m = /^splitnet: error: \S+:\d+:\d+: (.*)$/m.exec(r.stderr);
  if (r.code !== 2 || m === null) throw new Error(`validate: exit ${r.code}: ${r.stderr}`);
  return m[1] as string;
}

test.serial(
  "fault command rules - a fault by hand is refused with the scenario compiler's own line exactly when the scenario would refuse it scheduled",
  async (t) => {
    const expected = await Promise.all(cases.map((c) => scheduledVerdict(c.item)));
    // The transmit path's rules refuse some of these beside a guest that sends; without one refusal the test checks nothing.
    t.true(
      expected.some((e) => e !== null),
      'the scenario compiler refuses none of the cases',
    );
    // The driver domain's restarts beside a guest that sends run live (docs/faults.md#the-transmit-path-a-guest-that-sends).
    t.deepEqual(
      cases.flatMap((c, i) => (c.args[1] === 'nic' || c.args[1] === 'backend' ? [expected[i]] : [])),
      [null, null],
    );

    const server = await startNatsServer();
    t.teardown(() => server.stop());
    const out = join(tmp(), 'run');
    const runId = `fcr-${process.pid}`;
    const running = run(['run', scenarioFile(scenario), '--runtime', 'live', '--run-id', runId, '--nats', server.url, '--out', out, '-q']);
    const fault = (args: readonly string[]) => run(['fault', ...args, '--run', runId, '--nats', server.url]);

    // Wait for the run to start: until then the controller answers "not started" (exit 2) or nobody answers (exit 1).
    let first: Ran = { code: null, stdout: '', stderr: '' };
    for (let i = 0; i < 120; i++) {
      first = await fault(['stop-polling', 'vm:1', '--duration', '1ms', '--id', 'ready']);
      if (first.code === 0) break;
      await new Promise((w) => setTimeout(w, 250));
    }
    t.is(first.code, 0, first.stdout + first.stderr);

    const injected: string[] = [];
    for (const [i, c] of cases.entries()) {
      const r = await fault([...c.args, '--id', `by-hand-${i}`]);
      const want = expected[i];
      const what = `${c.args.join(' ')}: ${r.stdout}${r.stderr}`;
      if (want === null || want === undefined) {
        t.is(r.code, 0, what);
        t.regex(r.stdout, new RegExp(`^injected: by-hand-${i}: `, 'm'), what);
        injected.push(`by-hand-${i}`);
      } else {
        t.is(r.code, 2, what);
        t.is(r.stdout.trim().split('\n')[0], `rejected: ${want}`, what);
      }
    }

    const r = await running;
    t.true(completed(r), r.stderr + r.stdout);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    t.true(summary.accounting.balanced, JSON.stringify(summary.accounting));
    const ids: string[] = summary.faults.timeline.map((x: Record<string, unknown>) => x['id']);
    // A crash loop's occurrences are `<id>#1`, `<id>#2`, …
    t.deepEqual([...new Set(ids.filter((id) => id.startsWith('by-hand-')).map((id) => id.replace(/#\d+$/, '')))], injected);
    t.deepEqual(processesOf(runId), [], 'no actor process left behind');
  },
);
