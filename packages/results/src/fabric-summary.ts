// The fabric of a multi-host run: the NICs' and the switch's counters combined, its accounting invariant, and its summary per switch port.
import type { ActorReport, Nanos, SwitchPortReport, SwitchSourceReport } from '@splitnet/model';
import type { FabricPortSpec, FabricSourceSpec } from '@splitnet/scenario';
import { sig } from './sig.js';

/** Why the fabric dropped a frame (at a switch port). */
export const FABRIC_DROP_REASONS = ['switch-queue-full', 'switch-port-down', 'switch-port-loss', 'switch-no-route'] as const;
export type FabricDropReason = (typeof FABRIC_DROP_REASONS)[number];

/** The fabric's counters at one instant. */
export interface FabricSnapshot {
  readonly t: Nanos;
  /** Frames the NICs and the external sources put on their cables to the switch, and those of them still on the cables. */
  readonly out: number;
  readonly outBytes: number;
  readonly upOnLink: number;
  /** Frames that reached a NIC from the switch. */
  readonly in: number;
  readonly inBytes: number;
  readonly ports: readonly SwitchPortReport[];
  /** External traffic sources on ports of their own (empty: none). */
  readonly sources: readonly SwitchSourceReport[];
  /** Frames that reached a paused host's NIC and wait for it to resume (the runtime holds them). */
  readonly waiting: number;
}

/** The fabric's reports (the NICs' fabric sides and the switch's) combined, or null: no fabric. */
export function combineFabric(reports: readonly ActorReport[], t: Nanos, waiting = 0): FabricSnapshot | null {
  let out = 0;
  let outBytes = 0;
  let upOnLink = 0;
  let inFrames = 0;
  let inBytes = 0;
  let ports: readonly SwitchPortReport[] | null = null;
  let sources: readonly SwitchSourceReport[] = [];
  for (const r of reports) {
    if (r.role === 'switch') {
      ports = r.ports;
      sources = r.sources ?? [];
      for (const src of sources) {
        out += src.sent;
        outBytes += src.sentBytes;
        upOnLink += src.onLink;
      }
    }
    else if (r.role === 'nic' && r.fabric !== undefined) {
      out += r.fabric.out;
      outBytes += r.fabric.outBytes;
      upOnLink += r.fabric.onLink;
      inFrames += r.fabric.in;
      inBytes += r.fabric.inBytes;
    }
  }
  return ports === null ? null : { t, out, outBytes, upOnLink, in: inFrames, inBytes, ports, sources, waiting };
}

/** Every frame put on the fabric reached a NIC, was dropped at a switch port with a reason, or is still on it. */
export interface FabricAccounting {
  /** Frames the NICs and the external sources put on their cables to the switch. */
  readonly sent: number;
  /** Frames that reached a NIC from the switch. */
  readonly delivered: number;
  readonly dropped: Readonly<Record<FabricDropReason, number>>;
  readonly inFlight: {
    /** On the cables from the NICs and the external sources to the switch. */
    readonly uplinks: number;
    /** In the switch's output queues (waiting or being serialized). */
    readonly switchQueues: number;
    /** On the cables from the switch to the NICs. */
    readonly downlinks: number;
    /** Arrived at a paused host's NIC, waiting for it to resume. */
    readonly pausedHosts: number;
  };
  /** sent − delivered − dropped − in flight: must be 0. */
  readonly unaccounted: number;
  /** It is 0, and the switch's own count of frames in agrees with the NICs' count of frames out. */
  readonly balanced: boolean;
}

