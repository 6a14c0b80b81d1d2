// What the CLI knows about itself and the host: the facts every results directory's environment.json starts with.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** splitnet's version, from the root package.json. */
export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function gitRevision(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return 'unknown';
  }
}

/** splitnet's version and git revision, Node's version, the platform and the CPUs (docs/results.md, environment.json). */
export function hostFacts(): { splitnet: string; gitRevision: string; node: string; platform: string; cpu: string } {
  const cpu = cpus()[0];
  return {
    splitnet: version(),
    gitRevision: gitRevision(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpu: cpu ? `${cpus().length} × ${cpu.model}` : 'unknown',
  };
}
