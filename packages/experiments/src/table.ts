// The sweep's tidy table: one row per run (run, point, rep, seed, one column per axis, every summary metric flattened), as CSV and JSON.
import { flattenDotted, SplitnetError } from '@splitnet/model';
import type { SweepPlan } from './plan.js';

export interface SweepTable {
  readonly columns: readonly string[];
  /** One object per run, sorted by point then repetition; a column a run does not have is null. */
  readonly rows: readonly Record<string, unknown>[];
}

/**
 * The summary as `[key, value]` pairs, nested keys joined with dots — the same walk as the
 * controller's summary.csv (model's flattenDotted), so a column here is named exactly like a row there.
 */
export function flattenSummary(summary: unknown): [string, unknown][] {
  return flattenDotted(summary);
}

/**
 * Merge each row's key order into one column order: a key first seen in a later row goes right
 * after the key that precedes it there (a sixth worker's `cpu.dom0.worker5` lands beside
 * `cpu.dom0.worker4`, not at the end of the table).
 */
function mergeOrder(lists: readonly (readonly string[])[]): string[] {
  const order: string[] = [];
  const known = new Set<string>();
  const done = new Set<string>();
  for (const keys of lists) {
    // Most runs of a sweep have the same keys: merge each distinct list once.
    const signature = keys.join('\n');
    if (done.has(signature)) continue;
    done.add(signature);
    let after = -1;
    for (const key of keys) {
      if (known.has(key)) {
        after = order.indexOf(key);
        continue;
      }
      order.splice(after + 1, 0, key);
      known.add(key);
      after += 1;
    }
  }
  return order;
}

/** Build the table from each run's summary (its summary.json object), in the plan's run order. */
export function buildTable(plan: SweepPlan, summaries: ReadonlyMap<string, unknown>): SweepTable {
  const axes = plan.definition.groups.flat().map((a) => a.path);
  const fixed = ['run', 'point', 'rep', 'seed', ...axes];
  const metricRows: [string, unknown][][] = [];
  for (const spec of plan.runs) {
    const summary = summaries.get(spec.run);
    if (summary === undefined) throw new SplitnetError('E_INTERNAL', `sweep table: no summary for run ${spec.run}`);
    // The run's seed is already a column; the summary repeats it.
    metricRows.push(flattenSummary(summary).filter(([k]) => k !== 'seed'));
  }
  const metrics = mergeOrder(metricRows.map((r) => r.map(([k]) => k)));
  const clash = metrics.find((m) => axes.includes(m));
  if (clash !== undefined) throw new SplitnetError('E_USAGE', `sweep table: the axis ${clash} has the name of a summary metric`);
  const rows = plan.runs.map((spec, i) => {
    const row: Record<string, unknown> = { run: spec.run, point: spec.point, rep: spec.rep, seed: spec.seed };
    const point = plan.points[spec.point];
    for (const path of axes) row[path] = point?.values.find((v) => v.path === path)?.value ?? null;
    const values = new Map(metricRows[i]);
    for (const m of metrics) row[m] = values.has(m) ? values.get(m) : null;
    return row;
  });
  return { columns: [...fixed, ...metrics], rows };
}

/** A CSV cell: numbers and booleans as JS prints them (as in summary.csv), maps and lists as JSON, quoted when needed (RFC 4180). */
function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const text = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function tableCsv(table: SweepTable): string {
  const lines = [table.columns.map(cell).join(',')];
  for (const row of table.rows) lines.push(table.columns.map((c) => cell(row[c])).join(','));
  return lines.join('\n') + '\n';
}

export function tableJson(table: SweepTable): string {
  return JSON.stringify(table.rows, null, 2) + '\n';
}
