// The transmit path's bus accounting of a live run: the frames guests sent that are still between processes, and those lost in processes that died.
import { roleOf } from '@splitnet/model';
import type { ActorReport } from '@splitnet/model';
import { combine } from '@splitnet/results';
import type { TxRestartDropReason } from '@splitnet/results';
import type { HostFinal } from './live-host.js';

export interface TxBusAccount {
  /** Frames on the bus between processes that never died, or received and due after the end. */
  readonly onBus: number;
  /** Frames that went into the restarted processes and neither came out nor are known to their counters. */
  readonly lost: number;
  /** Why they are lost: a restarted guest's or driver domain's went with it; a restarted netback's were on rings netfront re-created. */
  readonly reason: TxRestartDropReason;
  /** How `lost` was inferred: frames into the restarted processes, out of them, and known to their counters. */
  readonly box: { readonly into: number; readonly out: number; readonly known: number };
  /**
   * Frames a restarted guest's closed-loop ends sent after its dead incarnation's last sample that came out of the box
   * (the survivors took them): no counter of the guest's knows them, since its successor does not replay its TCP ends'
   * sends as it replays its open-loop generators' (NetfrontTx.reconnect). They count as sent. 0 without such a guest.
   */
  readonly sentUnsampled: number;
}

/**
 * As busAccount does for the receive path: the restarted processes' actors (`restarted`, by id) are one box whose
 * flows are taken from the survivors' side. Frames sent toward it, or sent by a guest in it, that neither came out
 * of it nor are known to its counters (continued from the dead incarnations' last samples: held, dropped, on the
 * wire, handed to a guest, or received and due after the end) were lost in a crash: what its actors took between
 * their last sample and the crash, and what reached them while they were down. Without restarts, every frame sent
 * and not taken is on the bus. (A frame a restarted process's last incarnation sent that was not taken by the end
 * counts as lost, not on the bus: the dead incarnations' send counters died with them, so the box's are not known.)
 */
export function txBusAccount(
  finals: ReadonlyMap<string, HostFinal>,
  finalReports: ReadonlyMap<string, readonly ActorReport[]>,
  restarted: ReadonlySet<string>,
  duration: number,
): TxBusAccount {
  let onBus = 0;
  let intoR = 0;
  let outOfR = 0;
  let knownInR = 0;
  let closedLoopGuest = false;
  for (const [name, f] of finals) {
    const inR = name.split('+').some((id) => restarted.has(id));
    // Received and due after the end: in flight, wherever it is (and so not lost in a restarted process).
    onBus += f.txPending ?? 0;
    if (inR) {
      knownInR += f.txPending ?? 0;
      const tx = combine(finalReports.get(name) ?? [], duration).tx;
      if (tx === null) continue;
      closedLoopGuest ||= (finalReports.get(name) ?? []).some((r) => r.role === 'frontend' && r.closedLoop !== undefined);
      intoR += tx.sent;
      knownInR += tx.onWire + tx.toGuests + tx.held.guestQdiscs + tx.held.txRings + tx.held.nicTxQueues;
      for (const v of Object.values(tx.drops)) knownInR += v ?? 0;
      continue;
    }
    for (const [to, v] of Object.entries(f.txSentTo ?? {})) {
      if (restarted.has(to)) intoR += v;
      else onBus += v;
    }
    for (const [from, v] of Object.entries(f.txReceivedFrom ?? {})) {
      if (restarted.has(from)) outOfR += v;
      else onBus -= v;
    }
  }
  // A guest's frames, and a driver domain's (the NIC's TX queues, frames on their way to it), go with it; only netback
  // workers restarted alone leave their frames on rings netfront re-creates.
  const crashed = [...restarted].some((id) => /(^|\.)(vm\.\d+|nic|backend)$/.test(id));
  const lost = restarted.size > 0 ? intoR - outOfR - knownInR : 0;
  // A restarted guest's TCP ends sent frames its counters never sampled: more came out of the box than went in or is
  // known. Those frames were sent; what else the box lost cannot be told apart from them (both happened between the
  // last sample and the crash), so the box lost none [a lower bound, as for what a crash loses on the receive path].
  const sentUnsampled = closedLoopGuest && lost < 0 ? -lost : 0;
  return {
    onBus,
    lost: lost + sentUnsampled,
    reason: crashed ? 'lost-in-crash' : 'release-tx-bufs',
    box: { into: intoR, out: outOfR, known: knownInR },
    sentUnsampled,
  };
}

/** What withBridgeHandoffs did: the restarted bridge, its handoffs as its reports had them, and as its receivers took them. */
export interface BridgeHandoffs {
  readonly bridge: string;
  readonly reported: number;
  readonly taken: number;
  /**
   * Of the handoffs, those to netback workers restarted too (in the driver domain's process with one process per Xen
   * domain, or in their own): no receiver that survived counted them, so they are inferred (handoffsToBox). Absent
   * when no worker restarted.
   */
  readonly inferred?: number;
}

