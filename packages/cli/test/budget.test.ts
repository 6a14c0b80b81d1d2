// The budget said before a live run: its wall time and processes per core, the limits, and the advice of a refusal (table-driven).
import test from 'ava';
import { compileScenarioText } from '@splitnet/scenario';
import { budgetLine, humanTime, lagBoundLine, liveBudget, MAX_PROCESSES_PER_CORE, MAX_WALL_HOURS, overBudget } from '../src/budget.js';

const scenario = (yaml: string) => compileScenarioText(`runtime: live\n${yaml}`, '<test>');

test('budget - the line before a run says the wall time (duration × TDF), the start-up and the actor processes per core', (t) => {
  const s = scenario('duration: 200ms\ntopology: { vms: { count: 1, queues: 1 }, workers: 1 }\nlive: { tdf: 100 }\n');
  const b = liveBudget(s, 2, false);
  t.is(b.processes, 3);
  t.is(b.runSeconds, 20);
  t.is(
    budgetLine(s, b),
    'live run: 200 ms emulated × TDF 100 = 20 s of wall time, after about 2 s to start; 3 actor processes on 2 cores (1.5 per core, about 0.3 GB)',
  );
  t.is(overBudget(s, b), undefined);
});

test('budget - where the processes run: one for inprocess, none here for external or Docker engines elsewhere, one per group for processes and a local Docker engine', (t) => {
  const base = 'topology: { vms: { count: 4, queues: 1 }, workers: 2 }\n';
  const cases: [string, boolean, number][] = [
    ['processes', false, 7],
    ['inprocess', false, 1],
    ['external', false, 0],
    ['docker', false, 7],
    ['docker', true, 0],
  ];
  for (const [placement, remote, processes] of cases) {
    t.is(
      liveBudget(scenario(`${base}live: { placement: ${placement} }\n`), 2, remote).processes,
      processes,
      `${placement}${remote ? ' (remote engines)' : ''}`,
    );
  }
  t.is(liveBudget(scenario(`${base}live: { processes: per-domain }\n`), 2, false).processes, 5, 'per-domain: the driver domain and each guest');
});

test('budget - the ready wait: auto is 30 s plus 3 s per process per core; a set live.readyTimeout is kept', (t) => {
  const s = scenario('topology: { vms: { count: 13, queues: 1 }, workers: 2 }\n');
  t.is(liveBudget(s, 2, false).readyTimeoutMs, 30_000 + 3_000 * 8);
  t.is(liveBudget(scenario('live: { readyTimeout: 90s }\n'), 2, false).readyTimeoutMs, 90_000);
});

test('budget - the limits: refused above them with what to do instead, accepted at them', (t) => {
  const vms = (n: number, extra = '') => scenario(`duration: 10ms\ntopology: { vms: { count: ${n}, queues: 1 }, workers: 2 }\n${extra}`);
  const cases: [string, ReturnType<typeof scenario>, number, string | undefined][] = [
    ['8 per core exactly', vms(13), 2, undefined],
    [
      '64 VMs on 2 cores',
      vms(64),
      2,
      'live run over budget: 67 actor processes on 2 cores is 33.5 per core, above the limit of 8 (docs/live.md#budgets-said-up-front); they would take about 34 s to start and 6.7 GB of memory. Instead: --placement inprocess (every actor in one process) or Docker nodes on more machines (--placement docker with a --docker-host per engine) (--processes per-domain would still start 65); add --force to run it anyway',
    ],
    [
      '64 VMs per domain on 2 cores',
      vms(64, 'live: { processes: per-domain }\n'),
      2,
      'live run over budget: 65 actor processes on 2 cores is 32.5 per core, above the limit of 8 (docs/live.md#budgets-said-up-front); they would take about 33 s to start and 6.5 GB of memory. Instead: --placement inprocess (every actor in one process) or Docker nodes on more machines (--placement docker with a --docker-host per engine); add --force to run it anyway',
    ],
    ['64 VMs in one process', vms(64, 'live: { placement: inprocess }\n'), 2, undefined],
    ['64 VMs on 16 cores', vms(64), 16, undefined],
    [
      'an hour and more of wall time',
      scenario('duration: 3600s\nlive: { tdf: 100 }\n'),
      2,
      'live run over budget: 60 min emulated at TDF 100 takes 100 h of wall time, above the limit of 1 h (docs/live.md#budgets-said-up-front); shorten --duration, lower --tdf (the lag check says whether the host keeps up), or run it in sim (--runtime sim); add --force to run it anyway',
    ],
    ['exactly an hour', scenario('duration: 36s\nlive: { tdf: 100 }\n'), 2, undefined],
  ];
  for (const [name, s, cores, message] of cases) t.is(overBudget(s, liveBudget(s, cores, false))?.message, message, name);
  t.is(MAX_PROCESSES_PER_CORE, 8);
  t.is(MAX_WALL_HOURS, 1);
});

test('budget - a refusal where one process per Xen domain fits suggests it', (t) => {
  // 12 VMs and 8 workers: 21 processes (10.5 per core on 2 cores); per domain 13 (6.5 per core).
  const s = scenario('topology: { vms: { count: 12, queues: 1 }, workers: 8 }\n');
  t.regex(
    overBudget(s, liveBudget(s, 2, false))?.message ?? '',
    /Instead: --placement inprocess \(every actor in one process\), --processes per-domain \(13 processes, one per Xen domain\) or Docker nodes/,
  );
});

test('budget - times for people', (t) => {
  const cases: [number, string][] = [
    [0.2, '200 ms'],
    [20, '20 s'],
    [200, '3.33 min'],
    [3600, '60 min'],
    [360_000, '100 h'],
  ];
  for (const [s, text] of cases) t.is(humanTime(s), text, String(s));
});

test('budget - the line before a run says the lag bound in emulated and in wall time, and the constant it comes from', (t) => {
  const coalesced =
    'topology: { vms: { queues: 1 } }\ntraffic: [ { flows: 4, rate: 1Gbps, size: 1518 } ]\ncoalescing: { nic: none, frontend: { policy: static, usecs: 50 } }\n';
  t.is(
    lagBoundLine(scenario(`${coalesced}live: { tdf: 100 }\n`)),
    'valid if the p99 lag stays within 5 µs emulated, 0.5 ms of wall time at TDF 100 (5 µs, auto: 0.1 × the shortest modelled constant, frontend coalescing (static usecs 50, vm.0 queue 0) 50 µs)',
  );
  t.is(
    lagBoundLine(scenario(`${coalesced}live: { tdf: 10, maxLag: 5ms }\n`)),
    'valid if the p99 lag stays within 5000 µs emulated, 50 ms of wall time at TDF 10 (5 ms, set by live.maxLag (shortest modelled constant: frontend coalescing (static usecs 50, vm.0 queue 0) 50 µs))',
  );
});
