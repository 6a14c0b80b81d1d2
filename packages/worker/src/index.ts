// Public API of @splitnet/worker.
export { WorkerActor } from './worker-actor.js';
export type { WorkerConfig, WorkerQueueStats, ServedQueue } from './worker-actor.js';
