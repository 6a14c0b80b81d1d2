// `splitnet run`: parse the flags and load the scenario → run it (sim, or live with the placement the scenario names) → write the results → print.
import { existsSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { SplitnetError } from '@splitnet/model';
import { runSimInterruptible } from '@splitnet/controller';
import { checkLiveScenario, JOIN_ROLES, SnapshotFeed } from '@splitnet/live';
import type { JoinRole } from '@splitnet/live';
import { DEFAULT_CAPTURE_MAX, formatSummary, metricsText, offeredCapOf, runIdentity, simRunLabel, writeResults } from '@splitnet/results';
import type { ResultFiles, RunResult } from '@splitnet/results';
import { loadScenarioFile, formatResolvedYaml, MAX_SEED, parseDuration } from '@splitnet/scenario';
import type { CompiledScenario, ScenarioValue } from '@splitnet/scenario';
import { isValidRunId, newRunId } from '@splitnet/transport';
import { CaptureFile } from './capture-file.js';
import { budgetLine, humanTime, lagBoundLine, liveBudget, overBudget } from './budget.js';
import type { LiveBudget } from './budget.js';
import { PROCESS_RECORD } from './children.js';
import { EXIT } from './failure.js';
import { hostFacts } from './host.js';
import type { ProcessLifetime } from './lifetime.js';
import { runLiveCommand } from './live-run.js';
import { checkLockstepFlags, isLockstepFlag, lockstepPlacement, runLockstepCommand } from './lockstep-run.js';
import { lockstepPlan } from '@splitnet/lockstep';
import type { RunDashboard } from './dashboard-command.js';
import { addDashboardOptions, parseDashboardPort } from './dashboard-flags.js';
import { METRICS_COMMAND_OPTIONS, MetricsEndpoint, metricsOptions } from './metrics-server.js';
import type { MetricsOptions } from './metrics-server.js';
import { ensureDirectory, resultsDirContents } from './out-path.js';

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

function parseSeed(v: string): number {
  // The scenario's rule for seed: (MAX_SEED), so that --seed and --set seed= accept the same numbers.
  if (!/^\d+$/.test(v) || Number(v) > MAX_SEED) {
    throw new SplitnetError('E_USAGE', `--seed: expected a whole number from 0 to ${MAX_SEED}, found "${v}"`);
  }
  return Number(v);
}

/** --join-window: a duration such as 2s or 500ms. */
function parseWindow(v: string | undefined): number {
  if (v === undefined) return 2000;
  const ns = parseDuration(v);
  if (ns === undefined || ns < 0) throw new SplitnetError('E_USAGE', `--join-window: expected a duration such as 2s or 500ms, found "${v}"`);
  return ns / 1e6;
}

/** --expect role=n (repeatable): the least number of actors of a role to wait for (placement external). */
function parseExpect(values: readonly string[]): Partial<Record<JoinRole, number>> | undefined {
  if (values.length === 0) return undefined;
  const out: Partial<Record<JoinRole, number>> = {};
  for (const v of values) {
    const m = /^([a-z]+)=(\d+)$/.exec(v);
    if (!m || !JOIN_ROLES.includes(m[1] as JoinRole) || Number(m[2]) < 1) {
      throw new SplitnetError('E_USAGE', `--expect: expected <role>=<n> with role ${JOIN_ROLES.join(', ')} and n ≥ 1, found "${v}"`);
    }
    out[m[1] as JoinRole] = Number(m[2]);
  }
  return out;
}

import { collect, collectList } from './list-flags.js';
export { collect, collectList };

export interface RunFlags {
  seed?: number;
  duration?: string;
  out?: string;
  set: string[];
  json?: boolean;
  quiet?: boolean;
  runtime?: string;
  tdf?: string;
  nats?: string;
  placement?: string;
  processes?: string;
  runId?: string;
  joinWindow?: string;
  expect: string[];
  image: string;
  natsImage: string;
  dockerHost: string[];
  dockerAdvertise: string[];
  dockerBindAll?: boolean;
  dockerNodes: string;
  pack?: boolean;
  force?: boolean;
  pcap: string[];
  pcapWindow?: string;
  pcapMax?: string;
  pcapOut?: string;
  readyTimeout?: string;
  metricsPort?: string;
  metricsHost?: string;
  metricsLinger?: string;
  dashboard?: string | true;
  dashboardHost?: string;
}

/**
 * The run flags that only some runs use, and which: refused when the run (its runtime and placement,
 * known once the scenario is loaded: `runtime: live` may come from the file) would silently ignore them.
 */
const SCOPED_RUN_FLAGS: readonly { readonly key: keyof RunFlags; readonly flag: string; readonly scope: 'sim' | 'live' | 'external' | 'docker' }[] = [
  { key: 'tdf', flag: '--tdf', scope: 'live' },
  { key: 'nats', flag: '--nats', scope: 'live' },
  { key: 'placement', flag: '--placement', scope: 'live' },
  { key: 'processes', flag: '--processes', scope: 'live' },
  { key: 'readyTimeout', flag: '--ready-timeout', scope: 'live' },
  { key: 'metricsPort', flag: '--metrics-port', scope: 'live' },
  { key: 'metricsHost', flag: '--metrics-host', scope: 'live' },
  { key: 'metricsLinger', flag: '--metrics-linger', scope: 'live' },
  { key: 'joinWindow', flag: '--join-window', scope: 'external' },
  { key: 'expect', flag: '--expect', scope: 'external' },
  { key: 'image', flag: '--image', scope: 'docker' },
  { key: 'natsImage', flag: '--nats-image', scope: 'docker' },
  { key: 'dockerHost', flag: '--docker-host', scope: 'docker' },
  { key: 'dockerAdvertise', flag: '--docker-advertise', scope: 'docker' },
  { key: 'dockerBindAll', flag: '--docker-bind-all', scope: 'docker' },
  { key: 'dockerNodes', flag: '--docker-nodes', scope: 'docker' },
  { key: 'pack', flag: '--pack', scope: 'docker' },
  { key: 'pcap', flag: '--pcap', scope: 'sim' },
  { key: 'pcapWindow', flag: '--pcap-window', scope: 'sim' },
  { key: 'pcapMax', flag: '--pcap-max', scope: 'sim' },
  { key: 'pcapOut', flag: '--pcap-out', scope: 'sim' },
];

/** Refuse a flag given on the command line (`given`) that this run would ignore, naming what it needs. */
function checkScopedFlags(s: CompiledScenario, flags: RunFlags, given: (key: keyof RunFlags) => boolean, lockstep = false): void {
  const thisRun = s.runtime === 'live' ? `this live run's placement is ${s.live.placement}` : lockstep ? 'this run is lockstep' : 'this run is sim';
  for (const { key, flag: name, scope } of SCOPED_RUN_FLAGS) {
    if (!given(key)) continue;
    // As the user typed it: `--placement docker`, `--pack`.
    const value = flags[key];
    const flag = typeof value === 'string' ? `${name} ${value}` : Array.isArray(value) ? `${name} ${value.join(',')}` : name;
    if (scope === 'sim' && s.runtime === 'live') {
      throw new SplitnetError('E_USAGE', `${flag}: only for a sim run (packet captures are written in sim only: docs/results.md); ${thisRun}`);
    }
    if (scope === 'live' && s.runtime !== 'live') {
      throw new SplitnetError(
        'E_USAGE',
        `${flag}: only for a live run (add --runtime live, or runtime: live in the scenario); ${thisRun}, which would ignore it`,
      );
    }
    if (scope === 'external' && (s.runtime !== 'live' || s.live.placement !== 'external')) {
      throw new SplitnetError(
        'E_USAGE',
        `${flag}: only for a live run with placement external (actors that join: --runtime live --placement external); ${thisRun}, which would ignore it`,
      );
    }
    if (scope === 'docker' && (s.runtime !== 'live' || s.live.placement !== 'docker')) {
      throw new SplitnetError(
        'E_USAGE',
        `${flag}: only for a live run with placement docker (--runtime live --placement docker); ${thisRun}, which would ignore it`,
      );
    }
    if (key === 'nats' && s.live.placement === 'docker') {
      throw new SplitnetError('E_USAGE', `${flag}: the docker placement starts its own NATS servers and would ignore it; drop --nats`);
    }
  }
}

/** The live flags as scenario values, applied after --set; a problem with one names the flag as typed (`--tdf abc`). */
function liveFlagValues(flags: RunFlags): ScenarioValue[] {
  const out: ScenarioValue[] = [];
  const add = (flag: string, v: string | undefined, path: readonly string[], value: (v: string) => unknown = (x) => x): void => {
    if (v !== undefined) out.push({ label: `${flag} ${v}`, path, value: value(v) });
  };
  add('--runtime', flags.runtime, ['runtime']);
  // A number where the text is one, so that the scenario's rule (a number ≥ 1) says what is wrong with the rest.
  add('--tdf', flags.tdf, ['live', 'tdf'], (v) => (v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v));
  add('--nats', flags.nats, ['live', 'nats']);
  add('--placement', flags.placement, ['live', 'placement']);
  add('--processes', flags.processes, ['live', 'processes']);
  add('--ready-timeout', flags.readyTimeout, ['live', 'readyTimeout']);
  return out;
}

/** Wall seconds between two progress lines when stderr is not a terminal (a log file, CI); none before the first. */
const PROGRESS_LINE_EVERY_S = 10;

/**
 * Progress of a run on stderr: on a terminal a bar with the time left (extrapolated from the pace so far),
 * redrawn in place; elsewhere one line every PROGRESS_LINE_EVERY_S seconds, so a short run prints none.
 */
function progressPrinter(enabled: boolean, tty: boolean): ((done: number, total: number, note?: string) => void) | undefined {
  if (!enabled) return undefined;
  const t0 = Date.now();
  let lastLine = t0;
  let lastDraw = 0;
  /** Wall time and progress when emulated time first moved: the pace is measured from there (a live run's start-up is not). */
  let from: { readonly ms: number; readonly done: number } | undefined;
  return (done, total, note) => {
    const now = Date.now();
    // A lockstep run's: its slowest partition and the barrier wait.
    const more = note === undefined ? '' : `; ${note}`;
    if (from === undefined && done > 0) from = { ms: now, done: 0 };
    const frac = total > 0 ? done / total : 1;
    const pace = from !== undefined && done > from.done ? (now - from.ms) / (done - from.done) : undefined;
    const left = pace !== undefined ? `, about ${humanTime(((total - done) * pace) / 1000)} left` : '';
    const emulated = `${(done / 1e6).toFixed(1)}/${(total / 1e6).toFixed(1)} ms emulated`;
    const secs = (now - t0) / 1000;
    if (tty) {
      if (done < total && now - lastDraw < 100) return;
      lastDraw = now;
      const width = 30;
      const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, ' ');
      process.stderr.write(`\r  [${bar}] ${(frac * 100).toFixed(0).padStart(3)}%  ${emulated}  ${secs.toFixed(1)} s${done < total ? left : ''}${more}\x1b[K`);
      if (done >= total) process.stderr.write('\n');
    } else if (done < total && now - lastLine >= PROGRESS_LINE_EVERY_S * 1000) {
      lastLine = now;
      process.stderr.write(`splitnet: progress ${(frac * 100).toFixed(0)}%, ${emulated} after ${humanTime(secs)}${left}${more}\n`);
    }
  };
}

