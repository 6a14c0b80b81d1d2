// What the packet-capture end-to-end tests share: the CLI run as a user runs it, and tshark (Debian's package) reading a capture.
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const cli = join(root, 'packages/cli/dist/src/main.js');

/** `splitnet <args>` from the repository root: its exit code and output. */
export function splitnet(args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** tshark's output; a missing tshark fails the test with what to install. */
export function tshark(args: readonly string[]): string {
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error('tshark is not installed: the packet-capture tests read the captures with it (Debian/Ubuntu: apt-get install -y tshark)');
  }
  if (r.status !== 0) throw new Error(`tshark ${args.join(' ')} failed (exit ${String(r.status)}): ${r.stderr}`);
  return r.stdout;
}