/** The frames the restarted processes lost as each accounting infers them, for given final reports (collect.ts: busAccount, txBusAccount). */
export type BoxLosses = (reports: ReadonlyMap<string, readonly ActorReport[]>) => { readonly rx: number; readonly tx: number };

/**
 * The final reports with a restarted bridge's guest-to-guest handoffs (its `tx.toGuests`, which both accountings read:
 * the transmit path's frames handed to guests, the receive path's frames entering it at the bridge) taken from its
 * receivers (HostFinal.guestFramesFrom). Its own count, continued from its dead incarnations' last samples, misses what
 * they handed over after them; the netback workers that took those frames and never died counted them whole. A frame
 * a dead incarnation counted but never sent (its process died first) is then not handed over: lost in the crash on
 * the transmit path, never on the receive path. The handoffs to netback workers that restarted too (every worker, with
 * one process per Xen domain) are inferred (handoffsToBox): `losses` gives what each accounting then finds lost in the
 * restarted processes. Left as they are when no bridge restarted, or when a worker restarted too and no guest sends to
 * another (`losses` undefined: there is nothing to infer, and a negative loss elsewhere is not to be hidden as handoffs).
 */
export function withBridgeHandoffs(
  finals: ReadonlyMap<string, HostFinal>,
  finalReports: ReadonlyMap<string, readonly ActorReport[]>,
  restarted: ReadonlySet<string>,
  losses: BoxLosses | undefined,
): { reports: ReadonlyMap<string, readonly ActorReport[]>; handoffs?: BridgeHandoffs } {
  const ids = [...restarted];
  const bridge = ids.find((id) => roleOf(id) === 'backend');
  if (bridge === undefined) return { reports: finalReports };
  let frames = 0;
  let bytes = 0;
  for (const [name, f] of finals) {
    if (name.split('+').some((id) => restarted.has(id))) continue;
    const g = f.guestFramesFrom?.[bridge];
    frames += g?.frames ?? 0;
    bytes += g?.bytes ?? 0;
  }
  let reported = 0;
  let reportedBytes = 0;
  for (const [name, reports] of finalReports) {
    if (!name.split('+').includes(bridge)) continue;
    for (const r of reports) {
      if (r.role !== 'backend' || r.id !== bridge || r.tx === undefined) continue;
      reported += r.tx.toGuests ?? 0;
      reportedBytes += r.tx.toGuestsBytes ?? 0;
    }
  }
  const withCount = (n: number, b: number): ReadonlyMap<string, readonly ActorReport[]> => {
    const out = new Map(finalReports);
    for (const [name, reports] of finalReports) {
      if (!name.split('+').includes(bridge)) continue;
      out.set(
        name,
        reports.map((r) => (r.role !== 'backend' || r.id !== bridge || r.tx === undefined ? r : { ...r, tx: { ...r.tx, toGuests: n, toGuestsBytes: b } })),
      );
    }
    return out;
  };
  if (!ids.some((id) => roleOf(id) === 'worker')) return { reports: withCount(frames, bytes), handoffs: { bridge, reported, taken: frames } };
  if (losses === undefined) return { reports: finalReports };
  const taken = withCount(frames, bytes);
  const inferred = handoffsToBox(reported - frames, losses(taken));
  const size = reported > 0 ? reportedBytes / reported : frames > 0 ? bytes / frames : 0;
  return {
    reports: inferred === 0 ? taken : withCount(frames + inferred, bytes + Math.round(inferred * size)),
    handoffs: { bridge, reported, taken: frames, inferred },
  };
}

/**
 * How many frames a restarted bridge handed to netback workers restarted too, given its own count of its handoffs less
 * what the surviving receivers took (`sampled`: up to its dead incarnations' last samples, and its last one's whole)
 * and what each accounting finds lost in the restarted processes without them (`lost`). Such a handoff leaves the
 * transmit path and enters the receive path inside the box, so each one moves a frame of the box's loss from the
 * transmit side to the receive side; the count must leave neither negative. At least the frames the receive path saw
 * come out of the box that nothing else explains (−lost.rx: those handed over after a dead bridge's last sample and
 * delivered), at most those the transmit path finds missing in it (lost.tx); within those, the bridge's own count. The
 * frames a dead incarnation handed over after its last sample and that were lost with it are then the transmit path's
 * `lost-in-crash`, not the receive path's: the same loss, on the side before the handoff [a lower bound of the
 * handoffs, as the box's other inferences are].
 */
export function handoffsToBox(sampled: number, lost: { readonly rx: number; readonly tx: number }): number {
  const lo = Math.max(0, -lost.rx);
  const hi = Math.max(lo, lost.tx);
  return Math.min(hi, Math.max(lo, sampled));
}
