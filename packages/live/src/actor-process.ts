// One live actor process: builds its actor(s) from the scenario, joins the run over NATS, runs when told, reports, exits.
import { LatencyHistogram, SplitnetError } from '@splitnet/model';
import type { HistogramJson, Logger } from '@splitnet/model';
import type { CompiledScenario } from '@splitnet/scenario';
import { Subjects } from '@splitnet/transport';
import type { Transport } from '@splitnet/transport';
import { whenAborted } from './abort.js';
import { ProcessWarmup } from './code-warmup.js';
import type { ControlMessage } from './control.js';
import { ActorControl } from './control-seal.js';
import type { ControlSecret } from './control-seal.js';
import { ControllerWatch } from './controller-liveness.js';
import { joinSubject } from './join.js';
import { drainOrClose } from './nats-connect.js';
import type { WallClock } from './dilated-clock.js';
import { LiveDiagnostics } from './live-diagnostics.js';
import { hostResyncTimes, liveGraphOf, liveLinkFaults, switchSteps } from './live-graph.js';
import { LiveHost } from './live-host.js';
import type { HostFinal } from './live-host.js';

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
  /** What this incarnation shares with the run's controller (given at spawn or in the join reply): its control messages are sealed with it. */
  readonly secret: ControlSecret;
  /** Aborts when the process is asked to stop from outside (a signal). */
  readonly signal?: AbortSignal;
  /** After a run that ended normally, before the connection closes (external actors wait for the controller to finish). */
  readonly beforeDrain?: () => Promise<void>;
  /** This OS process's code warm-up, shared by every host it runs (default: one of its own). */
  readonly warmup?: ProcessWarmup;
  /** Exit when the controller goes silent or the bus is lost for good (default true; false for hosts in the controller's own process). */
  readonly orphanGuard?: boolean;
  /** Measure where the lag comes from (wake-ups, passes, event-loop delay, GC) and log it with the final report (SPLITNET_LIVE_DIAGNOSTICS=1). */
  readonly diagnostics?: boolean;
  /** Poll waits shorter than this (wall ms) instead of arming a timer (LiveHostOptions.pollBelowMs; SPLITNET_LIVE_POLL_US). */
  readonly pollBelowMs?: number;
  /** Arm timers this long before they are due and poll the rest (LiveHostOptions.wakeEarlyMs; SPLITNET_LIVE_WAKE_EARLY_US). */
  readonly wakeEarlyMs?: number;
}

/** Wall time between two samples that carry the front ends' latency histograms (see fullReportEvery). */
const FULL_REPORT_WALL_NS = 1e9;

/** Wall time after a reconnect at which the actors resync once more (see Actor.resync). */
const RESYNC_AGAIN_MS = [2500, 5000];

/** Most actor events one process sends to the controller. */
const MAX_EVENTS = 10_000;

/**
 * How the process's wait for the run ended: `done`; `halted` (the controller stopped the run early and
 * wants what this process has so far: an interrupted run); `failed`; a stop from the controller; the
 * controller or the bus gone (an orphan guard); or the process's own interruption (a signal's name).
 */
type Outcome = 'done' | 'halted' | 'failed' | 'stop from controller' | { readonly orphaned: string } | string;

/** Hosts actors until the controller says stop; returns the exit code. */
export async function runActorProcess(o: ActorProcessOptions): Promise<number> {
  await (o.warmup ?? new ProcessWarmup()).once(o.scenario, o.logger);
  const p = new ActorProcess(o);
  const outcome = await p.run();
  p.close();
  const ended = outcome === 'done' || outcome === 'halted' || outcome === 'stop from controller';
  if (o.beforeDrain && ended) await o.beforeDrain();
  await drainOrClose(o.transport, o.logger);
  if (typeof outcome === 'object') {
    process.stderr.write(`${p.name}: exiting: ${outcome.orphaned}\n`);
    return 1;
  }
  return ended ? 0 : outcome === 'failed' ? 1 : 130;
}

