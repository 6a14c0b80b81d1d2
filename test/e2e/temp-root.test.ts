// The suite's temporary-directory hygiene (test/support/temp-root.ts): a test file's temporary files live under a
// directory of its own, which is gone once the file's process has exited.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

test('a test file writes temporary files under its own directory, and child processes inherit it', (t) => {
  const root = tmpdir();
  t.regex(basename(root), /^splitnet-tests-/);
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(require("node:os").tmpdir())'], { encoding: 'utf8' });
  t.is(child.stdout, root);
});

test('the directory and everything in it is removed when the process exits (kept with SPLITNET_KEEP_TEST_DIRS=1)', (t) => {
  const support = join(dirname(fileURLToPath(import.meta.url)), '../support/temp-root.js');
  // A process that loads the module as ava does, leaves a file behind and exits; the module must remove its root.
  const script = `import(${JSON.stringify(support)}).then((m) => { m.default(); const os = require('node:os'); require('node:fs').writeFileSync(os.tmpdir() + '/left.txt', 'x'); process.stdout.write(os.tmpdir()); })`;
  const outer = mkdtempSync(join(tmpdir(), 'outer-'));
  const env = { ...process.env, TMPDIR: outer, SPLITNET_KEEP_TEST_DIRS: '' };
  const removed = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env });
  t.is(removed.status, 0, removed.stderr);
  t.true(removed.stdout.startsWith(join(outer, 'splitnet-tests-')), removed.stdout);
  t.false(existsSync(removed.stdout));
  const kept = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...env, SPLITNET_KEEP_TEST_DIRS: '1' } });
  t.is(kept.status, 0, kept.stderr);
  t.true(existsSync(join(kept.stdout, 'left.txt')));
  t.true(kept.stderr.includes(`kept in ${kept.stdout}`), kept.stderr);
});
