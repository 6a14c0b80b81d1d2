// Link rules of a multi-host run over a bus: what a receiver accepts (each host's own rules, the fabric's frames between a host's NIC and the switch) and the decoder's limits.
import { roleOf } from '@splitnet/model';
import type { Message } from '@splitnet/model';
import type { CompiledScenario } from '@splitnet/scenario';
import type { DecoderLimits } from '@splitnet/transport';
import type { ClusterGraph } from './cluster.js';
import { decoderLimitsFor, senderRulesFor } from './links.js';

/** The host prefix of an actor id (`h1.` of `h1.vm.3`; '' for a one-host id or the switch). */
export function hostPrefixOf(id: string): string {
  return /^h(?:0|[1-9][0-9]*)\./.exec(id)?.[0] ?? '';
}

/**
 * The fabric's frames: an uplink from host i's NIC to the switch (for its own switch port i) and a downlink from the
 * switch to a NIC. A reason to refuse message `m` from `from` to `to`, or undefined.
 */
export function fabricSenderRule(from: string, to: string, m: Message): string | undefined {
  if (m.kind === 'uplink' && roleOf(from) === 'nic' && to === 'switch') {
    return from === `h${m.port}.nic` ? undefined : `an uplink to switch port ${m.port} from ${from}, which is not that port's NIC`;
  }
  if (m.kind === 'downlink' && from === 'switch' && roleOf(to) === 'nic') return undefined;
  return `a ${m.kind} from ${from} to ${to}: between hosts only the fabric's uplinks and downlinks travel`;
}

/** The decoder's limits of a run: one host's, or in a multi-host run the largest of its hosts' (a frame carries its sending host's flow ids). */
export function fabricDecoderLimits(s: CompiledScenario): DecoderLimits {
  const hosts = s.cluster?.hosts ?? [s];
  const each = hosts.map(decoderLimitsFor);
  return { flows: Math.max(...each.map((l) => l.flows)), maxBatch: Math.max(...each.map((l) => l.maxBatch)) };
}

/**
 * The sender rules of a multi-host run whose every actor may be across the bus (live): between a host's own
 * actors, that host's datapath rules (senderRulesFor, on the ids without their host prefix); between a NIC and the
 * switch, the fabric's; nothing else (a host's actors reach another host's only through the switch).
 */
export function clusterSenderRules(cg: ClusterGraph): (from: string, to: string, m: Message) => string | undefined {
  const perHost = cg.hosts.map(senderRulesFor);
  return (from, to, m) => {
    if (m.kind === 'uplink' || m.kind === 'downlink' || from === 'switch' || to === 'switch') return fabricSenderRule(from, to, m);
    const pf = hostPrefixOf(from);
    const host = Number(pf.slice(1, -1));
    if (pf === '' || pf !== hostPrefixOf(to) || !(host < perHost.length))
      return `a ${m.kind} from ${from} to ${to}: a host's actors talk to another host's only through the switch`;
    return (perHost[host] as (f: string, t: string, m: Message) => string | undefined)(from.slice(pf.length), to.slice(pf.length), m);
  };
}
