// Public API of @splitnet/controller: the actor graph of a scenario, the sim run, fault planning, and the link rules sim and live share.
export { buildActors, WORKER_BATCH, NIC_LOOKAHEAD } from './build.js';
export type { ActorGraph, BuildOptions } from './build.js';
export { accounting, ghostReport, runSim, runSimInterruptible, SampleSeries, withRuntimeDrops, withRuntimeTxDrops } from './run-sim.js';
export type { InterruptibleRunOptions, RunOptions } from './run-sim.js';
export { decoderLimitsFor, linkDelayFor, senderRulesFor } from './links.js';
export { HeldFaults, planFaults, planSimFaults, selectActors } from './fault-plan.js';
export type { FaultPlan, FaultStep, PlannedAction, SimFaultPlan, SimGhost } from './fault-plan.js';
export { AUTO_LAG_FALLBACK, AUTO_LAG_FLOOR, AUTO_LAG_FRACTION, lagBound, timeConstants } from './lag-bound.js';
export type { TimeConstant } from './lag-bound.js';
export { buildCluster, clusterLinkDelay, SWITCH_ID } from './cluster.js';
export type { ClusterGraph } from './cluster.js';
export { ClusterRun, clusterFaultPlan, crashCounts, fabricFramesWaiting, perHost } from './cluster-run.js';
export type { ClusterFaultPlan, ClusterFaultShot, ClusterFaultStep } from './cluster-run.js';
export { clusterSenderRules, fabricDecoderLimits, fabricSenderRule, hostPrefixOf } from './cluster-links.js';
