// Runs a planned sweep: resume check, a pool of worker threads (one run each at a time), progress events, clean stop on abort, and the table at the end.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SplitnetError } from '@splitnet/model';
import { formatPath } from '@splitnet/scenario';
import { parse as parseYaml } from 'yaml';
import { sweepJson, type RunSpec, type SweepPlan } from './plan.js';
import { buildTable, tableCsv, tableJson } from './table.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

export const PARTIAL_SUFFIX = '.partial';
/** Held by the sweep running in a directory (its pid). */
export const LOCK_FILE = 'sweep.lock';
/** Fixed cost of a run (start-up, JIT, writing files) in frame-equivalents, so tiny runs still weigh something in the ETA. */
const RUN_OVERHEAD_FRAMES = 20_000;

export type SweepEvent =
  /** Before the first run: how many runs there are and how many a previous invocation already finished. */
  | { readonly kind: 'start'; readonly total: number; readonly skipped: number; readonly toRun: number; readonly jobs: number }
  /** Now and then while runs progress: the fraction of this invocation's work done (weighted by each run's expected frames). */
  | { readonly kind: 'progress'; readonly fraction: number; readonly finished: number; readonly total: number }
  | { readonly kind: 'run-done'; readonly run: string; readonly finished: number; readonly total: number; readonly wallSeconds: number; readonly balanced: boolean };

export interface RunSweepOptions {
  /** The sweep's output directory (created if needed). */
  readonly out: string;
  /** Runs at once (worker threads). */
  readonly jobs: number;
  /** Host facts copied into every run's environment.json. */
  readonly environment: Readonly<Record<string, unknown>>;
  readonly onEvent?: (e: SweepEvent) => void;
  /** Aborting stops the workers; finished runs stay, unfinished ones are removed and rerun next time. */
  readonly signal?: AbortSignal;
}

export interface SweepOutcome {
  readonly status: 'complete' | 'interrupted';
  readonly total: number;
  /** Runs complete on disk (this invocation's and earlier ones'). */
  readonly finished: number;
  /** Runs a previous invocation had finished. */
  readonly skipped: number;
  /** Runs whose accounting invariant broke (their results are kept; `accounting.balanced` is false in the table). */
  readonly unbalanced: readonly string[];
  readonly files: readonly string[];
}

/** Write through a temporary name and rename, so a reader (or an interrupted sweep) never sees half a file. */
function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** The first place two JSON-like values differ, as `path: was X, now Y`. */
function firstDifference(was: unknown, now: unknown, path: (string | number)[] = []): string | undefined {
  if (JSON.stringify(was) === JSON.stringify(now)) return undefined;
  if (was !== null && now !== null && typeof was === 'object' && typeof now === 'object') {
    const keys = [...new Set([...Object.keys(was), ...Object.keys(now)])];
    for (const k of keys) {
      const d = firstDifference((was as Record<string, unknown>)[k], (now as Record<string, unknown>)[k], [...path, Array.isArray(was) ? Number(k) : k]);
      if (d !== undefined) return d;
    }
  }
  const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));
  return `${formatPath(path) || 'the scenario'}: was ${show(was)}, now ${show(now)}`;
}

/**
 * What an earlier invocation left in `runs/`: finished runs (kept if the plan still makes the same
 * scenario for them), partial ones (removed, to be rerun). A finished run this plan would make
 * differently, or does not plan at all, means the sweep file changed since: refuse.
 */
export function checkResume(plan: SweepPlan, out: string): Set<string> {
  const runsDir = join(out, 'runs');
  const finished = new Set<string>();
  if (!existsSync(runsDir)) return finished;
  const restart = `use another --out, or delete ${out} to start the sweep again`;
  for (const name of readdirSync(runsDir).sort()) {
    if (name.endsWith(PARTIAL_SUFFIX)) {
      rmSync(join(runsDir, name), { recursive: true, force: true });
      continue;
    }
    const expected = plan.resolved.get(name);
    if (expected === undefined) {
      throw new SplitnetError('E_USAGE', `${out} holds run ${name}, which ${plan.definition.file} does not plan (the sweep file changed since that run): ${restart}`);
    }
    let was: unknown;
    try {
      was = parseYaml(readFileSync(join(runsDir, name, 'scenario.resolved.yaml'), 'utf8'));
    } catch (err) {
      throw new SplitnetError('E_USAGE', `${out}: run ${name} has no readable scenario.resolved.yaml, so it cannot be checked against ${plan.definition.file}: ${restart}`, { cause: err });
    }
    const diff = firstDifference(was, expected);
    if (diff !== undefined) {
      throw new SplitnetError('E_USAGE', `${out}: run ${name} was made from a different scenario than ${plan.definition.file} plans now (${diff}); the sweep file or its base scenario changed since: ${restart}`);
    }
    finished.add(name);
  }
  return finished;
}

