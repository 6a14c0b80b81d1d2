// Public API of @splitnet/backend.
export { BackendActor } from './backend-actor.js';
export type { BackendConfig, BackendSched, BackendStats } from './backend-actor.js';
