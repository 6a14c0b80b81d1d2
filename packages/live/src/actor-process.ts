// One live actor process: builds its actor(s) from the scenario, joins the run over NATS, runs when told, reports, exits.
import { LatencyHistogram, SplitnetError } from '@splitnet/model';
import type { HistogramJson } from '@splitnet/model';
import type { Logger } from '@splitnet/model';
import { LinkFaults } from '@splitnet/runtime';
import { LiveHost } from './live-host.js';
import type { WallClock } from './live-host.js';
import type { CompiledScenario } from '@splitnet/scenario';
import { Subjects } from '@splitnet/transport';
import type { Transport } from '@splitnet/transport';
import { buildActors, decoderLimitsFor, linkDelayFor, planFaults } from '@splitnet/controller';
import { rehearseLivePath, warmUpCode } from './code-warmup.js';
import { decodeControl, encodeControl } from './control.js';

export interface ActorProcessOptions {
  readonly scenario: CompiledScenario;
  readonly runId: string;
  /** Actor ids this process hosts (e.g. ['worker.2']). */
  readonly ids: readonly string[];
  readonly transport: Transport;
  readonly clock: WallClock;
  readonly logger: Logger;
  /** 0 for the first process of these actors; n > 0 when the supervisor restarted them. */
  readonly incarnation?: number;
  /** Resolves when the process is asked to stop from outside (a signal). */
  readonly interrupted?: Promise<string>;
  /** After a run that ended normally, before the connection closes (external actors wait for the controller to finish). */
  readonly beforeDrain?: () => Promise<void>;
}

/** This OS process has rehearsed the datapath (`live.codeWarmup`). */
let codeWarmedUp = false;

/** Wall time between two samples that carry the front ends' latency histograms (see fullReportEvery). */
const FULL_REPORT_WALL_NS = 1e9;

/** Wall time after a reconnect at which the actors resync once more (see Actor.resync). */
const RESYNC_AGAIN_MS = [2500, 5000];

/** Most actor events one process sends to the controller. */
const MAX_EVENTS = 10_000;

