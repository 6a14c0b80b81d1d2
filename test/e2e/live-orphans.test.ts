// End-to-end: no orphans — a controller killed with SIGKILL takes its actor processes and private nats-server with it, actors that joined exit once their controller is silent, and `splitnet cleanup --run` kills what a crashed run left.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startNatsServer } from '@splitnet/transport/nats-server';
import {
  LONG_LIVE_RUN,
  processesOf,
  recordedProcesses,
  run,
  runStarted,
  scenarioFile,
  started,
  startLongLiveRun,
  stillRuns,
  tmp,
  waitFor,
} from './live-helpers.js';

/** Linux /proc: the pids of this machine's processes whose parent is `ppid` and whose command line mentions `text`. */
function childrenOf(ppid: number, text: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === ppid && readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(text)) out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

test.serial('live orphans - a controller killed with SIGKILL leaves no actor process and no nats-server after 10 s', async (t) => {
  t.timeout(180_000);
  const runId = `orph1-${process.pid}`;
  const { out, run: r } = await startLongLiveRun(runId);
  const children = recordedProcesses(out).filter((p) => !p.what.startsWith('controller'));
  t.deepEqual(children.map((p) => p.what).sort(), ['actor nic+backend', 'actor vm.0', 'actor worker.0', 'nats-server']);
  t.true(children.every(stillRuns), 'the run is up');
  r.child.kill('SIGKILL');
  await r.exit;
  const killedAt = Date.now();
  await waitFor("the run's processes to be gone", () => !children.some(stillRuns), 10_000);
  t.log(`gone ${Date.now() - killedAt} ms after the controller`);
  t.deepEqual(processesOf(runId), []);
});

test.serial('live orphans - actors that joined a run exit within seconds once their controller is silent, each saying so', async (t) => {
  t.timeout(180_000);
  const server = await startNatsServer();
  try {
    const runId = `orph2-${process.pid}`;
    const out = join(tmp(), 'run');
    const controller = started([
      'run',
      scenarioFile(LONG_LIVE_RUN),
      '--runtime',
      'live',
      '--placement',
      'external',
      '--nats',
      server.url,
      '--run-id',
      runId,
      '--out',
      out,
      '-q',
    ]);
    const actors = ['driver', 'worker', 'frontend'].map((role) => started(['actor', '--run', runId, '--nats', server.url, '--role', role]));
    await runStarted(out);
    controller.child.kill('SIGKILL');
    await controller.exit;
    const killedAt = Date.now();
    // 10 s of silence, then the exit: a generous bound for a loaded machine.
    const ends = await Promise.all(actors.map(async (a) => Promise.race([a.exit, new Promise<null>((resolve) => setTimeout(() => resolve(null), 60_000))])));
    t.log(`the last actor exited ${Date.now() - killedAt} ms after the controller`);
    for (const end of ends) {
      t.truthy(end, 'the actor exited');
      t.is(end?.code, 1, end?.stderr);
      // The driver receives nothing from its peers over the bus (it only sends): its evidence is the join subject nobody serves.
      t.regex(
        end?.stderr ?? '',
        /exiting: no heartbeat from the run's controller for \d+ s (while other messages arrive|and nobody serves its join subject): it is gone/,
      );
      t.notRegex(end?.stderr ?? '', /\n\s+at /, 'no stack trace');
    }
  } finally {
    await server.stop();
  }
});

test.serial(
  'cleanup - splitnet cleanup --run kills what a crashed process run left (pid and start time from its record), and reports nothing left the second time',
  async (t) => {
    t.timeout(180_000);
    const runId = `orph3-${process.pid}`;
    const { out, run: r } = await startLongLiveRun(runId);
    const pid = r.child.pid ?? -1;
    // A crash that takes the reaper too (an OOM killer might): nothing is left to clean up but `cleanup`.
    const reapers = childrenOf(pid, 'reaper.js');
    t.is(reapers.length, 1, 'the controller runs one reaper');
    for (const p of reapers) process.kill(p, 'SIGKILL');
    r.child.kill('SIGKILL');
    await r.exit;
    const left = recordedProcesses(out).filter(stillRuns);
    t.true(
      left.some((p) => p.what === 'nats-server'),
      'the private nats-server outlived its controller',
    );
    const first = await run(['cleanup', '--run', runId, '--results', out]);
    t.is(first.code, 0, first.stderr);
    t.regex(first.stdout, new RegExp(`^splitnet: killed \\d+ process\\(es\\) of run ${runId}: .*nats-server \\(pid \\d+\\)`, 'm'));
    await waitFor('the leftovers to be gone', () => !left.some(stillRuns), 10_000);
    const second = await run(['cleanup', '--run', runId, '--results', out]);
    t.is(second.code, 0, second.stderr);
    t.regex(second.stdout, new RegExp(`^splitnet: no process of run ${runId} is left running`, 'm'));
  },
);
