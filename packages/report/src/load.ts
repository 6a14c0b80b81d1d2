// Reads a results directory (a run's or a sweep's) into plain data, with errors that name the file and line that was wrong.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { flattenDotted, SplitnetError } from '@splitnet/model';
import type { Summary } from '@splitnet/results';

export interface MetricsRow {
  readonly tMs: number;
  readonly [column: string]: unknown;
}

export interface RunEvent {
  /** Emulated time, ns. */
  readonly t: number;
  readonly actor: string;
  readonly kind: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

/** latency.json: the window's latency histogram as [lowest µs, highest µs, count] buckets; every value in µs. */
export interface LatencyFile {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly buckets: readonly (readonly [number, number, number])[];
}

export interface RunData {
  readonly dir: string;
  /** summary.json, as @splitnet/results types it: figures read its fields by name, so a renamed field is a compile error. */
  readonly summary: Summary;
  readonly samples: readonly MetricsRow[];
  readonly events: readonly RunEvent[];
  readonly environment: Readonly<Record<string, unknown>> | undefined;
  readonly scenarioYaml: string | undefined;
  readonly latency: LatencyFile | undefined;
  /** cwnd.csv: closed-loop flows' congestion windows over time (absent: the run had none). */
  readonly cwnd?: readonly CwndRow[];
}

/** One row of cwnd.csv. */
export interface CwndRow {
  readonly flow: number;
  readonly ms: number;
  readonly cwnd: number;
}

export interface SweepAxis {
  readonly path: string;
  readonly values: readonly unknown[];
  /** Members of one `zip` group share this number (the group's index in the sweep file's axes); free axes have none. */
  readonly zip?: number;
  /** An axis of numbers (rates, durations, counts): the table column with its values as numbers, and their unit (none for plain numbers). */
  readonly numeric?: { readonly column: string; readonly unit?: string };
}

export interface SweepFile {
  readonly name: string;
  readonly base: string;
  readonly axes: readonly SweepAxis[];
  readonly repetitions: number;
  readonly baseSeed: number;
  readonly points: unknown;
  readonly runs: unknown;
}

export type TableRow = Readonly<Record<string, unknown>>;

export interface SweepData {
  readonly dir: string;
  readonly sweep: SweepFile;
  readonly table: readonly TableRow[];
  /** The first run's own results (its scenario and environment describe the whole sweep's machine and base). */
  readonly firstRun: RunData | undefined;
}

export type ResultsData = { readonly kind: 'run'; readonly run: RunData } | { readonly kind: 'sweep'; readonly sweep: SweepData };

function fileError(file: string, what: string, cause?: unknown): SplitnetError {
  return new SplitnetError('E_FILE', `${file}: ${what}`, cause === undefined ? undefined : { cause });
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw fileError(file, `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, err);
  }
}

function parseJson(file: string, text: string, line?: number): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw fileError(line === undefined ? file : `${file}:${line}`, `not valid JSON (${(err as Error).message})`, err);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function readJsonLines(file: string): unknown[] {
  const out: unknown[] = [];
  readText(file)
    .split('\n')
    .forEach((l, i) => {
      if (l.trim() !== '') out.push(parseJson(file, l, i + 1));
    });
  return out;
}

/** A summary's primitive values by dotted key (model's flattenDotted), to list every value as it is in the file. */
export function flatten(v: unknown): Map<string, number | string | boolean> {
  const out = new Map<string, number | string | boolean>();
  for (const [k, x] of flattenDotted(v)) if (typeof x === 'number' || typeof x === 'string' || typeof x === 'boolean') out.set(k, x);
  return out;
}

function readLatency(file: string): LatencyFile | undefined {
  if (!existsSync(file)) return undefined;
  const j = parseJson(file, readText(file));
  if (!isRecord(j) || !Array.isArray(j['buckets']) || typeof j['count'] !== 'number') {
    throw fileError(file, 'expected an object with `count` and `buckets` (see docs/results.md)');
  }
  // Results written before latency.json moved to µs say `"unit": "ns"`.
  const unit = j['unit'] ?? 'ns';
  if (unit !== 'us' && unit !== 'ns') throw fileError(file, `\`unit\`: expected "us" (or "ns" in older results), found ${JSON.stringify(unit)}`);
  const scale = unit === 'ns' ? 1 / 1000 : 1;
  const buckets = j['buckets'].map((b, i) => {
    if (!Array.isArray(b) || b.length !== 3 || !b.every((x) => typeof x === 'number')) {
      throw fileError(file, `buckets[${i}]: expected [lowest ${unit}, highest ${unit}, count], found ${JSON.stringify(b)}`);
    }
    const [lo, hi, n] = b as [number, number, number];
    return [lo * scale, hi * scale, n] as const;
  });
  const num = (k: string) => (typeof j[k] === 'number' ? j[k] * scale : 0);
  return { count: j['count'], min: num('min'), max: num('max'), mean: num('mean'), buckets };
}

/** The sections of a summary a report draws from, each an object (arrays and numbers inside are read as typed). */
const SUMMARY_SECTIONS = ['throughput', 'interrupts', 'cpu', 'latencyUs', 'drops', 'accounting'] as const;

/** summary.json as a Summary: a JSON object with the sections a report reads, or a clear error naming what is missing. */
function readSummary(file: string): Summary {
  const summary = parseJson(file, readText(file));
  if (!isRecord(summary)) throw fileError(file, 'expected a JSON object');
  for (const k of SUMMARY_SECTIONS) {
    if (!isRecord(summary[k])) throw fileError(file, `\`${k}\`: expected an object, as splitnet writes it (see docs/results.md)`);
  }
  if (!Array.isArray(summary['windowMs'])) throw fileError(file, '`windowMs`: expected [start, end] in ms (see docs/results.md)');
  return summary as unknown as Summary;
}

/** Read a run's results directory (one with summary.json). */
export function loadRun(dir: string): RunData {
  const summary = readSummary(join(dir, 'summary.json'));
  const metricsFile = join(dir, 'metrics.jsonl');
  const samples = existsSync(metricsFile)
    ? readJsonLines(metricsFile).map((r, i) => {
        if (!isRecord(r) || typeof r['tMs'] !== 'number') throw fileError(`${metricsFile}:${i + 1}`, 'expected an object with a numeric `tMs`');
        return r as MetricsRow;
      })
    : [];
  const eventsFile = join(dir, 'events.jsonl');
  const events = existsSync(eventsFile)
    ? readJsonLines(eventsFile).map((e, i) => {
        if (!isRecord(e) || typeof e['t'] !== 'number' || typeof e['kind'] !== 'string') {
          throw fileError(`${eventsFile}:${i + 1}`, 'expected an object with a numeric `t` and a string `kind`');
        }
        return {
          t: e['t'],
          actor: typeof e['actor'] === 'string' ? e['actor'] : '',
          kind: e['kind'],
          detail: isRecord(e['detail']) ? e['detail'] : {},
        };
      })
    : [];
  const envFile = join(dir, 'environment.json');
  const env = existsSync(envFile) ? parseJson(envFile, readText(envFile)) : undefined;
  const yamlFile = join(dir, 'scenario.resolved.yaml');
  return {
    dir,
    summary,
    samples,
    events,
    environment: isRecord(env) ? env : undefined,
    scenarioYaml: existsSync(yamlFile) ? readText(yamlFile) : undefined,
    latency: readLatency(join(dir, 'latency.json')),
    ...(existsSync(join(dir, 'cwnd.csv')) ? { cwnd: readCwnd(join(dir, 'cwnd.csv')) } : {}),
  };
}

/** cwnd.csv: a `flow,ms,cwnd` header, then numeric rows. */
function readCwnd(file: string): CwndRow[] {
  const lines = readText(file)
    .split('\n')
    .filter((l) => l !== '');
  if (lines[0] !== 'flow,ms,cwnd') throw fileError(`${file}:1`, 'expected the header flow,ms,cwnd');
  return lines.slice(1).map((l, i) => {
    const [flow, ms, cwnd] = l.split(',').map(Number);
    if (![flow, ms, cwnd].every((v) => v !== undefined && Number.isFinite(v))) throw fileError(`${file}:${i + 2}`, 'expected three numbers: flow, ms, cwnd');
    return { flow: flow as number, ms: ms as number, cwnd: cwnd as number };
  });
}

/** Read a sweep's directory (sweep.json, table.json, runs/<run>/). */
export function loadSweep(dir: string): SweepData {
  const sweepFile = join(dir, 'sweep.json');
  const s = parseJson(sweepFile, readText(sweepFile));
  if (!isRecord(s)) throw fileError(sweepFile, 'expected a JSON object');
  if (!Array.isArray(s['axes'])) throw fileError(sweepFile, '`axes`: expected an array of { path, values }');
  const axes = s['axes'].map((a, i) => {
    if (!isRecord(a) || typeof a['path'] !== 'string' || !Array.isArray(a['values'])) {
      throw fileError(sweepFile, `axes[${i}]: expected { path: string, values: [...] }, found ${JSON.stringify(a)}`);
    }
    const zip = a['zip'];
    if (zip !== undefined && !(typeof zip === 'number' && Number.isInteger(zip) && zip >= 0)) {
      throw fileError(sweepFile, `axes[${i}] (${a['path']}): \`zip\`: expected the index of its zip group (an integer ≥ 0), found ${JSON.stringify(zip)}`);
    }
    const numeric = a['numeric'];
    if (
      numeric !== undefined &&
      !(isRecord(numeric) && typeof numeric['column'] === 'string' && (numeric['unit'] === undefined || typeof numeric['unit'] === 'string'))
    ) {
      throw fileError(sweepFile, `axes[${i}] (${a['path']}): \`numeric\`: expected { column: string, unit?: string }, found ${JSON.stringify(numeric)}`);
    }
    return {
      path: a['path'],
      values: a['values'] as unknown[],
      ...(zip !== undefined ? { zip } : {}),
      ...(numeric !== undefined
        ? { numeric: { column: numeric['column'] as string, ...(typeof numeric['unit'] === 'string' ? { unit: numeric['unit'] } : {}) } }
        : {}),
    };
  });
  const sweep: SweepFile = {
    name: typeof s['name'] === 'string' ? s['name'] : 'sweep',
    base: typeof s['base'] === 'string' ? s['base'] : '',
    axes,
    repetitions: typeof s['repetitions'] === 'number' ? s['repetitions'] : 1,
    baseSeed: typeof s['baseSeed'] === 'number' ? s['baseSeed'] : 0,
    points: s['points'],
    runs: s['runs'],
  };
  const tableFile = join(dir, 'table.json');
  const t = parseJson(tableFile, readText(tableFile));
  if (!Array.isArray(t)) throw fileError(tableFile, 'expected an array of rows (one per run)');
  const table = t.map((r, i) => {
    if (!isRecord(r)) throw fileError(tableFile, `row ${i}: expected an object`);
    for (const a of axes) {
      if (!(a.path in r)) throw fileError(tableFile, `row ${i} (${String(r['run'])}): no column for axis ${a.path}`);
      if (a.numeric && !(a.numeric.column in r))
        throw fileError(tableFile, `row ${i} (${String(r['run'])}): no column ${a.numeric.column} (axis ${a.path} as numbers)`);
    }
    return r;
  });
  const first = table.find((r) => typeof r['run'] === 'string');
  const firstDir = first ? join(dir, 'runs', first['run'] as string) : undefined;
  const firstRun = firstDir !== undefined && existsSync(join(firstDir, 'summary.json')) ? loadRun(firstDir) : undefined;
  return { dir, sweep, table, firstRun };
}

/** A run directory (summary.json) or a sweep directory (sweep.json); anything else is a clear error. */
export function loadResults(dir: string): ResultsData {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new SplitnetError('E_FILE', `${dir}: not a directory`);
  if (existsSync(join(dir, 'sweep.json'))) return { kind: 'sweep', sweep: loadSweep(dir) };
  if (existsSync(join(dir, 'summary.json'))) return { kind: 'run', run: loadRun(dir) };
  throw new SplitnetError(
    'E_FILE',
    `${dir}: neither a run's results (no summary.json) nor a sweep's (no sweep.json); give the directory \`splitnet run\` or \`splitnet sweep\` wrote`,
  );
}
