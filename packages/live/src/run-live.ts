// The controller of a live run: launches actor processes, starts them together, gathers samples and final reports.
import { LatencyHistogram, SplitnetError } from '@splitnet/model';
import type { ActorReport, Logger, Nanos } from '@splitnet/model';
import type { HostFinal, WallClock } from './live-host.js';
import type { CompiledScenario, LiveProcesses } from '@splitnet/scenario';
import { Subjects } from '@splitnet/transport';
import type { RejectKind, Transport } from '@splitnet/transport';
import { buildActors } from '@splitnet/controller';
import type { ActorGraph } from '@splitnet/controller';
import { balance, BASE_DROP_REASONS, combine, DROP_REASONS, faultsSummary, sampleRow, seriesPoints, sig, summarize } from '@splitnet/results';
import type { DropReason, LiveInfo, RestartedProcess, RunResult, SeriesPoint, Snapshot } from '@splitnet/results';
import { decodeControl, encodeControl } from './control.js';
import { Incarnations } from './incarnations.js';
import { whereDetail, whereIs } from './actor-handle.js';
import type { ActorHandle } from './actor-handle.js';
import { LiveFaultInjector } from './fault-injector.js';
import type { NatsServerControl, NodeFaultControl } from './fault-injector.js';


export interface LiveRunOptions {
  readonly runId: string;
  readonly transport: Transport;
  readonly clock: WallClock;
  readonly logger: Logger;
  /**
   * Start one host for the given actor ids (a child process, or a host in this process); incarnation
   * > 0 for restarts. Absent for actors started elsewhere (placement `external`): the controller then
   * watches their heartbeats instead of their exit.
   */
  readonly launch?: (ids: readonly string[], incarnation: number) => ActorHandle;
  /**
   * Watch heartbeats even though `launch` is given (the docker placement: a container on a remote engine
   * may go silent without its exit reaching the controller). A process that died and is being restarted
   * is not taken for silent.
   */
  readonly watchHeartbeats?: boolean;
  /** External actors: a process silent for this long (ms of wall time) is taken for dead (default 5000). */
  readonly heartbeatTimeoutMs?: number;
  /** Restarts allowed per actor process before the run fails (default 3). */
  readonly maxRestarts?: number;
  readonly onProgress?: (done: Nanos, total: Nanos) => void;
  /** How long to wait for every actor to say hello (ms). */
  readonly readyTimeoutMs?: number;
  /** The private NATS server, when this run started one (the nats-restart fault needs it). */
  readonly nats?: NatsServerControl;
  /** Fault actions on emulated Docker nodes (docker placement). */
  readonly nodes?: NodeFaultControl;
  /**
   * Called when the run fails (an actor gave up after its restarts, no final report, actors not ready) with
   * the event log so far, before the error is thrown: the caller keeps it (the CLI writes events.jsonl).
   */
  readonly onFailure?: (events: readonly { readonly t: Nanos; readonly actor: string; readonly kind: string; readonly detail: Record<string, unknown> }[]) => void;
  /** Events from before this call (the join step's `vif-negotiated`), recorded in the event log at emulated time 0. */
  readonly earlierEvents?: readonly { readonly actor: string; readonly kind: string; readonly detail: Record<string, unknown> }[];
}

function withoutLatency(r: ActorReport): ActorReport {
  const { latency: _, ...rest } = r as ActorReport & { latency?: unknown };
  return rest as ActorReport;
}

function waitFor<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new SplitnetError('E_OPERATIONAL', what())), ms);
    }),
  ]);
}

/**
 * The actors each process hosts. `per-actor`: one process per actor, except that the NIC and the back end
 * (its driver) share one: they share the host's memory in the model (DMA, register reads, zero link
 * delay), and the driver's NAPI poll of the hardware ring is a per-batch handshake that a bus round trip
 * would slow to a crawl. `per-domain`: one process per Xen domain, the driver domain (NIC, back end and
 * the vRSS workers, netback's threads in dom0) and each guest, so that messages cross the bus exactly
 * where they cross Xen's domain boundary (the shared rings and event channels).
 */
