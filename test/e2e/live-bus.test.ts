// End-to-end: losing the run's NATS server (--nats, not the run's own) — killed for good, the controller ends within the outage limit with an outage event; back after seconds, the outage is an event with its duration, what it lost is lost-in-transport, and the verdict blames the bus, not the CPU.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Summary } from '@splitnet/results';
import { startNatsServer } from '@splitnet/transport/nats-server';
import type { NatsServerHandle } from '@splitnet/transport/nats-server';
import { eventsOf, logLines, processesOf, runStarted, scenarioFile, started, tmp, waitFor } from './live-helpers.js';

const scenario = (duration: string) => `name: bus
duration: ${duration}
topology: { vms: { count: 1, queues: 1 }, workers: 1 }
traffic: [ { flows: 4, rate: 50Mbps, size: 1518 } ]
live: { tdf: 100, busOutageLimit: 5s }
`;

/** Wall ms since the run's epoch, from the controller's log (the epoch is in its run-start line). */
function epochOf(out: string): number {
  return Number(logLines(join(out, 'logs', 'controller.log')).find((l) => l['message'] === 'run-start')?.['epochMs']);
}

test.serial(
  'live bus - the NATS server killed for good: the controller ends the run within the outage limit with one line naming the server, keeps the outage in events.jsonl, and leaves no actor process',
  async (t) => {
    t.timeout(180_000);
    const server = await startNatsServer();
    const runId = `bus1-${process.pid}`;
    const out = join(tmp(), 'run');
    // 200 s of wall time at TDF 100: only the lost bus ends it.
    const r = started(['run', scenarioFile(scenario('2s')), '--runtime', 'live', '--nats', server.url, '--run-id', runId, '--out', out, '-q']);
    await runStarted(out);
    server.kill('SIGKILL');
    const killedAt = Date.now();
    const end = await Promise.race([r.exit, new Promise<null>((resolve) => setTimeout(() => resolve(null), 90_000))]);
    t.truthy(end, 'the controller exited (it did not hang)');
    t.log(`the controller exited ${Date.now() - killedAt} ms after the server (limit 5 s)`);
    t.is(end?.code, 1, end?.stderr);
    t.regex(
      end?.stderr ?? '',
      new RegExp(
        `^splitnet: error: live: the NATS server at ${server.url.replace(/\./g, '\\.')} has been unreachable for 5 s .*live\\.busOutageLimit.*events\\.jsonl`,
        'm',
      ),
    );
    t.notRegex(end?.stderr ?? '', /\n\s+at /, 'no stack trace');
    const ev = eventsOf(out);
    t.true(
      ev.some((e) => e.kind === 'nats-disconnected' && e.actor === 'controller'),
      'the outage is in the event log',
    );
    t.true(
      ev.some((e) => e.kind === 'nats-not-reconnected' && Number(e.detail['outageMs']) >= 5000),
      'with how long it had lasted',
    );
    t.false(
      ev.some((e) => e.kind === 'actor-restart'),
      'no restart spent against the dead server',
    );
    await waitFor('the actor processes to be gone', () => processesOf(runId).length === 0, 30_000);
  },
);

test.serial(
  'live bus - the NATS server back after a few seconds: an outage event with its duration, losses counted lost-in-transport in a balanced account, and a verdict that blames the bus, not the CPU',
  async (t) => {
    t.timeout(180_000);
    let server: NatsServerHandle = await startNatsServer();
    const runId = `bus2-${process.pid}`;
    const out = join(tmp(), 'run');
    // 150 ms emulated = 15 s of wall time at TDF 100: the outage (from 4 s, about 3 s long) ends about 8 s before
    // the run does, time enough for every client to reconnect and the run to go on to its end.
    const r = started(['run', scenarioFile(scenario('150ms')), '--runtime', 'live', '--nats', server.url, '--run-id', runId, '--out', out]);
    try {
      await runStarted(out);
      // Past the warm-up (a tenth of the duration: 15 ms emulated = 1.5 s of wall time), so that the outage falls in the measured window.
      const epoch = epochOf(out);
      await waitFor('the warm-up to end', () => Date.now() > epoch + 4000);
      const port = server.port;
      server.kill('SIGKILL');
      await server.exited;
      await waitFor('the controller to see the outage', () => logLines(join(out, 'logs', 'controller.log')).some((l) => l['message'] === 'nats-disconnected'));
      // Back on the same port a few seconds later (within the 5 s limit).
      await new Promise((resolve) => setTimeout(resolve, 2500));
      server = await startNatsServer({ port });
      const end = await r.exit;
      t.is(end.code, 3, `a run the bus failed is invalid: ${end.stderr}`);
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
      const live = summary.live;
      t.is(live?.valid, false);
      t.regex(live?.invalidReason ?? '', /^the NATS bus was down once \([\d.]+ s of wall time, from [\d.]+ ms emulated\)/);
      t.is(live?.suggestedTdf, undefined, "no TDF suggested: the lag was the bus's");
      t.notRegex(end.stderr, /try --tdf/);
      const outage = live?.busOutages?.[0];
      t.truthy(outage, 'summary.live.busOutages');
      t.true((outage?.wallMs ?? 0) >= 2000, `lasted ${String(outage?.wallMs)} ms`);
      const back = eventsOf(out).find((e) => e.kind === 'nats-reconnected' && e.actor === 'controller');
      t.true(Number(back?.detail['outageMs']) >= 2000, 'the reconnect event says how long the bus was down');
      t.true('lost-in-transport' in summary.drops, 'lost-in-transport is a drop reason of the run');
      t.true(summary.accounting.balanced, JSON.stringify(summary.accounting));
      t.is(summary.accounting.dropped['lost-in-transport'], summary.drops['lost-in-transport']);
      t.log(`lost in transport: ${summary.drops['lost-in-transport']} of ${summary.accounting.emitted}`);
    } finally {
      await server.stop();
    }
  },
);