/** A run ready to go: its scenario, id and results directory (checked and created), and how chatty to be. */
interface RunSetup {
  readonly scenario: CompiledScenario;
  readonly runId: string;
  readonly dir: string;
  /** Whether this run created `dir` (a refused start removes it again when it is still empty). */
  readonly createdDir: boolean;
  readonly started: Date;
  readonly expect: Partial<Record<JoinRole, number>> | undefined;
  readonly capture: CaptureFile | undefined;
  /** A live run's cost on this machine (undefined for sim). */
  readonly budget: LiveBudget | undefined;
  /** `--runtime lockstep`: the scenario is run as sim's, by partitions in processes (lockstep-run.ts). */
  readonly lockstep: boolean;
  /** --metrics-port and its companions (undefined without). */
  readonly metrics: MetricsOptions | undefined;
}

/** parse: the scenario with every flag applied, the flags checked against it, the run id and the results directory. */
function prepareRun(file: string, runFlags: RunFlags, given: (key: keyof RunFlags) => boolean): RunSetup {
  // The flag takes the scenario key's three values; it is checked here so that the error names the flag as typed.
  if (runFlags.runtime !== undefined && !['sim', 'live', 'lockstep'].includes(runFlags.runtime))
    throw new SplitnetError('E_USAGE', `--runtime ${runFlags.runtime}: expected one of "sim", "live" or "lockstep", found "${runFlags.runtime}"`);
  // The dashboard's flags before anything is written (the port is taken once the run is set up).
  if (runFlags.dashboard !== undefined) parseDashboardPort('--dashboard', runFlags.dashboard);
  else if (runFlags.dashboardHost !== undefined)
    throw new SplitnetError('E_USAGE', `--dashboard-host ${runFlags.dashboardHost}: only with --dashboard (it says where the dashboard listens)`);
  const load = (f: RunFlags, more: readonly ScenarioValue[] = []): CompiledScenario =>
    loadScenarioFile(file, {
      overrides: f.set,
      values: [...liveFlagValues(f), ...more],
      ...(f.seed !== undefined ? { seed: f.seed } : {}),
      ...(f.duration !== undefined ? { duration: f.duration } : {}),
    });
  // Lockstep (the flag, or `runtime: lockstep` in the scenario or --set) computes sim's result, and its --placement is
  // lockstep's (checkLockstepFlags), not the live section's: that flag is kept out of the scenario.
  const { placement: _lockstepPlacement, ...withoutPlacement } = runFlags;
  let flags: RunFlags = runFlags;
  let scenario = runFlags.runtime === 'lockstep' ? load((flags = withoutPlacement)) : load(runFlags);
  if (scenario.runtime === 'lockstep' && flags === runFlags && runFlags.placement !== undefined) scenario = load((flags = withoutPlacement));
  const lockstep = scenario.runtime === 'lockstep';
  // A lockstep run's --expect is its partitions' (checkLockstepFlags).
  const expect = lockstep ? undefined : parseExpect(flags.expect);
  checkScopedFlags(scenario, flags, lockstep ? (key) => !isLockstepFlag(key) && given(key) : given, lockstep);
  if (lockstep) {
    // Partitions that join (compose): the scenario sized to as many as the controller expects.
    const sized = checkLockstepFlags(runFlags, given, scenario);
    if (sized !== undefined) scenario = load(flags, [sized]);
    lockstepPlan(scenario);
  }
  if (scenario.runtime === 'live') checkLiveScenario(scenario);
  const metrics = metricsOptions(flags);
  const budget =
    scenario.runtime === 'live'
      ? liveBudget(
          scenario,
          availableParallelism(),
          flags.dockerHost.some((h) => !h.startsWith('unix://')),
        )
      : undefined;
  const over = budget !== undefined ? overBudget(scenario, budget) : undefined;
  if (over !== undefined && flags.force !== true) throw over;
  if (expect?.worker !== undefined && scenario.live.processes === 'per-domain') {
    throw new SplitnetError(
      'E_USAGE',
      `--expect worker=${expect.worker}: this run has one process per Xen domain (live.processes: per-domain), whose driver hosts the vRSS workers (topology.workers: ${scenario.topology.workers}); no worker joins, so drop --expect worker`,
    );
  }
  const started = new Date();
  const runId = flags.runId ?? newRunId(`${scenario.name}-s${scenario.seed}-${stamp(started)}`, Math.floor(Math.random() * 0x10000));
  if (!isValidRunId(runId)) throw new SplitnetError('E_USAGE', `--run-id: expected letters, digits, '-' or '_' (at most 64), found "${runId}"`);
  let dir = flags.out ?? join('results', runId);
  if (flags.out === undefined) {
    for (let i = 2; existsSync(dir); i++) dir = join('results', `${runId}-${i}`);
  }
  const capture = CaptureFile.prepare(flags, scenario, dir);
  // Checked and created before the run, which may take long: a bad --out is bad input, not a lost run.
  const outFlag = flags.out !== undefined ? '--out' : 'results directory';
  const there = resultsDirContents(dir, { resolvedYaml: formatResolvedYaml(scenario), runId });
  if (there.kind === 'other' && flags.force !== true) {
    throw new SplitnetError('E_USAGE', `${outFlag} ${dir}: ${there.description}; give a new or empty directory, or add --force to write into it anyway`);
  }
  const createdDir = !existsSync(dir);
  ensureDirectory(outFlag, dir);
  return { scenario, runId, dir, createdDir, started, expect, capture, budget, metrics, lockstep };
}

