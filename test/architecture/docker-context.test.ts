// The image's build context holds every workspace: docker/Dockerfile copies each workspace's package.json before `npm ci`, and no .dockerignore pattern leaves a workspace out (checked without Docker).
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function workspaces(): string[] {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
}

/** A .dockerignore pattern as a regular expression over context-relative paths (`**` any depth, `*` within a segment). */
function patternRegex(pattern: string): RegExp {
  const p = pattern.replace(/^\/+/, '').replace(/\/+$/, '');
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i] as string;
    if (c === '*' && p[i + 1] === '*') {
      re += '.*';
      i++;
      if (p[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Whether a pattern excludes the path or one of its parent directories (which excludes everything below it). */
function excludes(pattern: RegExp, path: string): boolean {
  const parts = path.split('/');
  return parts.some((_, i) => pattern.test(parts.slice(0, i + 1).join('/')));
}

const ignorePatterns = readFileSync(join(root, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('!'));

test('docker context - the Dockerfile copies every workspace package.json before npm ci', (t) => {
  const dockerfile = readFileSync(join(root, 'docker/Dockerfile'), 'utf8');
  const beforeCi = dockerfile.slice(0, dockerfile.indexOf('RUN npm ci'));
  for (const w of workspaces())
    t.regex(beforeCi, new RegExp(`^COPY ${w}/package\\.json ${w}/$`, 'm'), `docker/Dockerfile: no COPY of ${w}/package.json before npm ci`);
});

test('docker context - no .dockerignore pattern leaves out a workspace source, manifest or tsconfig', (t) => {
  for (const w of workspaces()) {
    for (const file of ['package.json', 'tsconfig.json', 'src/index.ts']) {
      const path = `${w}/${file}`;
      const hit = ignorePatterns.find((p) => excludes(patternRegex(p), path));
      t.is(hit, undefined, `.dockerignore pattern ${JSON.stringify(hit)} excludes ${path}`);
    }
  }
});

test('docker context - the pattern check itself: **/results would exclude packages/results, results does not', (t) => {
  t.true(excludes(patternRegex('**/results'), 'packages/results/src/index.ts'));
  t.false(excludes(patternRegex('results'), 'packages/results/src/index.ts'));
  t.true(excludes(patternRegex('results'), 'results/run-1/summary.json'));
  t.true(excludes(patternRegex('packages/*/test'), 'packages/model/test/ring.test.ts'));
  t.false(excludes(patternRegex('packages/*/test'), 'packages/model/src/ring.ts'));
});
