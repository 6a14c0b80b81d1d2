// Tests for how the CLI reports an error: bad input and operational failures as one line with the documented exit code, a bug with its stack.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { SplitnetError } from '@splitnet/model';
import { TransportError } from '@splitnet/transport';
import { classifyFailure } from '../src/failure.js';

/** A real error of each kind, as the code that fails throws it. */
function thrownBy(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('expected it to throw');
}

const oneLiners: [string, () => unknown, 'bad-input' | 'operational', number, RegExp][] = [
  [
    'a usage error',
    () => new SplitnetError('E_USAGE', '--jobs: expected a whole number'),
    'bad-input',
    2,
    /^splitnet: error: --jobs: expected a whole number$/,
  ],
  ['a scenario error', () => new SplitnetError('E_SCENARIO', 's.yaml:1:7: seed: expected an integer'), 'bad-input', 2, /^splitnet: error: s\.yaml:1:7: seed: /],
  ['an unreadable file', () => new SplitnetError('E_FILE', 'x.yaml: no such file'), 'bad-input', 2, /^splitnet: error: x\.yaml: no such file$/],
  [
    'an operational failure',
    () => new SplitnetError('E_OPERATIONAL', 'live: actor process vm.0 exited with code 1'),
    'operational',
    1,
    /^splitnet: error: live: actor process vm\.0 exited with code 1$/,
  ],
  [
    'an unreachable NATS server',
    () => new TransportError('E_CONNECT', 'cannot reach NATS at nats://127.0.0.1:1: connect ECONNREFUSED'),
    'operational',
    1,
    /^splitnet: error: cannot reach NATS at nats:\/\/127\.0\.0\.1:1: connect ECONNREFUSED \(check that the NATS server runs and that the URL \(--nats\) is right\)$/,
  ],
  [
    'a failed system call',
    () => thrownBy(() => readFileSync('/nonexistent/splitnet/summary.json')),
    'operational',
    1,
    /^splitnet: error: ENOENT: no such file or directory, open '\/nonexistent\/splitnet\/summary\.json' \(does it exist\?\)$/,
  ],
];

for (const [what, make, kind, exitCode, text] of oneLiners) {
  test(`failure - ${what} is ${kind}: exit code ${exitCode}, one line, no stack`, (t) => {
    const f = classifyFailure(make());
    t.is(f.kind, kind);
    t.is(f.exitCode, exitCode);
    t.regex(f.text, text);
    t.false(f.text.includes('\n'), 'one line');
  });
}

const bugs: [string, () => unknown][] = [
  ['a SplitnetError E_INTERNAL', () => new SplitnetError('E_INTERNAL', 'TrafficSource.take: every generator has stopped')],
  ['a broken invariant', () => new SplitnetError('E_INVARIANT', 'event channel port 9 is outside [0, 4)')],
  ['a TypeError', () => thrownBy(() => (JSON.parse('null') as { x: { y: number } }).x.y)],
  ['a thrown string', () => 'something odd'],
];

for (const [what, make] of bugs) {
  test(`failure - ${what} is a bug: exit code 1, said to be one, with its stack`, (t) => {
    const err = make();
    const f = classifyFailure(err);
    t.is(f.kind, 'internal');
    t.is(f.exitCode, 1);
    t.regex(f.text, /^splitnet: internal error \(a bug in splitnet; please report it with the command and this output\):\n/);
    if (err instanceof Error) t.regex(f.text, /\n\s+at /, 'the stack');
  });
}