function processGroups(g: ActorGraph, processes: LiveProcesses): string[][] {
  if (processes === 'per-domain') return [[g.nic.id, g.backend.id, ...g.workers.map((w) => w.id)], ...g.frontends.map((f) => [f.id])];
  return [[g.nic.id, g.backend.id], ...g.workers.map((w) => [w.id]), ...g.frontends.map((f) => [f.id])];
}

export async function runLive(s: CompiledScenario, o: LiveRunOptions): Promise<RunResult> {
  const subjects = new Subjects(o.runId);
  const g = buildActors(s);
  const groups = processGroups(g, s.live.processes);
  const names = groups.map((ids) => ids.join('+'));
  const events: { t: Nanos; actor: string; kind: string; detail: Record<string, unknown> }[] = (o.earlierEvents ?? []).map((e) => ({ t: 0, actor: e.actor, kind: e.kind, detail: { ...e.detail } }));
  let epochMs = Infinity;
  /** Emulated time now (0 before the start): lifecycle events are stamped with it. */
  const emuNow = () => (epochMs === Infinity ? 0 : Math.max(0, Math.round(((o.clock.nowMs() - epochMs) * 1e6) / s.live.tdf)));
  const log = (kind: string, actor: string, detail: Record<string, unknown> = {}) => {
    events.push({ t: emuNow(), actor, kind, detail });
    o.logger.info(kind, { actor, ...detail });
  };

  const hellos = new Set<string>();
  let allHello: () => void = () => {};
  const ready = new Promise<void>((r) => {
    allHello = r;
  });
  /** Per sample time, per process: the reports and the incarnation that sent them. */
  const samples = new Map<Nanos, Map<string, { readonly incarnation: number; readonly reports: readonly ActorReport[] }>>();
  /** Per process: each incarnation's latest sample (a restarted incarnation's counters continue from its predecessor's). */
  const incarnations = new Map(names.map((n) => [n, new Incarnations()]));
  const finals = new Map<string, HostFinal>();
  const finalIncarnation = new Map<string, number>();
  let allFinal: () => void = () => {};
  let actorDied: (err: Error) => void = () => {};
  const finished = new Promise<void>((resolve, reject) => {
    allFinal = resolve;
    actorDied = reject;
  });
  finished.catch(() => {}); // observed below; avoid an unhandled rejection if it fails before being awaited
  /** Wall time of each process's latest heartbeat (a rejoined process's counts from its rejoin). */
  const lastBeat = new Map<string, number>();
  let badControl = 0;
  const subs = [
    o.transport.subscribe(subjects.hello(), (data) => {
      const m = decodeControl(data);
      if (m?.kind !== 'hello') return void badControl++;
      if (!names.includes(m.id)) return;
      if (rejoining.has(m.id)) {
        // A restarted process is ready: peers forget its old sequence numbers, it gets the run's epoch.
        rejoining.delete(m.id);
        down.delete(m.id);
        lastBeat.set(m.id, o.clock.nowMs());
        o.transport.publish(subjects.controlAll(), encodeControl({ kind: 'restarted', id: m.id }));
        const h = handles.get(m.id);
        log('actor-rejoined', m.id, { pid: m.pid, ...(h?.container !== undefined ? { container: h.container } : {}) });
        const held = faults.heldFor(m.id.split('+'), emuNow());
        o.transport.publish(subjects.controlAll(), encodeControl({ kind: 'start', epochMs, id: m.id, ...(held.length > 0 ? { faults: held } : {}) }));
        return;
      }
      if (hellos.has(m.id)) return;
      hellos.add(m.id);
      log('actor-ready', m.id, { pid: m.pid });
      if (hellos.size === names.length) allHello();
    }),
    o.transport.subscribe(subjects.statsAll(), (data) => {
      const m = decodeControl(data);
      if (m?.kind === 'sample') {
        if (!names.includes(m.id)) return void badControl++;
        const incarnation = m.incarnation ?? 0;
        let row = samples.get(m.t);
        if (!row) samples.set(m.t, (row = new Map()));
        // A restarted process must not overwrite the past. The time series has no use for the latency
        // histograms some samples carry (for a crash: see Incarnations), so rows are kept without them.
        if (!row.has(m.id)) row.set(m.id, { incarnation, reports: m.reports.map((r) => (r.role === 'frontend' && r.latency ? withoutLatency(r) : r)) });
        incarnations.get(m.id)?.sampled(incarnation, m.t, m.reports);
      } else if (m?.kind === 'event') {
        events.push({ t: Math.round(m.t), actor: m.actor, kind: m.event, detail: { ...m.detail } });
      } else if (m?.kind === 'final') {
        if (!names.includes(m.id)) return void badControl++;
        finals.set(m.id, m.final);
        finalIncarnation.set(m.id, m.incarnation ?? 0);
        if (finals.size === names.length) allFinal();
      } else {
        badControl++;
      }
    }),
  ];

  // The supervisor: a process that dies before its final report is restarted with backoff (up to
  // maxRestarts), rejoins the run at the same epoch and reconnects to its peers; what it held is lost
  // and shows up as inferred `lost-in-crash` drops.
  const maxRestarts = o.maxRestarts ?? 3;
  const rejoining = new Set<string>();
  /** Processes that died and are not back yet (the heartbeat watchdog does not take them for silent). */
  const down = new Set<string>();
  const restarts = new Map<string, number>();
  const handles = new Map<string, ActorHandle>();
  let stopping = false;
  let deaths = 0;
  const launch = (ids: readonly string[], incarnation: number): void => {
    if (!o.launch) return;
    const h = o.launch(ids, incarnation);
    handles.set(h.name, h);
    void h.exited.then((code) => {
      if (finals.has(h.name) || stopping) return;
      deaths++;
      down.add(h.name);
      const n = restarts.get(h.name) ?? 0;
      log('actor-died', h.name, { code, ...whereDetail(h), incarnation });
      if (epochMs === Infinity || n >= maxRestarts) {
        const why = epochMs === Infinity ? 'before the run started' : `after ${n} restarts`;
        actorDied(new SplitnetError('E_OPERATIONAL', `live: actor process ${h.name} (${whereIs(h)}) exited with code ${String(code)} ${why}; giving up (see logs/${h.container ?? h.name}.log)`));
        return;
      }
      restarts.set(h.name, n + 1);
      const backoffMs = 100 * 2 ** n;
      setTimeout(() => {
        if (stopping) return;
        log('actor-restart', h.name, { incarnation: incarnation + 1, backoffMs });
        rejoining.add(h.name);
        launch(ids, incarnation + 1);
      }, backoffMs);
    });
  };
  for (const ids of groups) launch(ids, 0);
  // The fault injector: the scenario's schedule, and `splitnet fault` requests on the controller's control subject.
  const faults = new LiveFaultInjector({
    scenario: s,
    graph: g,
    transport: o.transport,
    subjects,
    logger: o.logger,
    tdf: s.live.tdf,
    nowMs: () => o.clock.nowMs(),
    processOf: (id) => {
      const name = names.find((n) => n.split('+').includes(id));
      return name === undefined ? undefined : handles.get(name);
    },
    ...(o.nats ? { nats: o.nats } : {}),
    ...(o.nodes ? { nodes: o.nodes } : {}),
    record: (t, actor, kind, detail) => events.push({ t: Math.max(0, Math.round(t)), actor, kind, detail }),
  });
  const faultRequests = o.transport.respond(subjects.control('controller'), (data) => {
    const m = decodeControl(data);
    const reply = m?.kind === 'fault-request' ? faults.adHoc(m.item) : { ok: false, message: 'not a fault request', applied: [] };
    if (m?.kind === 'fault-request') log('fault-request', 'controller', { ok: reply.ok, message: reply.message });
    return encodeControl({ kind: 'fault-reply', ...reply });
  });
  // Actors started elsewhere: their heartbeats are the only sign of life.
  const beats = o.transport.subscribe(subjects.heartbeatAll(), (data) => {
    const m = decodeControl(data);
    if (m?.kind === 'hb') lastBeat.set(m.id, o.clock.nowMs());
  });
  const hbTimeout = o.heartbeatTimeoutMs ?? 5000;
  const watchdog = o.launch && !o.watchHeartbeats
    ? undefined
    : setInterval(() => {
        if (epochMs === Infinity || o.clock.nowMs() < epochMs + hbTimeout) return;
        // A paused or disconnected Docker node silences its actors: that is the fault, not a death.
        if (faults.excusesSilence(o.clock.nowMs(), hbTimeout)) return;
        for (const n of names) {
          if (finals.has(n) || down.has(n) || faults.excusesSilenceOf(n, o.clock.nowMs(), hbTimeout)) continue;
          const last = lastBeat.get(n) ?? epochMs;
          if (o.clock.nowMs() - last > hbTimeout) {
            log('actor-silent', n, { sinceMs: Math.round(o.clock.nowMs() - last) });
            const why = o.launch ? 'its process has not exited, so it is not restarted' : 'externally started actors are not restarted by splitnet';
            actorDied(new SplitnetError('E_OPERATIONAL', `live: no heartbeat from ${n} for ${Math.round((o.clock.nowMs() - last) / 1000)} s (${why})`));
          }
        }
      }, 500);
  let failed = false;
  try {
    await waitFor(Promise.race([ready, finished]), o.readyTimeoutMs ?? 30_000, () => `live: actors not ready after ${(o.readyTimeoutMs ?? 30_000) / 1000} s: ${names.filter((n) => !hellos.has(n)).join(', ')} (see their logs)`);
    epochMs = o.clock.nowMs() + s.live.startDelay / 1e6;
    o.transport.publish(subjects.controlAll(), encodeControl({ kind: 'start', epochMs }));
    log('run-start', 'controller', { epochMs, tdf: s.live.tdf, processes: names.length });
    faults.start(epochMs);
    const wallMs = (s.duration * s.live.tdf) / 1e6;
    const progress = o.onProgress
      ? setInterval(() => {
          const emu = ((o.clock.nowMs() - epochMs) * 1e6) / s.live.tdf;
          if (emu > 0) o.onProgress?.(Math.min(emu, s.duration), s.duration);
        }, 200)
      : undefined;
    try {
      await waitFor(finished, s.live.startDelay / 1e6 + wallMs + s.live.drainTime / 1e6 + 30_000, () =>
        `live: no final report from ${names.filter((n) => !finals.has(n)).join(', ')} (crashed or too slow; see their logs)`);
    } finally {
      if (progress) clearInterval(progress);
    }
    o.onProgress?.(s.duration, s.duration);
  } catch (err) {
    failed = true;
    log('run-failed', 'controller', { reason: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    stopping = true;
    faults.stop();
    faultRequests.unsubscribe();
    if (watchdog) clearInterval(watchdog);
    beats.unsubscribe();
    o.transport.publish(subjects.controlAll(), encodeControl({ kind: 'stop' }));
    await o.transport.flush();
    await Promise.all(
      [...handles.values()].filter((h) => !h.lingers).map(async (h) => {
        const code = await Promise.race([h.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000).unref())]);
        if (code === 'timeout') {
          h.kill('SIGKILL');
          log('actor-killed', h.name, { reason: 'did not exit 10 s after stop' });
          await h.exited;
        }
      }),
    );
    for (const sub of subs) sub.unsubscribe();
    if (failed) o.onFailure?.([...events].sort((a, b) => a.t - b.t));
  }

  // A restarted process's counters continue from its dead incarnation's last sample (incarnations.ts).
  const continued = (name: string, incarnation: number, reports: readonly ActorReport[]) =>
    (incarnations.get(name) as Incarnations).continued(incarnation, reports);
  // Time series: a row when every host reported for that instant.
  const rows: Record<string, unknown>[] = [];
  const series: SeriesPoint[] = [];
  const complete: Snapshot[] = [];
  for (const t of [...samples.keys()].sort((a, b) => a - b)) {
    const row = samples.get(t) as Map<string, { incarnation: number; reports: readonly ActorReport[] }>;
    if (row.size !== names.length) continue;
    const snap = combine([...row].flatMap(([name, r]) => continued(name, r.incarnation, r.reports)), t);
    const prev = complete.at(-1);
    rows.push(sampleRow(prev ?? combine([], 0), snap));
    for (const p of seriesPoints(prev ?? combine([], 0), snap)) series.push(p);
    complete.push(snap);
  }
  const finalReports = new Map(names.map((n) => [n, continued(n, finalIncarnation.get(n) ?? 0, (finals.get(n) as HostFinal).reports)]));
  const finalsList = names.map((n) => finals.get(n) as HostFinal);
  const end = combine(names.flatMap((n) => finalReports.get(n) as readonly ActorReport[]), s.duration);
  const warm = complete.find((x) => x.t >= s.warmup) ?? combine([], 0);
  const inWindow = complete.filter((x) => x.t > warm.t);

  // Bus accounting. Every host reports the packets it sent to and received from each peer. On a
  // link between two processes that never died, sent − received is still on the bus. A process that
  // died took its link counters with it, so the actors of restarted processes (R) are one box whose
  // flows are taken from the survivors' side: what was sent toward R or emitted in R (a NIC), and
  // neither came out of R nor is known to R's counters — delivered, dropped, held or pending, the
  // counters continued from the dead incarnations' last samples — was lost in the crash. That is
  // what R's actors did between their last sample and the crash, and what reached them while down.
  const restarted = new Set([...restarts.keys()].flatMap((n) => n.split('+')));
  let pending = 0;
  let onBus = 0;
  let intoR = 0;
  let outOfR = 0;
  let knownInR = 0;
  const rejected: Record<string, number> = {};
  let gaps = 0;
  const lag = new LatencyHistogram();
  const late = new LatencyHistogram();
  const lagEarly = new LatencyHistogram();
  const lagLate = new LatencyHistogram();
  let lastRejection = '';
  for (const [name, f] of names.map((n) => [n, finals.get(n) as HostFinal] as const)) {
    const mine = new Set(name.split('+'));
    const inR = [...mine].some((id) => restarted.has(id));
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
      const part = combine(finalReports.get(name) as readonly ActorReport[], s.duration);
      intoR += part.emitted;
      knownInR += part.delivered + part.heldIn.nicRings + part.heldIn.workerBacklogs + part.heldIn.guestRings;
      for (const v of Object.values(part.drops)) knownInR += v;
    }
    for (const [k, v] of Object.entries(f.rejected)) rejected[k] = (rejected[k] ?? 0) + v;
    gaps += f.gaps;
    if (f.lastRejection) lastRejection = f.lastRejection;
    lag.merge(LatencyHistogram.fromJSON(f.processingLag));
    if (f.processingLagEarly) lagEarly.merge(LatencyHistogram.fromJSON(f.processingLagEarly));
    if (f.processingLagLate) lagLate.merge(LatencyHistogram.fromJSON(f.processingLagLate));
    late.merge(LatencyHistogram.fromJSON(f.inputLateness));
  }
  const inferredLost = restarted.size > 0 ? intoR - outOfR - knownInR : 0;
  // Plus what actors counted themselves as lost to a crash.
  const lostInCrash = inferredLost + end.drops['lost-in-crash'];
  const withFaults = faults.occurrences.length > 0;
  const linkDropped = finalsList.reduce((n, f) => n + (f.linkDropped ?? 0), 0);
  // After a NATS server restart, what is still on the bus after the drain was lost with the server; after
  // a node's containers were cut from their network, what NATS had for them while they were gone (core
  // NATS drops a message nobody is subscribed to).
  const busBroken = events.some((e) => e.kind === 'nats-down' || e.kind === 'node-disconnect');
  const lostInTransport = busBroken && onBus > 0 ? onBus : 0;
  const allDrops: Record<DropReason, number> = { ...end.drops, 'lost-in-crash': lostInCrash, 'link-drop': linkDropped, 'lost-in-transport': lostInTransport };
  // The fault-only reasons appear when faults were injected (fault-free results keep their shape).
  const drops = {} as Record<DropReason, number>;
  for (const r of withFaults ? DROP_REASONS : BASE_DROP_REASONS) drops[r] = allDrops[r];
  const acc = balance(end.emitted, end.delivered, drops, { ...end.heldIn, links: pending + onBus - lostInTransport });
  if (restarted.size > 0) log('lost-in-crash', 'controller', { packets: lostInCrash, inferred: inferredLost, actors: [...restarted] });
  const counters = (reports: readonly ActorReport[] | undefined) => {
    const c = combine(reports ?? [], 0);
    return { emitted: c.emitted, delivered: c.delivered, dropped: Object.values(c.drops).reduce((a, b) => a + b, 0) };
  };
  const restartedProcesses: RestartedProcess[] = [...restarts.keys()].map((name) => {
    const inc = incarnations.get(name) as Incarnations;
    const last = finalIncarnation.get(name) ?? 0;
    const continuedFrom = Array.from({ length: last }, (_, k) => {
      const at = inc.lastSampleAt(k);
      const lat = inc.lastLatencyAt(k);
      return {
        incarnation: k + 1,
        sampleMs: at === undefined ? null : sig(at / 1e6),
        // A front end's: the sample whose latency histogram of the dead incarnation counts (null: none reached us).
        ...(finalReports.get(name)?.some((r) => r.role === 'frontend') ? { latencySampleMs: lat === undefined ? null : sig(lat / 1e6) } : {}),
        ...counters(inc.base(k + 1)),
      };
    });
    return { process: name, restarts: restarts.get(name) ?? 0, continuedFrom, atEnd: counters(finalReports.get(name)) };
  });
  const us = (ns: number) => sig(ns / 1000);
  const p99Lag = lag.percentile(99);
  const valid = p99Lag <= s.live.maxLag;
  const p99Early = lagEarly.percentile(99);
  const p99Late = lagLate.percentile(99);
  const live: LiveInfo = {
    tdf: s.live.tdf,
    placement: s.live.placement,
    processes: names.length,
    restarts: [...restarts.values()].reduce((a, b) => a + b, 0),
    maxLagUs: us(s.live.maxLag),
    processingLagUs: { p50: us(lag.percentile(50)), p99: us(p99Lag), max: us(lag.max) },
    lagTrend: { firstHalfP99Us: us(p99Early), secondHalfP99Us: us(p99Late), growing: lagGrowing(p99Early, p99Late, s.live.maxLag) },
    inputLatenessUs: { p50: us(late.percentile(50)), p99: us(late.percentile(99)), max: us(late.max) },
    effectiveResolutionUs: us(late.percentile(99)),
    valid,
    ...(valid
      ? {}
      : {
          invalidReason: `actors fell behind emulated time by ${us(p99Lag)} µs (p99) > maxLag ${us(s.live.maxLag)} µs`,
          suggestedTdf: Math.ceil((s.live.tdf * p99Lag * 2) / s.live.maxLag),
        }),
    bus: { onBusAtEnd: onBus, pendingAtEnd: pending, lostInCrash: inferredLost },
    ...(restartedProcesses.length > 0 ? { restarted: restartedProcesses } : {}),
    wire: { rejected: rejected as Record<RejectKind, number>, gaps, lastRejection, badControl },
  };
  if (!valid) log('run-invalid', 'controller', { reason: live.invalidReason, suggestedTdf: live.suggestedTdf });
  log('run-end', 'controller', { balanced: acc.balanced, unaccounted: acc.unaccounted });
  let summary = { ...summarize(s, warm, { ...end, drops: allDrops }, inWindow, acc, withFaults), runtime: 'live' as const, live };
  if (withFaults) {
    summary = {
      ...summary,
      faults: faultsSummary({
        occurrences: faults.occurrences,
        events,
        samples: rows,
        end: { ...end, drops: allDrops },
        messages: undefined,
        interval: s.sampleInterval,
        warmup: s.warmup,
        runEnd: s.duration,
      }),
    };
  }
  return { summary, samples: rows, series, events, accounting: acc, latency: end.latency ?? new LatencyHistogram(), eventsProcessed: finalsList.reduce((n, f) => n + f.eventsProcessed, 0) };
}

/**
 * A lag that grows over the run: the host is falling further behind emulated time and would miss
 * any bound given a long enough run. Noise moves a bounded lag's p99 between the two halves too, so
 * growth must be both large in ratio (more than doubled) and large against the bound (by more than
 * half of maxLag).
 */
export function lagGrowing(firstHalfP99: number, secondHalfP99: number, maxLag: number): boolean {
  return secondHalfP99 > 2 * firstHalfP99 && secondHalfP99 - firstHalfP99 > maxLag / 2;
}
