// The CLI's process lifetime (lifetime.ts): what a process started is gone with it, however it ends; moved here with the exit hooks from the nats-server launcher.
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
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

/** Whether `pid` is gone within a few seconds (an orphaned server is reaped by init, not at once). */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
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
  const child = spawn(process.execPath, ['--input-type=module', '-e', script('setInterval(() => undefined, 60_000);')], { stdio: ['ignore', 'pipe', 'inherit'] });
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
