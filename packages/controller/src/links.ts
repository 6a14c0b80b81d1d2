// Link rules between actors: delays (the same for sim and live), what a receiver accepts, and from whom.
import { MESSAGE_ROUTES, roleOf } from '@splitnet/model';
import type { ActorRef, DatapathRole, Message, Nanos } from '@splitnet/model';
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

/**
 * The datapath's sender rules for one receiver (the role × kind matrix, MESSAGE_ROUTES, plus the graph's
 * steering): a reason to refuse message `m` from actor `from` to actor `to`, or undefined when the datapath
 * sends it. rx only from the back end to the worker serving that guest queue; rsp, evt, reconnect and connected
 * only from the worker serving the queue to its guest; req and ring only from that guest to that worker; dma
 * and poll never over the bus (the NIC and its driver share a process).
 */
export function senderRulesFor(g: ActorGraph): (from: string, to: string, m: Message) => string | undefined {
  // Per VM, per queue: the index of the worker that serves it (the steering tables hold worker indices).
  const servedBy: number[][] = [];
  g.steering.gqVm.forEach((vm, gq) => ((servedBy[vm] ??= [])[g.steering.gqQueue[gq] as number] = g.steering.gqWorker[gq] as number));
  // An actor id's index (`vm.3` → 3), parsed once per id: the rules run for every message received.
  const indices = new Map<string, number>();
  const index = (id: string): number => {
    let k = indices.get(id);
    if (k === undefined) indices.set(id, (k = Number(id.slice(id.indexOf('.') + 1))));
    return k;
  };
  const serves = (worker: string, vm: number, queue: number): boolean => servedBy[vm]?.[queue] === index(worker);
  // An actor id's role, found once per id (roleOf matches a pattern: once per message was a visible share of a worker's receive path).
  const roles = new Map<string, DatapathRole | null>();
  const role = (id: string): DatapathRole | undefined => {
    let r = roles.get(id);
    if (r === undefined) roles.set(id, (r = roleOf(id) ?? null));
    return r ?? undefined;
  };
  return (from, to, m) => {
    const route = MESSAGE_ROUTES[m.kind];
    if (!route.bus) return `a ${m.kind} never crosses the bus (the NIC and its driver share a process)`;
    const fromRole = role(from);
    if (fromRole === undefined || (fromRole !== route.from && fromRole !== route.alsoFrom) || role(to) !== route.to) {
      return `a ${m.kind} goes from a ${route.from}${route.alsoFrom === undefined ? '' : ` or a ${route.alsoFrom}`} to a ${route.to}, not from ${from} to ${to}`;
    }
    switch (m.kind) {
      case 'rx':
        return serves(to, m.vm, m.queue) ? undefined : `rx for vm.${m.vm} queue ${m.queue} to ${to}, which does not serve it`;
      case 'rsp':
      case 'evt':
      case 'reconnect':
      case 'connected': {
        // A queue's TX event channel (split event channels) is port queues + q.
        const queue = m.kind === 'evt' ? m.port % Math.max(1, servedBy[m.vm]?.length ?? 1) : m.queue;
        if (index(to) !== m.vm) return `a ${m.kind} of vm.${m.vm} sent to ${to}`;
        return serves(from, m.vm, queue) ? undefined : `a ${m.kind} of vm.${m.vm} queue ${queue} from ${from}, which does not serve it`;
      }
      case 'dealloc':
        return serves(to, m.vm, m.queue) ? undefined : `a dealloc for vm.${m.vm} queue ${m.queue} to ${to}, which does not serve it`;
      case 'req':
      case 'ring':
        if (index(from) !== m.vm) return `a ${m.kind} of vm.${m.vm} from ${from}`;
        return serves(to, m.vm, m.queue) ? undefined : `a ${m.kind} of vm.${m.vm} queue ${m.queue} to ${to}, which does not serve it`;
      default:
        return undefined;
    }
  };
}
