// End-to-end tests of the splitnet command as a user runs it: real processes, real files.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { METRIC_SPECS } from '@splitnet/results';
import type { Summary } from '@splitnet/results';
import { declared, parsePrometheus, total } from './prometheus-text.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const cli = join(root, 'packages/cli/dist/src/main.js');

function splitnet(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'splitnet-test-'));
}

function scenarioFile(text: string): string {
  const f = join(tmp(), 'scenario.yaml');
  writeFileSync(f, text);
  return f;
}

const small = `name: small
duration: 4ms
topology: { vms: { count: 1, queues: 2 }, workers: 2 }
traffic: [ { flows: 8, rate: 2Gbps, size: 1518, pattern: poisson } ]
`;

test('cli - run writes every result file and prints a summary table', (t) => {
  const out = join(tmp(), 'run');
  const r = splitnet(['run', scenarioFile(small), '--out', out, '--quiet']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /throughput\s+\d/);
  t.regex(r.stdout, /accounting\s+ok/);
  t.deepEqual(readdirSync(out).sort(), [
    'environment.json',
    'events.jsonl',
    'latency.json',
    'metrics.jsonl',
    'metrics.prom',
    'scenario.resolved.yaml',
    'summary.csv',
    'summary.json',
    'timeseries.csv',
  ]);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  t.true(summary.accounting.balanced);
  const env = JSON.parse(readFileSync(join(out, 'environment.json'), 'utf8'));
  t.is(env.seed, 1);
  t.is(typeof env.gitRevision, 'string');
  t.true(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').length >= 10);
  // The resolved scenario is itself a valid scenario.
  const again = splitnet(['validate', join(out, 'scenario.resolved.yaml')]);
  t.is(again.code, 0, again.stderr);
});

test("cli - the summary names frames held in a guest's qdisc at the end (a stopped TX queue); a run that drains shows no such line", (t) => {
  const tx = `name: tx-stop
duration: 4ms
topology: { vms: { count: 1, queues: 1 }, workers: 1 }
traffic: [ { name: out, from: vm.0, to: wire, flows: 1, rate: 1Gbps, size: 1518, pattern: constant, protocol: udp } ]
`;
  const ok = splitnet(['run', scenarioFile(tx), '--out', join(tmp(), 'run'), '--quiet']);
  t.is(ok.code, 0, ok.stderr);
  t.notRegex(ok.stdout, /tx stopped/);
  const stopped = splitnet([
    'run',
    scenarioFile(`${tx}faults: [ { at: 1ms, target: vm:0, action: stop-tx-completion } ]\n`),
    '--out',
    join(tmp(), 'run'),
    '--quiet',
  ]);
  t.is(stopped.code, 0, stopped.stderr);
  t.regex(stopped.stdout, /tx stopped\s+guest qdiscs hold [1-9]\d* frames at the end: a TX queue was stopped/);
});

test('cli - same seed, byte-identical summary files; another seed differs', (t) => {
  const f = scenarioFile(small);
  const dirs = [join(tmp(), 'a'), join(tmp(), 'b'), join(tmp(), 'c')];
  t.is(splitnet(['run', f, '--out', dirs[0] as string, '-q']).code, 0);
  t.is(splitnet(['run', f, '--out', dirs[1] as string, '-q']).code, 0);
  t.is(splitnet(['run', f, '--out', dirs[2] as string, '-q', '--seed', '9']).code, 0);
  for (const name of ['summary.json', 'summary.csv', 'metrics.jsonl', 'timeseries.csv', 'events.jsonl', 'latency.json', 'metrics.prom']) {
    t.is(readFileSync(join(dirs[0] as string, name), 'utf8'), readFileSync(join(dirs[1] as string, name), 'utf8'), name);
  }
  t.not(readFileSync(join(dirs[0] as string, 'summary.json'), 'utf8'), readFileSync(join(dirs[2] as string, 'summary.json'), 'utf8'));
});

test('cli - the multi-host example (4 hosts, a switch) twice gives byte-identical result files, with per-host and per-port results that balance', (t) => {
  const dir = tmp();
  const files = ['summary.json', 'summary.csv', 'metrics.jsonl', 'events.jsonl', 'latency.json'];
  const runs = ['a', 'b'].map((name) => {
    const out = join(dir, name);
    const r = splitnet(['run', 'examples/cluster-4x8.yaml', '--duration', '5ms', '--out', out, '--quiet']);
    t.is(r.code, 0, r.stderr);
    return out;
  });
  for (const f of files) t.is(readFileSync(join(runs[0] as string, f), 'utf8'), readFileSync(join(runs[1] as string, f), 'utf8'), f);
  const summary = JSON.parse(readFileSync(join(runs[0] as string, 'summary.json'), 'utf8')) as Summary;
  t.deepEqual(
    summary.hosts?.map((h) => h.host),
    ['h0', 'h1', 'h2', 'h3'],
  );
  t.is(summary.fabric?.ports.length, 4);
  t.true(summary.accounting.balanced && summary.fabric?.accounting.balanced === true);
  t.true((summary.fabric?.ports[0]?.drops['switch-queue-full'] ?? 0) > 0, 'the incast into h0 drops at its switch port');
});

test("cli - a sim run's metrics.prom holds its final counters under the live metrics' names, as summary.json has them", (t) => {
  const out = join(tmp(), 'prom');
  t.is(splitnet(['run', scenarioFile(small), '--out', out, '-q']).code, 0);
  const text = readFileSync(join(out, 'metrics.prom'), 'utf8');
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
  const samples = parsePrometheus(text);
  t.is(total(samples, 'splitnet_packets_emitted_total'), summary.accounting.emitted);
  t.is(total(samples, 'splitnet_packets_delivered_total'), summary.accounting.delivered);
  for (const [reason, n] of Object.entries(summary.accounting.dropped)) t.is(total(samples, 'splitnet_packets_dropped_total', { reason }), n, reason);
  t.is(total(samples, 'splitnet_run_complete'), 1);
  t.is(total(samples, 'splitnet_emulated_seconds_total'), 0.004);
  // Labelled without the derived run id (it holds the clock): <scenario>-s<seed>.
  t.true(samples.every((s) => s.labels['run'] === 'small-s1' && s.labels['host'] === 'h0'));
  t.deepEqual(
    [...declared(text).keys()],
    METRIC_SPECS.filter((m) => m.when === 'always').map((m) => m.name),
    'every metric of a sim run, in the documented order; no live-only ones',
  );
});

test("cli - a multi-host run's metrics.prom has each switch port's frames and bytes forwarded, queued bytes and drops by reason, as summary.json's fabric.ports and timeseries.csv have them", (t) => {
  const out = join(tmp(), 'prom-hosts');
  const r = splitnet(['run', 'examples/cluster-4x8.yaml', '--duration', '5ms', '--out', out, '--quiet']);
  t.is(r.code, 0, r.stderr);
  const text = readFileSync(join(out, 'metrics.prom'), 'utf8');
  const samples = parsePrometheus(text);
  const ports = (JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary).fabric?.ports ?? [];
  t.is(ports.length, 4);
  // The queues at the end: the last row of timeseries.csv (t_ms = the run's end).
  const rows = readFileSync(join(out, 'timeseries.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));
  const queueAtEnd = (port: number) => rows.filter((c) => c[0] === '5' && c[1] === `switch.port${port}` && c[2] === 'queue_bytes').map((c) => Number(c[3]));
  for (const p of ports) {
    const port = String(p.port);
    t.is(total(samples, 'splitnet_switch_port_packets_forwarded_total', { port }), p.forwarded, `port ${port} forwarded`);
    t.true(total(samples, 'splitnet_switch_port_bytes_forwarded_total', { port }) >= p.forwarded * 64, `port ${port} bytes`);
    t.deepEqual([total(samples, 'splitnet_switch_port_queued_bytes', { port })], queueAtEnd(p.port), `port ${port} queue at the end`);
    for (const [reason, n] of Object.entries(p.drops)) {
      if (reason === 'total') continue;
      const series = samples.filter(
        (s) => s.name === 'splitnet_switch_port_packets_dropped_total' && s.labels['port'] === port && s.labels['reason'] === reason,
      );
      t.deepEqual(
        series.map((s) => s.value),
        [n],
        `port ${port} ${reason}: one series, zeros included`,
      );
    }
  }
  t.true(total(samples, 'splitnet_switch_port_packets_dropped_total', { port: '0', reason: 'switch-queue-full' }) > 0, 'the incast drops at port 0');
  t.deepEqual(
    [...declared(text).keys()],
    METRIC_SPECS.filter((m) => m.when === 'always' || m.when === 'tx' || m.when === 'fabric').map((m) => m.name),
    'the switch ports after the transmit path, in the documented order',
  );
});

test('cli - --set, --duration and --json', (t) => {
  const r = splitnet(['run', scenarioFile(small), '--out', join(tmp(), 'j'), '--json', '--duration', '2ms', '--set', 'topology.workers=1']);
  t.is(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  t.deepEqual(j.summary.windowMs[1], 2);
  t.is(Object.keys(j.summary.cpu).filter((k: string) => k.includes('worker')).length, 1);
});

const badInputs: [string, string | null, string[], RegExp][] = [
  ['a missing file', null, [], /no such file/],
  ['invalid YAML', 'topology: [1, 2\n', [], /scenario\.yaml:\d+:\d+: /],
  ['an unknown key', 'topology:\n  wrokers: 2\n', [], /scenario\.yaml:2:3: .*unknown key "wrokers".*workers/],
  ['a wrong type', 'topology:\n  workers: two\n', [], /scenario\.yaml:2:\d+: topology\.workers: expected .*found/],
  ['a negative rate', 'traffic:\n  - rate: -5Gbps\n', [], /scenario\.yaml:2:\d+: traffic\[0\]\.rate: expected/],
  [
    'a ring size that is not a power of two',
    'topology:\n  vms: { ringSize: 100 }\n',
    [],
    /scenario\.yaml:2:\d+: topology\.vms\.ringSize: expected a power of two/,
  ],
  ['a bad --set path', 'name: x\n', ['--set', 'topology.wrkers=2'], /--set topology\.wrkers=2: .*unknown key/],
  ['a bad --seed', 'name: x\n', ['--seed', 'abc'], /--seed: expected a whole number/],
  ['an unknown flag', 'name: x\n', ['--bogus'], /unknown option '--bogus'/],
  [
    'a bad --expect',
    'name: x\n',
    ['--runtime', 'live', '--placement', 'external', '--expect', 'vm=2'],
    /--expect: expected <role>=<n> with role driver, worker, frontend and n ≥ 1, found "vm=2"/,
  ],
  ['--expect without placement external', 'name: x\n', ['--expect', 'frontend=2'], /--expect frontend=2: only for a live run with placement external/],
];

for (const [what, text, extra, pattern] of badInputs) {
  test(`cli - ${what} is a one-line error naming the place, exit code 2, no stack trace`, (t) => {
    const file = text === null ? join(tmp(), 'missing.yaml') : scenarioFile(text);
    const r = splitnet(['run', file, '--out', join(tmp(), 'x'), ...extra]);
    t.is(r.code, 2, r.stderr);
    const first = r.stderr.split('\n')[0] ?? '';
    t.regex(first, /^splitnet: error: /);
    t.regex(first, pattern);
    t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
    t.is(r.stdout, '');
  });
}

test('cli - rss prints the hash and queue of a Microsoft RSS verification vector', (t) => {
  const r = splitnet(['rss', '66.9.149.187', '161.142.100.80', '--sport', '2794', '--dport', '1766', '--json']);
  t.is(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  t.is(j.hashHex, '0x51ccc178');
  t.is(j.queue, (0x51ccc178 & 127) % 4);
  const v6 = splitnet(['rss', '3ffe:2501:200:1fff::7', '3ffe:2501:200:3::1']);
  t.is(v6.code, 0);
  t.regex(v6.stdout, /0x2cc18cd5/);
  const bad = splitnet(['rss', '1.2.3.4', '::1']);
  t.is(bad.code, 2);
});

test('cli - --help works for every command', (t) => {
  for (const args of [['--help'], ['run', '--help'], ['rss', '--help'], ['validate', '--help'], ['actor', '--help'], ['cleanup', '--help']]) {
    const r = splitnet(args);
    t.is(r.code, 0, args.join(' '));
    t.regex(r.stdout, /Usage: splitnet/);
    // Repeatable options (--set, --id, --docker-host) start empty: no "(default: [])" noise.
    t.notRegex(r.stdout, /default: \[\]/, args.join(' '));
  }
  t.regex(splitnet(['run', '--help']).stdout, /--set <path=value>/);
});

test('cli - `npx splitnet` runs from the repository root after `npm run build`, as the README says (the entry point is executable)', (t) => {
  const r = spawnSync('npx', ['--no-install', 'splitnet', '--version'], { cwd: root, encoding: 'utf8' });
  t.is(r.status, 0, `npx splitnet --version: ${r.stderr}`);
  t.regex(r.stdout, /\d+\.\d+\.\d+/);
});
