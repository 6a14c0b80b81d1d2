// Link delays between actors: the same rule for sim and live.
import type { ActorRef, Nanos } from '@splitnet/model';
import type { CompiledScenario } from '@splitnet/scenario';
import type { DecoderLimits } from '@splitnet/transport';
import { WORKER_BATCH } from './build.js';
import type { ActorGraph } from './build.js';

/** The NIC and its driver share the host's memory (DMA + register reads): no delay; every other link costs `costs.link`. */
export function linkDelayFor(g: ActorGraph, s: CompiledScenario): (a: ActorRef, b: ActorRef) => Nanos {
  const nic = g.refs.nic;
  const backend = g.refs.backend;
  const link = s.costs.link;
  return (a, b) => ((a === nic && b === backend) || (a === backend && b === nic) ? 0 : link);
}

/**
 * What a receiver accepts from the scenario's actors: flow ids in its flow table, batches no larger than any
 * sender makes (a legacy netback pass publishes up to a ring's worth at once).
 */
export function decoderLimitsFor(s: CompiledScenario): DecoderLimits {
  const ring = Math.max(...s.topology.vms.map((vm) => vm.ringSize));
  return { flows: s.traffic.flows.length, maxBatch: Math.max(s.napi.budget, WORKER_BATCH, ring, 1024) };
}
