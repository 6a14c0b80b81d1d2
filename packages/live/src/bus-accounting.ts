// Bus accounting of a live run: what was on the bus or pending at the end, what a crashed process lost, and the hosts' lag and wire figures combined.
import { LatencyHistogram } from '@splitnet/model';
import type { ActorReport } from '@splitnet/model';
import { combine } from '@splitnet/results';
import type { HostFinal } from './live-host.js';

/** The hosts' final accounts combined (bus-accounting.ts). */
export interface BusAccount {
  /** Packets in messages that reached a host but were due after the end. */
  readonly pending: number;
  /** Packets sent on links between processes that never died and not received: still on the bus. */
  readonly onBus: number;
  /** Packets inferred lost in crashed processes (the restarted processes' box; see busAccount). */
  readonly inferredLost: number;
  readonly rejected: Record<string, number>;
  readonly gaps: number;
  readonly lastRejection: string;
  readonly lag: LatencyHistogram;
  readonly lagEarly: LatencyHistogram;
  readonly lagLate: LatencyHistogram;
  readonly lateness: LatencyHistogram;
  /** Packets in messages a message-path fault dropped at the hosts' send paths. */
  readonly linkDropped: number;
  readonly eventsProcessed: number;
}

/**
 * Every host reports the packets it sent to and received from each peer. On a link between two
 * processes that never died, sent − received is still on the bus. A process that died took its link
 * counters with it, so the actors of restarted processes (`restarted`, by actor id) are one box whose
 * flows are taken from the survivors' side: what was sent toward it or emitted in it (a NIC), and neither
 * came out of it nor is known to its counters — delivered, dropped, held or pending, the counters
 * continued from the dead incarnations' last samples — was lost in the crash. That is what its actors did
 * between their last sample and the crash, and what reached them while down.
 */
export function busAccount(
  finals: ReadonlyMap<string, HostFinal>,
  finalReports: ReadonlyMap<string, readonly ActorReport[]>,
  restarted: ReadonlySet<string>,
  duration: number,
): BusAccount {
  let pending = 0;
  let onBus = 0;
  let intoR = 0;
  let outOfR = 0;
  let knownInR = 0;
  for (const [name, f] of finals) {
    const inR = name.split('+').some((id) => restarted.has(id));
    for (const [to, v] of Object.entries(f.sentTo)) {
      if (restarted.has(to) && !inR) intoR += v;
      else if (!inR && !restarted.has(to)) onBus += v;
    }
    for (const [from, v] of Object.entries(f.receivedFrom)) {
      if (restarted.has(from) && !inR) outOfR += v;
      else if (!inR && !restarted.has(from)) onBus -= v;
    }
    pending += f.pendingPackets;
    if (inR) {
      knownInR += f.pendingPackets;
      const part = combine(finalReports.get(name) ?? [], duration);
      intoR += part.emitted;
      knownInR += part.delivered + part.heldIn.nicRings + part.heldIn.workerBacklogs + part.heldIn.guestRings;
      for (const v of Object.values(part.drops)) knownInR += v;
    }
  }
  return { pending, onBus, inferredLost: restarted.size > 0 ? intoR - outOfR - knownInR : 0, ...hostFigures([...finals.values()]) };
}

/** The hosts' wire rejects, lag and lateness histograms and counters, combined. */
function hostFigures(finals: readonly HostFinal[]): Omit<BusAccount, 'pending' | 'onBus' | 'inferredLost'> {
  const rejected: Record<string, number> = {};
  let gaps = 0;
  let lastRejection = '';
  const lag = new LatencyHistogram();
  const lagEarly = new LatencyHistogram();
  const lagLate = new LatencyHistogram();
  const lateness = new LatencyHistogram();
  for (const f of finals) {
    for (const [k, v] of Object.entries(f.rejected)) rejected[k] = (rejected[k] ?? 0) + v;
    gaps += f.gaps;
    if (f.lastRejection) lastRejection = f.lastRejection;
    lag.merge(LatencyHistogram.fromJSON(f.processingLag));
    if (f.processingLagEarly) lagEarly.merge(LatencyHistogram.fromJSON(f.processingLagEarly));
    if (f.processingLagLate) lagLate.merge(LatencyHistogram.fromJSON(f.processingLagLate));
    lateness.merge(LatencyHistogram.fromJSON(f.inputLateness));
  }
  return {
    rejected,
    gaps,
    lastRejection,
    lag,
    lagEarly,
    lagLate,
    lateness,
    linkDropped: finals.reduce((n, f) => n + (f.linkDropped ?? 0), 0),
    eventsProcessed: finals.reduce((n, f) => n + f.eventsProcessed, 0),
  };
}
