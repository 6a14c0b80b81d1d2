// `splitnet report` as a user runs it: output files, --out, --figures, and clear errors for bad input.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmp, writeRun } from './fixtures.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const cli = join(root, 'packages/cli/dist/src/main.js');

function splitnet(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('report cli - writes report.html into the run directory, or --out, and .svg files with --figures', (t) => {
  const dir = tmp();
  writeRun(dir);
  const a = splitnet(['report', dir]);
  t.is(a.code, 0, a.stderr);
  t.true(existsSync(join(dir, 'report.html')));
  t.regex(a.stderr, /not drawn \(no data\): Drops by reason: no packet was dropped/);
  const out = join(tmp(), 'r.html');
  const figs = join(tmp(), 'figs');
  const b = splitnet(['report', dir, '--out', out, '--figures', figs]);
  t.is(b.code, 0, b.stderr);
  t.is(readFileSync(out, 'utf8'), readFileSync(join(dir, 'report.html'), 'utf8'), 'the report depends only on the results');
  const svgs = readdirSync(figs).sort();
  t.true(svgs.includes('throughput.svg') && svgs.includes('latency-cdf.svg'));
  const svg = readFileSync(join(figs, 'throughput.svg'), 'utf8');
  t.regex(svg, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
});

test('report cli - bad input exits 2 with a message naming what was wrong', (t) => {
  const empty = tmp();
  const r = splitnet(['report', empty]);
  t.is(r.code, 2);
  t.regex(r.stderr, /splitnet: error: .*neither a run's results \(no summary.json\) nor a sweep's/);
  const dir = tmp();
  writeRun(dir);
  const e = splitnet(['report', dir, '--error-bars', 'iqr']);
  t.is(e.code, 2);
  t.regex(e.stderr, /--error-bars: expected sd or ci95, found "iqr"/);
});