/** The files a sweep directory may hold; anything else means --out names some other directory. */
const SWEEP_ENTRIES = new Set(['sweep.json', 'table.csv', 'table.json', 'runs', LOCK_FILE, 'sweep.json.tmp', 'table.csv.tmp', 'table.json.tmp']);

/**
 * Take `<out>/sweep.lock` (holding this process's pid) so that two sweeps never write the same
 * directory; a lock left by a process that no longer exists (killed outright) is taken over.
 * Returns the release function.
 */
function lockSweepDir(out: string): () => void {
  const file = join(out, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
        throw new SplitnetError('E_USAGE', `${out} is in use by another sweep (process ${pid}); wait for it, or stop it first`);
      }
      rmSync(file, { force: true });
    }
  }
  throw new SplitnetError('E_USAGE', `${out}: cannot take ${LOCK_FILE}`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as { code?: unknown }).code === 'EPERM';
  }
}

/** Run every run the output directory does not hold yet, then write the table. */
export async function runSweep(plan: SweepPlan, opts: RunSweepOptions): Promise<SweepOutcome> {
  const out = opts.out;
  if (existsSync(out)) {
    const stranger = readdirSync(out).find((n) => !SWEEP_ENTRIES.has(n));
    if (stranger !== undefined && !existsSync(join(out, 'sweep.json'))) {
      throw new SplitnetError('E_USAGE', `--out ${out}: the directory exists and is not a sweep's (it holds ${stranger} and no sweep.json); give a new or a sweep directory`);
    }
  }
  mkdirSync(out, { recursive: true });
  const unlock = lockSweepDir(out);
  try {
    return await runLocked(plan, opts);
  } finally {
    unlock();
  }
}

async function runLocked(plan: SweepPlan, opts: RunSweepOptions): Promise<SweepOutcome> {
  const out = opts.out;
  const runsDir = join(out, 'runs');
  const finishedBefore = checkResume(plan, out);
  mkdirSync(runsDir, { recursive: true });
  writeAtomic(join(out, 'sweep.json'), JSON.stringify(sweepJson(plan), null, 2) + '\n');

  const todo = plan.runs.filter((r) => !finishedBefore.has(r.run));
  const total = plan.runs.length;
  const jobs = Math.max(1, Math.min(opts.jobs, todo.length));
  opts.onEvent?.({ kind: 'start', total, skipped: finishedBefore.size, toRun: todo.length, jobs });
  const unbalanced: string[] = [];
  const interrupted = todo.length > 0 && !(await runPool(plan, todo, jobs, opts, finishedBefore.size, unbalanced));
  const finished = readdirSync(runsDir).filter((n) => !n.endsWith(PARTIAL_SUFFIX) && plan.resolved.has(n)).length;
  if (interrupted) return { status: 'interrupted', total, finished, skipped: finishedBefore.size, unbalanced, files: ['sweep.json', 'runs/'] };

  const summaries = new Map<string, unknown>();
  const broken: string[] = [];
  for (const spec of plan.runs) {
    const summary = JSON.parse(readFileSync(join(runsDir, spec.run, 'summary.json'), 'utf8')) as { seed?: unknown; accounting?: { balanced?: unknown } };
    if (summary.seed !== spec.seed) throw new SplitnetError('E_INTERNAL', `${out}: run ${spec.run} has seed ${String(summary.seed)}, the plan says ${spec.seed}`);
    if (summary.accounting?.balanced !== true) broken.push(spec.run);
    summaries.set(spec.run, summary);
  }
  const table = buildTable(plan, summaries);
  writeAtomic(join(out, 'table.csv'), tableCsv(table));
  writeAtomic(join(out, 'table.json'), tableJson(table));
  return { status: 'complete', total, finished, skipped: finishedBefore.size, unbalanced: broken, files: ['sweep.json', 'table.csv', 'table.json', 'runs/'] };
}

/**
 * Run `todo` on `jobs` worker threads. Resolves true when every run finished, false when the
 * signal stopped it (workers terminated, their partial directories removed); rejects on a run that failed.
 */
function runPool(plan: SweepPlan, todo: readonly RunSpec[], jobs: number, opts: RunSweepOptions, already: number, unbalanced: string[]): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => new SweepPool(plan, todo, opts, already, unbalanced, resolve, reject).start(jobs));
}

