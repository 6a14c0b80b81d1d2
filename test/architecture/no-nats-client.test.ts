// What the sim needs does not load the NATS client: the import graph of the built model, scenario, runtime and transport's "." entry reaches no @nats-io module.
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const SPECIFIERS = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^import\s*['"]([^'"]+)['"]/gm;

/** The package a bare specifier names (`@scope/name/sub` → `@scope/name`). */
function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

/** A @splitnet package's entry file for a specifier, through its package.json exports. */
function splitnetEntry(spec: string): string {
  const name = packageName(spec);
  const dir = join(root, 'packages', name.slice('@splitnet/'.length));
  const exports = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { exports: Record<string, { default: string }> }).exports;
  const key = `.${spec.slice(name.length)}`;
  const entry = exports[key === '.' ? '.' : key];
  if (!entry) throw new Error(`${spec}: not exported by ${name}`);
  return join(dir, entry.default);
}

/** Every package a third-party package can load: itself and its dependencies, transitively (from their package.json files). */
function dependencyClosure(pkg: string, from: string, seen: Set<string>): void {
  if (seen.has(pkg)) return;
  seen.add(pkg);
  let dir = from;
  for (;;) {
    const candidate = join(dir, 'node_modules', pkg, 'package.json');
    if (existsSync(candidate)) {
      const json = JSON.parse(readFileSync(candidate, 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
      for (const d of Object.keys({ ...json.dependencies, ...json.optionalDependencies })) dependencyClosure(d, dirname(candidate), seen);
      return;
    }
    const up = dirname(dir);
    if (up === dir) return; // not installed: it cannot be loaded either
    dir = up;
  }
}

/** The packages the module graph from `entry` can load: splitnet's own files followed, third-party packages with their dependencies. */
function reachablePackages(entry: string): Set<string> {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(SPECIFIERS)) {
      const spec = (m[1] ?? m[2] ?? m[3]) as string;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else if (spec.startsWith('node:')) continue;
      else if (spec.startsWith('@splitnet/')) {
        packages.add(packageName(spec));
        visit(splitnetEntry(spec));
      } else dependencyClosure(packageName(spec), dirname(file), packages);
    }
  };
  visit(entry);
  return packages;
}

for (const spec of ['@splitnet/model', '@splitnet/scenario', '@splitnet/runtime', '@splitnet/transport']) {
  test(`no NATS client - nothing ${spec} loads reaches an @nats-io package`, (t) => {
    const reached = reachablePackages(splitnetEntry(spec));
    t.deepEqual(
      [...reached].filter((p) => p.startsWith('@nats-io/')),
      [],
    );
  });
}

test('no NATS client - the walk finds it where it is: @splitnet/transport/nats reaches @nats-io/transport-node', (t) => {
  t.true(reachablePackages(splitnetEntry('@splitnet/transport/nats')).has('@nats-io/transport-node'));
});

test('no NATS client - the sim run (@splitnet/controller) reaches no @nats-io package either', (t) => {
  const reached = reachablePackages(splitnetEntry('@splitnet/controller'));
  t.true(reached.has('@splitnet/runtime'), 'the walk followed the controller into the runtime');
  t.deepEqual(
    [...reached].filter((p) => p.startsWith('@nats-io/')),
    [],
  );
});
