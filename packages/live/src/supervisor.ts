// The supervisor of a live run: launches the actor processes, restarts one that dies (with backoff), and takes one that goes silent for dead.
import { SplitnetError } from '@splitnet/model';
import type { Logger } from '@splitnet/model';
import type { Subjects, Subscription, Transport } from '@splitnet/transport';
import { whereDetail, whereIs } from './actor-handle.js';
import type { ActorHandle } from './actor-handle.js';
import type { HeldFault } from './control.js';
import type { ControlPlane } from './control-plane.js';
import type { DilatedClock } from './dilated-clock.js';
import type { Placement, ProcessAccess, ProcessGroup } from './placement.js';
import type { RunLog } from './run-log.js';

/** What the supervisor asks of the fault injector: faults a restarted process takes again, and silences a fault explains. */
export interface FaultsView {
  heldFor(actorIds: readonly string[], t: number): HeldFault[];
  excusesSilence(nowMs: number, graceMs: number): boolean;
  excusesSilenceOf(name: string, nowMs: number, graceMs: number): boolean;
}

export interface SupervisorOptions {
  readonly groups: readonly ProcessGroup[];
  readonly placement: Placement;
  readonly transport: Transport;
  readonly subjects: Subjects;
  /** Sealed control messages to and from the processes. */
  readonly control: ControlPlane;
  /** What a process incarnation is handed at launch besides its control secret (its NATS login, where the run has them). */
  readonly accessFor: (name: string, incarnation: number) => ProcessAccess;
  readonly clock: DilatedClock;
  readonly log: RunLog;
  readonly logger: Logger;
  readonly faults: FaultsView;
  /** Whether a process already sent its final report (its exit is then the end of its run, not a death). */
  readonly finished: (name: string) => boolean;
  /** Restarts allowed per actor process before the run fails (default 3). */
  readonly maxRestarts?: number;
  /** A process silent for this long (ms of wall time) is taken for dead (default 5000). */
  readonly heartbeatTimeoutMs?: number;
  /** Whether the controller's NATS connection is up: a restart waits for it (a process started meanwhile could not connect and would die again). */
  readonly busUp?: () => boolean;
}

/**
 * A process that dies before its final report is restarted with backoff (up to maxRestarts) through the
 * placement, rejoins the run at the same epoch and reconnects to its peers; what it held is lost and shows
 * up as inferred `lost-in-crash` drops (bus-accounting.ts). Processes the placement did not launch
 * (external), or whose exit may go unseen (remote containers), are watched through their heartbeats.
 */
