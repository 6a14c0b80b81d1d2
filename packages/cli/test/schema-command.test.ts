// `splitnet schema` as a user runs it: the real CLI process prints the scenario JSON Schema, writes it with --out, and refuses an unwritable --out.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { formatScenarioSchema } from '@splitnet/scenario';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const cli = join(root, 'packages/cli/dist/src/main.js');
const schema = formatScenarioSchema();

function splitnet(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('schema command - prints the scenario JSON Schema (draft-07) on stdout, and nothing else', (t) => {
  const r = splitnet(['schema']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, schema);
  t.is(r.stderr, '');
  t.is((JSON.parse(r.stdout) as { $schema: string }).$schema, 'http://json-schema.org/draft-07/schema#');
});

test('schema command - --out writes the same text to the file and says where on stderr', (t) => {
  const out = join(mkdtempSync(join(tmpdir(), 'splitnet-schema-')), 'scenario.schema.json');
  const r = splitnet(['schema', '--out', out]);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, '');
  t.is(r.stderr, `splitnet: wrote the scenario schema to ${out}\n`);
  t.is(readFileSync(out, 'utf8'), schema);
});

test('schema command - --out into a missing directory is bad input: exit 2, one line naming --out', (t) => {
  const out = join(tmpdir(), 'splitnet-no-such-dir', 'nested', 'schema.json');
  const r = splitnet(['schema', '--out', out]);
  t.is(r.code, 2);
  t.is(r.stderr, `splitnet: error: --out ${out}: its directory does not exist\n`);
});
