// Public API of @splitnet/nic.
export { NicActor } from './nic-actor.js';
export type { NicConfig, NicQueueStats } from './nic-actor.js';
export type { NicTxConfig } from './nic-tx.js';
export { SwitchActor, SWITCH_DROP_REASONS } from './switch-actor.js';
export type { SwitchConfig, SwitchDropReason, SwitchPortConfig } from './switch-actor.js';
export type { NicFabric } from './nic-actor.js';
