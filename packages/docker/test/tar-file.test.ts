// tarOf against the system's tar: the archive the docker placement puts its NATS configuration into a container with.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tarOf } from '../src/tar-file.js';

test('tar file - the system tar lists and extracts the one file with its content and mode', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'splitnet-tar-'));
  // Longer than one block, and not a multiple of it.
  const text = `authorization {\n${'  # a line of the file\n'.repeat(40)}}\n`;
  writeFileSync(join(dir, 'a.tar'), tarOf('splitnet-nats.conf', text, 0o600));
  const list = spawnSync('tar', ['-tvf', 'a.tar'], { cwd: dir, encoding: 'utf8' });
  t.is(list.status, 0, list.stderr);
  t.regex(list.stdout, /^-rw------- .* splitnet-nats\.conf$/m);
  const x = spawnSync('tar', ['-xf', 'a.tar'], { cwd: dir, encoding: 'utf8' });
  t.is(x.status, 0, x.stderr);
  t.is(readFileSync(join(dir, 'splitnet-nats.conf'), 'utf8'), text);
  t.is(statSync(join(dir, 'splitnet-nats.conf')).mode & 0o777, 0o600);
});

test('tar file - a name that is not a plain file name is refused', (t) => {
  for (const bad of ['../etc/passwd', 'a/b', '', 'x'.repeat(100)]) t.throws(() => tarOf(bad, 'x'), undefined, bad);
});
