// End-to-end tests of `splitnet sweep`: a complete sweep, one interrupted with SIGINT and resumed (identical table), and bad sweep files. Serial: spawnSync in one test would block the event loop that watches another test's child.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const cli = join(root, 'packages/cli/dist/src/main.js');

function splitnet(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Small frames at line rate: each run emits about 450,000 frames, long enough (a tenth of a second or
// more) that a SIGINT sent when the first run finishes lands while the other seven are still to do.
const BASE = `name: sweep-base
duration: 30ms
topology: { vms: { count: 1, queues: 2 }, workers: 2 }
traffic: [ { flows: 8, rate: 10Gbps, size: 64, pattern: poisson, protocol: udp } ]
coalescing: { nic: { policy: static, usecs: 10 } }
`;

const SWEEP = `name: acceptance
base: base.yaml
repetitions: 2
axes:
  - path: topology.workers
    values: [1, 2]
  - path: coalescing.frontend
    values: [none, { policy: static, usecs: 50, frames: 32 }]
`;

function sweepDir(sweep = SWEEP): string {
  const dir = mkdtempSync(join(tmpdir(), 'splitnet-sweep-e2e-'));
  writeFileSync(join(dir, 'base.yaml'), BASE);
  writeFileSync(join(dir, 'sweep.yaml'), sweep);
  return dir;
}

const RUNS = ['p000-r0', 'p000-r1', 'p001-r0', 'p001-r1', 'p002-r0', 'p002-r1', 'p003-r0', 'p003-r1'];

/** Start a sweep, send SIGINT once `k` runs reported done on stderr; resolves with the exit code and output. */
function interruptAfter(k: number, args: string[], cwd: string): Promise<{ code: number | null; stderr: string; doneWhenSignalled: number }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let doneWhenSignalled = -1;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      const done = (stderr.match(/ done in /g) ?? []).length;
      if (doneWhenSignalled < 0 && done >= k) {
        doneWhenSignalled = done;
        child.kill('SIGINT');
      }
    });
    child.stdout.resume();
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stderr, doneWhenSignalled }));
  });
}