export class Supervisor {
  /** Every process said hello (ready for the start). */
  readonly ready: Promise<void>;
  /** Rejects when the run cannot go on: a process gave up, went silent, or died before the start. */
  readonly failure: Promise<never>;
  private resolveReady: () => void = () => {};
  private fail: (err: Error) => void = () => {};
  private readonly names: readonly string[];
  private readonly hellos = new Set<string>();
  /** Restarted processes that have not said hello yet, with the incarnation launched. */
  private readonly rejoining = new Map<string, number>();
  /** Processes that died and are not back yet (the heartbeat watchdog does not take them for silent). */
  private readonly down = new Set<string>();
  /** Restarts per process. */
  readonly restarts = new Map<string, number>();
  /** Each process's latest incarnation's handle. */
  readonly handles = new Map<string, ActorHandle>();
  /** Wall time of each process's latest heartbeat (a rejoined process's counts from its rejoin). */
  private readonly lastBeat = new Map<string, number>();
  private stopping = false;
  private readonly subs: Subscription[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private watchdog: NodeJS.Timeout | undefined;
  /** The bus was down at the watchdog's last look. */
  private busWasDown = false;

  constructor(private readonly o: SupervisorOptions) {
    this.names = o.groups.map((g) => g.name);
    this.ready = new Promise<void>((resolve) => {
      this.resolveReady = resolve;
    });
    this.failure = new Promise<never>((_, reject) => {
      this.fail = reject;
    });
    this.failure.catch(() => {}); // observed by whoever races it; no unhandled rejection before that
    this.subs.push(
      o.transport.subscribe(o.subjects.helloAll(), (data, subject) => this.onHello(data, subject)),
      o.transport.subscribe(o.subjects.heartbeatAll(), (data, subject) => {
        const opened = o.control.open(data, subject);
        if (!opened.ok) return;
        const { name, m } = opened.value;
        if (m.kind === 'hb' && m.id === name) this.lastBeat.set(name, o.clock.wall.nowMs());
        else o.control.refuse(`${name}: a ${m.kind} on the heartbeat subject`);
      }),
    );
  }

  /** Launch every process's first incarnation (nothing for a placement that does not launch them). */
  launchAll(): void {
    for (const g of this.o.groups) this.launch(g, 0);
  }

  /** Names of the processes that have not said hello. */
  notReady(): string[] {
    return this.names.filter((n) => !this.hellos.has(n));
  }

  /** The process hosting an actor id, as the fault injector signals it (undefined when actors were started elsewhere). */
  processOf(actorId: string): ActorHandle | undefined {
    const name = this.names.find((n) => n.split('+').includes(actorId));
    return name === undefined ? undefined : this.handles.get(name);
  }

  /** Whether a restart of `name` as `incarnation` is under way (a restarted container asks the join responder for the scenario). */
  isRestarting(name: string, incarnation: number): boolean {
    return this.rejoining.get(name) === incarnation;
  }

  /** Total restarts of every process. */
  get totalRestarts(): number {
    return [...this.restarts.values()].reduce((a, b) => a + b, 0);
  }

  private launch(g: ProcessGroup, incarnation: number): void {
    const launch = this.o.placement.launch;
    if (!launch) return;
    const h = launch(g, incarnation, this.o.accessFor(g.name, incarnation));
    this.handles.set(h.name, h);
    void h.exited.then((code) => this.onExit(g, h, incarnation, code));
  }

  private onExit(g: ProcessGroup, h: ActorHandle, incarnation: number, code: number | null): void {
    if (this.o.finished(h.name) || this.stopping) return;
    this.down.add(h.name);
    const n = this.restarts.get(h.name) ?? 0;
    this.o.log.log('actor-died', h.name, { code, ...whereDetail(h), incarnation });
    const started = this.o.clock.started;
    if (!started || n >= (this.o.maxRestarts ?? 3)) {
      const why = !started ? 'before the run started' : `after ${n} restarts`;
      this.fail(
        new SplitnetError(
          'E_ACTOR_DIED',
          `live: actor process ${h.name} (${whereIs(h)}) exited with code ${String(code)} ${why}; giving up (see logs/${h.container ?? h.name}.log)`,
        ),
      );
      return;
    }
    this.restarts.set(h.name, n + 1);
    const backoffMs = 100 * 2 ** n;
    const relaunch = (waitMs: number): void => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (this.stopping) return;
        // The bus is down: wait for it rather than spend a restart on a process that cannot connect.
        if (this.o.busUp?.() === false) return relaunch(250);
        this.o.log.log('actor-restart', h.name, { incarnation: incarnation + 1, backoffMs });
        this.rejoining.set(h.name, incarnation + 1);
        this.launch(g, incarnation + 1);
      }, waitMs);
      this.timers.add(timer);
    };
    relaunch(backoffMs);
  }

  private onHello(data: Uint8Array, subject: string): void {
    const opened = this.o.control.open(data, subject);
    if (!opened.ok) return;
    const { name, incarnation, m } = opened.value;
    if (m.kind !== 'hello' || m.id !== name || !this.names.includes(name))
      return this.o.control.refuse(`${name}: a ${m.kind} for ${m.kind === 'hello' ? m.id : '?'} on the hello subject`);
    if (this.rejoining.has(m.id)) {
      // The hello of the restart under way, not a late one of the dead incarnation.
      if (incarnation === this.rejoining.get(m.id)) this.rejoined(m.id, m.pid);
      return;
    }
    if (this.hellos.has(m.id)) return;
    this.hellos.add(m.id);
    this.o.log.log('actor-ready', m.id, { pid: m.pid });
    if (this.hellos.size === this.names.length) this.resolveReady();
  }

  /** A restarted process is ready: peers forget its old sequence numbers, it gets the run's epoch and the faults in effect. */
  private rejoined(name: string, pid: number): void {
    const { control, clock } = this.o;
    this.rejoining.delete(name);
    this.down.delete(name);
    this.lastBeat.set(name, clock.wall.nowMs());
    control.sendAll({ kind: 'restarted', id: name }, name);
    const h = this.handles.get(name);
    this.o.log.log('actor-rejoined', name, { pid, ...(h?.container !== undefined ? { container: h.container } : {}) });
    const held = this.o.faults.heldFor(name.split('+'), clock.stamp());
    control.send(name, { kind: 'start', epochMs: clock.epochMs, id: name, ...(held.length > 0 ? { faults: held } : {}) });
  }

  /** Watch heartbeats when the placement did not launch the processes, or asks for it. */
  watchHeartbeats(): void {
    if (this.o.placement.launch && !this.o.placement.watchHeartbeats) return;
    this.watchdog = setInterval(() => this.checkHeartbeats(), 500);
  }

  private checkHeartbeats(): void {
    const { clock, faults } = this.o;
    const timeout = this.o.heartbeatTimeoutMs ?? 5000;
    const now = clock.wall.nowMs();
    if (!clock.started || now < clock.epochMs + timeout) return;
    // Nobody's heartbeat arrives while the controller's own connection is down: that is the bus, not the
    // processes; once it is back each gets a full timeout again.
    if (this.o.busUp?.() === false) {
      this.busWasDown = true;
      return;
    }
    if (this.busWasDown) {
      this.busWasDown = false;
      for (const n of this.names) this.lastBeat.set(n, now);
      return;
    }
    // A paused or disconnected Docker node silences its actors: that is the fault, not a death.
    if (faults.excusesSilence(now, timeout)) return;
    for (const n of this.names) {
      if (this.o.finished(n) || this.down.has(n) || faults.excusesSilenceOf(n, now, timeout)) continue;
      const last = this.lastBeat.get(n) ?? clock.epochMs;
      if (now - last <= timeout) continue;
      this.o.log.log('actor-silent', n, { sinceMs: Math.round(now - last) });
      const why = this.o.placement.launch ? 'its process has not exited, so it is not restarted' : 'externally started actors are not restarted by splitnet';
      this.fail(new SplitnetError('E_HEARTBEAT_LOST', `live: no heartbeat from ${n} for ${Math.round((now - last) / 1000)} s (${why})`));
    }
  }

  /** The run is ending: exits are no longer deaths, no restart is launched, the watchdog stops. */
  stop(): void {
    this.stopping = true;
    if (this.watchdog) clearInterval(this.watchdog);
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.subs) s.unsubscribe();
  }
}
