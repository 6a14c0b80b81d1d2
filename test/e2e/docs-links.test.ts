// The documentation as a reader follows it: every relative link in the repository's Markdown files leads somewhere.
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brokenLinks, headingAnchors, markdownFiles } from './markdown-links.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

test("docs - every relative link in the repository's Markdown files names an existing file, and every #anchor a heading of it", (t) => {
  const files = markdownFiles(root);
  t.true(files.includes(join(root, 'README.md')) && files.includes(join(root, 'docs/live.md')), 'README.md and docs/ are checked');
  const broken = brokenLinks(root, files).map((b) => `${b.file}:${b.line}: (${b.target}) ${b.reason}`);
  t.deepEqual(broken, []);
});

test('docs - README.md stays a page read in five minutes: at most 250 lines', (t) => {
  const lines = readFileSync(join(root, 'README.md'), 'utf8').trimEnd().split('\n').length;
  t.true(lines <= 250, `README.md has ${lines} lines; move detail into docs/ and link to it`);
});

test('docs - heading anchors are made as GitHub makes them', (t) => {
  const anchors = headingAnchors(
    [
      '# Live mode: actors as processes over NATS',
      '## 10. Assumptions, collected',
      '### Placement `docker` over several engines',
      '## `summary.json` → `live` (live runs only)',
      '```sh',
      '# a comment in a code block, not a heading',
      '```',
      '## Usage',
      '## Usage',
    ].join('\n'),
  );
  t.deepEqual(
    [...anchors],
    [
      'live-mode-actors-as-processes-over-nats',
      '10-assumptions-collected',
      'placement-docker-over-several-engines',
      'summaryjson--live-live-runs-only',
      'usage',
      'usage-1',
    ],
  );
});

test('docs - the link check reports a missing file, a missing heading and an anchor on a non-Markdown file, and nothing else', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'splitnet-docs-'));
  mkdirSync(join(dir, 'docs'));
  writeFileSync(join(dir, 'docs/guide.md'), '# Guide\n\n## Two words\n');
  writeFileSync(join(dir, 'data.csv'), 'a,b\n');
  writeFileSync(
    join(dir, 'README.md'),
    [
      '# Readme',
      'fine: [guide](docs/guide.md), [section](docs/guide.md#two-words), [here](#readme), [web](https://example.org/x.md)',
      'missing file: [gone](docs/gone.md)',
      'missing heading: [nope](docs/guide.md#three-words)',
      'anchor on a non-Markdown file: [csv](data.csv#a)',
      'in inline code, not a link: `[x](nowhere.md)`',
      '```',
      '[in a code block](nowhere.md)',
      '```',
    ].join('\n'),
  );
  const broken = brokenLinks(dir, markdownFiles(dir));
  t.deepEqual(
    broken.map((b) => [b.file, b.line, b.target, b.reason]),
    [
      ['README.md', 3, 'docs/gone.md', 'no such file docs/gone.md'],
      ['README.md', 4, 'docs/guide.md#three-words', 'docs/guide.md has no heading with the anchor #three-words'],
      ['README.md', 5, 'data.csv#a', 'an anchor on data.csv, which is not a Markdown file'],
    ],
  );
});
