// `splitnet sweep`: plans a sweep file, runs it on every core with a progress bar, stops cleanly on Ctrl-C and says how to resume.
import { availableParallelism } from 'node:os';
import { hostFacts } from './host.js';
import { join } from 'node:path';
import { SplitnetError } from '@splitnet/model';
import { loadSweepFile, planSweep, runSweep, sweepJson, type SweepEvent, type SweepPlan } from '@splitnet/experiments';
import { interruptedExitCode } from './failure.js';
import { ensureDirectory } from './out-path.js';

export interface SweepFlags {
  out?: string;
  dryRun?: boolean;
  jobs?: string;
  json?: boolean;
  quiet?: boolean;
}

function parseJobs(v: string | undefined): number {
  if (v === undefined) return availableParallelism();
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 1024) throw new SplitnetError('E_USAGE', `--jobs: expected a whole number from 1 to 1024, found "${v}"`);
  return Number(v);
}

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

/** A one-line bar redrawn on a terminal (at most ten times a second), or one plain line per finished run elsewhere. */
function progressDisplay(mode: 'bar' | 'lines' | 'none', name: string): (e: SweepEvent) => void {
  if (mode === 'none') return () => {};
  const t0 = Date.now();
  let lastDraw = 0;
  let lastFraction = 0;
  let finished = 0;
  let total = 0;
  const draw = (force: boolean): void => {
    const now = Date.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    const width = 30;
    const bar = '#'.repeat(Math.round(lastFraction * width)).padEnd(width, '.');
    const elapsed = (now - t0) / 1000;
    const eta = lastFraction > 0.01 ? clock((elapsed * (1 - lastFraction)) / lastFraction) : '?';
    process.stderr.write(`\r  [${bar}] ${(lastFraction * 100).toFixed(0).padStart(3)}%  ${finished}/${total} runs  ${clock(elapsed)} elapsed  ETA ${eta}   `);
  };
  return (e) => {
    if (e.kind === 'start') {
      finished = e.skipped;
      total = e.total;
      const resumed = e.skipped > 0 ? `, ${e.skipped} already finished` : '';
      const plan = e.toRun === 0 ? 'nothing left to run' : `running ${e.toRun} on ${e.jobs} worker${e.jobs === 1 ? '' : 's'}`;
      process.stderr.write(`splitnet: sweep ${name}: ${e.total} runs${resumed}; ${plan}\n`);
      if (mode === 'bar' && e.toRun > 0) draw(true);
    } else if (e.kind === 'progress') {
      lastFraction = e.fraction;
      finished = e.finished;
      if (mode === 'bar') draw(false);
    } else {
      finished = e.finished;
      const broken = e.balanced ? '' : ' (accounting invariant broken)';
      if (mode === 'lines')
        process.stderr.write(`splitnet: sweep ${name}: ${e.run} done in ${e.wallSeconds.toFixed(1)} s (${e.finished}/${e.total})${broken}\n`);
      else draw(e.finished === e.total);
    }
  };
}

/** `--dry-run`: what the sweep would run, one line per point. */
function formatPlan(plan: SweepPlan, out: string): string {
  const def = plan.definition;
  const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  const lines = [
    `sweep ${def.name}: ${plan.points.length} points × ${def.repetitions} repetitions = ${plan.runs.length} runs, base seed ${plan.baseSeed}, every point compiled`,
    `out   ${out}`,
    ...plan.points.map((p) => `p${String(p.point).padStart(3, '0')}  ${p.values.map((v) => `${v.path}=${show(v.value)}`).join('  ')}`),
  ];
  return lines.join('\n') + '\n';
}

/** Exit code: 0 complete, 1 a run broke the accounting invariant, 130 / 143 interrupted through `signal` by SIGINT / SIGTERM (2 for bad input comes from the caller). */
export async function sweepCommand(file: string, flags: SweepFlags, signal: AbortSignal): Promise<number> {
  const jobs = parseJobs(flags.jobs);
  const def = loadSweepFile(file);
  const plan = planSweep(def);
  const out = flags.out ?? join('results', 'sweeps', def.name);
  if (flags.dryRun) {
    process.stdout.write(flags.json ? JSON.stringify({ out, sweep: sweepJson(plan), points: plan.points }, null, 2) + '\n' : formatPlan(plan, out));
    return 0;
  }
  // Before any run: a bad --out is one line naming it (the runner's own mkdir would throw a stack, or spin under /proc).
  ensureDirectory(flags.out !== undefined ? '--out' : 'sweep directory', out);
  const mode = flags.quiet || flags.json ? 'none' : process.stderr.isTTY === true ? 'bar' : 'lines';
  const show = progressDisplay(mode, def.name);
  const environment = {
    ...hostFacts(),
    command: ['splitnet', ...process.argv.slice(2)],
  };

  // Ctrl-C (`signal`): stop the workers, keep finished runs, say how to go on; a second Ctrl-C leaves at once (lifetime.ts).
  const t0 = Date.now();
  let outcome;
  try {
    outcome = await runSweep(plan, { out, jobs, environment, onEvent: show, signal });
  } finally {
    if (mode === 'bar') process.stderr.write('\n');
  }
  const seconds = (Date.now() - t0) / 1000;
  const resume = `splitnet sweep ${file} --out ${out}`;
  if (outcome.status === 'interrupted') {
    process.stderr.write(
      `splitnet: sweep ${def.name} interrupted: ${outcome.finished} of ${outcome.total} runs finished (in ${out}/runs/); resume with:\n  ${resume}\n`,
    );
    if (flags.json)
      process.stdout.write(JSON.stringify({ dir: out, status: 'interrupted', runs: outcome.total, finished: outcome.finished, resume }, null, 2) + '\n');
    return interruptedExitCode(signal.reason);
  }
  if (flags.json) {
    process.stdout.write(
      JSON.stringify(
        {
          dir: out,
          status: 'complete',
          points: plan.points.length,
          runs: outcome.total,
          ran: outcome.total - outcome.skipped,
          skipped: outcome.skipped,
          unbalanced: outcome.unbalanced,
          files: outcome.files,
        },
        null,
        2,
      ) + '\n',
    );
  } else {
    if (!flags.quiet) {
      const ran = outcome.total - outcome.skipped;
      process.stderr.write(
        `splitnet: sweep ${def.name}: ${plan.points.length} points × ${def.repetitions} repetitions: ${ran} run${ran === 1 ? '' : 's'} in ${seconds.toFixed(1)} s${outcome.skipped > 0 ? `, ${outcome.skipped} already done` : ''}\n`,
      );
    }
    process.stdout.write(`results: ${out}/ (${outcome.files.join(', ')})\n`);
  }
  if (outcome.unbalanced.length > 0) {
    process.stderr.write(
      `splitnet: error: accounting invariant broken in ${outcome.unbalanced.join(', ')} (see accounting_balanced and unaccounted_packets in ${out}/table.csv)\n`,
    );
    return 1;
  }
  return 0;
}
