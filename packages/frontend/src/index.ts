// Public API of @splitnet/frontend.
export { FrontendActor } from './frontend-actor.js';
export type { FrontendConfig, FrontendQueueStats } from './frontend-actor.js';
export { NetfrontTx } from './netfront-tx.js';
export type { NetfrontTxConfig } from './netfront-tx.js';
