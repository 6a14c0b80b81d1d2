// The transmit path's figures (guests that send): combined from the actors' reports, its accounting invariant, and its summary block.
import type { ActorReport, Nanos } from '@splitnet/model';

/** Why a frame a guest sent was dropped. */
export type TxDropReason = 'guest-qdisc-overlimit' | 'vif-disabled' | 'nic-tx-queue-full' | 'link-down';
export const TX_DROP_REASONS: readonly TxDropReason[] = ['guest-qdisc-overlimit', 'vif-disabled', 'nic-tx-queue-full', 'link-down'];

/**
 * Why a frame a guest sent was lost to a process restart (kill, restart, crash-loop beside a guest that sends):
 * `release-tx-bufs`, on a TX ring netback had not taken when netfront re-created the ring after netback restarted
 * (netfront frees them in xennet_release_tx_bufs); `lost-in-crash`, held by a guest or a driver domain that died, or
 * sent to one while it was down; or to a partition: `link-drop`, in a message it dropped (netfront's `txreq` to
 * netback, netback's `xmit` to the bridge). Present in the drops only when some frame was lost so (results of runs
 * without such faults keep their shape).
 */
export type TxRestartDropReason = 'release-tx-bufs' | 'lost-in-crash' | 'link-drop';
export const TX_RESTART_DROP_REASONS: readonly TxRestartDropReason[] = ['release-tx-bufs', 'lost-in-crash', 'link-drop'];

/**
 * The transmit path's drops: every TxDropReason, and a TxRestartDropReason only once it counted a frame.
 * `lost-in-transport` only in a live run whose NATS bus went down (a nats-restart fault, an outage): frames the bus
 * lost between two actors' processes after the guest sent them — the emulator's loss, not the model's (a run without
 * an outage keeps the results' shape).
 */
export type TxDrops = Readonly<Record<TxDropReason, number>> &
  Readonly<Partial<Record<TxRestartDropReason, number>>> & { readonly 'lost-in-transport'?: number };

/** Every dropped frame: the reasons, and the optional ones when present. */
function dropTotal(d: TxDrops): number {
  let n = d['lost-in-transport'] ?? 0;
  for (const reason of TX_DROP_REASONS) n += d[reason];
  for (const reason of TX_RESTART_DROP_REASONS) n += d[reason] ?? 0;
  return n;
}