/** run: in sim, or live through the placement the scenario names (a placement whose actors join sizes the scenario to them). */
async function execute(
  r: RunSetup,
  flags: RunFlags,
  lifetime: ProcessLifetime,
  snapshots: SnapshotFeed | undefined,
  dashboard: RunDashboard | undefined,
): Promise<{ result: RunResult; scenario: CompiledScenario; environment?: Record<string, unknown> }> {
  const s = r.scenario;
  const printer = progressPrinter(!flags.quiet && !flags.json, process.stderr.isTTY === true);
  const onProgress = dashboard
    ? (done: number, total: number, note?: string) => {
        printer?.(done, total, note);
        dashboard.progress(done);
      }
    : printer;
  const signal = lifetime.interruptSignal();
  if (r.lockstep) {
    lifetime.children.recordIn(join(r.dir, PROCESS_RECORD), `controller of run ${r.runId}`);
    const resolvedFile = join(r.dir, 'scenario.resolved.yaml');
    writeFileSync(resolvedFile, formatResolvedYaml(s));
    const out = await runLockstepCommand(s, {
      runId: r.runId,
      dir: r.dir,
      resolvedFile,
      quiet: flags.quiet === true || flags.json === true,
      signal,
      atExit: lifetime.atExit,
      ...(onProgress ? { onProgress } : {}),
      placement: lockstepPlacement(flags.placement),
      docker: { image: flags.image, natsImage: flags.natsImage, nodes: Number(flags.dockerNodes) },
    });
    return {
      result: out.result,
      scenario: s,
      environment: {
        runtime: 'lockstep',
        runId: r.runId,
        placement: lockstepPlacement(flags.placement),
        ...(flags.placement === 'docker' ? { dockerNodes: Number(flags.dockerNodes) } : {}),
        partitions: out.partitions,
        windows: out.windows,
        // How the run went in wall time (not in the result files, which are sim's).
        waitShares: out.waitShares.map((x) => Math.round(x * 1000) / 1000),
        slowest: out.slowest === null ? null : { partition: out.slowest.name, shareOfChecks: Math.round(out.slowest.share * 1000) / 1000 },
      },
    };
  }
  if (s.runtime !== 'live')
    return {
      result: await runSimInterruptible(s, { signal, ...(onProgress ? { onProgress } : {}), ...r.capture?.runOptions() }),
      scenario: s,
    };
  // What this run starts, in its results directory: `splitnet cleanup --run` finds what a crash left.
  lifetime.children.recordIn(join(r.dir, PROCESS_RECORD), `controller of run ${r.runId}`);
  const resolvedFile = join(r.dir, 'scenario.resolved.yaml');
  writeFileSync(resolvedFile, formatResolvedYaml(s));
  return runLiveCommand(s, {
    runId: r.runId,
    dir: r.dir,
    resolvedFile,
    quiet: flags.quiet === true || flags.json === true,
    joinWindowMs: parseWindow(flags.joinWindow),
    ...(r.expect ? { expect: r.expect } : {}),
    docker: {
      image: flags.image,
      natsImage: flags.natsImage,
      nodes: Number(flags.dockerNodes),
      strategy: flags.pack ? 'pack' : 'spread',
      endpoints: flags.dockerHost,
      advertise: flags.dockerAdvertise,
      bindAll: flags.dockerBindAll === true,
    },
    signal,
    atExit: lifetime.atExit,
    ...(snapshots ? { snapshots } : {}),
    ...(r.budget ? { readyTimeoutMs: r.budget.readyTimeoutMs } : {}),
    ...(onProgress ? { onProgress } : {}),
  });
}

