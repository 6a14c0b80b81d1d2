// Public API of @splitnet/controller.
export { buildActors, WORKER_BATCH, NIC_LOOKAHEAD } from './build.js';
export type { ActorGraph } from './build.js';
export { runSim, balance } from './run-sim.js';
export type { RunResult, Summary, Accounting, RunOptions } from './run-sim.js';
export { writeResults, summaryCsv } from './results.js';
export { formatSummary } from './format.js';
export { DROP_REASONS } from './metrics.js';
export type { DropReason, Snapshot } from './metrics.js';
