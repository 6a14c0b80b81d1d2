// End-to-end: a signal during a sim run writes the results up to that instant, marked interrupted and balanced, and exits 128 + the signal (130 SIGINT, 143 SIGTERM).
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Summary } from '@splitnet/results';
import { eventsOf, root, started, tmp, waitFor } from './live-helpers.js';

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  test(`sim interrupt - ${signal} during a run writes its results up to then, marked interrupted with its accounting balanced, and exits ${code}`, async (t) => {
    t.timeout(120_000);
    const out = join(tmp(), 'run');
    // 60 s of emulated line rate: tens of seconds of sim here, so only the signal ends it.
    const run = started(['run', join(root, 'examples/quickstart.yaml'), '--duration', '60s', '--out', out]);
    await waitFor('the run to start', () => run.stderr().includes('splitnet: running'));
    run.child.kill(signal);
    const r = await run.exit;
    t.is(r.code, code, r.stderr);
    t.regex(r.stderr, new RegExp(`^splitnet: interrupted \\(${signal}\\) at [\\d.]+ ms of 60000 ms emulated; the results up to then are in ${out}`, 'm'));
    t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
    t.regex(r.stdout, /INTERRUPTED\s+by /);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
    t.is(summary.interrupted?.signal, signal);
    t.is(summary.interrupted?.durationMs, 60_000);
    t.true((summary.interrupted?.atMs ?? 60_000) < 60_000);
    t.true(summary.accounting.balanced, JSON.stringify(summary.accounting));
    t.true(eventsOf(out).some((e) => e.kind === 'run-interrupted'));
  });
}