test.serial('sweep - 2 axes × 2 values × 2 repetitions: every run, sweep.json, a sorted table without wall-clock data', (t) => {
  const dir = sweepDir();
  const r = splitnet(['sweep', 'sweep.yaml', '--out', 'out', '--json'], dir);
  t.is(r.code, 0, r.stderr);
  const outcome = JSON.parse(r.stdout) as { status: string; runs: number; ran: number };
  t.is(outcome.status, 'complete');
  t.is(outcome.runs, 8);
  t.is(outcome.ran, 8);
  const out = join(dir, 'out');
  t.deepEqual(readdirSync(join(out, 'runs')).sort(), RUNS);
  for (const run of RUNS) {
    t.deepEqual(readdirSync(join(out, 'runs', run)).sort(), [
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
  }
  const sweep = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as Record<string, unknown>;
  t.deepEqual(Object.keys(sweep), ['name', 'base', 'axes', 'repetitions', 'baseSeed', 'points', 'runs']);
  t.like(sweep, { name: 'acceptance', repetitions: 2, baseSeed: 1, points: 4, runs: 8 });
  t.deepEqual(sweep['axes'], [
    { path: 'topology.workers', values: [1, 2] },
    { path: 'coalescing.frontend', values: ['none', { policy: 'static', usecs: 50, frames: 32 }] },
  ]);

  const rows = JSON.parse(readFileSync(join(out, 'table.json'), 'utf8')) as Record<string, unknown>[];
  t.deepEqual(
    rows.map((row) => row['run']),
    RUNS,
  );
  const csvText = readFileSync(join(out, 'table.csv'), 'utf8');
  const csv = csvText.trim().split('\n');
  t.is(csv.length, 9);
  const header = parse(csvText, { to_line: 1 })[0] as string[];
  t.deepEqual(header.slice(0, 7), ['run', 'point', 'rep', 'seed', 'topology.workers', 'coalescing.frontend', 'repetitions_identical']);
  const parsed = parse(csvText, { columns: true, cast: true }) as Record<string, unknown>[];
  // Each run's row holds its own summary.csv row, column for column (the seed is the table's own column).
  for (const [i, row] of rows.entries()) {
    const run = String(row['run']);
    const [summary] = parse(readFileSync(join(out, 'runs', run, 'summary.csv'), 'utf8'), { columns: true, cast: true }) as Record<string, unknown>[];
    for (const [column, value] of Object.entries(summary ?? {})) {
      t.is(parsed[i]?.[column], value, `${run} ${column}`);
      if (column !== 'seed') t.deepEqual(row[column], value === '' ? null : value, `table.json ${run} ${column}`);
    }
    t.is(parsed[i]?.['repetitions_identical'], 0, 'Poisson repetitions differ');
    const env = JSON.parse(readFileSync(join(out, 'runs', run, 'environment.json'), 'utf8')) as { seed: number; sweep: { run: string } };
    t.is(env.seed as unknown, row['seed']);
    t.is(env.sweep.run, run);
  }
  // Repetitions differ (derived seeds), points differ in what the axes change.
  t.not(rows[0]?.['seed'], rows[1]?.['seed']);
  const metrics = (row: Record<string, unknown> | undefined) => Object.entries(row ?? {}).filter(([k]) => !['run', 'rep', 'seed'].includes(k));
  t.notDeepEqual(metrics(rows[0]), metrics(rows[1]), 'two repetitions of a Poisson load differ');
  t.is(rows[0]?.['cpu_dom0_worker1_frac'], null, 'one worker: no second worker column value');
  t.false(/startedAt|wallSeconds/.test(csv.join('\n')));
});

test.serial('sweep - interrupted with SIGINT, then resumed: finished runs are kept, the table is byte-identical to an uninterrupted sweep', async (t) => {
  t.timeout(300_000); // three sweeps of eight runs on a shared 2-core machine
  const whole = sweepDir();
  t.is(splitnet(['sweep', 'sweep.yaml', '--out', 'out', '--jobs', '1'], whole).code, 0);

  const dir = sweepDir();
  const stopped = await interruptAfter(1, ['sweep', 'sweep.yaml', '--out', 'out', '--jobs', '1'], dir);
  t.is(stopped.code, 130, stopped.stderr);
  t.regex(stopped.stderr, /interrupted: \d of 8 runs finished .*; resume with:\n {2}splitnet sweep sweep\.yaml --out out\n/);
  const out = join(dir, 'out');
  const kept = readdirSync(join(out, 'runs')).sort();
  t.true(kept.length >= 1 && kept.length < 8, `kept ${kept.join(' ')}`);
  t.false(
    kept.some((n) => n.endsWith('.partial')),
    'an interrupted run leaves no partial directory',
  );
  t.false(existsSync(join(out, 'table.csv')), 'no table until every run finished');
  const envBefore = readFileSync(join(out, 'runs', kept[0] as string, 'environment.json'), 'utf8');
  // A run that was being written when the process died outright (not by Ctrl-C) is redone.
  const next = RUNS.find((r) => !kept.includes(r)) as string;
  mkdirSync(join(out, 'runs', `${next}.partial`));
  writeFileSync(join(out, 'runs', `${next}.partial`, 'summary.json'), '{"truncated');

  const resumed = splitnet(['sweep', 'sweep.yaml', '--out', 'out'], dir);
  t.is(resumed.code, 0, resumed.stderr);
  t.regex(resumed.stderr, new RegExp(`8 runs, ${kept.length} already finished; running ${8 - kept.length} `));
  t.deepEqual(readdirSync(join(out, 'runs')).sort(), RUNS);
  t.is(readFileSync(join(out, 'runs', kept[0] as string, 'environment.json'), 'utf8'), envBefore, 'a finished run is not run again');
  for (const name of ['table.csv', 'table.json', 'sweep.json']) {
    t.is(readFileSync(join(out, name), 'utf8'), readFileSync(join(whole, 'out', name), 'utf8'), name);
  }
  for (const run of RUNS) {
    t.is(readFileSync(join(out, 'runs', run, 'summary.json'), 'utf8'), readFileSync(join(whole, 'out', 'runs', run, 'summary.json'), 'utf8'), run);
  }
});

test.serial('sweep - a sweep file changed since the runs in --out were made is refused, naming what changed', (t) => {
  const dir = sweepDir(SWEEP.replace('values: [1, 2]', 'values: [1]'));
  writeFileSync(join(dir, 'base.yaml'), BASE.replace('30ms', '5ms'));
  t.is(splitnet(['sweep', 'sweep.yaml', '--out', 'out', '-q'], dir).code, 0);
  writeFileSync(join(dir, 'sweep.yaml'), SWEEP.replace('values: [1, 2]', 'values: [2]'));
  const r = splitnet(['sweep', 'sweep.yaml', '--out', 'out'], dir);
  t.is(r.code, 2);
  t.is(
    r.stderr,
    'splitnet: error: out: run p000-r0 was made from a different scenario than sweep.yaml plans now (topology.workers: was 1, now 2); the sweep file or its base scenario changed since: use another --out, or delete out to start the sweep again\n',
  );
  // More repetitions keep every existing run valid: the sweep goes on from there.
  writeFileSync(join(dir, 'sweep.yaml'), SWEEP.replace('values: [1, 2]', 'values: [1]').replace('repetitions: 2', 'repetitions: 3'));
  const more = splitnet(['sweep', 'sweep.yaml', '--out', 'out'], dir);
  t.is(more.code, 0, more.stderr);
  t.regex(more.stderr, /6 runs, 4 already finished; running 2 /);
});

test.serial('sweep - bad axis path, bad value and missing base: located one-line errors, nothing run', (t) => {
  const cases: [string, RegExp][] = [
    [
      SWEEP.replace('path: topology.workers', 'path: topology.wrkers'),
      /^splitnet: error: sweep\.yaml:5:11: topology: unknown key "wrkers" \(expected one of: .*; did you mean "workers"\?\) \(in point 000: .*\)\n$/,
    ],
    [
      SWEEP.replace('values: [1, 2]', 'values: [1, 65]'),
      /^splitnet: error: sweep\.yaml:6:17: topology\.workers: expected an integer from 1 to 64, found 65 \(in point 002: topology\.workers=65, coalescing\.frontend=none\)\n$/,
    ],
    [
      SWEEP.replace('{ policy: static, usecs: 50, frames: 32 }', '{ policy: statc }'),
      /^splitnet: error: sweep\.yaml:8:20: coalescing\.frontend\.policy: expected one of "none", "static", "adaptive-itr", "aic" or "vic".*, found "statc"/,
    ],
    [
      SWEEP.replace('base: base.yaml', 'base: missing.yaml'),
      /^splitnet: error: sweep\.yaml:2:7: base: no such scenario file: missing\.yaml \(a relative path is read from the sweep file's directory\)\n$/,
    ],
  ];
  for (const [text, expected] of cases) {
    const dir = sweepDir(text);
    const r = splitnet(['sweep', 'sweep.yaml', '--out', 'out'], dir);
    t.is(r.code, 2, r.stderr);
    t.regex(r.stderr, expected);
    t.false(existsSync(join(dir, 'out')), 'nothing written');
  }
  t.is(splitnet(['sweep', 'nowhere.yaml'], tmpdir()).stderr, 'splitnet: error: nowhere.yaml: no such file\n');
});

test.serial('sweep - --dry-run lists every point and runs nothing', (t) => {
  const dir = sweepDir();
  const r = splitnet(['sweep', 'sweep.yaml', '--out', 'out', '--dry-run'], dir);
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.is(lines[0], 'sweep acceptance: 4 points × 2 repetitions = 8 runs, base seed 1, every point compiled');
  t.is(lines[5], 'p003  topology.workers=2  coalescing.frontend={"policy":"static","usecs":50,"frames":32}');
  t.false(existsSync(join(dir, 'out')));
});

test.serial('sweep then report - a zip as splitnet sweep writes it is one axis of the report: workers zipped with queues, no plot of queues alone', (t) => {
  const dir = sweepDir(`name: zipped
base: base.yaml
set:
  duration: 5ms
  traffic.0.size: 1518
axes:
  - zip:
      - path: topology.workers
        values: [1, 2]
      - path: topology.vms.queues
        values: [1, 2]
`);
  const r = splitnet(['sweep', 'sweep.yaml', '--out', 'out', '-q'], dir);
  t.is(r.code, 0, r.stderr);
  const sweep = JSON.parse(readFileSync(join(dir, 'out', 'sweep.json'), 'utf8')) as { axes: unknown[] };
  t.deepEqual(sweep.axes, [
    { path: 'topology.workers', values: [1, 2], zip: 0 },
    { path: 'topology.vms.queues', values: [1, 2], zip: 0 },
  ]);
  const rep = splitnet(['report', 'out', '--figures', 'figs'], dir);
  t.is(rep.code, 0, rep.stderr);
  const figs = readdirSync(join(dir, 'figs'));
  t.true(figs.includes('sweep-throughput-gbps-vs-topology-workers.svg'), figs.join(' '));
  t.false(
    figs.some((f) => f.includes('topology-vms-queues')),
    figs.join(' '),
  );
  const scaling = readFileSync(join(dir, 'figs', 'sweep-throughput-gbps-vs-topology-workers.svg'), 'utf8');
  t.regex(scaling, /data-points="2"/, 'two zip positions, one point each');
});

test.serial(
  'sweep then report - a rate axis of a seed-independent scenario: bit/s beside the label in table.csv, "repetitions identical", a line plot without error bars',
  (t) => {
    // Seed-independent on purpose: a constant pattern, one flow, one VM with one queue, and the source port and
    // start phase (which the seed would otherwise draw) fixed.
    const dir = sweepDir(`name: rates
base: base.yaml
repetitions: 2
set:
  duration: 3ms
  topology: { vms: { count: 1, queues: 1 }, workers: 1 }
  traffic: [ { flows: 1, rate: 1Gbps, size: 1518, pattern: constant, srcPort: 40000, phase: 0ns } ]
axes:
  - path: traffic.0.rate
    values: [500Mbps, 2Gbps]
`);
    const r = splitnet(['sweep', 'sweep.yaml', '--out', 'out', '-q'], dir);
    t.is(r.code, 0, r.stderr);
    const text = readFileSync(join(dir, 'out', 'table.csv'), 'utf8');
    t.deepEqual((parse(text, { to_line: 1 })[0] as string[]).slice(4, 7), ['traffic.0.rate', 'traffic.0.rate_bps', 'repetitions_identical']);
    const rows = parse(text, { columns: true, cast: true }) as Record<string, unknown>[];
    t.deepEqual(
      rows.map((row) => [row['traffic.0.rate'], row['traffic.0.rate_bps'], row['repetitions_identical']]),
      [
        ['500Mbps', 5e8, 1],
        ['500Mbps', 5e8, 1],
        ['2Gbps', 2e9, 1],
        ['2Gbps', 2e9, 1],
      ],
    );
    const sweep = JSON.parse(readFileSync(join(dir, 'out', 'sweep.json'), 'utf8')) as { axes: unknown[] };
    t.deepEqual(sweep.axes, [{ path: 'traffic.0.rate', values: ['500Mbps', '2Gbps'], numeric: { column: 'traffic.0.rate_bps', unit: 'bit/s' } }]);
    const rep = splitnet(['report', 'out', '--figures', 'figs'], dir);
    t.is(rep.code, 0, rep.stderr);
    const html = readFileSync(join(dir, 'out', 'report.html'), 'utf8');
    t.true(html.includes('Repetitions identical: the 2 repetitions (seeds) of each point gave the same results'));
    const svg = readFileSync(join(dir, 'figs', 'sweep-throughput-gbps-vs-traffic-0-rate.svg'), 'utf8');
    t.regex(svg, /data-mark="line"/);
    t.notRegex(svg, /data-mark="bar"| ± /);
  },
);