/** The host of one process's actors and its conversation with the run's controller. */
class ActorProcess {
  private readonly s: CompiledScenario;
  private readonly subjects: Subjects;
  /** The process's name in the run: its actor ids joined by '+'. */
  readonly name: string;
  /** Whether the controller is still there (its heartbeat), and the bus. */
  private readonly controller: ControllerWatch | undefined;
  private resolveHalt: () => void = () => {};
  /** Resolves when the controller stops the run early and asks for this process's final report (an interrupted run). */
  private readonly halted = new Promise<'halted'>((resolve) => {
    this.resolveHalt = () => resolve('halted');
  });
  /** Every actor id of the run, by ref. */
  private readonly ids: readonly string[];
  private readonly host: LiveHost;
  /** Where the lag comes from, when asked (ActorProcessOptions.diagnostics). */
  private readonly diagnostics: LiveDiagnostics | undefined;
  private started = false;
  /** This process's CPU time when the run started (the final log line reports what the run used). */
  private cpuAtStart: NodeJS.CpuUsage | undefined;
  private eventsSent = 0;
  /** This process's end of the authenticated control channel. */
  private readonly control: ActorControl;
  /** Control messages refused (forged, replayed, another controller's), and the first reason. */
  private controlRefused = 0;
  private controlRefusal = '';
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly intervals: NodeJS.Timeout[] = [];
  private readonly unsubscribe: (() => void)[] = [];
  private resolveStop: (why: string) => void = () => {};
  /** Resolves when the controller says stop. */
  private readonly stopped = new Promise<string>((resolve) => {
    this.resolveStop = resolve;
  });

  constructor(private readonly o: ActorProcessOptions) {
    this.s = o.scenario;
    this.subjects = new Subjects(o.runId);
    this.name = o.ids.join('+');
    this.control = new ActorControl(o.runId, this.name, o.incarnation ?? 0, o.secret);
    const lg = liveGraphOf(this.s);
    this.ids = lg.all.map((a) => a.id);
    const local = o.ids.map((id) => {
      const ref = this.ids.indexOf(id);
      const actor = lg.all[ref];
      if (ref < 0 || !actor) throw new SplitnetError('E_USAGE', `--id: no actor "${id}" in this scenario (actors: ${this.ids.join(', ')})`);
      return { ref, actor };
    });
    // Message-path faults and partitions act in the sender's send path, the same windows in every process.
    const g = lg.host;
    const linkFaults = liveLinkFaults(this.s, lg);
    // A multi-host run's host and switch-port faults act on the switch's ports, in its process, at their emulated instants.
    const steps = local.some((l) => l.actor === lg.switch) ? switchSteps(this.s, lg) : [];
    // A multi-host run's partition: the processes of its host resync at its end, not the others'.
    const resyncTimes = hostResyncTimes(this.s, lg, lg.hostOf((local[0] as (typeof local)[number]).ref));
    const s = this.s;
    this.diagnostics = o.diagnostics === true ? new LiveDiagnostics() : undefined;
    this.host = new LiveHost({
      ...(this.diagnostics !== undefined ? { diagnostics: this.diagnostics } : {}),
      ...(o.pollBelowMs !== undefined && o.pollBelowMs > 0 ? { pollBelowMs: o.pollBelowMs } : {}),
      ...(o.wakeEarlyMs !== undefined && o.wakeEarlyMs > 0 ? { wakeEarlyMs: o.wakeEarlyMs } : {}),
      ...(linkFaults !== undefined ? { linkFaults } : {}),
      ...(steps.length > 0 ? { steps } : {}),
      ...(resyncTimes !== undefined ? { resyncTimes } : {}),
      // The bridge's guest-to-guest handoffs this process takes are counted (HostFinal.guestFramesFrom).
      ...(g?.txOrigin !== undefined ? { flowVm: g.txOrigin.flowVm } : {}),
      runId: o.runId,
      transport: o.transport,
      clock: o.clock,
      tdf: s.live.tdf,
      actorIds: this.ids,
      local,
      linkDelay: lg.linkDelay,
      limits: lg.limits,
      admit: lg.admit,
      // A restarted process's peers are mid-sequence: their first message to it sets where they are.
      resumed: (o.incarnation ?? 0) > 0,
      incarnation: o.incarnation ?? 0,
      pool: lg.pool,
      duration: s.duration,
      measureFrom: s.warmup,
      batchWindowMs: s.live.batchWindow / 1e6,
      sampleInterval: s.sampleInterval,
      // About once a second of wall time, the samples carry the front ends' latency histograms: a guest that
      // crashes keeps its latency samples up to then (a histogram is up to ~70 KB at TDF 1: too much for every sample).
      fullReportEvery: Math.max(1, Math.ceil(FULL_REPORT_WALL_NS / (s.sampleInterval * s.live.tdf))),
      onEvent: (t, actor, event, detail) => this.publishEvent(t, actor, event, detail),
      onSample: (t, reports) => this.toController({ kind: 'sample', id: this.name, t, reports, incarnation: this.incarnation }),
    });
    this.host.attach();
    this.controller =
      o.orphanGuard === false
        ? undefined
        : new ControllerWatch({ transport: o.transport, clock: o.clock, outageLimitMs: s.live.busOutageLimit / 1e6, probeSubject: joinSubject(o.runId) });
  }

