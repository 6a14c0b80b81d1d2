// The places the CLI writes to (--out, --figures): checked and created before any work, so that a bad path is one line, never a stack or a hang.
import { accessSync, constants, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { SplitnetError } from '@splitnet/model';

function bad(flag: string, path: string, why: string): SplitnetError {
  return new SplitnetError('E_FILE', `${flag} ${path}: ${why}`);
}

const REASONS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  // mkdir in an existing directory fails so only on a virtual file system (/proc, /sys).
  ENOENT: 'that file system does not allow new directories',
  ENOTDIR: 'a part of the path is not a directory',
  ENAMETOOLONG: 'the name is too long',
};

function reason(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? (REASONS[code] ?? code) : String(err);
}

/** The path's status, or undefined if nothing is there (or a part of it is a file: the caller looks further up). */
function statOf(flag: string, shown: string, path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw bad(flag, shown, `cannot look at ${path}: ${reason(err)}`);
  }
}

/**
 * Make sure `dir` is a directory splitnet may write in: create it and its missing parents one level
 * at a time. Not `mkdirSync(…, { recursive: true })`: under /proc every mkdir says ENOENT, and Node's
 * recursive mkdir then retries the parent for ever at 100 % CPU.
 */
export function ensureDirectory(flag: string, dir: string, shown = dir): void {
  const target = resolve(dir);
  const missing: string[] = [];
  let at = target;
  for (;;) {
    const st = statOf(flag, shown, at);
    if (st !== undefined) {
      if (!st.isDirectory()) throw bad(flag, shown, at === resolve(shown) ? 'is a file, not a directory' : `${at} is a file, not a directory`);
      break;
    }
    missing.unshift(at);
    const up = dirname(at);
    if (up === at) throw bad(flag, shown, 'no part of the path exists');
    at = up;
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'EEXIST' && statOf(flag, shown, d)?.isDirectory() === true) continue; // made meanwhile by someone else
      throw bad(flag, shown, `cannot create the directory ${d}: ${reason(err)}`);
    }
  }
  try {
    accessSync(target, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw bad(flag, shown, `cannot write in ${target === resolve(shown) ? 'this directory' : `the directory ${target}`}: ${reason(err)}`);
  }
}

/** Make sure `file` can be written: not a directory, its directory created if missing. */
export function ensureFileParent(flag: string, file: string): void {
  const st = statOf(flag, file, resolve(file));
  if (st?.isDirectory() === true) throw bad(flag, file, 'is a directory; give the file to write');
  ensureDirectory(flag, dirname(file), file);
}

/** What a results directory holds, as far as `splitnet run` is concerned. */
export type ResultsDirContents = { readonly kind: 'absent' | 'empty' | 'same-run' } | { readonly kind: 'other'; readonly description: string };

/**
 * Whether `dir` may take the results of this run: it does not exist, is empty, or holds the same run —
 * the very same resolved scenario (scenario, seed, runtime and every default: running it again rewrites
 * the same files), or a live run with the same run id (`--run-id`, as compose and swarm deployments
 * give: their resolved scenario is resized to the actors that joined). Anything else would mix two
 * runs' files in one directory.
 */
export function resultsDirContents(dir: string, run: { readonly resolvedYaml: string; readonly runId: string }): ResultsDirContents {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) return { kind: 'absent' }; // ensureDirectory says what is wrong
    names = readdirSync(dir);
  } catch {
    return { kind: 'absent' };
  }
  if (names.length === 0) return { kind: 'empty' };
  const before = readOrUndefined(join(dir, 'scenario.resolved.yaml'));
  if (before === run.resolvedYaml) return { kind: 'same-run' };
  const environment = readOrUndefined(join(dir, 'environment.json'));
  let runIdBefore: unknown;
  try {
    runIdBefore = environment === undefined ? undefined : (JSON.parse(environment) as { runId?: unknown }).runId;
  } catch {
    runIdBefore = undefined;
  }
  if (runIdBefore === run.runId) return { kind: 'same-run' };
  if (before === undefined) return { kind: 'other', description: `it holds ${names.length} file(s) and no splitnet run (no scenario.resolved.yaml)` };
  const name = /^name: (.*)$/m.exec(before)?.[1] ?? '?';
  const seed = /^seed: (.*)$/m.exec(before)?.[1] ?? '?';
  return {
    kind: 'other',
    description: `it holds another run (its scenario.resolved.yaml: name ${name}, seed ${seed}; not the same resolved scenario as this run)`,
  };
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