/** Cumulative transmit-path counters of the whole datapath at an instant. */
export interface TxSnapshot {
  readonly sent: number;
  readonly sentBytes: number;
  readonly onWire: number;
  readonly onWireBytes: number;
  /** Frames (and bytes) the bridge forwarded to another guest on the host: from there on the receive path's. */
  readonly toGuests: number;
  readonly toGuestsBytes: number;
  readonly drops: TxDrops;
  /** Frames held now, by where. */
  readonly held: { readonly guestQdiscs: number; readonly txRings: number; readonly nicTxQueues: number };
  readonly guestNotifies: number;
  readonly netbackNotifies: number;
  readonly virqs: number;
  readonly nicIrqs: number;
  readonly responses: number;
  readonly deallocResponses: number;
  readonly polls: number;
  readonly creditWaits: number;
  readonly latencySum: number;
  /** TX notifications faults lost or held back (both directions). */
  readonly notificationsLost: number;
  readonly notificationsDelayed: number;
  /** Messages of a TX ring a restart re-created that their receiver ignored (TxReport.staleMessages). */
  readonly staleMessages: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The transmit-path counters of reports taken at one instant, or null when no actor has a transmit side. */
export function combineTx(reports: readonly ActorReport[]): TxSnapshot | null {
  if (!reports.some((r) => r.role !== 'switch' && r.tx !== undefined)) return null;
  const s: Mutable<Omit<TxSnapshot, 'drops' | 'held'>> = {
    sent: 0,
    sentBytes: 0,
    onWire: 0,
    onWireBytes: 0,
    toGuests: 0,
    toGuestsBytes: 0,
    guestNotifies: 0,
    netbackNotifies: 0,
    virqs: 0,
    nicIrqs: 0,
    responses: 0,
    deallocResponses: 0,
    polls: 0,
    creditWaits: 0,
    latencySum: 0,
    notificationsLost: 0,
    notificationsDelayed: 0,
    staleMessages: 0,
  };
  const drops: Record<TxDropReason, number> & Partial<Record<TxRestartDropReason, number>> = {
    'guest-qdisc-overlimit': 0,
    'vif-disabled': 0,
    'nic-tx-queue-full': 0,
    'link-down': 0,
  };
  const held = { guestQdiscs: 0, txRings: 0, nicTxQueues: 0 };
  for (const r of reports) {
    const t = r.role === 'switch' ? undefined : r.tx;
    if (t === undefined) continue;
    for (const reason of TX_DROP_REASONS) drops[reason] += t.drops?.[reason] ?? 0;
    for (const reason of TX_RESTART_DROP_REASONS) {
      const n = t.drops?.[reason] ?? 0;
      if (n !== 0) drops[reason] = (drops[reason] ?? 0) + n;
    }
    s.sent += t.sent ?? 0;
    s.sentBytes += t.sentBytes ?? 0;
    s.onWire += t.onWire ?? 0;
    s.onWireBytes += t.onWireBytes ?? 0;
    s.toGuests += t.toGuests ?? 0;
    s.toGuestsBytes += t.toGuestsBytes ?? 0;
    s.virqs += t.virqs ?? 0;
    s.nicIrqs += t.irqs ?? 0;
    s.responses += t.responses ?? 0;
    s.deallocResponses += t.deallocResponses ?? 0;
    s.polls += t.polls ?? 0;
    s.creditWaits += t.creditWaits ?? 0;
    s.latencySum += t.latencySum ?? 0;
    s.notificationsLost += t.notificationsLost ?? 0;
    s.notificationsDelayed += t.notificationsDelayed ?? 0;
    s.staleMessages += t.staleMessages ?? 0;
    if (r.role === 'frontend') {
      held.guestQdiscs += t.held;
      s.guestNotifies += t.notifies ?? 0;
    } else if (r.role === 'worker') {
      held.txRings += t.held;
      s.netbackNotifies += t.notifies ?? 0;
    } else if (r.role === 'nic') held.nicTxQueues += t.held;
  }
  return { ...s, drops, held };
}

/**
 * Every frame a guest sent is on the wire, handed to another guest's receive path by the bridge (which accounts
 * for it from there), dropped with a reason, or in flight (held by an actor or in a message).
 */
export interface TxAccounting {
  readonly sent: number;
  readonly onWire: number;
  readonly toGuests: number;
  readonly dropped: TxDrops;
  readonly inFlight: { readonly guestQdiscs: number; readonly txRings: number; readonly links: number; readonly nicTxQueues: number };
  /** sent − on the wire − to guests − dropped − in flight: must be 0. */
  readonly unaccounted: number;
  readonly balanced: boolean;
}

export function txBalance(s: TxSnapshot, onLinks: number): TxAccounting {
  const inFlight = { ...s.held, links: onLinks };
  const out = s.onWire + s.toGuests + inFlight.guestQdiscs + inFlight.txRings + inFlight.links + inFlight.nicTxQueues + dropTotal(s.drops);
  const unaccounted = s.sent - out;
  const negative = [...Object.values(s.drops), ...Object.values(inFlight)].some((v) => v < 0);
  return { sent: s.sent, onWire: s.onWire, toGuests: s.toGuests, dropped: s.drops, inFlight, unaccounted, balanced: unaccounted === 0 && !negative };
}

/** The transmit side of a run's summary, over the measured window (a, b]. */
export interface TxSummary {
  readonly sentGbps: number;
  readonly sentPps: number;
  readonly onWireGbps: number;
  readonly onWirePps: number;
  /** Forwarded by the bridge to other guests on the host (their receive side shows what they got). */
  readonly toGuestsGbps: number;
  readonly toGuestsPps: number;
  /** Mean time from the application's send to the frame's last bit on the wire (frames on the wire in the window). */
  readonly meanLatencyUs: number;
  readonly interrupts: { readonly virqPerSec: number; readonly nicIrqPerSec: number };
  readonly notifications: { readonly guestPerSec: number; readonly netbackPerSec: number };
  readonly netback: {
    readonly pollsPerSec: number;
    readonly responsesPerSec: number;
    /** Share of TX responses sent by the dealloc after the frame was transmitted (grant-mapped slots). */
    readonly deallocShare: number;
    readonly creditWaitsPerSec: number;
  };
  readonly drops: TxDrops & { readonly total: number };
  readonly accounting: TxAccounting;
  /** Only in a run whose faults touched TX notifications: how many they lost and held back in the whole run. */
  readonly faults?: { readonly notificationsLost: number; readonly notificationsDelayed: number };
  /**
   * Only in a run where a restart re-created a TX ring and some of its old messages came after (docs/faults.md): how
   * many the receivers ignored in the whole run (old TX responses, ring writes, deallocs).
   */
  readonly staleMessages?: number;
}

/** Round to 6 significant digits (as the rest of the summary). */
function sig(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  return Number(x.toPrecision(6));
}

export function summarizeTx(a: TxSnapshot, b: TxSnapshot, t: { readonly a: Nanos; readonly b: Nanos }, acc: TxAccounting): TxSummary {
  const dt = (t.b - t.a) / 1e9;
  const rate = (x: number) => sig(x / dt);
  const gbps = (bytes: number) => sig((bytes * 8) / dt / 1e9);
  const onWire = b.onWire - a.onWire;
  const responses = b.responses - a.responses;
  const total = dropTotal(b.drops);
  return {
    sentGbps: gbps(b.sentBytes - a.sentBytes),
    sentPps: rate(b.sent - a.sent),
    onWireGbps: gbps(b.onWireBytes - a.onWireBytes),
    onWirePps: rate(onWire),
    toGuestsGbps: gbps(b.toGuestsBytes - a.toGuestsBytes),
    toGuestsPps: rate(b.toGuests - a.toGuests),
    meanLatencyUs: onWire > 0 ? sig((b.latencySum - a.latencySum) / onWire / 1000) : 0,
    interrupts: { virqPerSec: rate(b.virqs - a.virqs), nicIrqPerSec: rate(b.nicIrqs - a.nicIrqs) },
    notifications: { guestPerSec: rate(b.guestNotifies - a.guestNotifies), netbackPerSec: rate(b.netbackNotifies - a.netbackNotifies) },
    netback: {
      pollsPerSec: rate(b.polls - a.polls),
      responsesPerSec: rate(responses),
      deallocShare: responses > 0 ? sig((b.deallocResponses - a.deallocResponses) / responses) : 0,
      creditWaitsPerSec: rate(b.creditWaits - a.creditWaits),
    },
    drops: { ...b.drops, total },
    accounting: acc,
    ...(b.notificationsLost + b.notificationsDelayed > 0
      ? { faults: { notificationsLost: b.notificationsLost, notificationsDelayed: b.notificationsDelayed } }
      : {}),
    ...(b.staleMessages > 0 ? { staleMessages: b.staleMessages } : {}),
  };
}