  private get incarnation(): number {
    return this.o.incarnation ?? 0;
  }

  /** The first actor's id: the address of this process's control, hello, stats and heartbeat subjects. */
  private get address(): string {
    return this.o.ids[0] as string;
  }

  /** A control message to the controller, on this process's stats subject, sealed with its key. */
  private toController(m: ControlMessage): void {
    this.o.transport.publish(this.subjects.stats(this.address), this.control.seal(m));
  }

  /** Actors' events are rare (faults and their consequences); a cap keeps a runaway one from flooding the bus. */
  private publishEvent(t: number, actor: string, event: string, detail: Record<string, unknown>): void {
    if (this.eventsSent++ < MAX_EVENTS) this.toController({ kind: 'event', id: this.name, t, actor, event, detail });
  }

  /** Join the run, run it, report: how the wait for the run ended. */
  async run(): Promise<Outcome> {
    this.listen();
    this.resyncAfterReconnects();
    this.announce();
    const outcome = await this.untilTheEnd();
    if (outcome === 'halted') {
      const at = this.host.halt();
      this.o.logger.info('halted by the controller: the run was interrupted', { atMs: at / 1e6 });
    }
    if (outcome === 'done' || outcome === 'halted') {
      const after = await this.report();
      return typeof after === 'object' ? after : outcome;
    }
    if (outcome === 'failed') return outcome;
    // An orphan says why on stderr as it exits (runActorProcess); here only its log needs it.
    if (typeof outcome === 'object') this.o.logger.info('stopped before the end of the run', { why: outcome.orphaned });
    else this.o.logger.warn('stopped before the end of the run', { why: outcome });
    return outcome;
  }

  /**
   * What the controller says, on this process's control subject, sealed with its key: the start (or this
   * process's rejoin), peers restarted, datapath faults, stop. Anything else is refused and counted (the
   * final report carries it: the run is tainted).
   */
  private listen(): void {
    const sub = this.o.transport.subscribe(this.subjects.control(this.address), (data) => {
      const opened = this.control.open(data);
      if (!opened.ok) {
        if (this.controlRefused++ === 0) {
          this.controlRefusal = `${this.name}, on its control subject: ${opened.why}`;
          this.o.logger.warn('control message refused', { why: opened.why });
        }
        return;
      }
      const m = opened.value;
      this.controller?.heard();
      // A start naming another process is that process's rejoin (two restarted processes may wait at once).
      if (m?.kind === 'start' && !this.started && (m.id === undefined || m.id === this.name)) this.start(m);
      else if (m?.kind === 'restarted') {
        if (m.id !== this.name) for (const id of m.id.split('+')) this.host.forgetSender(id);
      } else if (m?.kind === 'resync') {
        if (this.started) this.resyncRounds(`partition ${m.id}`);
      } else if (m?.kind === 'fault') {
        const ref = this.ids.indexOf(m.actor);
        if (this.o.ids.includes(m.actor) && this.host.applyFault(ref, m.cmd))
          this.o.logger.info('fault', { actor: m.actor, id: m.cmd.id, action: m.cmd.action, phase: m.cmd.phase });
      } else if (m?.kind === 'stop') {
        if (m.final === true && this.started) this.resolveHalt();
        else this.resolveStop('stop from controller');
      }
    });
    this.unsubscribe.push(() => sub.unsubscribe());
  }

