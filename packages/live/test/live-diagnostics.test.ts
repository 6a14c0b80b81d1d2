// A live host's diagnostics (SPLITNET_LIVE_DIAGNOSTICS): what it counts on a run over the in-memory bus, and short waits polled instead of timed.
import test from 'ava';
import { buildActors } from '@splitnet/controller';
import { LiveDiagnostics } from '../src/live-diagnostics.js';
import type { DiagnosticsReport } from '../src/live-diagnostics.js';
import { hostsOnMemoryBus, scenario, testClock } from './helpers.js';

const yaml = `
name: live-diagnostics
duration: 10ms
warmup: 4ms
topology: { vms: { count: 1, queues: 1 }, workers: 1 }
traffic: [ { flows: 4, rate: 100Mbps, size: 1518 } ]
`;

/** Every actor in a host of its own with diagnostics, at TDF 50; each host's report and events processed. */
async function diagnosedRun(pollBelowMs: number, wakeEarlyMs = 0): Promise<{ report: DiagnosticsReport; events: number }[]> {
  const s = scenario(yaml);
  const diags = buildActors(s).all.map(() => new LiveDiagnostics());
  const { hosts } = hostsOnMemoryBus(s, 'diag1', 50, (ref) => ({ diagnostics: diags[ref] as LiveDiagnostics, pollBelowMs, wakeEarlyMs }));
  for (const d of diags) d.start();
  const epoch = testClock.nowMs() + 20;
  for (const h of hosts) h.start(epoch);
  await Promise.all(hosts.map((h) => h.done));
  const out = hosts.map((h, i) => ({ report: (diags[i] as LiveDiagnostics).report(), events: h.final().eventsProcessed }));
  for (const h of hosts) h.close();
  return out;
}

test.serial(
  'live diagnostics - every event processed is counted once in the warm-up or the measured lag, and timer wake-ups and passes are measured',
  async (t) => {
    for (const { report, events } of await diagnosedRun(0)) {
      t.true(events > 0);
      t.is(report.lagWarmupUs.n + report.lagMeasuredUs.n, events);
      t.true(report.lagWarmupUs.n > 0 && report.lagMeasuredUs.n > 0);
      t.true(report.timerLateUs.n > 0, 'a host between events waits on a timer');
      t.true(report.passUs.n > 0 && report.passUs.n <= events);
      t.true(report.eventLoopDelayUs.n > 0, 'the event-loop monitor ran');
    }
  },
);

test.serial('live diagnostics - with pollBelowMs above every wait, no timer is armed: each wake-up is an immediate', async (t) => {
  for (const { report, events } of await diagnosedRun(1000)) {
    t.true(events > 0);
    t.is(report.timerLateUs.n, 0);
    t.true(report.immediateUs.n > 0);
  }
});

test.serial(
  'live diagnostics - with wakeEarlyMs, long waits still arm a timer, the rest of each wait is polled (over 4 polls per timer), and every event is processed once',
  async (t) => {
    // At TDF 50 a packet every ~6 ms of wall time: a wait over 3 ms arms a timer 3 ms early, whose wake-up then polls.
    // Without it, a host here takes about as many immediates as timer wake-ups (those it needs when input is already due).
    for (const { report, events } of await diagnosedRun(0, 3)) {
      t.true(events > 0);
      t.is(report.lagWarmupUs.n + report.lagMeasuredUs.n, events);
      t.true(report.timerLateUs.n > 0, 'long waits still arm a timer');
      t.true(report.immediateUs.n > 4 * report.timerLateUs.n, `${report.immediateUs.n} polls, ${report.timerLateUs.n} timer wake-ups`);
    }
  },
);
