// The controller of a live run, as a sequence of named steps: place → connect → claim → join → start → supervise → drain → collect (the caller writes the results).
import { availableParallelism } from 'node:os';
import { SplitnetError } from '@splitnet/model';
import type { Logger, Nanos } from '@splitnet/model';
import type { RunEvent, RunResult } from '@splitnet/results';
import type { CompiledScenario, LiveProcesses } from '@splitnet/scenario';
import { Subjects } from '@splitnet/transport';
import type { Subscription, Transport } from '@splitnet/transport';
import { whenAborted } from './abort.js';
import { derivedPassword, loginOf } from './bus-permissions.js';
import { BusWatch } from './bus-watch.js';
import { collect } from './collect.js';
import type { Interrupted } from './collect.js';
import { decodeControl, encodeControl } from './control.js';
import { ControlPlane } from './control-plane.js';
import { newNonce } from './control-seal.js';
import { beatAsController } from './controller-liveness.js';
import { DilatedClock, systemWallClock } from './dilated-clock.js';
import type { WallClock } from './dilated-clock.js';
import { LiveFaultInjector } from './fault-injector.js';
import { checkLiveScenario, liveGraphOf, processIdsOf } from './live-graph.js';
import { registerExternalActors, sizedToJoined } from './join.js';
import type { JoinEvent, Registration } from './join.js';
import { connectPatiently, drainOrClose } from './nats-connect.js';
import type { NatsCredentials } from './nats-connect.js';
import type { NatsAccess, NatsLogin, Placement, ProcessAccess, ProcessGroup } from './placement.js';
import { readyTimeoutMs } from './ready-timeout.js';
import type { SnapshotFeed } from './live-snapshots.js';
import { ReportInbox } from './report-inbox.js';
import { RunLog } from './run-log.js';
import { Supervisor } from './supervisor.js';

export interface LiveRunOptions {
  readonly runId: string;
  /** Where the actors run and where NATS is. */
  readonly placement: Placement;
  readonly logger: Logger;
  /** The wall clock every process of the run shares (default: this machine's). */
  readonly clock?: WallClock;
  /** NATS login from the environment (a placement's own login, when its servers want one, wins). */
  readonly credentials?: NatsCredentials;
  /** Aborting it ends the run (E_INTERRUPTED): the actors are stopped and the placement cleans up. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: Nanos, total: Nanos) => void;
  /** What a person watching should know as the run sets up (how many actors joined). */
  readonly onNotice?: (line: string) => void;
  /**
   * Called when the run fails (an actor gave up after its restarts, no final report, actors not ready) with
   * the event log so far, before the error is thrown: the caller keeps it (the CLI writes events.jsonl).
   */
  readonly onFailure?: (events: readonly RunEvent[]) => void;
  /** A process the supervisor watches that is silent for this long (ms of wall time) is taken for dead (default 5000). */
  readonly heartbeatTimeoutMs?: number;
  /** Restarts allowed per actor process before the run fails (default 3). */
  readonly maxRestarts?: number;
  /** How long to wait for every actor process to say hello (ms; default: live.readyTimeout, `auto` scaled to the processes per core). */
  readonly readyTimeoutMs?: number;
  /** Where the run publishes the datapath at each sample every process reported, while it goes (live-snapshots.ts). */
  readonly snapshots?: SnapshotFeed;
}

/** A finished live run: its result, and its scenario (a placement whose actors register sizes it to them). */
export interface LiveOutcome {
  readonly result: RunResult;
  readonly scenario: CompiledScenario;
}

/** Run `s` live: each step is a function below, in the order it happens. */
export async function runLive(s: CompiledScenario, o: LiveRunOptions): Promise<LiveOutcome> {
  checkLiveScenario(s);
  try {
    // Inside the try: a placement that fails or is interrupted half-way still removes what it started.
    const nats = await place(s, o);
    const bus = await connect(s, nats, o);
    const control = new ControlPlane(o.runId, newNonce(), bus, new Subjects(o.runId));
    // The actors' orphan guard: they exit when this heartbeat stops while their connection is up.
    const stopBeating = beatAsController(control, () => 0);
    try {
      await claim(bus, control, o);
      return await runOnBus(s, nats, bus, control, o);
    } finally {
      stopBeating();
      // Bounded: if the bus is gone (an outage the run did not survive), what the run came to matters more.
      await drainOrClose(bus, o.logger);
    }
  } finally {
    await o.placement.stop();
  }
}