  private start(m: Extract<ControlMessage, { kind: 'start' }>): void {
    this.started = true;
    const rejoin = this.incarnation > 0;
    this.o.logger.info(rejoin ? 'rejoin' : 'start', { epochMs: m.epochMs, incarnation: this.incarnation });
    this.cpuAtStart = process.cpuUsage();
    this.diagnostics?.start();
    // Faults in effect for a restarted process's actors: taken at the instant they rejoin.
    const held = (m.faults ?? []).filter((f) => this.o.ids.includes(f.actor)).map((f) => ({ ref: this.ids.indexOf(f.actor), cmd: f.cmd }));
    this.host.start(m.epochMs, rejoin, held);
    for (const f of held) this.o.logger.info('fault', { actor: this.ids[f.ref], id: f.cmd.id, action: f.cmd.action, phase: f.cmd.phase, atRejoin: true });
  }

  /**
   * After a NATS outage, messages may have been lost on the bus: the actors announce their ring state and
   * kick their peers again (Actor.resync). At once, and twice more, since a peer whose client reconnects
   * later (nats.js retries every 2 s) does not get what was published before it was back.
   */
  private resyncAfterReconnects(): void {
    let downAt: number | undefined;
    this.unsubscribe.push(
      this.o.transport.onStatus((st) => {
        // Published while the bus is down, the events wait in the client's reconnect buffer: the controller
        // gets them once this process is back, and counts what the bus lost meanwhile as lost-in-transport.
        if (st.kind === 'disconnect' && downAt === undefined) {
          downAt = this.o.clock.nowMs();
          this.publishEvent(this.host.emulatedNow(), this.name, 'nats-disconnected', { detail: st.detail });
        } else if (st.kind === 'reconnect' && downAt !== undefined) {
          this.publishEvent(this.host.emulatedNow(), this.name, 'nats-reconnected', { outageMs: Math.round(this.o.clock.nowMs() - downAt) });
          downAt = undefined;
        }
      }),
    );
    this.unsubscribe.push(
      this.o.transport.onStatus((st) => {
        if (st.kind === 'reconnect' && this.started) this.resyncRounds('nats-reconnect');
      }),
    );
  }

