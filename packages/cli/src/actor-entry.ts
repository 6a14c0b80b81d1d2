// Which file a live or lockstep run starts its actor and partition processes with: the bundle when it is up to date.
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * An actor process spends most of its start-up loading splitnet's ~500 module files (≈ 0.6 s of CPU against ≈ 0.25 s
 * for one bundled file, measured on the 2-core machine of docs/benchmark.md): on a loaded machine, seconds of wall time
 * before a run starts or a restarted actor rejoins. `npm run build` bundles actor-main.js with esbuild
 * (scripts/bundle-actor.mjs) into dist/bundle/actor-main.mjs and lists the files it was made of; a build by `tsc -b`
 * alone leaves it behind the sources, so it is used only when none of them is newer than it. SPLITNET_ACTOR_BUNDLE=0
 * starts the unbundled entry always (stack traces then name the source files).
 */
const here = dirname(fileURLToPath(import.meta.url));
// From dist/src, and from dist/bundle (a partition process, bundled, loads this module too).
const unbundled = join(here, '..', 'src', 'actor-main.js');
const bundle = join(here, '..', 'bundle', 'actor-main.mjs');
const inputsFile = join(here, '..', 'bundle', 'actor-main.inputs.json');

let chosen: string | undefined;

/** The bundle if it was made from the files as they are now, else dist/src/actor-main.js. */
export function actorEntry(): string {
  chosen ??= process.env['SPLITNET_ACTOR_BUNDLE'] === '0' || !bundleUpToDate(bundle, inputsFile) ? unbundled : bundle;
  return chosen;
}

/** Whether `bundle` exists and none of the files `inputsFile` lists (relative to its `root`) is newer than it. */
export function bundleUpToDate(bundle: string, inputsFile: string): boolean {
  try {
    const made = statSync(bundle).mtimeMs;
    const { root, inputs } = JSON.parse(readFileSync(inputsFile, 'utf8')) as { root: string; inputs: string[] };
    const base = resolve(dirname(inputsFile), root);
    return inputs.every((f) => statSync(resolve(base, f)).mtimeMs <= made);
  } catch {
    return false;
  }
}
