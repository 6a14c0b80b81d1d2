// The packages' layering (docs/architecture.md): no package depends on, or imports, one above it or beside it — checked from each package.json's dependencies and from the import statements of each package's src.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Bottom to top; packages of one layer do not use each other either. */
const LAYERS: readonly (readonly string[])[] = [
  ['model'],
  ['scenario'],
  ['transport'],
  ['runtime'],
  ['nic', 'backend', 'worker', 'frontend'],
  ['results'],
  ['controller'],
  ['live'],
  ['docker', 'lockstep'],
  ['experiments', 'report'],
  ['cli'],
];

const layerOf = new Map(LAYERS.flatMap((names, i) => names.map((n) => [n, i] as const)));

/** Every package under packages/ (its directory name, which is its @splitnet/ name). */
function packages(): string[] {
  return readdirSync(join(root, 'packages'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/** The @splitnet packages a package's source imports (static, `export … from` and dynamic `import()`), with the file that does. */
function sourceImports(pkg: string): { file: string; target: string }[] {
  const out: { file: string; target: string }[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts')) {
        const text = readFileSync(path, 'utf8');
        for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'@splitnet\/([a-z-]+)(?:\/[^']*)?'/g))
          out.push({ file: path.slice(root.length), target: m[1] as string });
      }
    }
  };
  walk(join(root, 'packages', pkg, 'src'));
  return out;
}

function dependencies(pkg: string): string[] {
  const json = JSON.parse(readFileSync(join(root, 'packages', pkg, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  return Object.keys(json.dependencies ?? {})
    .filter((d) => d.startsWith('@splitnet/'))
    .map((d) => d.slice('@splitnet/'.length));
}

test('layers - every package has a place in the layering', (t) => {
  t.deepEqual(
    packages().filter((p) => !layerOf.has(p)),
    [],
  );
});

test('layers - no package.json depends on a package above or beside it', (t) => {
  const wrong = packages().flatMap((p) =>
    dependencies(p)
      .filter((d) => (layerOf.get(d) ?? Infinity) >= (layerOf.get(p) ?? -1))
      .map((d) => `${p} → ${d}`),
  );
  t.deepEqual(wrong, []);
});

test('layers - no package source imports a package above or beside it, nor one it does not depend on', (t) => {
  const wrong: string[] = [];
  for (const p of packages()) {
    const deps = new Set(dependencies(p));
    for (const { file, target } of sourceImports(p)) {
      if (target === p) continue;
      if ((layerOf.get(target) ?? Infinity) >= (layerOf.get(p) ?? -1)) wrong.push(`${file} imports @splitnet/${target} (above or beside ${p})`);
      else if (!deps.has(target)) wrong.push(`${file} imports @splitnet/${target}, which ${p}/package.json does not list`);
    }
  }
  t.deepEqual(wrong, []);
});

test('layers - the check sees imports: the CLI imports the live package, and report the results package', (t) => {
  t.true(sourceImports('cli').some((i) => i.target === 'live'));
  t.true(sourceImports('report').some((i) => i.target === 'results'));
});