/** write: the results directory, with what only this run's host and clock know in environment.json. */
async function write(
  r: RunSetup,
  flags: RunFlags,
  scenario: CompiledScenario,
  result: RunResult,
  wallSeconds: number,
  how?: Record<string, unknown>,
): Promise<ResultFiles> {
  const environment = {
    ...hostFacts(),
    runtime: scenario.runtime,
    ...(scenario.runtime === 'live' ? { runId: r.runId, tdf: scenario.live.tdf, placement: scenario.live.placement } : {}),
    ...how,
    seed: scenario.seed,
    scenarioFile: scenario.source,
    command: ['splitnet', ...process.argv.slice(2)],
    startedAt: r.started.toISOString(),
    wallSeconds: Number(wallSeconds.toFixed(3)),
    eventsProcessed: result.eventsProcessed,
    emulatedPacketsPerHostSecond: Math.round(result.accounting.emitted / wallSeconds),
  };
  // A live run's series are labelled with its run id, as its scrapes were; a sim run's with a label that does not hold the clock.
  const label = scenario.runtime === 'live' ? r.runId : simRunLabel(result.summary, flags.runId);
  return writeResults(r.dir, formatResolvedYaml(scenario), environment, result, await metricsText(result, runIdentity(label, result.summary)));
}

/** print: the summary (or JSON), where the results are, and what is wrong with the run; returns the exit code (`interruptedCode` if it was interrupted). */
function print(result: RunResult, written: ResultFiles, flags: RunFlags, wallSeconds: number, interruptedCode: number): number {
  if (flags.json) {
    process.stdout.write(JSON.stringify({ dir: written.dir, summary: result.summary }, null, 2) + '\n');
  } else {
    process.stdout.write(formatSummary(result.summary) + '\n');
    process.stdout.write(`\nresults: ${written.dir}/ (${written.files.join(', ')})\n`);
    if (!flags.quiet) {
      process.stderr.write(
        `splitnet: ${wallSeconds.toFixed(2)} s wall, ${Math.round(result.accounting.emitted / wallSeconds).toLocaleString('en-US')} emulated packets per host second\n`,
      );
    }
  }
  const a = result.accounting;
  const live = result.summary.live;
  if (live && !live.valid) {
    // No TDF to suggest when the lag was the bus's (an outage), not the CPU's.
    const tdf = live.suggestedTdf !== undefined ? `; try --tdf ${live.suggestedTdf}` : '';
    process.stderr.write(`splitnet: warning: run invalid: ${live.invalidReason ?? 'lag above maxLag'}${tdf} (results kept in ${written.dir})\n`);
  }
  const stop = result.summary.interrupted;
  if (stop !== undefined) {
    process.stderr.write(
      `splitnet: interrupted (${stop.signal}) at ${stop.atMs} ms of ${stop.durationMs} ms emulated; the results up to then are in ${written.dir} (summary.interrupted)\n`,
    );
  }
  if (!a.balanced) {
    process.stderr.write(
      `splitnet: error: accounting invariant broken: emitted ${a.emitted} ≠ delivered ${a.delivered} + dropped ${JSON.stringify(a.dropped)} + in flight ${JSON.stringify(a.inFlight)} (unaccounted ${a.unaccounted})\n`,
    );
  }
  // Tainted first: forged or refused traffic explains a broken balance, and no figure of the run can be trusted.
  if (live?.verdict === 'tainted') {
    const seen = live.tainted ?? [];
    process.stderr.write(
      `splitnet: error: run tainted: ${seen[0] ?? 'traffic on the bus the run did not send'}${seen.length > 1 ? ` (and ${seen.filter((l) => !l.startsWith(' ')).length - 1} more in summary.live.tainted)` : ''}; its results cannot be trusted (kept in ${written.dir})\n`,
    );
    return EXIT.taintedLiveRun;
  }
  if (!a.balanced) return EXIT.failed;
  if (stop !== undefined) return interruptedCode;
  return live && !live.valid ? EXIT.invalidLiveRun : EXIT.ok;
}

