// Tests for the places the CLI writes to: directories created level by level with one-line errors, and which results directories a run may write into.
import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SplitnetError } from '@splitnet/model';
import { ensureDirectory, ensureFileParent, resultsDirContents } from '../src/out-path.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'splitnet-out-path-'));
}

test('out path - ensureDirectory creates every missing level', (t) => {
  const dir = join(tmp(), 'a', 'b', 'c');
  ensureDirectory('--out', dir);
  t.true(statSync(dir).isDirectory());
  ensureDirectory('--out', dir); // already there: fine
});

const refused: [string, (base: string) => string, (base: string) => string][] = [
  ['a path below a regular file', (b) => join(b, 'file', 'sub'), (b) => `--out ${join(b, 'file', 'sub')}: ${join(b, 'file')} is a file, not a directory`],
  ['a regular file', (b) => join(b, 'file'), (b) => `--out ${join(b, 'file')}: is a file, not a directory`],
  [
    'a path under /proc',
    () => '/proc/splitnet-out-path/x',
    () => '--out /proc/splitnet-out-path/x: cannot create the directory /proc/splitnet-out-path: that file system does not allow new directories',
  ],
];

for (const [what, path, message] of refused) {
  test(`out path - ensureDirectory refuses ${what} with one line naming the flag and the path`, (t) => {
    const base = tmp();
    writeFileSync(join(base, 'file'), 'x');
    const err = t.throws(() => ensureDirectory('--out', path(base)), { instanceOf: SplitnetError });
    t.is(err?.code, 'E_FILE');
    t.is(err?.message, message(base));
  });
}

test('out path - ensureFileParent names the file, creates its directory, and refuses a directory', (t) => {
  const base = tmp();
  writeFileSync(join(base, 'file'), 'x');
  ensureFileParent('--out', join(base, 'new', 'report.html'));
  t.true(existsSync(join(base, 'new')));
  t.is(
    t.throws(() => ensureFileParent('--out', join(base, 'file', 'report.html')))?.message,
    `--out ${join(base, 'file', 'report.html')}: ${join(base, 'file')} is a file, not a directory`,
  );
  t.is(t.throws(() => ensureFileParent('--out', base))?.message, `--out ${base}: is a directory; give the file to write`);
});

const RESOLVED = 'name: small\nseed: 1\nruntime: sim\n';

test('out path - a run may write where nothing is, into an empty directory, or over the same run', (t) => {
  const base = tmp();
  const run = { resolvedYaml: RESOLVED, runId: 'small-s1-x' };
  t.is(resultsDirContents(join(base, 'new'), run).kind, 'absent');
  mkdirSync(join(base, 'empty'));
  t.is(resultsDirContents(join(base, 'empty'), run).kind, 'empty');
  mkdirSync(join(base, 'same'));
  writeFileSync(join(base, 'same', 'scenario.resolved.yaml'), RESOLVED);
  writeFileSync(join(base, 'same', 'report.html'), '<html>');
  t.is(resultsDirContents(join(base, 'same'), run).kind, 'same-run');
  // A live run of the same run id whose resolved scenario was resized to the actors that joined (compose).
  mkdirSync(join(base, 'joined'));
  writeFileSync(join(base, 'joined', 'scenario.resolved.yaml'), RESOLVED.replace('runtime: sim', 'runtime: live\ntopology: { vms: { count: 4 } }'));
  writeFileSync(join(base, 'joined', 'environment.json'), JSON.stringify({ runtime: 'live', runId: 'compose' }));
  t.is(resultsDirContents(join(base, 'joined'), { resolvedYaml: RESOLVED.replace('runtime: sim', 'runtime: live'), runId: 'compose' }).kind, 'same-run');
});

test('out path - another run, or files that are no run, are described', (t) => {
  const base = tmp();
  const run = { resolvedYaml: RESOLVED, runId: 'small-s2-x' };
  mkdirSync(join(base, 'other'));
  writeFileSync(join(base, 'other', 'scenario.resolved.yaml'), RESOLVED.replace('seed: 1', 'seed: 7'));
  t.deepEqual(resultsDirContents(join(base, 'other'), run), {
    kind: 'other',
    description: 'it holds another run (its scenario.resolved.yaml: name small, seed 7; not the same resolved scenario as this run)',
  });
  mkdirSync(join(base, 'notes'));
  writeFileSync(join(base, 'notes', 'a.txt'), 'x');
  writeFileSync(join(base, 'notes', 'b.txt'), 'y');
  t.deepEqual(resultsDirContents(join(base, 'notes'), run), {
    kind: 'other',
    description: 'it holds 2 file(s) and no splitnet run (no scenario.resolved.yaml)',
  });
});
