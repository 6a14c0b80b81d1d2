// `splitnet run --dashboard` and `splitnet dashboard <results-dir>`: serve the live dashboard of a run as it goes, or of a finished run's results, until Ctrl-C.
import { lagBound } from '@splitnet/controller';
import { SplitnetError } from '@splitnet/model';
import type { LiveSnapshot, SnapshotSubscriber } from '@splitnet/live';
import { Dashboard, DashboardView, loadResults, replaySamples } from '@splitnet/report';
import type { DashboardRun, DashboardSample, RunData } from '@splitnet/report';
import { lineRateGbps } from '@splitnet/results';
import type { RunResult, Summary } from '@splitnet/results';
import type { CompiledScenario } from '@splitnet/scenario';
import { DEFAULT_DASHBOARD_HOST, parseDashboardPort } from './dashboard-flags.js';
import type { DashboardFlags } from './dashboard-flags.js';

function say(line: string): void {
  process.stderr.write(`splitnet: ${line}\n`);
}

async function serve(view: DashboardView, port: number, host: string, portFlag: string, hostFlag: string): Promise<Dashboard> {
  const dashboard = await Dashboard.start(view, { host, port, portFlag, hostFlag });
  const where = host === '0.0.0.0' || host === '::' ? ' (listening on every interface)' : '';
  say(`dashboard at ${dashboard.url}${where}`);
  return dashboard;
}

/** How a finished run ended, in a few words, for the page's status line. */
function verdictOf(s: Summary, dir: string): string {
  const where = `results in ${dir}`;
  if (s.interrupted !== undefined) return `interrupted (${s.interrupted.signal}) at ${s.interrupted.atMs} ms; ${where}`;
  if (s.accounting.balanced === false) return `accounting invariant broken; ${where}`;
  const live = s.live;
  if (live === undefined) return where;
  if (live.verdict === 'tainted') return `tainted (${live.tainted?.[0] ?? 'traffic on the bus the run did not send'}); ${where}`;
  return live.valid ? `valid; ${where}` : `invalid: ${live.invalidReason ?? 'lag above its bound'}; ${where}`;
}

/** Resolves when `signal` aborts (the user pressed Ctrl-C). */
function interrupted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}

/** The dashboard of one `splitnet run`: started before the run, fed while it goes, then showing its results until Ctrl-C. */
export class RunDashboard {
  private constructor(
    private readonly view: DashboardView,
    private readonly dashboard: Dashboard,
  ) {}

  static async open(s: CompiledScenario, runId: string, flags: DashboardFlags): Promise<RunDashboard> {
    const port = parseDashboardPort('--dashboard', flags.dashboard);
    const host = flags.dashboardHost ?? DEFAULT_DASHBOARD_HOST;
    const live = s.runtime === 'live';
    const run: DashboardRun = {
      name: s.name,
      runId,
      runtime: live ? 'live' : 'sim',
      durationMs: s.duration / 1e6,
      warmupMs: s.warmup / 1e6,
      lineRateGbps: lineRateGbps(s),
      ...(live ? { maxLagUs: lagBound(s).us, tdf: s.live.tdf } : {}),
    };
    const view = new DashboardView(run);
    const portFlag = flags.dashboard === true || flags.dashboard === undefined ? '--dashboard' : `--dashboard ${flags.dashboard}`;
    return new RunDashboard(view, await serve(view, port, host, portFlag, `--dashboard-host ${host}`));
  }

  /** A live run's snapshots (run-live.ts) as the dashboard's samples. */
  readonly onSnapshot: SnapshotSubscriber = (snap: LiveSnapshot) => {
    this.view.sample({
      row: snap.row,
      drops: snap.snapshot.drops,
      busyNs: Object.fromEntries(snap.snapshot.busy),
      lagUs: snap.lagNs / 1000,
      events: snap.events,
    });
    this.dashboard.update();
  };

  /** Emulated time reached (a sim run has no samples until its results are written). */
  progress(doneNs: number): void {
    this.view.progress(doneNs / 1e6);
    this.dashboard.update();
  }