/** Hosts actors until the controller says stop; returns the exit code. */
export async function runActorProcess(o: ActorProcessOptions): Promise<number> {
  const s = o.scenario;
  if (s.live.codeWarmup > 0 && !codeWarmedUp) {
    // Once per OS process: actors placed `inprocess` share one process and its compiled code.
    codeWarmedUp = true;
    const w = warmUpCode(s, s.live.codeWarmup);
    const l = await rehearseLivePath(s);
    o.logger.info('code warm-up', { emulatedMs: s.live.codeWarmup / 1e6, messages: w.messages, cpuMs: w.cpuMs, liveEvents: l.events, liveCpuMs: l.cpuMs });
    if (w.rejected > 0) o.logger.warn('code warm-up: the wire codec rejected messages the actors sent', { rejected: w.rejected });
  }
  const g = buildActors(s);
  const ids = g.all.map((a) => a.id);
  const local = o.ids.map((id) => {
    const ref = ids.indexOf(id);
    const actor = g.all[ref];
    if (ref < 0 || !actor) throw new SplitnetError('E_USAGE', `--id: no actor "${id}" in this scenario (actors: ${ids.join(', ')})`);
    return { ref, actor };
  });
  const subjects = new Subjects(o.runId);
  const name = o.ids.join('+');
  /** This process's CPU time when the run started (the final log line reports what the run used). */
  let cpuAtStart: NodeJS.CpuUsage | undefined;
  let eventsSent = 0;
  // Message-path faults and partitions act in the sender's send path, the same windows in every process.
  const windows = s.faults.length > 0 ? planFaults(s, g, 'live').windows : [];
  // Actors' events are rare (faults and their consequences); a cap keeps a runaway one from flooding the bus.
  const publishEvent = (t: number, actor: string, event: string, detail: Record<string, unknown>): void => {
    if (eventsSent++ < MAX_EVENTS) o.transport.publish(subjects.stats(o.ids[0] as string), encodeControl({ kind: 'event', id: name, t, actor, event, detail }));
  };
  const host = new LiveHost({
    ...(windows.length > 0 ? { linkFaults: new LinkFaults(windows, ids.length) } : {}),
    runId: o.runId,
    transport: o.transport,
    clock: o.clock,
    tdf: s.live.tdf,
    actorIds: ids,
    local,
    linkDelay: linkDelayFor(g, s),
    limits: decoderLimitsFor(s),
    duration: s.duration,
    measureFrom: s.warmup,
    batchWindowMs: s.live.batchWindow / 1e6,
    sampleInterval: s.sampleInterval,
    // About once a second of wall time, the samples carry the front ends' latency histograms: a guest that
    // crashes keeps its latency samples up to then (a histogram is up to ~70 KB at TDF 1: too much for every sample).
    fullReportEvery: Math.max(1, Math.ceil(FULL_REPORT_WALL_NS / (s.sampleInterval * s.live.tdf))),
    onEvent: publishEvent,
    onSample: (t, reports) => o.transport.publish(subjects.stats(o.ids[0] as string), encodeControl({ kind: 'sample', id: name, t, reports, incarnation: o.incarnation ?? 0 })),
  });
  host.attach();

  let started = false;
  let resolveStop: (why: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => {
    resolveStop = resolve;
  });
  o.transport.subscribe(subjects.controlAll(), (data) => {
    const m = decodeControl(data);
    // A start naming another process is that process's rejoin (two restarted processes may wait at once).
    if (m?.kind === 'start' && !started && (m.id === undefined || m.id === name)) {
      started = true;
      const rejoin = (o.incarnation ?? 0) > 0;
      o.logger.info(rejoin ? 'rejoin' : 'start', { epochMs: m.epochMs, incarnation: o.incarnation ?? 0 });
      cpuAtStart = process.cpuUsage();
      // Faults in effect for a restarted process's actors: taken at the instant they rejoin.
      const held = (m.faults ?? []).filter((f) => o.ids.includes(f.actor)).map((f) => ({ ref: ids.indexOf(f.actor), cmd: f.cmd }));
      host.start(m.epochMs, rejoin, held);
      for (const f of held) o.logger.info('fault', { actor: ids[f.ref], id: f.cmd.id, action: f.cmd.action, phase: f.cmd.phase, atRejoin: true });
    } else if (m?.kind === 'restarted') {
      if (m.id !== name) for (const id of m.id.split('+')) host.forgetSender(id);
    } else if (m?.kind === 'fault') {
      const ref = ids.indexOf(m.actor);
      if (o.ids.includes(m.actor) && host.applyFault(ref, m.cmd)) o.logger.info('fault', { actor: m.actor, id: m.cmd.id, action: m.cmd.action, phase: m.cmd.phase });
    } else if (m?.kind === 'stop') {
      resolveStop('stop from controller');
    }
  });

  // After a NATS outage, messages may have been lost on the bus: the actors announce their ring state and
  // kick their peers again (Actor.resync). At once, and twice more, since a peer whose client reconnects
  // later (nats.js retries every 2 s) does not get what was published before it was back.
  const resyncTimers = new Set<NodeJS.Timeout>();
  const stopStatus = o.transport.onStatus((st) => {
    if (st.kind !== 'reconnect' || !started) return;
    const resync = (round: number) => {
      const n = host.resync();
      if (n === 0) return;
      o.logger.info('bus resync', { round, actors: n });
      publishEvent(host.emulatedNow(), name, 'bus-resync', { round, actors: n });
    };
    resync(1);
    for (const [round, ms] of RESYNC_AGAIN_MS.entries()) {
      const t = setTimeout(() => {
        resyncTimers.delete(t);
        resync(round + 2);
      }, ms);
      resyncTimers.add(t);
    }
  });

  // Announce readiness until the start arrives (the controller may subscribe after our first hello).
  const hello = () => o.transport.publish(subjects.hello(), encodeControl({ kind: 'hello', id: name, pid: process.pid }));
  hello();
  const helloTimer = setInterval(() => {
    if (!started) hello();
  }, 250);
  const hb = setInterval(() => {
    if (started) o.transport.publish(subjects.heartbeat(o.ids[0] as string), encodeControl({ kind: 'hb', id: name, emulatedNow: host.emulatedNow() }));
  }, 250);

  // Orphan guards: a process whose controller is gone must not live on.
  const noStart = new Promise<string>((resolve) => {
    const t = setTimeout(() => {
      if (!started) resolve('no start from the controller within 120 s');
    }, 120_000);
    t.unref();
  });
  // The host's run fails only on a livelock (see the runtime's livelock guard): the process exits with code 1.
  let failure = '';
  const hostDone = host.done.then(
    () => 'done',
    (err: unknown) => {
      failure = err instanceof Error ? err.message : String(err);
      return 'failed';
    },
  );
  const outcome = await Promise.race([hostDone, stopped, noStart, o.interrupted ?? new Promise<string>(() => {})]);
  clearInterval(helloTimer);
  if (outcome === 'done') {
    // Let messages still on the bus arrive (they count as in flight), then report.
    await new Promise((r) => setTimeout(r, s.live.drainTime / 1e6));
    const final = host.final();
    o.transport.publish(subjects.stats(o.ids[0] as string), encodeControl({ kind: 'final', id: name, final, incarnation: o.incarnation ?? 0 }));
    await o.transport.flush();
    o.logger.info('final report sent', {
      events: final.eventsProcessed,
      pumps: final.pumps,
      framesSent: final.framesSent,
      envelopesSent: final.envelopesSent,
      cpuMs: cpuAtStart === undefined ? null : Math.round(((u) => u.user + u.system)(process.cpuUsage(cpuAtStart)) / 1000),
      pending: final.pendingPackets,
      lagP50Us: Math.round(lagUs(final.processingLag, 50)),
      lagMaxUs: Math.round(final.processingLag.max / 1000),
      latenessP50Us: Math.round(lagUs(final.inputLateness, 50)),
    });
    const noStop = new Promise<string>((resolve) => {
      setTimeout(() => resolve('no stop from the controller within 60 s'), 60_000).unref();
    });
    const why = await Promise.race([stopped, noStop, o.interrupted ?? new Promise<string>(() => {})]);
    o.logger.info('stopping', { why });
  } else if (outcome === 'failed') {
    o.logger.error('the run cannot go on in this process', { error: failure });
    process.stderr.write(`${name}: error: ${failure}\n`);
  } else {
    o.logger.warn('stopped before the end of the run', { why: outcome });
  }
  clearInterval(hb);
  stopStatus();
  for (const t of resyncTimers) clearTimeout(t);
  host.close();
  if (o.beforeDrain && (outcome === 'done' || outcome === 'stop from controller')) await o.beforeDrain();
  await o.transport.drain();
  return outcome === 'done' || outcome === 'stop from controller' ? 0 : outcome === 'failed' ? 1 : 130;
}

function lagUs(h: HistogramJson, p: number): number {
  return LatencyHistogram.fromJSON(h).percentile(p) / 1000;
}
