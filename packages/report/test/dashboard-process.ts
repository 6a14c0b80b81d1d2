// A `splitnet` command that serves a dashboard, as the browser test and the screenshot script start it: its URL from stderr, its output, its exit.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from packages/report/dist/test/). */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const cli = join(root, 'packages/cli/dist/src/main.js');

/** A `splitnet` process serving a dashboard: its URL (from the line it prints on stderr), its output so far, and its exit. */
export interface Serving {
  readonly child: ChildProcess;
  readonly url: Promise<string>;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
  /** Resolves when stderr has a line matching `re`. */
  readonly said: (re: RegExp) => Promise<void>;
  /** SIGKILL, if it still runs (a test's teardown). */
  readonly kill: () => void;
}

/** `splitnet <args>` (a command that serves a dashboard), killed by `kill` if it is still running. */
export function serveDashboard(args: readonly string[]): Serving {
  const child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const waiting: { re: RegExp; resolve: () => void }[] = [];
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  child.stdout.resume();
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
    for (const w of [...waiting]) if (w.re.test(stderr)) w.resolve();
  });
  const said = (re: RegExp) =>
    new Promise<void>((resolve, reject) => {
      if (re.test(stderr)) return resolve();
      waiting.push({ re, resolve });
      void exited.then((code) => reject(new Error(`splitnet exited (${code}) before saying ${re}: ${stderr}`)));
    });
  const url = said(/dashboard at (http:\/\/\S+\/)/).then(() => /dashboard at (http:\/\/\S+\/)/.exec(stderr)?.[1] as string);
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  return { child, url, stderr: () => stderr, exited, said, kill };
}