  /**
   * The actors resync (Actor.resync) at once and twice more (RESYNC_AGAIN_MS), each round an event `bus-resync`: after
   * this process's NATS client reconnected, or a node partition ended (the controller's `resync`, `why` its fault).
   */
  private resyncRounds(why: string): void {
    const resync = (round: number) => {
      const n = this.host.resync();
      if (n === 0) return;
      this.o.logger.info('bus resync', { round, actors: n, why });
      this.publishEvent(this.host.emulatedNow(), this.name, 'bus-resync', { round, actors: n, why });
    };
    resync(1);
    for (const [round, ms] of RESYNC_AGAIN_MS.entries()) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resync(round + 2);
      }, ms);
      this.timers.add(t);
    }
  }

  /** Say hello until the start arrives (the controller may subscribe after the first one), then beat. */
  private announce(): void {
    const hello = () => this.o.transport.publish(this.subjects.hello(this.address), this.control.seal({ kind: 'hello', id: this.name, pid: process.pid }));
    hello();
    const helloTimer = setInterval(() => {
      if (this.started) clearInterval(helloTimer);
      else hello();
    }, 250);
    const beat = setInterval(() => {
      if (this.started)
        this.o.transport.publish(this.subjects.heartbeat(this.address), this.control.seal({ kind: 'hb', id: this.name, emulatedNow: this.host.emulatedNow() }));
    }, 250);
    this.intervals.push(helloTimer, beat);
  }

  /**
   * The end of the run in this process: `done`, `failed` (a livelock: the run cannot go on here; the
   * process exits with code 1), a stop from the controller, an interruption, or an orphan guard (a
   * process whose controller is gone must not live on).
   */
  private async untilTheEnd(): Promise<Outcome> {
    const noStart = new Promise<string>((resolve) => {
      setTimeout(() => {
        if (!this.started) resolve('no start from the controller within 120 s');
      }, 120_000).unref();
    });
    const hostDone = this.host.done.then(
      () => 'done',
      (err: unknown) => {
        const failure = err instanceof Error ? err.message : String(err);
        this.o.logger.error('the run cannot go on in this process', { error: failure });
        process.stderr.write(`${this.name}: error: ${failure}\n`);
        return 'failed';
      },
    );
    const orphaned = this.orphaned();
    return Promise.race([hostDone, this.halted, this.stopped, noStart, orphaned, whenAborted(this.o.signal)]);
  }

  /**
   * Let messages still on the bus arrive (they count as in flight), send the final report, wait for the
   * stop. A bus that is down holds the report in the client's reconnect buffer until it is back (or this
   * process gives up on it: the orphan guard, which is then the outcome).
   */
  private async report(): Promise<{ readonly orphaned: string } | undefined> {
    await new Promise((r) => setTimeout(r, this.s.live.drainTime / 1e6));
    const final = { ...this.host.final(), controlRefused: this.controlRefused, ...(this.controlRefused > 0 ? { controlRefusal: this.controlRefusal } : {}) };
    this.toController({ kind: 'final', id: this.name, final, incarnation: this.incarnation });
    const orphaned = this.orphaned();
    const flushed = this.flushed();
    const sent = await Promise.race([flushed.then(() => undefined), orphaned]);
    if (sent !== undefined) return sent;
    this.logFinal(final);
    const noStop = new Promise<string>((resolve) => {
      setTimeout(() => resolve('no stop from the controller within 60 s'), 60_000).unref();
    });
    const why = await Promise.race([this.stopped, noStop, orphaned, whenAborted(this.o.signal)]);
    if (typeof why === 'object') return why;
    this.o.logger.info('stopping', { why });
    return undefined;
  }

  /** Resolves when the orphan guard gives up on the controller or the bus (never without one). */
  private orphaned(): Promise<{ readonly orphaned: string }> {
    return this.controller === undefined ? new Promise(() => {}) : this.controller.gone.then((why) => ({ orphaned: why }));
  }

  /** Resolves once what was published has reached the server: at once, or once a lost connection is back. */
  private async flushed(): Promise<void> {
    for (;;) {
      try {
        await this.o.transport.flush();
        return;
      } catch (err) {
        this.o.logger.warn('the final report waits for the bus', { error: err instanceof Error ? err.message : String(err) });
        const next = await new Promise<string>((resolve) => {
          const off = this.o.transport.onStatus((st) => {
            if (st.kind === 'reconnect' || st.kind === 'closed') {
              off();
              resolve(st.kind);
            }
          });
        });
        if (next === 'closed') return new Promise<void>(() => {}); // never flushed: the orphan guard ends the wait
      }
    }
  }

  private logFinal(final: HostFinal): void {
    this.o.logger.info('final report sent', {
      events: final.eventsProcessed,
      pumps: final.pumps,
      framesSent: final.framesSent,
      envelopesSent: final.envelopesSent,
      cpuMs: this.cpuAtStart === undefined ? null : Math.round(((u) => u.user + u.system)(process.cpuUsage(this.cpuAtStart)) / 1000),
      pending: final.pendingPackets,
      lagP50Us: Math.round(lagUs(final.processingLag, 50)),
      lagMaxUs: Math.round(final.processingLag.max / 1000),
      latenessP50Us: Math.round(lagUs(final.inputLateness, 50)),
      ...(this.diagnostics !== undefined ? { diagnostics: this.diagnostics.report() } : {}),
    });
  }

  /** Stop timers and listeners and the host (the connection is the caller's to drain). */
  close(): void {
    this.controller?.close();
    for (const i of this.intervals) clearInterval(i);
    for (const t of this.timers) clearTimeout(t);
    for (const u of this.unsubscribe) u();
    this.host.close();
  }
}

function lagUs(h: HistogramJson, p: number): number {
  return LatencyHistogram.fromJSON(h).percentile(p) / 1000;
}
