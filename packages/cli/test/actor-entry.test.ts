// Tests for the choice of the actor processes' entry: the esbuild bundle only while it is as new as every file it was made of.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { actorEntry, bundleUpToDate } from '../src/actor-entry.js';

/** A bundle made at time 2000 (s) of two inputs made at 1000, in the layout the build writes (inputs relative to `root`). */
function made(): { dir: string; bundle: string; inputs: string; a: string } {
  const dir = mkdtempSync(join(tmpdir(), 'splitnet-actor-entry-'));
  mkdirSync(join(dir, 'src'));
  mkdirSync(join(dir, 'bundle'));
  const a = join(dir, 'src', 'a.js');
  const b = join(dir, 'src', 'b.js');
  const bundle = join(dir, 'bundle', 'actor-main.mjs');
  const inputs = join(dir, 'bundle', 'actor-main.inputs.json');
  for (const f of [a, b, bundle]) writeFileSync(f, '');
  writeFileSync(inputs, JSON.stringify({ root: '..', inputs: ['src/a.js', 'src/b.js'] }));
  utimesSync(a, 1000, 1000);
  utimesSync(b, 1000, 1000);
  utimesSync(bundle, 2000, 2000);
  return { dir, bundle, inputs, a };
}

test('actor entry - a bundle as new as every input is up to date', (t) => {
  const { bundle, inputs } = made();
  t.true(bundleUpToDate(bundle, inputs));
});

test('actor entry - an input compiled after the bundle (tsc -b without the bundling step) makes it stale', (t) => {
  const { bundle, inputs, a } = made();
  utimesSync(a, 3000, 3000);
  t.false(bundleUpToDate(bundle, inputs));
});

test('actor entry - a missing bundle, input list or input is not up to date', (t) => {
  const m1 = made();
  t.false(bundleUpToDate(join(m1.dir, 'bundle', 'none.mjs'), m1.inputs));
  t.false(bundleUpToDate(m1.bundle, join(m1.dir, 'bundle', 'none.json')));
  const m2 = made();
  writeFileSync(m2.inputs, JSON.stringify({ root: '..', inputs: ['src/a.js', 'src/gone.js'] }));
  t.false(bundleUpToDate(m2.bundle, m2.inputs));
  writeFileSync(m2.inputs, '{');
  t.false(bundleUpToDate(m2.bundle, m2.inputs));
});

test('actor entry - the chosen entry starts, and knows the actor and partition commands only', (t) => {
  const entry = actorEntry();
  t.regex(entry, /packages\/cli\/dist\/(bundle\/actor-main\.mjs|src\/actor-main\.js)$/);
  const help = spawnSync(process.execPath, [entry, '--help'], { encoding: 'utf8' });
  t.is(help.status, 0, help.stderr);
  t.regex(help.stdout, /actor \[options\]/);
  t.regex(help.stdout, /partition \[options\]/);
  t.notRegex(help.stdout, /\brun \[options\]/);
  const bad = spawnSync(process.execPath, [entry, 'actor', '--run', 'x'], { encoding: 'utf8' });
  t.is(bad.status, 2, 'bad usage: exit 2');
  t.regex(bad.stderr, /^splitnet: error: required option '--nats <url>' not specified/);
});
