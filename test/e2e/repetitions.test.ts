// End-to-end: the seed is what a repetition varies, even for constant traffic; fixing srcPort, phase and the guest's Toeplitz key takes it out. Serial: each test runs several sim processes.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const cli = join(root, 'packages/cli/dist/src/main.js');
const quickstart = join(root, 'examples/quickstart.yaml');

function splitnet(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Run the quickstart in sim with `args` and return its results directory. */
function runQuickstart(t: { is: (a: unknown, b: unknown, m?: string) => void }, ...args: string[]): string {
  const out = join(mkdtempSync(join(tmpdir(), 'splitnet-reps-')), 'run');
  const r = splitnet(['run', quickstart, '--out', out, '-q', ...args]);
  t.is(r.code, 0, r.stderr);
  return out;
}

const read = (dir: string, name: string) => readFileSync(join(dir, name), 'utf8');
/** summary.json without its `seed` field, which names the seed and so differs by definition. */
const summaryWithoutSeed = (dir: string) => {
  const { seed, ...rest } = JSON.parse(read(dir, 'summary.json')) as Record<string, unknown>;
  void seed;
  return rest;
};

test.serial(
  'repetitions - quickstart (constant pattern): seeds 1 and 7 write different metrics.jsonl and summaries; seed 7 twice byte-identical results',
  (t) => {
    const one = runQuickstart(t, '--seed', '1');
    const seven = runQuickstart(t, '--seed', '7');
    const sevenAgain = runQuickstart(t, '--seed', '7');
    t.not(read(one, 'metrics.jsonl'), read(seven, 'metrics.jsonl'));
    t.notDeepEqual(summaryWithoutSeed(one), summaryWithoutSeed(seven));
    for (const name of ['metrics.jsonl', 'summary.json', 'summary.csv', 'events.jsonl', 'latency.json', 'scenario.resolved.yaml']) {
      t.is(read(seven, name), read(sevenAgain, name), name);
    }
    // The resolved scenario says the seed chose the ports and the phase.
    t.regex(read(seven, 'scenario.resolved.yaml'), /^ {4}phase: seeded$/m);
    t.regex(read(seven, 'scenario.resolved.yaml'), /^ {4}srcPort: seeded$/m);
    // And the guest's Toeplitz key, as a guest chooses it at boot.
    t.regex(read(seven, 'scenario.resolved.yaml'), /^ {2}toeplitz:\n {4}key: seeded$/m);
  },
);

test.serial(
  "repetitions - quickstart with srcPort, phase and the guest's Toeplitz key fixed: seeds 1 and 7 give identical metrics (constant traffic draws nothing else)",
  (t) => {
    const key = '6d5a56da 255b0ec2 4167253d 43a38fb0 d0ca2bcb ae7b30b4 77cb2da3 8030f20c 6a42b73b beac01fa';
    const fixed = ['--set', 'traffic.0.srcPort=40000', '--set', 'traffic.0.phase=0', '--set', `topology.toeplitz.key=${key}`];
    const one = runQuickstart(t, '--seed', '1', ...fixed);
    const seven = runQuickstart(t, '--seed', '7', ...fixed);
    t.is(read(one, 'metrics.jsonl'), read(seven, 'metrics.jsonl'));
    t.is(read(one, 'latency.json'), read(seven, 'latency.json'));
    t.deepEqual(summaryWithoutSeed(one), summaryWithoutSeed(seven));
    t.regex(read(one, 'scenario.resolved.yaml'), /^ {4}phase: 0ms\n(.*\n)* {4}srcPort: 40000$/m);
  },
);

test.serial('repetitions - a 3-repetition sweep of the quickstart gives 3 different rows', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'splitnet-reps-sweep-'));
  copyFileSync(quickstart, join(dir, 'quickstart.yaml'));
  writeFileSync(join(dir, 'sweep.yaml'), 'base: quickstart.yaml\nrepetitions: 3\nset:\n  duration: 20ms\naxes:\n  - path: topology.workers\n    values: [4]\n');
  const r = splitnet(['sweep', 'sweep.yaml', '--out', 'out', '--json'], dir);
  t.is(r.code, 0, r.stderr);
  const rows = JSON.parse(readFileSync(join(dir, 'out', 'table.json'), 'utf8')) as Record<string, unknown>[];
  t.is(rows.length, 3);
  const metrics = rows.map((row) => JSON.stringify(Object.entries(row).filter(([k]) => !['run', 'rep', 'seed'].includes(k))));
  t.is(new Set(metrics).size, 3, 'every repetition has its own numbers');
});
