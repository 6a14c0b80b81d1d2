// Bundle the actor processes' entry (packages/cli/dist/src/actor-main.js) into one file: it starts in less than
// half the CPU time of ~500 module files (packages/cli/src/actor-entry.ts says when the bundle is used).
// esbuild: the bundler with no plugins or configuration to keep, and fast enough to run in every `npm run build`.
import { build } from 'esbuild';
import { writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'packages/cli/dist/bundle');
const result = await build({
  entryPoints: [join(root, 'packages/cli/dist/src/actor-main.js')],
  outfile: join(outDir, 'actor-main.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  metafile: true,
  logLevel: 'warning',
  // The Docker placement's client (and its native ssh2 parts) is never loaded by an actor process.
  external: ['dockerode', 'ssh2', 'cpu-features', 'msgpackr-extract'],
  // CommonJS dependencies (winston) call require(): give the ES module bundle one.
  banner: { js: "import { createRequire as __splitnetRequire } from 'node:module'; const require = __splitnetRequire(import.meta.url);" },
});
// The files the bundle was made of, relative to the repository (node_modules included): actor-entry.ts compares their times with the bundle's.
const inputs = Object.keys(result.metafile.inputs).map((f) => relative(root, resolve(root, f)));
writeFileSync(join(outDir, 'actor-main.inputs.json'), `${JSON.stringify({ root: relative(outDir, root), inputs })}\n`);
