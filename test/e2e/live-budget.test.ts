// End-to-end: budgets said before a live run — too many actor processes per core, or too many hours of wall time, are refused with advice before anything starts; --force runs them.
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Summary } from '@splitnet/results';
import { completed, run, scenarioFile, tmp } from './live-helpers.js';

const cores = availableParallelism();
// 64 VMs (67 processes) are over the limit of 8 per core on up to 8 cores; more VMs on a bigger machine.
const vms = Math.max(64, 8 * cores);
const many = `name: many
duration: 2ms
warmup: 0ms
topology: { vms: { count: ${vms}, queues: 1 }, workers: 2 }
traffic: [ { flows: ${2 * vms}, rate: 100Mbps, size: 1518 } ]
live: { tdf: 100, codeWarmup: 0ms }
`;

test('live budget - one process per VM for 64 VMs is refused before anything starts: exit 2, one line with the processes per core and what to do instead', async (t) => {
  const out = join(tmp(), 'run');
  const r = await run(['run', scenarioFile(many), '--runtime', 'live', '--out', out]);
  t.is(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  t.is(lines.length, 1, r.stderr);
  t.regex(
    lines[0] ?? '',
    new RegExp(
      `^splitnet: error: live run over budget: ${vms + 3} actor processes on ${cores} cores? is [\\d.]+ per core, above the limit of 8 \\(docs/live\\.md#budgets-said-up-front\\); .*Instead: --placement inprocess .*Docker nodes .*--docker-host.* add --force to run it anyway$`,
    ),
  );
  t.false(existsSync(out), 'nothing was created');
});

test('live budget - a run of more than an hour of wall time is refused with its wall time and what to do instead', async (t) => {
  const r = await run(['run', scenarioFile('name: long\nduration: 3600s\n'), '--runtime', 'live', '--tdf', '100', '--out', join(tmp(), 'run')]);
  t.is(r.code, 2, r.stderr);
  t.is(
    r.stderr.trim(),
    'splitnet: error: live run over budget: 60 min emulated at TDF 100 takes 100 h of wall time, above the limit of 1 h (docs/live.md#budgets-said-up-front); shorten --duration, lower --tdf (the lag check says whether the host keeps up), or run it in sim (--runtime sim); add --force to run it anyway',
  );
});

test.serial(
  'live budget - with --force the 64-VM run starts anyway, says its budget first, waits long enough for its processes, and runs to its end',
  async (t) => {
    t.timeout(600_000);
    const out = join(tmp(), 'run');
    const r = await run(['run', scenarioFile(many), '--runtime', 'live', '--out', out, '--force']);
    t.true(completed(r), r.stderr);
    t.regex(
      r.stderr,
      new RegExp(
        `^splitnet: live run: 2 ms emulated × TDF 100 = 200 ms of wall time, after about [\\d.]+ s to start; ${vms + 3} actor processes on ${cores} cores? \\([\\d.]+ per core, about [\\d.]+ GB\\)$`,
        'm',
      ),
    );
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
    t.is(summary.live?.processes, vms + 3);
    t.true(summary.accounting.balanced);
  },
);