/** A run refused before it started (a port in use) leaves no empty results directory behind it; rethrows. */
function leaveNoEmptyDir(r: RunSetup): (err: unknown) => never {
  return (err) => {
    if (r.createdDir && readdirSync(r.dir).length === 0) rmdirSync(r.dir);
    throw err;
  };
}

/** `splitnet run`: parse → run → write → print. */
export async function runCommand(file: string, flags: RunFlags, given: (key: keyof RunFlags) => boolean, lifetime: ProcessLifetime): Promise<number> {
  const r = prepareRun(file, flags, given);
  if (!flags.quiet && !flags.json) {
    process.stderr.write(`splitnet: running ${r.scenario.name} (${r.scenario.source}) for ${r.scenario.duration / 1e6} ms emulated, seed ${r.scenario.seed}\n`);
  }
  const cap = offeredCapOf(r.scenario);
  if (cap !== undefined && !flags.quiet) process.stderr.write(`splitnet: warning: ${capNote(cap)}\n`);
  if (r.budget !== undefined && !flags.quiet && !flags.json) {
    process.stderr.write(`splitnet: ${budgetLine(r.scenario, r.budget)}\n`);
    // An external run is sized to the actors that join, and its bound with it: said in the summary instead.
    if (r.scenario.live.placement !== 'external') process.stderr.write(`splitnet: ${lagBoundLine(r.scenario)}\n`);
  }
  // One feed of the live run's snapshots for whoever watches: the metrics endpoint, the dashboard, or both.
  const feed = r.scenario.runtime === 'live' && (r.metrics !== undefined || flags.dashboard !== undefined) ? new SnapshotFeed() : undefined;
  const endpoint = r.metrics !== undefined && feed ? await openMetrics(r, r.metrics, feed).catch(leaveNoEmptyDir(r)) : undefined;
  try {
    // Listening before the run: a port in use is bad input, not a lost run. Loaded only when asked for (the plotting code).
    const dashboard =
      flags.dashboard !== undefined
        ? await (await import('./dashboard-command.js')).RunDashboard.open(r.scenario, r.runId, flags).catch(leaveNoEmptyDir(r))
        : undefined;
    if (feed && dashboard) feed.onSnapshot(dashboard.onSnapshot);
    const t0 = process.hrtime.bigint();
    let ran: Awaited<ReturnType<typeof execute>>;
    try {
      ran = await execute(r, flags, lifetime, feed, dashboard);
    } catch (err) {
      await dashboard?.fail(err);
      throw err;
    } finally {
      r.capture?.close();
    }
    const { result, scenario } = ran;
    const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const written = await write(r, flags, scenario, result, wallSeconds, ran.environment);
    // Final once the results are written: a scrape that sees splitnet_run_complete 1 finds summary.json there.
    endpoint?.finish(result);
    dashboard?.finish(written.dir, result);
    const code = print(result, written, flags, wallSeconds, lifetime.interruptExitCode());
    for (const note of r.capture?.notes(result.summary) ?? []) if (!flags.quiet || note.includes('warning')) process.stderr.write(`${note}\n`);
    // What a user who opened the dashboard expects: the page stays up with the results until they are done with it.
    await dashboard?.serveUntil(lifetime.interruptSignal());
    return code;
  } finally {
    await endpoint?.close(r.metrics?.lingerMs ?? 0, lifetime.interruptSignal());
  }
}

