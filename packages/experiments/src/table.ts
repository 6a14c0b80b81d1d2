// The sweep's tidy table: one row per run (run, point, rep, seed, each axis as a label and a number, whether repetitions agree, the run's summary.csv row), as CSV and JSON.
import { csvLine, summaryRow, type Summary } from '@splitnet/results';
import { SplitnetError } from '@splitnet/model';
import { numericAxis, type NumericAxis } from './axis-numbers.js';
import type { SweepPlan } from './plan.js';

export interface SweepTable {
  readonly columns: readonly string[];
  /** One object per run, sorted by point then repetition; a column a run does not have is null. */
  readonly rows: readonly Record<string, unknown>[];
}

/**
 * Merge each row's key order into one column order: a key first seen in a later row goes right
 * after the key that precedes it there (a sixth worker's `cpu_dom0_worker5_frac` lands beside
 * `cpu_dom0_worker4_frac`, not at the end of the table).
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

/** The column that says whether a point's repetitions gave identical results (1/0; empty with one repetition). */
export const REPETITIONS_IDENTICAL = 'repetitions_identical';

/** The axis columns: each axis's label column (`path`), and beside it the numeric column of an axis with units (axis-numbers.ts). */
function axisColumns(plan: SweepPlan): { path: string; numeric: NumericAxis | undefined }[] {
  return plan.definition.groups.flat().map((a) => ({ path: a.path, numeric: numericAxis(a.path, a.values.map((v) => v.value)) }));
}

/**
 * Build the table from each run's summary (its summary.json object), in the plan's run order. The
 * metric columns are each run's summary.csv row (controller's summaryRow), `seed` excepted (a column
 * already); a point whose repetitions agree on every metric is marked `repetitions_identical` = 1.
 */
export function buildTable(plan: SweepPlan, summaries: ReadonlyMap<string, unknown>): SweepTable {
  const axes = axisColumns(plan);
  const axisNames = axes.flatMap((a) => (a.numeric && a.numeric.column !== a.path ? [a.path, a.numeric.column] : [a.path]));
  const fixed = ['run', 'point', 'rep', 'seed', ...axisNames, REPETITIONS_IDENTICAL];
  const metricRows: (readonly (readonly [string, unknown])[])[] = [];
  for (const spec of plan.runs) {
    const summary = summaries.get(spec.run);
    if (summary === undefined) throw new SplitnetError('E_INTERNAL', `sweep table: no summary for run ${spec.run}`);
    // The run's seed is already a column; the summary repeats it.
    metricRows.push(summaryRow(summary as Summary).filter(([k]) => k !== 'seed'));
  }
  const metrics = mergeOrder(metricRows.map((r) => r.map(([k]) => k)));
  const clash = metrics.find((m) => fixed.includes(m));
  if (clash !== undefined) throw new SplitnetError('E_USAGE', `sweep table: the axis ${clash} has the name of a summary metric`);
  // Repetitions of a point are identical when every metric is: the scenario does not depend on the seed.
  const firstOfPoint = new Map<number, string>();
  const identical = new Map<number, boolean>();
  plan.runs.forEach((spec, i) => {
    const signature = JSON.stringify(metricRows[i]);
    const first = firstOfPoint.get(spec.point);
    if (first === undefined) firstOfPoint.set(spec.point, signature);
    identical.set(spec.point, (identical.get(spec.point) ?? true) && (first === undefined || first === signature));
  });
  const rows = plan.runs.map((spec, i) => {
    const row: Record<string, unknown> = { run: spec.run, point: spec.point, rep: spec.rep, seed: spec.seed };
    const point = plan.points[spec.point];
    for (const a of axes) {
      const at = point?.values.findIndex((v) => v.path === a.path) ?? -1;
      const value = at >= 0 ? point?.values[at]?.value : undefined;
      row[a.path] = value ?? null;
      if (a.numeric && a.numeric.column !== a.path) row[a.numeric.column] = numberOf(plan, a.path, a.numeric, value);
    }
    row[REPETITIONS_IDENTICAL] = plan.definition.repetitions < 2 ? null : identical.get(spec.point) === true ? 1 : 0;
    const values = new Map(metricRows[i]);
    for (const m of metrics) row[m] = values.has(m) ? values.get(m) : null;
    return row;
  });
  return { columns: [...fixed, ...metrics], rows };
}

/** The number of an axis value: the one at the value's place among the axis's values. */
function numberOf(plan: SweepPlan, path: string, numeric: NumericAxis, value: unknown): number | null {
  const axis = plan.definition.groups.flat().find((a) => a.path === path);
  const i = axis?.values.findIndex((v) => JSON.stringify(v.value) === JSON.stringify(value)) ?? -1;
  return numeric.numbers[i] ?? null;
}

export function tableCsv(table: SweepTable): string {
  const lines = [csvLine(table.columns)];
  for (const row of table.rows) lines.push(csvLine(table.columns.map((c) => row[c])));
  return lines.join('\n') + '\n';
}

export function tableJson(table: SweepTable): string {
  return JSON.stringify(table.rows, null, 2) + '\n';
}