/** The worker threads of one sweep: each takes the next run when it finishes one; progress is weighted by each run's work. */
class SweepPool {
  private readonly runsDir: string;
  private readonly totalWork: number;
  private doneWork = 0;
  private finished: number;
  private readonly total: number;
  private readonly inFlight = new Map<Worker, { spec: RunSpec; fraction: number }>();
  private readonly workers: Worker[] = [];
  private next = 0;
  private settled = false;
  private readonly onAbort = (): void => this.finish(false);

  constructor(
    private readonly plan: SweepPlan,
    private readonly todo: readonly RunSpec[],
    private readonly opts: RunSweepOptions,
    already: number,
    private readonly unbalanced: string[],
    private readonly resolve: (ok: boolean) => void,
    private readonly reject: (err: unknown) => void,
  ) {
    this.runsDir = join(opts.out, 'runs');
    this.totalWork = todo.reduce((w, spec) => w + this.weight(spec), 0);
    this.finished = already;
    this.total = plan.runs.length;
  }

  private weight(spec: RunSpec): number {
    return (this.plan.work.get(spec.run)?.frames ?? 0) + RUN_OVERHEAD_FRAMES;
  }

  private partialOf(spec: RunSpec): string {
    return join(this.runsDir, spec.run + PARTIAL_SUFFIX);
  }

  start(jobs: number): void {
    const signal = this.opts.signal;
    if (signal?.aborted) return this.finish(false);
    signal?.addEventListener('abort', this.onAbort);
    for (let i = 0; i < jobs; i++) {
      const worker = new Worker(new URL('./sweep-worker.js', import.meta.url));
      this.workers.push(worker);
      worker.on('message', (m: FromWorker) => this.onMessage(worker, m));
      worker.on('error', (err) => this.finish(false, new SplitnetError('E_INTERNAL', `sweep worker: ${err.message}`, { cause: err })));
      worker.on('exit', (code) => {
        if (!this.settled) this.finish(false, new SplitnetError('E_INTERNAL', `sweep worker exited with code ${code} while running ${this.inFlight.get(worker)?.spec.run ?? 'nothing'}`));
      });
      this.dispatch(worker);
    }
  }

  private async stopAll(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    for (const { spec } of this.inFlight.values()) rmSync(this.partialOf(spec), { recursive: true, force: true });
    this.inFlight.clear();
  }

  private finish(ok: boolean, err?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    this.stopAll().then(
      () => (err === undefined ? this.resolve(ok) : this.reject(err)),
      (e: unknown) => this.reject(err ?? e),
    );
  }

  private progress(): void {
    let w = this.doneWork;
    for (const { spec, fraction } of this.inFlight.values()) w += this.weight(spec) * fraction;
    this.opts.onEvent?.({ kind: 'progress', fraction: this.totalWork > 0 ? w / this.totalWork : 1, finished: this.finished, total: this.total });
  }

  /** Give the worker the next run, or retire it; the pool is done when the last one retires. */
  private dispatch(worker: Worker): void {
    if (this.settled) return;
    const spec = this.todo[this.next++];
    if (spec === undefined) {
      this.inFlight.delete(worker);
      if (this.inFlight.size === 0) this.finish(true);
      return;
    }
    this.inFlight.set(worker, { spec, fraction: 0 });
    const message: ToWorker = { spec, dir: join(this.runsDir, spec.run), partial: this.partialOf(spec), environment: this.opts.environment };
    worker.postMessage(message);
  }

  private onMessage(worker: Worker, m: FromWorker): void {
    if (this.settled) return;
    const current = this.inFlight.get(worker);
    if (m.kind === 'progress') {
      if (current !== undefined) current.fraction = m.total > 0 ? m.done / m.total : 1;
      this.progress();
    } else if (m.kind === 'done') {
      if (current !== undefined) this.doneWork += this.weight(current.spec);
      this.finished += 1;
      if (!m.balanced) this.unbalanced.push(m.run);
      this.opts.onEvent?.({ kind: 'run-done', run: m.run, finished: this.finished, total: this.total, wallSeconds: m.wallSeconds, balanced: m.balanced });
      this.dispatch(worker);
    } else {
      // The worker's error, rebuilt from its code (errors cross the thread as data).
      const err = new SplitnetError(m.code, `run ${m.run}: ${m.message}`);
      if (m.stack !== undefined) err.stack = m.stack;
      this.finish(false, err);
    }
  }
}