/** The steps that need the controller's connection: join, start, supervise, drain, collect. */
async function runOnBus(s: CompiledScenario, nats: NatsAccess, bus: Transport, control: ControlPlane, o: LiveRunOptions): Promise<LiveOutcome> {
  // A restarted container asks the join responder for the scenario while its restart is under way.
  // eslint-disable-next-line prefer-const -- callbacks read it before it is assigned
  let run: LiveRun | undefined;
  const accessFor = accessOf(nats, control, o);
  // Refused joins are in the event log (those before the run exists, at its start); a second driver taints the run.
  const early: string[] = [];
  const refused = (why: string, taints: boolean): void => {
    o.logger.warn(why);
    if (taints) control.refuse(why);
    if (run === undefined) early.push(why);
    else run.log.log('join-refused', 'controller', { reason: why });
  };
  const joined = await join(s, nats, bus, o, (name, incarnation) => run?.supervisor.isRestarting(name, incarnation) ?? false, accessFor, refused);
  control.setProcesses(joined.groups.map((g) => g.name));
  run = new LiveRun(joined, bus, nats.url, control, accessFor, o);
  for (const why of early) run.log.log('join-refused', 'controller', { reason: why });
  let failed = false;
  let interrupted: Interrupted | undefined;
  try {
    await start(run, o);
    interrupted = await supervise(run, o);
    if (interrupted !== undefined) await halt(run, interrupted);
  } catch (err) {
    failed = true;
    run.log.log('run-failed', 'controller', { reason: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    await drain(run, o.signal?.aborted === true || !run.bus.up);
    run.bus.close();
    if (failed) o.onFailure?.(run.log.sorted());
  }
  return { result: collect({ ...run.collectInput(), ...(interrupted !== undefined ? { interrupted } : {}) }), scenario: joined.scenario };
}

/** place: the placement starts what the run needs before its actors and says where NATS is (a server of its own has a user per process of the scenario). */
async function place(s: CompiledScenario, o: LiveRunOptions): Promise<NatsAccess> {
  const nats = await o.placement.start(processGroups(s, s.live.processes));
  interruptedYet(o.signal, 'while the placement started');
  return nats;
}

/** How long the controller retries a NATS server that does not answer (it may still be starting: a container, a compose service). */
const NATS_WAIT_MS = 30_000;

/**
 * connect: the controller's own connection to the run's NATS, retried for NATS_WAIT_MS — or for the ready wait
 * (live.readyTimeout, --ready-timeout) when that is shorter: a run that must be ready sooner cannot wait longer
 * for its bus. (`auto` is never shorter: the default wait stays 30 s.)
 */
async function connect(s: CompiledScenario, nats: NatsAccess, o: LiveRunOptions): Promise<Transport> {
  const bus = await connectPatiently(nats.url, `splitnet ${o.runId} controller`, {
    waitMs: Math.min(NATS_WAIT_MS, o.readyTimeoutMs ?? readyTimeoutMs(s, 0, 1)),
    ...((nats.login ?? o.credentials) ? { credentials: nats.login ?? o.credentials } : {}),
    log: (m) => o.logger.warn(m),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  bus.onStatus((st) => (st.kind === 'closed' ? o.logger.info : o.logger.warn)(`nats ${st.kind}`, { detail: st.detail }));
  return bus;
}

/**
 * claim: one run per id on a bus. The controller asks whether another controller holds the run id (one
 * request: no responders means none does) and refuses to go on if one answers; then it answers such
 * questions itself for the rest of the run, with its nonce. (Two controllers starting in the same instant
 * both find none; then each refuses the other's processes, whose control messages another nonce sealed, and
 * both runs end tainted.)
 */
async function claim(bus: Transport, control: ControlPlane, o: LiveRunOptions): Promise<void> {
  const subjects = new Subjects(o.runId);
  const ask = new TextEncoder().encode(JSON.stringify({ kind: 'claim', nonce: control.nonce }));
  let answer: Uint8Array | undefined;
  try {
    answer = await bus.request(subjects.claim(), ask, 2000);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    // No responders: nobody holds the id. A timeout: a server without no-responders support; go on.
    if (code !== 'E_NO_RESPONDERS' && code !== 'E_TIMEOUT') throw err;
  }
  if (answer !== undefined) {
    let other = '';
    try {
      const x = JSON.parse(new TextDecoder().decode(answer)) as { nonce?: unknown };
      other = typeof x.nonce === 'string' ? x.nonce : '';
    } catch {
      // Not a claim answer: still someone answering on this run's claim subject.
    }
    throw new SplitnetError(
      'E_USAGE',
      `live: run id ${o.runId} is in use on this NATS server by another controller (nonce ${other.slice(0, 8) || '?'}…, ours ${control.nonce.slice(0, 8)}…): give this run another --run-id`,
    );
  }
  bus.respond(subjects.claim(), (data) => {
    let asker = '?';
    try {
      const x = JSON.parse(new TextDecoder().decode(data)) as { nonce?: unknown };
      if (typeof x.nonce === 'string') asker = x.nonce.slice(0, 8);
    } catch {
      // Answered all the same: whoever asks is told the id is taken.
    }
    o.logger.warn('another controller asked for this run id; it was told it is in use', { nonce: asker });
    return new TextEncoder().encode(JSON.stringify({ kind: 'claimed', nonce: control.nonce }));
  });
}

/**
 * What each process incarnation is handed at launch or join: its control secret, and its NATS login on
 * servers the placement configured (a user per process), or on a deployment whose users splitnet generated
 * from the controller's password (deploy/nats.conf): processes that join log in there with their role's join
 * login and get their own.
 */
function accessOf(nats: NatsAccess, control: ControlPlane, o: LiveRunOptions): (name: string, incarnation: number) => ProcessAccess {
  const pass = o.credentials?.pass;
  const derived =
    o.placement.registration !== undefined && nats.login === undefined && pass !== undefined
      ? (ids: readonly string[]) => loginOf(ids, (u) => derivedPassword(pass, u))
      : undefined;
  const loginFor: ((ids: readonly string[]) => NatsLogin) | undefined = nats.processLogin ?? derived;
  return (name, incarnation) => {
    const login = loginFor?.(name.split('+'));
    return { secret: control.secretFor(name, incarnation), ...(login ? { login } : {}) };
  };
}

/** The run's scenario and its processes, once the actors are known. */
interface Joined {
  readonly scenario: CompiledScenario;
  readonly groups: readonly ProcessGroup[];
  /** The join step's events (`vif-negotiated`), recorded in the event log at emulated time 0. */
  readonly events: readonly JoinEvent[];
}

/**
 * join: a placement that launches its processes runs the scenario's own groups; one whose actors register
 * (external, docker) invites them and sizes the scenario to those that joined.
 */
async function join(
  s: CompiledScenario,
  nats: NatsAccess,
  bus: Transport,
  o: LiveRunOptions,
  rejoinable: (name: string, incarnation: number) => boolean,
  accessFor: (name: string, incarnation: number) => ProcessAccess,
  onRefused: (why: string, taints: boolean) => void,
): Promise<Joined> {
  const policy = o.placement.registration;
  if (policy === undefined) return { scenario: s, groups: processGroups(s, s.live.processes), events: [] };
  await o.placement.invite?.(s, nats);
  const reg = await registerExternalActors({
    runId: o.runId,
    transport: bus,
    logger: o.logger,
    windowMs: policy.windowMs,
    timeoutMs: policy.timeoutMs,
    ...(policy.expectEveryProcess === true ? { expect: { workers: s.topology.workers, frontends: s.topology.vms.length } } : {}),
    ...(policy.atLeast ? { atLeast: policy.atLeast } : {}),
    rejoinable,
    accessFor,
    onRefused,
    processes: s.live.processes,
    base: s,
    compile: sizedToJoined(s),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  o.onNotice?.(joinedNotice(o.runId, reg));
  const groups = reg.groups.map((ids) => {
    const name = ids.join('+');
    const container = reg.containers.get(name);
    return { name, ids, ...(container !== undefined ? { container } : {}) };
  });
  return { scenario: reg.scenario, groups, events: reg.events };
}

function joinedNotice(runId: string, reg: Registration): string {
  const s = reg.scenario;
  const asked = reg.negotiated.some((n) => n.requested !== null)
    ? `; queues per VM ${reg.negotiated.map((n) => n.granted).join(', ')} (asked ${reg.negotiated.map((n) => n.requested ?? '-').join(', ')}; back-end max ${reg.negotiated[0]?.max ?? '?'})`
    : '';
  return `run ${runId}: ${s.topology.vms.length} VMs and ${s.topology.workers} workers joined${asked}`;
}

/** The actor processes a launched placement (processes, docker) starts for `s`: their names and actors. */
export function scenarioProcessGroups(s: CompiledScenario): ProcessGroup[] {
  return processGroups(s, s.live.processes);
}

/** The processes of `s`: their names and actors (live-graph.ts). */
function processGroups(s: CompiledScenario, processes: LiveProcesses): ProcessGroup[] {
  return processIdsOf(liveGraphOf(s), processes).map((list) => ({ name: list.join('+'), ids: list }));
}

/** Why a multi-host live run takes no fault (scenario faults are refused when it is compiled; `splitnet fault` requests here). */
const MULTI_HOST_FAULTS =
  "live takes no `splitnet fault` request in a multi-host run (only the scenario's faults: switch-port faults, a host's pause, and datapath, message, pause and partition faults on one host's actors): schedule it in the scenario, or run it in sim, whose fault steps act at exact instants on the whole cluster";

/** The controller's state of one run: its clock, event log, reports, supervisor and fault injector, and its watch on the bus. */
class LiveRun {
  readonly s: CompiledScenario;
  /** The controller's NATS connection: its outages and whether the run can go on. */
  readonly bus: BusWatch;
  /** Rejects when the run cannot go on: a process lost for good, or the bus. */
  readonly failure: Promise<never>;
  readonly names: readonly string[];
  readonly subjects: Subjects;
  readonly clock: DilatedClock;
  readonly log: RunLog;
  readonly inbox: ReportInbox;
  readonly supervisor: Supervisor;
  readonly faults: LiveFaultInjector;
  private readonly faultRequests: Subscription;

  constructor(
    joined: Joined,
    readonly transport: Transport,
    url: string,
    readonly control: ControlPlane,
    accessFor: (name: string, incarnation: number) => ProcessAccess,
    o: LiveRunOptions,
  ) {
    const s = (this.s = joined.scenario);
    const bus = transport;
    this.names = joined.groups.map((g) => g.name);
    this.subjects = new Subjects(o.runId);
    this.clock = new DilatedClock(o.clock ?? systemWallClock, s.live.tdf);
    this.log = new RunLog(this.clock, o.logger);
    this.bus = new BusWatch({ transport, clock: this.clock, log: this.log, limitMs: s.live.busOutageLimit / 1e6, url });
    this.log.earlier(joined.events);
    const feed = o.snapshots;
    this.inbox = new ReportInbox(this.names, bus, this.subjects, this.log, control, feed ? (t) => this.publish(feed, o.runId, t) : undefined);
    // The fault injector: the scenario's schedule, and `splitnet fault` requests on the controller's control subject.
    // A multi-host run's are each host's own datapath and message faults (checkLiveScenario), planned on its graph.
    const lg = liveGraphOf(s);
    this.faults = new LiveFaultInjector({
      scenario: s,
      graph: lg.host ?? (lg.hosts[0] as (typeof lg.hosts)[number]),
      ...(lg.host === null ? { cluster: { hosts: lg.hosts, all: lg.all } } : {}),
      transport: bus,
      subjects: this.subjects,
      logger: o.logger,
      clock: this.clock,
      processOf: (id) => this.supervisor.processOf(id),
      sendFault: (actor, m) => {
        const name = this.names.find((n) => n.split('+').includes(actor));
        if (name !== undefined) control.send(name, m);
      },
      sendAll: (m) => {
        for (const name of this.names) control.send(name, m);
      },
      ...(o.placement.nats ? { nats: o.placement.nats } : {}),
      ...(o.placement.nodes ? { nodes: o.placement.nodes } : {}),
      record: (t, actor, kind, detail) => this.log.record(t, actor, kind, detail),
    });
    this.supervisor = new Supervisor({
      groups: joined.groups,
      placement: o.placement,
      transport: bus,
      subjects: this.subjects,
      control,
      accessFor,
      clock: this.clock,
      log: this.log,
      logger: o.logger,
      faults: this.faults,
      finished: (name) => this.inbox.finals.has(name),
      ...(o.maxRestarts !== undefined ? { maxRestarts: o.maxRestarts } : {}),
      ...(o.heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs: o.heartbeatTimeoutMs } : {}),
      busUp: () => this.bus.up,
    });
    this.failure = Promise.race([this.supervisor.failure, this.bus.lost]);
    this.failure.catch(() => {}); // observed by whoever races it
    this.faultRequests = bus.respond(this.subjects.control('controller'), (data) => this.onFaultRequest(data));
  }

  private onFaultRequest(data: Uint8Array): Uint8Array {
    const m = decodeControl(data);
    const reply =
      m?.kind !== 'fault-request'
        ? { ok: false, message: 'not a fault request', applied: [] }
        : this.s.cluster !== undefined
          ? { ok: false, message: MULTI_HOST_FAULTS, applied: [] }
          : this.faults.adHoc(m.item);
    if (m?.kind === 'fault-request') this.log.log('fault-request', 'controller', { ok: reply.ok, message: reply.message });
    return encodeControl({ kind: 'fault-reply', ...reply });
  }

  /** A sample instant every process reported: the datapath then, to the snapshot subscribers. */
  private publish(feed: SnapshotFeed, runId: string, t: Nanos): void {
    if (!feed.wanted) return;
    const snapshot = this.inbox.combinedAt(t);
    if (snapshot !== undefined)
      feed.publish({ runId, scenario: this.s, snapshot, completeAt: this.clock.now(), occurrences: this.faults.occurrences, events: this.log.sorted() });
  }

  /** No more faults, restarts or fault requests. */
  stopFaults(): void {
    this.faults.stop();
    this.faultRequests.unsubscribe();
  }

  collectInput(): Parameters<typeof collect>[0] {
    return {
      scenario: this.s,
      names: this.names,
      inbox: this.inbox,
      restarts: this.supervisor.restarts,
      occurrences: this.faults.occurrences,
      log: this.log,
      control: this.control,
      busOutages: this.bus.outages(),
    };
  }
}

/** Throws E_INTERRUPTED if the run was asked to stop. */
function interruptedYet(signal: AbortSignal | undefined, when: string): void {
  if (signal?.aborted === true) throw new SplitnetError('E_INTERRUPTED', `live: interrupted ${when} (${String(signal.reason)})`);
}

/** `p`, or an error once `ms` passed or the run was interrupted. */
async function within<T>(p: Promise<T>, ms: number, timedOut: () => SplitnetError, signal: AbortSignal | undefined): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const interrupted = whenAborted(signal).then((why): never => {
    throw new SplitnetError('E_INTERRUPTED', `live: interrupted (${why})`);
  });
  try {
    return await Promise.race([
      p,
      interrupted,
      new Promise<T>((_, reject) => {
        timer = setTimeout(() => reject(timedOut()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** start: launch the processes (or watch the registered ones), wait until every one said hello, broadcast the epoch, schedule the faults. */
async function start(run: LiveRun, o: LiveRunOptions): Promise<void> {
  run.supervisor.launchAll();
  run.supervisor.watchHeartbeats();
  const readyMs = o.readyTimeoutMs ?? readyTimeoutMs(run.s, run.names.length, availableParallelism());
  await within(
    Promise.race([run.supervisor.ready, run.failure]),
    readyMs,
    () =>
      new SplitnetError(
        'E_JOIN_TIMEOUT',
        `live: actors not ready after ${readyMs / 1000} s: ${run.supervisor.notReady().join(', ')} (see their logs; live.readyTimeout or --ready-timeout sets the wait)`,
      ),
    o.signal,
  );
  const s = run.s;
  const epochMs = run.clock.wall.nowMs() + s.live.startDelay / 1e6;
  run.clock.start(epochMs);
  run.control.sendAll({ kind: 'start', epochMs });
  run.log.log('run-start', 'controller', { epochMs, tdf: s.live.tdf, processes: run.names.length });
  run.faults.start();
}

/**
 * supervise: until every process sent its final report, or a process or the bus is lost for good, or the
 * run is interrupted: then it returns where (the caller halts the run there and keeps what it has).
 */
async function supervise(run: LiveRun, o: LiveRunOptions): Promise<Interrupted | undefined> {
  const s = run.s;
  const progress = o.onProgress
    ? setInterval(() => {
        const emu = run.clock.now();
        if (emu > 0) o.onProgress?.(Math.min(emu, s.duration), s.duration);
      }, 200)
    : undefined;
  // The final reports are due after the run, its drain and a margin; an outage of the bus pushes that back.
  const dueMs = s.live.startDelay / 1e6 + run.clock.wallMs(s.duration) + s.live.drainTime / 1e6 + 30_000;
  const started = run.clock.wall.nowMs();
  let overdueTimer: NodeJS.Timeout | undefined;
  const overdue = new Promise<never>((_, reject) => {
    overdueTimer = setInterval(() => {
      if (run.clock.wall.nowMs() - started - run.bus.downMs() < dueMs) return;
      reject(new SplitnetError('E_OPERATIONAL', `live: no final report from ${run.inbox.missingFinals().join(', ')} (crashed or too slow; see their logs)`));
    }, 500);
  });
  try {
    const end = await Promise.race([run.inbox.allFinal.then(() => undefined), run.failure, overdue, whenAborted(o.signal)]);
    if (end !== undefined) return { signal: end, at: Math.min(s.duration, run.clock.stamp()) };
  } finally {
    clearInterval(overdueTimer);
    if (progress) clearInterval(progress);
  }
  o.onProgress?.(s.duration, s.duration);
  return undefined;
}

/** How long the processes of an interrupted run have, after their drain time, to send what they have. */
const HALT_GRACE_MS = 10_000;

/**
 * halt (an interrupted run): no more faults or restarts; every process stops its actors where they are,
 * lets what is on the bus arrive, and sends its final report, so that the results cover the run up to
 * the interrupt and the accounting balances there. A process that does not report in time (or a bus
 * that is down) ends the run as interrupted without results.
 */
async function halt(run: LiveRun, stop: Interrupted): Promise<void> {
  run.supervisor.stop();
  run.stopFaults();
  run.log.log('run-interrupted', 'controller', { signal: stop.signal, atMs: stop.at / 1e6, durationMs: run.s.duration / 1e6 });
  if (!run.bus.up)
    throw new SplitnetError(
      'E_INTERRUPTED',
      `live: interrupted (${stop.signal}) while the NATS bus was down: no final report can arrive, so the run has no results (its event log is kept)`,
    );
  run.control.sendAll({ kind: 'stop', final: true });
  const graceMs = run.s.live.drainTime / 1e6 + HALT_GRACE_MS;
  await within(
    Promise.race([run.inbox.allFinal, run.bus.lost]),
    graceMs,
    () =>
      new SplitnetError(
        'E_INTERRUPTED',
        `live: interrupted (${stop.signal}); ${run.inbox.missingFinals().join(', ')} sent no final report within ${graceMs / 1000} s, so the run has no results (its event log is kept)`,
      ),
    undefined,
  );
}

/** How long a process may take to exit after the stop before it is killed. */
const EXIT_GRACE_MS = 10_000;

/**
 * drain: stop faults, restarts and the watchdog, tell every process to stop, and wait for those the
 * controller launched to exit (killed after EXIT_GRACE_MS; at once with SIGTERM first when interrupted).
 * Containers that stay up after their run (lingering) are the placement's to remove.
 */
async function drain(run: LiveRun, interrupted: boolean): Promise<void> {
  run.supervisor.stop();
  run.stopFaults();
  run.control.sendAll({ kind: 'stop' });
  // The bus may be gone (a failed run's reason); the error being reported matters more than this flush.
  await Promise.race([run.transport.flush().catch(() => {}), new Promise((r) => setTimeout(r, 2000).unref())]);
  const ours = [...run.supervisor.handles.values()].filter((h) => !h.lingers);
  if (interrupted) for (const h of ours) h.kill('SIGTERM');
  await Promise.all(
    ours.map(async (h) => {
      const code = await Promise.race([h.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), EXIT_GRACE_MS).unref())]);
      if (code !== 'timeout') return;
      h.kill('SIGKILL');
      run.log.log('actor-killed', h.name, { reason: `did not exit ${EXIT_GRACE_MS / 1000} s after stop` });
      await h.exited;
    }),
  );
  run.inbox.close();
}
