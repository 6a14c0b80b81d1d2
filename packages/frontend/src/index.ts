// Public API of @splitnet/frontend.
export { FrontendActor } from './frontend-actor.js';
export type { FrontendConfig, FrontendQueueStats } from './frontend-actor.js';
