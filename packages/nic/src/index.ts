// Public API of @splitnet/nic.
export { NicActor } from './nic-actor.js';
export type { NicConfig, NicQueueStats } from './nic-actor.js';
export type { NicTxConfig } from './nic-tx.js';