export function fabricBalance(f: FabricSnapshot): FabricAccounting {
  const dropped = Object.fromEntries(FABRIC_DROP_REASONS.map((r) => [r, 0])) as Record<FabricDropReason, number>;
  let received = 0;
  let queued = 0;
  let downOnLink = 0;
  for (const src of f.sources) {
    received += src.received;
    for (const r of FABRIC_DROP_REASONS) dropped[r] += src.drops?.[r] ?? 0;
  }
  for (const p of f.ports) {
    received += p.received;
    queued += p.queued;
    downOnLink += p.onLink;
    for (const r of FABRIC_DROP_REASONS) dropped[r] += p.drops[r] ?? 0;
  }
  let dropSum = 0;
  for (const r of FABRIC_DROP_REASONS) dropSum += dropped[r];
  const inFlight = { uplinks: f.upOnLink, switchQueues: queued, downlinks: downOnLink, pausedHosts: f.waiting };
  const unaccounted = f.out - f.in - dropSum - f.upOnLink - queued - downOnLink - f.waiting;
  // Two independent counts of the cables to the switch: the senders' (by each frame's arrival time) and the switch's (frames received).
  const upAgrees = f.out - f.upOnLink === received;
  return { sent: f.out, delivered: f.in, dropped, inFlight, unaccounted, balanced: unaccounted === 0 && upAgrees };
}

/** One switch port (toward host h<port>) over the run. */
export interface FabricPortSummary {
  readonly port: number;
  /** The host on the port. */
  readonly host: string;
  readonly linkGbps: number;
  readonly queueBytes: number;
  readonly delayUs: number;
  /** Frames that came in on the port, were queued for output on it, left it (whole run). */
  readonly received: number;
  readonly enqueued: number;
  readonly forwarded: number;
  /** What left the port over the measured window. */
  readonly forwardedGbps: number;
  /** The most bytes its output queue held at once (whole run). */
  readonly peakQueueBytes: number;
  readonly drops: Readonly<Record<FabricDropReason, number>> & { readonly total: number };
}

/** An external traffic source on a switch port of its own, over the run. */
export interface FabricSourceSummary {
  readonly port: number;
  readonly name: string;
  /** The host whose port its frames are queued at. */
  readonly to: string;
  readonly linkGbps: number;
  readonly delayUs: number;
  /** Frames it sent and that reached the switch (whole run). */
  readonly sent: number;
  readonly received: number;
  /** What it sent over the measured window. */
  readonly sentGbps: number;
  /** Frames dropped at its port as they reached the switch (whole run), when a fault acted on the port (absent: none did). */
  readonly drops?: Readonly<Record<FabricDropReason, number>> & { readonly total: number };
}

export interface FabricSummary {
  readonly ports: readonly FabricPortSummary[];
  /** External sources (absent: none). */
  readonly sources?: readonly FabricSourceSummary[];
  readonly drops: Readonly<Record<FabricDropReason, number>> & { readonly total: number };
  readonly accounting: FabricAccounting;
}

export function summarizeFabric(
  a: FabricSnapshot,
  b: FabricSnapshot,
  spec: readonly FabricPortSpec[],
  acc: FabricAccounting,
  sourceSpec: readonly FabricSourceSpec[] = [],
): FabricSummary {
  const dt = (b.t - a.t) / 1e9;
  const ports = b.ports.map((p, i): FabricPortSummary => {
    const before = a.ports[i];
    const s = spec[i] as FabricPortSpec;
    return {
      port: p.port,
      host: `h${p.port}`,
      linkGbps: sig(s.linkGbps),
      queueBytes: s.queueBytes,
      delayUs: sig(s.delay / 1000),
      received: p.received,
      enqueued: p.enqueued,
      forwarded: p.forwarded,
      forwardedGbps: dt > 0 ? sig(((p.forwardedBytes - (before?.forwardedBytes ?? 0)) * 8) / dt / 1e9) : 0,
      peakQueueBytes: p.peakQueueBytes,
      drops: dropsOf(p.drops),
    };
  });
  const total = FABRIC_DROP_REASONS.reduce((n, r) => n + acc.dropped[r], 0);
  const sources = b.sources.map((src, i): FabricSourceSummary => {
    const before = a.sources[i];
    const sp = sourceSpec[i];
    return {
      port: src.port,
      name: src.name,
      to: `h${src.to}`,
      linkGbps: sig(sp?.linkGbps ?? 0),
      delayUs: sig((sp?.delay ?? 0) / 1000),
      sent: src.sent,
      received: src.received,
      sentGbps: dt > 0 ? sig(((src.sentBytes - (before?.sentBytes ?? 0)) * 8) / dt / 1e9) : 0,
      ...(src.drops !== undefined ? { drops: dropsOf(src.drops) } : {}),
    };
  });
  return { ports, ...(sources.length > 0 ? { sources } : {}), drops: { ...acc.dropped, total }, accounting: acc };
}

