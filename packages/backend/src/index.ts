// Public API of @splitnet/backend.
export { BackendActor } from './backend-actor.js';
export type { BackendConfig, BackendSched, BackendStats, BackendTx } from './backend-actor.js';