/** --metrics-port: the endpoint, listening before the run starts, fed by the run's snapshots; its address is said whatever --quiet. */
async function openMetrics(r: RunSetup, o: MetricsOptions, feed: SnapshotFeed): Promise<MetricsEndpoint> {
  const s = r.scenario;
  const server = await MetricsEndpoint.open(o, { run: r.runId, scenario: s.name, runtime: 'live', seed: s.seed }, s);
  server.follow(feed);
  process.stderr.write(`splitnet: metrics at ${server.url} (Prometheus text format; live values, final ones once the results are written)\n`);
  return server;
}

/** The traffic asks for more than the link carries: said before the run and in the summary (throughput.offeredCapped). */
export function capNote(cap: { readonly requestedGbps: number; readonly linkGbps: number }): string {
  return `the traffic asks for ${cap.requestedGbps} Gbit/s on the wire but topology.link is ${cap.linkGbps} Gbit/s: it is offered at line rate, the rest is never sent (summary.throughput.offeredCapped)`;
}

const RUNTIME_HELP =
  'sim (deterministic, one process), live (every actor its own process over NATS, in dilated real time) or lockstep (one process per Xen domain over NATS, synchronised in emulated time: the same result files as sim; --placement processes, docker or external; docs/lockstep.md)';
/** What `splitnet run --help` says after the flags: examples, environment, scoped flags, exit codes. */
const RUN_HELP =
  '\nExamples:\n  splitnet run examples/quickstart.yaml\n  splitnet run examples/vrss-per-flow.yaml --set topology.workers=2 --duration 20ms\n  splitnet run examples/coalescing-frontend.yaml --seed 7 --json\n  splitnet run examples/quickstart.yaml --pcap nic-rx --pcap guest-rx:vm:0 --pcap-window 10ms-11ms   # then: wireshark results/quickstart-*/packets.pcapng\n\nLive mode (actors as processes over NATS; see docs/live.md):\n  splitnet run examples/quickstart.yaml --runtime live --tdf 100\n  splitnet run examples/quickstart.yaml --runtime live --tdf 100 --metrics-port 9464   # scrape http://127.0.0.1:9464/metrics\n  splitnet run examples/quickstart.yaml --runtime live --tdf 100 --dashboard   # watch it at http://127.0.0.1:8470/\n  splitnet run examples/quickstart.yaml --runtime live --tdf 100 --placement docker --image splitnet\n  splitnet run examples/quickstart.yaml --runtime live --tdf 200 --placement docker --image splitnet \\\n      --docker-host tcp://10.0.0.2:2376 --docker-host tcp://10.0.0.3:2376      # one node per engine\n\nLockstep (one process per Xen domain over NATS, the same result files as sim; see docs/lockstep.md):\n  splitnet run examples/quickstart.yaml --runtime lockstep --duration 3ms --set warmup=1ms\n  splitnet run examples/vm-to-vm.yaml --runtime lockstep --duration 2ms --placement docker --docker-nodes 2 --image splitnet\n\nEnvironment (live): SPLITNET_NATS_USER, SPLITNET_NATS_PASSWORD, SPLITNET_NATS_CA (see splitnet actor --help);\nDOCKER_TLS_VERIFY=1 / DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem) for tcp:// engines, as the docker CLI reads them.\n\nBefore a live run splitnet says its wall time (duration × TDF) and its actor processes per core, and refuses more than\n8 processes per core or more than 1 h of wall time unless --force (docs/live.md, "Budgets said up front").\n\nLive-only flags (--tdf, --nats, --placement, --processes, --ready-timeout, --metrics-*; --join-window and --expect for placement external;\n--image, --nats-image and --docker-* and --pack for placement docker) are refused on a run that would ignore them, as are\nthe --pcap flags on a live run (captures are written in sim only).\n\nExit codes: 0 success, 1 the run failed (accounting invariant broken, an actor process died, NATS unreachable, a bug),\n2 bad input (scenario, flag or path), 3 a live run was invalid (lag above maxLag or the bus was down), 4 a live run was\ntainted (forged or refused traffic on its bus), 130 interrupted by Ctrl-C, 143 by SIGTERM (the results up to then are\nwritten, marked interrupted; see docs/cli.md).';

