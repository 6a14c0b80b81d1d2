// What a multi-host lockstep run's partitions accept from each other: only the fabric's frames (a host's NIC to the switch, the switch to a NIC), within every host's decoder limits.
import { roleOf } from '@splitnet/model';
import type { Message } from '@splitnet/model';
import { decoderLimitsFor } from '@splitnet/controller';
import type { CompiledScenario } from '@splitnet/scenario';
import type { DecoderLimits } from '@splitnet/transport';

/**
 * Per host, partitions meet only on the fabric: an uplink from host i's NIC (to its own switch port i) and a downlink
 * from the switch to a NIC. A reason to refuse message `m` from `from` to `to`, or undefined.
 */
export function fabricSenderRule(from: string, to: string, m: Message): string | undefined {
  if (m.kind === 'uplink' && roleOf(from) === 'nic' && to === 'switch') {
    return from === `h${m.port}.nic` ? undefined : `an uplink to switch port ${m.port} from ${from}, which is not that port's NIC`;
  }
  if (m.kind === 'downlink' && from === 'switch' && roleOf(to) === 'nic') return undefined;
  return `a ${m.kind} from ${from} to ${to}: a multi-host run's partitions exchange only the fabric's uplinks and downlinks`;
}

/** The decoder's limits of a run: one host's, or in a multi-host run the largest of its hosts' (a frame carries its sending host's flow ids). */
export function fabricDecoderLimits(s: CompiledScenario): DecoderLimits {
  const hosts = s.cluster?.hosts ?? [s];
  const each = hosts.map(decoderLimitsFor);
  return { flows: Math.max(...each.map((l) => l.flows)), maxBatch: Math.max(...each.map((l) => l.maxBatch)) };
}