/** A port's drops: every reason (zeros included) and their total. */
function dropsOf(d: Readonly<Record<string, number>>): Readonly<Record<FabricDropReason, number>> & { readonly total: number } {
  const drops = Object.fromEntries(FABRIC_DROP_REASONS.map((r) => [r, d[r] ?? 0])) as Record<FabricDropReason, number>;
  return { ...drops, total: FABRIC_DROP_REASONS.reduce((n, r) => n + drops[r], 0) };
}

/** One switch port in a metrics.jsonl row (a multi-host run): what left it over the interval, its queue now, its drops so far. */
export interface SwitchPortSample {
  readonly port: number;
  /** Frame bits that left the port toward its host over the interval. */
  readonly forwardedGbps: number;
  /** Bytes in its output queue at the sample (waiting, or being serialized). */
  readonly queuedBytes: number;
  /** Frames dropped at the port from the start of the run, every reason. */
  readonly dropsTotal: number;
}

/** An external source's port in a metrics.jsonl row: what the source put on its cable over the interval, and its port's drops. */
export interface SwitchSourceSample {
  readonly port: number;
  /** Frame bits the source put on its cable toward the switch over the interval. */
  readonly sentGbps: number;
  /** Its frames dropped at its port from the start of the run, every reason; only once a fault acted on the port. */
  readonly dropsTotal?: number;
}

/**
 * The switch ports' columns of a metrics.jsonl row over (a, b] (none without a switch: one-host rows keep their
 * shape): the hosts' ports, then the external sources' (only when there are some).
 */
export function fabricColumns(
  a: FabricSnapshot | null,
  b: FabricSnapshot | null,
  dt: number,
): { switchPorts: SwitchPortSample[]; switchSources?: SwitchSourceSample[] } | null {
  if (a === null || b === null) return null;
  const switchPorts = b.ports.map((p, i) => portSample(a.ports[i], p, dt));
  if (b.sources.length === 0) return { switchPorts };
  return { switchPorts, switchSources: b.sources.map((src, i) => sourceSample(a.sources[i], src, dt)) };
}

/** One external source's sample from its counters at the interval's start (absent: none yet) and end. */
export function sourceSample(before: SwitchSourceReport | undefined, src: SwitchSourceReport, dt: number): SwitchSourceSample {
  const sentGbps = sig(((src.sentBytes - (before?.sentBytes ?? 0)) * 8) / dt / 1e9);
  if (src.drops === undefined) return { port: src.port, sentGbps };
  let dropsTotal = 0;
  for (const r of FABRIC_DROP_REASONS) dropsTotal += src.drops[r] ?? 0;
  return { port: src.port, sentGbps, dropsTotal };
}

/** One port's sample from its counters at the interval's start (absent: none yet) and end. */
export function portSample(before: SwitchPortReport | undefined, p: SwitchPortReport, dt: number): SwitchPortSample {
  let drops = 0;
  for (const r of FABRIC_DROP_REASONS) drops += p.drops[r] ?? 0;
  return {
    port: p.port,
    forwardedGbps: sig(((p.forwardedBytes - (before?.forwardedBytes ?? 0)) * 8) / dt / 1e9),
    queuedBytes: p.queuedBytes,
    dropsTotal: drops,
  };
}
