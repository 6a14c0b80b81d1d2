// Public API of @splitnet/controller.
export { buildActors, WORKER_BATCH, NIC_LOOKAHEAD } from './build.js';
export type { ActorGraph } from './build.js';
export { runSim, balance } from './run-sim.js';
export type { RunResult, Summary, Accounting, RunOptions } from './run-sim.js';
export { writeResults, summaryCsv, latencyJson } from './results.js';
export { formatSummary } from './format.js';
export { DROP_REASONS } from './metrics.js';
export type { DropReason, Snapshot } from './metrics.js';
export { runLive } from './live/run-live.js';
export type { ActorHandle, LiveRunOptions } from './live/run-live.js';
export { runActorProcess } from './live/actor-process.js';
export type { ActorProcessOptions } from './live/actor-process.js';
export { linkDelayFor } from './live/links.js';
export type { LiveInfo } from './run-sim.js';
export { registerExternalActors, joinRun, awaitControllerGone, JOIN_ROLES } from './live/join.js';
export type { JoinRole } from './live/join.js';
