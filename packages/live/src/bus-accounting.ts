// Bus accounting of a live run: what was on the bus or pending at the end, what a crashed process lost, and the hosts' lag and wire figures combined.
import { LatencyHistogram } from '@splitnet/model';
import type { ActorReport } from '@splitnet/model';
import { combine } from '@splitnet/results';
import type { HostFinal, LinkCounts } from './live-host.js';

/** The hosts' final accounts combined (bus-accounting.ts). */
export interface BusAccount {
  /** Packets in messages that reached a host but were due after the end. */
  readonly pending: number;
  /** Packets sent on links between processes that never died and neither received nor refused: still on the bus. */
  readonly onBus: number;
  /** The same per receiving actor id (a multi-host run's per-host accounting). */
  readonly onBusTo: Readonly<Record<string, number>>;
  /** Packets a receiver refused that their sender really sent it (on links between processes that never died): dropped as `rejected`. */
  readonly rejected: number;
  /** Links on which the receiver accepted more packets than the sender sent it: forged packets got in. */
  readonly forged: readonly { readonly from: string; readonly to: string; readonly packets: number }[];
  /** Links whose receiver found sequence numbers missing (lost on the bus, or refused). */
  readonly gapped: readonly { readonly from: string; readonly to: string; readonly gaps: number }[];
  /** Packets inferred lost in crashed processes (the restarted processes' box; see busAccount). */
  readonly inferredLost: number;
  /**
   * Frames a restarted NIC's far ends (closed-loop flows) put on its wire after its dead incarnation's last sample that
   * came out of the box (the survivors took them): no counter knows them, as the successor replays only the wire's
   * open-loop frames (NicActor.reconnect). They count as emitted. 0 without such a NIC.
   */
  readonly emittedUnsampled: number;
  readonly rejectedMessages: Record<string, number>;
  readonly gaps: number;
  readonly lastRejection: string;
  /** The first refusal of each kind over every host, one line each. */
  readonly rejections: Readonly<Record<string, string>>;
  /** Control messages the actor processes refused, and the first reason. */
  readonly controlRefused: number;
  readonly controlRefusal: string;
  /** Processes whose NATS connection was lost during the run (messages may have been lost with it). */
  readonly disconnected: readonly string[];
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
 *
 * Between processes that never died, each link (one actor to another) is counted on its own: what the sender
 * sent and the receiver neither accepted nor refused is on the bus; what the receiver refused counts as
 * `rejected` up to what the sender really sent and was not accepted (a forger's refused packets were never
 * emitted: they count nowhere); a receiver that accepted more than was sent took forged packets (`forged`).
 */
export function busAccount(
  finals: ReadonlyMap<string, HostFinal>,
  finalReports: ReadonlyMap<string, readonly ActorReport[]>,
  restarted: ReadonlySet<string>,
  duration: number,
): BusAccount {
  let pending = 0;
  let onBus = 0;
  const onBusTo: Record<string, number> = {};
  let rejected = 0;
  const forged: { from: string; to: string; packets: number }[] = [];
  const gapped: { from: string; to: string; gaps: number }[] = [];
  const links = new Map<string, LinkCounts>();
  for (const f of finals.values()) {
    for (const [key, c] of Object.entries(f.links ?? {})) {
      const l = links.get(key) ?? {};
      links.set(key, { ...l, ...c });
    }
  }
  for (const [key, c] of links) {
    const [from = '', to = ''] = key.split('>');
    if ((c.gaps ?? 0) > 0) gapped.push({ from, to, gaps: c.gaps ?? 0 });
    // A restarted actor's links are the box's (below): its counters died with its incarnations.
    if (restarted.has(from) || restarted.has(to)) continue;
    const notTaken = (c.sent ?? 0) - (c.received ?? 0);
    if (notTaken < 0) forged.push({ from, to, packets: -notTaken });
    const refused = Math.min(c.rejected ?? 0, Math.max(0, notTaken));
    rejected += refused;
    onBus += Math.max(0, notTaken) - refused;
    onBusTo[to] = (onBusTo[to] ?? 0) + Math.max(0, notTaken) - refused;
  }
  let intoR = 0;
  let outOfR = 0;
  let knownInR = 0;
  let farNic = false;
  for (const [name, f] of finals) {
    const inR = name.split('+').some((id) => restarted.has(id));
    for (const [to, v] of Object.entries(f.sentTo)) if (restarted.has(to) && !inR) intoR += v;
    for (const [from, v] of Object.entries(f.receivedFrom)) if (restarted.has(from) && !inR) outOfR += v;
    pending += f.pendingPackets;
    if (inR) {
      knownInR += f.pendingPackets;
      const part = combine(finalReports.get(name) ?? [], duration);
      farNic ||= (finalReports.get(name) ?? []).some((r) => r.role === 'nic' && r.closedLoop !== undefined);
      intoR += part.emitted;
      knownInR += part.delivered + part.heldIn.nicRings + part.heldIn.workerBacklogs + part.heldIn.guestRings;
      for (const v of Object.values(part.drops)) knownInR += v;
    }
  }
  const disconnected = [...finals].filter(([, f]) => (f.disconnects ?? 0) > 0).map(([name]) => name);
  const lost = restarted.size > 0 ? intoR - outOfR - knownInR : 0;
  // A restarted NIC's far ends sent frames its counters never sampled: more came out of the box than went in or is
  // known. Those frames were emitted; what else the box lost cannot be told apart from them (both happened between the
  // last sample and the crash), so the box lost none [a lower bound, as txBusAccount's sentUnsampled].
  const emittedUnsampled = farNic && lost < 0 ? -lost : 0;
  return {
    pending,
    onBus,
    onBusTo,
    rejected,
    forged,
    gapped,
    disconnected,
    inferredLost: lost + emittedUnsampled,
    emittedUnsampled,
    ...hostFigures([...finals.values()]),
  };
}

/** The hosts' wire rejects, lag and lateness histograms and counters, combined. */
function hostFigures(
  finals: readonly HostFinal[],
): Omit<BusAccount, 'pending' | 'onBus' | 'onBusTo' | 'inferredLost' | 'emittedUnsampled' | 'rejected' | 'forged' | 'gapped' | 'disconnected'> {
  const rejected: Record<string, number> = {};
  const rejections: Record<string, string> = {};
  let gaps = 0;
  let lastRejection = '';
  let controlRefused = 0;
  let controlRefusal = '';
  const lag = new LatencyHistogram();
  const lagEarly = new LatencyHistogram();
  const lagLate = new LatencyHistogram();
  const lateness = new LatencyHistogram();
  for (const f of finals) {
    for (const [k, v] of Object.entries(f.rejected)) rejected[k] = (rejected[k] ?? 0) + v;
    gaps += f.gaps;
    if (f.lastRejection) lastRejection = f.lastRejection;
    for (const [k, line] of Object.entries(f.rejections ?? {})) rejections[k] ??= line;
    controlRefused += f.controlRefused ?? 0;
    if (controlRefusal === '' && f.controlRefusal) controlRefusal = f.controlRefusal;
    lag.merge(LatencyHistogram.fromJSON(f.processingLag));
    if (f.processingLagEarly) lagEarly.merge(LatencyHistogram.fromJSON(f.processingLagEarly));
    if (f.processingLagLate) lagLate.merge(LatencyHistogram.fromJSON(f.processingLagLate));
    lateness.merge(LatencyHistogram.fromJSON(f.inputLateness));
  }
  return {
    rejectedMessages: rejected,
    rejections,
    controlRefused,
    controlRefusal,
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
