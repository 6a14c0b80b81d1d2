// End-to-end: Ctrl-C during a live run (processes placement) stops it cleanly — every actor process and the private nats-server gone, exit 130, one line, no stack trace — also when the bus died first.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, eventsOf, processesOf, root, scenarioFile, tmp } from './live-helpers.js';

// Long enough (2 s emulated = 200 s of wall time at TDF 100) that only the interrupt ends it.
const long = `name: long
duration: 2s
topology: { vms: { count: 1, queues: 1 }, workers: 1 }
traffic: [ { flows: 4, rate: 50Mbps, size: 1518 } ]
live: { tdf: 100 }
`;

/** Resolves once `check` holds, polling; fails the test after `ms`. */
async function until(t: ExecutionContext, what: string, check: () => boolean, ms = 60_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.fail(`timed out waiting until ${what}`);
}

/** A JSON log's lines (winston's file format). */
function logLines(file: string): Record<string, unknown>[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Start a long live run; resolves once every actor process has started, with the run's nats-server pid and its exit. */
async function startedRun(t: ExecutionContext, runId: string): Promise<{ out: string; child: ReturnType<typeof spawn>; natsPid: number; exit: Promise<{ code: number | null; stderr: string }> }> {
  const out = join(tmp(), 'run');
  const child = spawn(process.execPath, [cli, 'run', scenarioFile(long), '--runtime', 'live', '--run-id', runId, '--out', out, '-q'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
  const started = (name: string) => logLines(join(out, 'logs', `${name}.log`)).some((l) => l['message'] === 'start');
  await until(t, 'every actor process started', () => ['nic+backend', 'worker.0', 'vm.0'].every(started));
  const server = logLines(join(out, 'logs', 'controller.log')).find((l) => l['message'] === 'started a private nats-server');
  t.truthy(server, 'the controller started a private nats-server');
  return { out, child, natsPid: Number(server?.['pid']), exit };
}

test.serial('live interrupt - Ctrl-C during a run stops every actor process and the private nats-server, exits 130 with one line, and keeps the event log', async (t) => {
  t.timeout(120_000);
  const runId = `int1-${process.pid}`;
  const r = await startedRun(t, runId);
  t.true(alive(r.natsPid));
  r.child.kill('SIGINT');
  const { code, stderr } = await r.exit;
  t.is(code, 130, stderr);
  t.regex(stderr, /^splitnet: interrupted \(SIGINT\): live run int1-\d+ stopped; .*events\.jsonl/m);
  t.notRegex(stderr, /\n\s+at /, 'no stack trace');
  t.deepEqual(processesOf(runId), [], 'no actor process left');
  t.false(alive(r.natsPid), 'the private nats-server is gone');
  t.true(eventsOf(r.out).some((e) => e.kind === 'run-failed' && String(e.detail['reason']).includes('interrupted')), 'the event log says why the run ended');
});

test.serial('live interrupt - the bus dying before Ctrl-C: no stack trace from the controller or the actors, exit 130, nothing left behind', async (t) => {
  t.timeout(120_000);
  const runId = `int2-${process.pid}`;
  const r = await startedRun(t, runId);
  process.kill(r.natsPid, 'SIGKILL');
  await until(t, 'the actors saw the bus go', () => logLines(join(r.out, 'logs', 'vm.0.log')).some((l) => l['message'] === 'nats disconnect'));
  r.child.kill('SIGINT');
  const { code, stderr } = await r.exit;
  t.is(code, 130, stderr);
  t.notRegex(stderr, /\n\s+at /, 'no stack trace');
  t.notRegex(stderr, /TransportError|internal error/);
  t.deepEqual(processesOf(runId), [], 'no actor process left');
});