/** The `run` command's flags and help (docs/cli.md). */
export function defineRunCommand(program: Command, lifetime: ProcessLifetime): void {
  const run = program
    .command('run')
    .description('Run a scenario in the deterministic sim runtime and write results/<run-id>/')
    .argument('<scenario>', 'scenario YAML file (see examples/ and docs/scenario-reference.md)')
    .addOption(new Option('--seed <n>', 'override the scenario seed').argParser(parseSeed))
    .option('--duration <time>', 'override the emulated duration, e.g. 20ms, 1s')
    .option('--out <dir>', 'write results to this directory (default: results/<run-id>); it must be new, empty, or hold a run of the same resolved scenario')
    .option(
      '--force',
      'do what is otherwise refused: write into an --out directory that holds other files (files of the same names are overwritten, the others are left as they are), or start a live run above the budget limits (more than 8 actor processes per core, more than 1 h of wall time: docs/live.md)',
    )
    .option('--set <path=value>', 'override a scenario value, e.g. --set topology.workers=2 (repeatable)', collect, [] as string[])
    .option('--json', 'print the summary as JSON on stdout (no table, no progress)')
    .option('-q, --quiet', 'print only the summary table')
    .option('--runtime <sim|live|lockstep>', RUNTIME_HELP)
    .option('--tdf <n>', 'live: time dilation factor (emulated time runs n times slower than wall time)')
    .option('--nats <url>', 'live: use this NATS server instead of a private nats-server; lockstep, placement external: the one partitions join over')
    .option(
      '--placement <processes|inprocess|external|docker>',
      'live: one OS process per actor (default), all in this process, actors started elsewhere that join, or containers; lockstep: processes (default) or docker, one per partition, or external (partitions that join: compose)',
    )
    .option(
      '--ready-timeout <time|auto>',
      'live: how long to wait for every actor process to be ready, e.g. 90s (live.readyTimeout; default auto: 30 s + 3 s per actor process per core); below 30s it also bounds the wait for an unreachable NATS',
    )
    .option(
      '--processes <per-actor|per-domain>',
      'live: one process per actor (default), or one per Xen domain (the driver domain: NIC, back end and vRSS workers; each guest), so that only guest traffic crosses the bus; with placement external or docker the driver process then hosts the workers and none joins as --role worker',
    )
    .option(
      '--run-id <id>',
      "the run id: names results/<run-id>/ and, live, namespaces the run's NATS subjects (default: derived from the scenario, seed and time)",
    )
    .option('--join-window <time>', 'live, placement external: close registration after this much quiet once every role joined (default 2s)')
    .option(
      '--expect <role=n>',
      'live, placement external: wait for at least n actors of a role (driver, worker, frontend) before the join window counts, e.g. --expect frontend=4 (repeatable); lockstep, placement external: partition=n, the scenario sized to n partitions that join',
      collect,
      [] as string[],
    )
    .option('--image <ref>', 'live or lockstep, placement docker: the splitnet image (never pulled)', 'splitnet:latest')
    .option('--nats-image <ref>', 'live or lockstep, placement docker: the nats-server image (never pulled)', 'nats:2-alpine')
    .option(
      '--docker-host <url>',
      'live, placement docker: a Docker engine (unix:///path or tcp://host:port; default the local one); repeatable or comma-separated: each engine is one node',
      collectList,
      [] as string[],
    )
    .option(
      '--docker-advertise <addr>',
      'live, placement docker: per --docker-host in order, an address of its host that the other engines and this controller reach; its NATS ports are published there (default: the tcp:// host; an engine on this machine: 127.0.0.1 when alone, else its bridge gateway)',
      collectList,
      [] as string[],
    )
    .option(
      '--docker-bind-all',
      'live, placement docker: publish the NATS ports on every interface (0.0.0.0) instead of the advertised address (e.g. behind NAT)',
    )
    .option('--docker-nodes <n>', 'live or lockstep, placement docker: emulated nodes on one engine, each its own network and NATS server, clustered', '1')
    .option('--pack', 'live, placement docker: fill node 0 first instead of spreading VMs and workers over the nodes')
    .option(
      '--pcap <point[:selector]>',
      'sim: write a pcapng capture of the frames seen at a point, nic-rx (arrival at the NIC) or guest-rx (delivery to the guest application), optionally only vm:<v>, vm:<v>:queue:<q> or flow:<f>, e.g. guest-rx:vm:0 (repeatable: one capture interface each; see docs/results.md)',
      collect,
      [] as string[],
    )
    .option('--pcap-window <from-to>', 'sim, with --pcap: only the packets whose time at the point is in [from, to) of emulated time, e.g. 10ms-11ms')
    .option(`--pcap-max <size>`, `sim, with --pcap: stop capturing when the file would pass this size, e.g. 500kB, 1GiB (default ${DEFAULT_CAPTURE_MAX})`)
    .option('--pcap-out <file>', `sim, with --pcap: the capture file (default: <results dir>/packets.pcapng)`)
    .addOption(METRICS_COMMAND_OPTIONS.port)
    .addOption(METRICS_COMMAND_OPTIONS.host)
    .addOption(METRICS_COMMAND_OPTIONS.linger)
    .addHelpText('after', RUN_HELP);
  addDashboardOptions(run).action(async (file: string, flags: RunFlags, cmd: Command) => {
    process.exitCode = await runCommand(file, flags, (key) => cmd.getOptionValueSource(key) === 'cli', lifetime);
  });
}
