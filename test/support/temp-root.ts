// Loaded by ava before each test file (ava.config.js, "require"): everything the file and the processes it starts
// write to the temporary directory goes under one directory of its own, removed when the file's process exits.
//
// Tests make temporary directories for scenarios, results, logs, certificates and docker bind mounts (hundreds per run
// of the suite); this removes them all, including those a failing test or a child process left, without each test
// having to. SPLITNET_KEEP_TEST_DIRS=1 keeps them and prints where they are.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function tempRoot(): void {
  const root = mkdtempSync(join(tmpdir(), 'splitnet-tests-'));
  // os.tmpdir() reads TMPDIR at each call, and child processes (the CLI, actor processes) inherit it.
  process.env['TMPDIR'] = root;
  process.once('exit', () => {
    if (process.env['SPLITNET_KEEP_TEST_DIRS'] === '1') {
      process.stderr.write(`temporary files of this test file kept in ${root}\n`);
      return;
    }
    try {
      rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    } catch (err) {
      process.stderr.write(`could not remove the test file's temporary directory ${root}: ${(err as Error).message}\n`);
    }
  });
}
