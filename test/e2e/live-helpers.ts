// Shared by the live-mode e2e tests: run the splitnet command as a child process, write scenarios to temp dirs, find a run's processes.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from test/dist/e2e/). */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The built splitnet command. */
export const cli = join(root, 'packages/cli/dist/src/main.js');

/** A fresh temporary directory. */
export function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'splitnet-live-'));
}

/** `text` written as scenario.yaml in a fresh temporary directory; returns its path. */
export function scenarioFile(text: string): string {
  const f = join(tmp(), 'scenario.yaml');
  writeFileSync(f, text);
  return f;
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `splitnet <args>` from the repository root; resolves when it exits, with its output. */
export function run(args: string[]): Promise<Ran> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolveRun({ code, stdout, stderr }));
  });
}

/** Processes whose command line mentions this run id (actors left behind would show here). */
export function processesOf(runId: string): string[] {
  const ps = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).stdout;
  return ps.split('\n').filter((l) => l.includes(runId) && !l.includes('ps -eo'));
}

/** One line of a run's events.jsonl. */
export interface LoggedEvent {
  t: number;
  kind: string;
  actor: string;
  detail: Record<string, unknown>;
}

/** A run's event log (results directory `dir`). */
export function eventsOf(dir: string): LoggedEvent[] {
  return readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LoggedEvent);
}