  /** The run's results are written in `dir`: the page shows them as the report does. */
  finish(dir: string, result: RunResult): void {
    const loaded = loadResults(dir);
    if (loaded.kind === 'run') this.view.finish(loaded.run, verdictOf(result.summary, dir));
    this.dashboard.flush();
  }

  /** The run failed without results: the page says so; the server closes with the command. */
  async fail(err: unknown): Promise<void> {
    this.view.fail(err instanceof Error ? err.message : String(err));
    this.dashboard.flush();
    await this.dashboard.close();
  }

  /** Keep serving the finished run until the user interrupts (at once if the run itself was interrupted). */
  async serveUntil(signal: AbortSignal): Promise<void> {
    if (!signal.aborted) {
      say(`dashboard: the run ended; still serving its results at ${this.dashboard.url} until Ctrl-C`);
      await interrupted(signal);
    }
    await this.dashboard.close();
  }
}

/** --replay <seconds>: how long a replay of the run's samples takes (wall time). */
function parseReplay(v: string): number {
  const secs = Number(v);
  if (v.trim() === '' || !Number.isFinite(secs) || secs <= 0 || secs > 86_400)
    throw new SplitnetError('E_USAGE', `--replay: expected the seconds a replay of the run takes, more than 0 and at most 86400, found "${v}"`);
  return secs * 1000;
}

/** Feed `samples` to the view evenly over `ms` of wall time, then `end`; returns its stop. */
function replay(view: DashboardView, dashboard: Dashboard, samples: readonly DashboardSample[], ms: number, end: () => void): () => void {
  const t0 = Date.now();
  let next = 0;
  const timer = setInterval(() => {
    const due = Math.min(samples.length, Math.ceil(((Date.now() - t0) / ms) * samples.length));
    for (; next < due; next++) view.sample(samples[next] as DashboardSample);
    if (next < samples.length) return dashboard.update();
    clearInterval(timer);
    end();
    dashboard.flush();
  }, 100);
  return () => clearInterval(timer);
}

/**
 * `splitnet dashboard <results-dir>`: a finished run's page, as `run --dashboard` ends on, until Ctrl-C; with
 * `--replay`, first its samples as they came, over that many seconds, from when the first page is opened.
 */
export async function dashboardCommand(
  dir: string,
  flags: { readonly port?: string; readonly host?: string; readonly replay?: string },
  signal: AbortSignal,
): Promise<void> {
  const port = parseDashboardPort('--port', flags.port);
  const replayMs = flags.replay !== undefined ? parseReplay(flags.replay) : undefined;
  const host = flags.host ?? DEFAULT_DASHBOARD_HOST;
  const loaded = loadResults(dir);
  if (loaded.kind !== 'run') throw new SplitnetError('E_USAGE', `${dir}: a sweep's results; the dashboard shows one run (splitnet report draws a sweep)`);
  const run = loaded.run;
  const view = new DashboardView(runOf(run));
  const finish = () => view.finish(run, verdictOf(run.summary, dir));
  if (replayMs === undefined) finish();
  const dashboard = await serve(view, port, host, flags.port === undefined ? '--port' : `--port ${flags.port}`, `--host ${host}`);
  let stop = () => {};
  if (replayMs !== undefined) {
    dashboard.whenWatched(() => (stop = replay(view, dashboard, replaySamples(run), replayMs, finish)));
    say(`dashboard: the run's ${run.samples.length} samples are replayed over ${replayMs / 1000} s once a page is open; Ctrl-C to stop`);
  } else say('dashboard: Ctrl-C to stop');
  await interrupted(signal);
  stop();
  await dashboard.close();
}

/** A finished run as the dashboard names it, from its own summary. */
function runOf(run: RunData): DashboardRun {
  const s = run.summary;
  const live = s.live;
  return {
    name: s.scenario,
    runId: typeof run.environment?.['runId'] === 'string' ? run.environment['runId'] : run.dir,
    runtime: s.runtime,
    durationMs: s.windowMs[1],
    warmupMs: s.windowMs[0],
    ...(live !== undefined ? { maxLagUs: live.maxLagUs, tdf: live.tdf } : {}),
  };
}
