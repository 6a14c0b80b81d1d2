// Public API of @splitnet/experiments: sweep files, plans with derived seeds, the parallel resumable sweep runner and its table.
export { loadSweepFile, parseSweepText, expandRange, MAX_AXIS_VALUES, MAX_REPETITIONS, MAX_RUNS } from './sweep-file.js';
export type { AxisGroup, LocatedValue, SweepAxis, SweepBase, SweepDefinition } from './sweep-file.js';
export { compileRun, expandPoints, planSweep, runId, runSeed, sweepJson } from './plan.js';
export type { RunSpec, SweepPlan, SweepPoint } from './plan.js';
export { checkResume, runSweep, LOCK_FILE, PARTIAL_SUFFIX } from './run-sweep.js';
export type { RunSweepOptions, SweepEvent, SweepOutcome } from './run-sweep.js';
export { buildTable, tableCsv, tableJson, REPETITIONS_IDENTICAL } from './table.js';
export { numericAxis } from './axis-numbers.js';
export type { NumericAxis } from './axis-numbers.js';
export type { SweepTable } from './table.js';
