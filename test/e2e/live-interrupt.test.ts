// End-to-end: Ctrl-C (to the whole terminal process group) during a live run (processes placement) halts it and keeps the results up to then — exit 130, summary marked interrupted, accounting balanced, every process gone, no stack trace — and stops cleanly with no results when the bus died first.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Summary } from '@splitnet/results';
import { eventsOf, logLines, processesOf, recordedProcesses, sessionOf, startLongLiveRun, stillRuns, waitFor } from './live-helpers.js';

test.serial(
  'live interrupt - Ctrl-C (SIGINT to the whole process group, as a terminal sends it) halts the run and keeps its results up to then: exit 130, summary marked interrupted, the accounting balanced, no process left; the run kept its processes in its session',
  async (t) => {
    t.timeout(180_000);
    const runId = `int1-${process.pid}`;
    const r = await startLongLiveRun(runId, true);
    const controller = r.run.child.pid ?? -1;
    // One session for the whole run: with scheduler autogroups, a session of its own per process delays wake-ups.
    const started = recordedProcesses(r.out).filter((p) => p.what === 'nats-server' || p.what.startsWith('actor '));
    t.true(started.length >= 3, JSON.stringify(started));
    t.deepEqual(
      started.map((p) => [p.what, sessionOf(p.pid)]),
      started.map((p) => [p.what, sessionOf(controller)]),
      'the actor processes and the private nats-server are in the controller session',
    );
    // Until a second of wall time (10 ms emulated, ~40 packets) after the run's epoch: packets are on their way by then.
    const epochMs = Number(logLines(join(r.out, 'logs', 'controller.log')).find((l) => l['message'] === 'run-start')?.['epochMs']);
    await waitFor('10 ms of emulated time', () => Date.now() > epochMs + 1000);
    process.kill(-controller, 'SIGINT');
    const { code, stderr } = await r.run.exit;
    t.is(code, 130, stderr);
    t.regex(stderr, /^splitnet: interrupted \(SIGINT\) at [\d.]+ ms of 2000 ms emulated; the results up to then are in /m);
    t.notRegex(stderr, /\n\s+at /, 'no stack trace');
    const summary = JSON.parse(readFileSync(join(r.out, 'summary.json'), 'utf8')) as Summary;
    t.is(summary.interrupted?.signal, 'SIGINT');
    t.true((summary.interrupted?.atMs ?? 2000) < 2000);
    t.is(summary.windowMs[1], summary.interrupted?.atMs ?? NaN);
    t.true(summary.accounting.balanced, JSON.stringify(summary.accounting));
    t.true(summary.accounting.emitted > 0, 'packets were emitted before the interrupt');
    const ev = eventsOf(r.out);
    t.true(
      ev.some((e) => e.kind === 'run-interrupted' && e.detail['signal'] === 'SIGINT'),
      'the event log says the run was interrupted',
    );
    t.false(
      ev.some((e) => e.kind === 'actor-died'),
      'the halt is no death',
    );
    t.deepEqual(processesOf(runId), [], 'no actor process left');
    t.deepEqual(recordedProcesses(r.out).filter(stillRuns), [], 'nothing the run started is left (nats-server included)');
  },
);

test.serial(
  'live interrupt - the bus dying before Ctrl-C: exit 130 with one line saying no results were kept, no stack trace from the controller or the actors, nothing left behind',
  async (t) => {
    t.timeout(180_000);
    const runId = `int2-${process.pid}`;
    const r = await startLongLiveRun(runId);
    const server = recordedProcesses(r.out).find((p) => p.what === 'nats-server');
    t.truthy(server, 'the run recorded its private nats-server');
    process.kill(server?.pid ?? -1, 'SIGKILL');
    await waitFor('the actors to see the bus go', () => logLines(join(r.out, 'logs', 'vm.0.log')).some((l) => l['message'] === 'nats disconnect'));
    r.run.child.kill('SIGINT');
    const { code, stderr } = await r.run.exit;
    t.is(code, 130, stderr);
    t.regex(stderr, /^splitnet: interrupted \(SIGINT\): live run int2-\d+ stopped with no results to keep; .*events\.jsonl/m);
    t.notRegex(stderr, /\n\s+at /, 'no stack trace');
    t.notRegex(stderr, /TransportError|internal error/);
    t.deepEqual(processesOf(runId), [], 'no actor process left');
  },
);
