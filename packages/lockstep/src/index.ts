// Public API of @splitnet/lockstep: the lockstep runtime (partitions running the sim event loop up to safe times over NATS) and the merge of their results into sim's.
export { partitionsValue, planPartitions } from './partition-plan.js';
export type { Partition, PartitionBy, PartitionPlan } from './partition-plan.js';
export { PartitionEngine } from './partition-engine.js';
export type { KeyedEvent, LinkSeq, PartitionFinal, PartitionPorts } from './partition-engine.js';
export { PartitionWire } from './partition-wire.js';
export type { WireRefusals } from './partition-wire.js';
export type { WindowTimes } from './window-timing.js';
export { mergeEvents, mergeRun } from './merge-run.js';
export type { PartitionedRun } from './merge-run.js';
export { runLockstepInProcess } from './run-on-bus.js';
export { DIRECT_ENV, runPartitionProcess } from './partition-process.js';
export type { PartitionProcessOptions } from './partition-process.js';
export { lockstepPlan, runLockstep } from './run-lockstep.js';
export { PartitionRegistry } from './partition-registry.js';
export type { PartitionRegistryOptions } from './partition-registry.js';
export type { LockstepOutcome, LockstepRunOptions } from './run-lockstep.js';
