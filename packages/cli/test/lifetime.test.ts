// The CLI's process lifetime (lifetime.ts): what a process started is gone with it, however it ends; moved here with the exit hooks from the nats-server launcher.
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const lifetimeModule = fileURLToPath(new URL('../src/lifetime.js', import.meta.url));
const launcherModule = fileURLToPath(new URL('../../../transport/dist/src/nats-server.js', import.meta.url));

/** A child Node process that owns its lifetime as the CLI does, starts a server, registers it and prints its pid; then `then`. */
function script(then: string): string {
  return [
    `import { ProcessLifetime } from ${JSON.stringify(lifetimeModule)};`,
    `import { startNatsServer } from ${JSON.stringify(launcherModule)};`,
    'const lifetime = new ProcessLifetime();',
    'lifetime.install();',
    'const h = await startNatsServer();',
    "lifetime.atExit(() => h.kill('SIGKILL'));",
    'console.log(h.pid);',
    then,
  ].join('\n');
}

/** Whether `pid` is gone within 10 s (an orphaned server is reaped by init, not at once; the machine may be loaded). */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

test('nats-server - a process that crashes does not leak its server', async (t) => {
  // A child Node process starts a server, prints its pid and dies of an uncaught exception.
  const { stdout, code } = await new Promise<{ stdout: string; code: number | null }>((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', script("throw new Error('crash');")], (err, out) => {
      resolve({ stdout: out, code: err === null ? 0 : typeof err.code === 'number' ? err.code : null });
    });
  });
  t.not(code, 0, 'the child crashed');
  const pid = Number(stdout.trim());
  t.true(Number.isInteger(pid) && pid > 0, `pid printed: ${stdout}`);
  t.true(await gone(pid), 'the server died with the process that started it');
});

test('nats-server - a process terminated by SIGTERM does not leak its server and still dies of SIGTERM', async (t) => {
  // As ava does to a timed-out test file: the child never stops its server and is sent SIGTERM.
  const child = spawn(process.execPath, ['--input-type=module', '-e', script('setInterval(() => undefined, 60_000);')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pid = await new Promise<number>((resolve) => {
    child.stdout.setEncoding('utf8');
    child.stdout.once('data', (chunk: string) => resolve(Number(chunk.trim())));
  });
  t.notThrows(() => process.kill(pid, 0), 'the server runs');
  const exit = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  child.kill('SIGTERM');
  t.is(await exit, 'SIGTERM');
  t.true(await gone(pid), 'the server died with the process that started it');
});

const reaperScript = fileURLToPath(new URL('../src/reaper.js', import.meta.url));

/** A child Node process that owns its lifetime as the CLI does, starts `sleep`, registers it with its pid, prints the pid and waits. */
const withSleeper = [
  `import { ProcessLifetime } from ${JSON.stringify(lifetimeModule)};`,
  "import { spawn } from 'node:child_process';",
  'const lifetime = new ProcessLifetime();',
  'lifetime.install();',
  "const c = spawn('sleep', ['600'], { stdio: 'ignore', detached: true });",
  "lifetime.atExit(() => c.kill('SIGKILL'), { pid: c.pid, what: 'sleep' });",
  'console.log(c.pid);',
  'setInterval(() => undefined, 60_000);',
].join('\n');

test('reaper - a child registered with its pid dies with its owner even when the owner is killed with SIGKILL', async (t) => {
  const owner = spawn(process.execPath, ['--input-type=module', '-e', withSleeper], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = await new Promise<number>((resolve) => {
    owner.stdout.setEncoding('utf8');
    owner.stdout.once('data', (chunk: string) => resolve(Number(chunk.trim())));
  });
  t.notThrows(() => process.kill(pid, 0), 'the child runs');
  const exit = new Promise<NodeJS.Signals | null>((resolve) => owner.once('exit', (_code, signal) => resolve(signal)));
  owner.kill('SIGKILL'); // no exit hook runs: only the reaper can see it go
  t.is(await exit, 'SIGKILL');
  t.true(await gone(pid), 'the child died with its owner');
});

test('reaper - a pid whose start time is not the one recorded (given to another process since) is left alone', async (t) => {
  const other = spawn('sleep', ['600'], { stdio: 'ignore' });
  try {
    const reaper = spawn(process.execPath, [reaperScript], { stdio: ['pipe', 'ignore', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => reaper.once('exit', resolve));
    reaper.stdin.end(`+ ${other.pid ?? -1} 1\n`); // start time 1: a process that ran at boot, not this one
    t.is(await exited, 0);
    t.notThrows(() => process.kill(other.pid ?? -1, 0), 'the other process still runs');
  } finally {
    other.kill('SIGKILL');
  }
});

test('reaper - a child recorded and then forgotten (it exited) is not killed when the owner goes', async (t) => {
  const kept = spawn('sleep', ['600'], { stdio: 'ignore' });
  try {
    const stat = readFileSync(`/proc/${kept.pid ?? -1}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
    const reaper = spawn(process.execPath, [reaperScript], { stdio: ['pipe', 'ignore', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => reaper.once('exit', resolve));
    reaper.stdin.end(`+ ${kept.pid ?? -1} ${start}\n- ${kept.pid ?? -1}\n`);
    t.is(await exited, 0);
    t.notThrows(() => process.kill(kept.pid ?? -1, 0), 'the forgotten pid was not killed');
  } finally {
    kept.kill('SIGKILL');
  }
});
