// splitnet cleanup's process part: a run's record says what it started; only what still runs as the same process (pid and start time) is a leftover.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killLeftovers, leftovers } from '../src/cleanup-command.js';
import { identify } from '../src/process-identity.js';

/** A record file: objects as JSON lines, strings as they are. */
function record(lines: readonly (object | string)[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'splitnet-cleanup-')), 'processes.jsonl');
  writeFileSync(file, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return file;
}

test('cleanup - a recorded process still running as itself is a leftover; one gone, one recorded as gone, and a reused pid are not', async (t) => {
  const child = spawn('sleep', ['600'], { stdio: 'ignore' });
  const done = spawn('sleep', ['600'], { stdio: 'ignore' });
  try {
    const me = identify(child.pid ?? -1);
    const other = identify(done.pid ?? -1);
    t.truthy(me);
    t.truthy(other);
    const file = record([
      { ...me, what: 'actor vm.0', at: 'now' },
      { ...other, what: 'actor vm.1', at: 'now' },
      { pid: done.pid, gone: 'now' },
      // This test's own pid with another start time: the pid of a process that ran before, reused since.
      { pid: process.pid, start: '1', command: 'node old', what: 'nats-server', at: 'then' },
      // A pid nobody has.
      { pid: 4_000_000, start: '1', command: 'node', what: 'actor vm.2', at: 'then' },
      '{"pid": 12, "start": "3',
      '"a string"',
    ]);
    t.deepEqual(
      leftovers(file).map((p) => p.what),
      ['actor vm.0'],
    );
    const killed = killLeftovers(leftovers(file));
    t.deepEqual(
      killed.map((p) => p.pid),
      [child.pid],
    );
    const exit = await new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_c, s) => resolve(s)));
    t.is(exit, 'SIGKILL');
  } finally {
    child.kill('SIGKILL');
    done.kill('SIGKILL');
  }
});
