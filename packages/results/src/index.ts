// Public API of @splitnet/results: what a run produces as typed data (summary, metrics, fault report), how it is summarized, and how it is written and shown.
export type { Accounting, LiveInfo, OfferedCap, ProcessCounters, RestartedProcess, RunEvent, RunResult, SchedSummary, Summary } from './summary.js';
export { BASE_DROP_REASONS, combine, DROP_REASONS, FAULT_DROP_REASONS, sampleRow, sig, totalVirqs } from './metrics.js';
export type { DropReason, QueueCounters, SchedSnapshot, Snapshot } from './metrics.js';
export { balance, offeredCapOf, shownDrops, summarize } from './summarize.js';
export { collectStalls, faultDetail, faultsSummary, recoveryTimes } from './fault-report.js';
export type { FaultRecovery, FaultStall, FaultsSummary } from './fault-report.js';
export { ALL_ENTITY, seriesPoints, timeseriesCsv } from './timeseries.js';
export type { SeriesMetric, SeriesPoint } from './timeseries.js';
export { latencyJson, LATENCY_BUCKET_COLUMNS, summaryCsv, writeResults } from './results.js';
export type { ResultFiles } from './results.js';
export { columnPart, CPU_COLUMN, cpuColumn, SUMMARY_COLUMNS, SUMMARY_ID_COLUMNS, summaryRow } from './summary-row.js';
export type { SummaryCell, SummaryRow } from './summary-row.js';
export { csvCell, csvLine } from './csv.js';
export { formatSummary } from './format.js';
