// The fault injector of a live run: scheduled faults at their emulated times, and ad-hoc ones requested by `splitnet fault`.
import { SplitnetError } from '@splitnet/model';
import type { Logger, Nanos } from '@splitnet/model';
import { HeldFaults, planFaults } from '@splitnet/controller';
import type { ActorGraph, FaultPlan, FaultStep, PlannedAction } from '@splitnet/controller';
import { faultDetail } from '@splitnet/results';
import { compileFaultItem } from '@splitnet/scenario';
import type { CompiledScenario, FaultOccurrence, FaultSpec } from '@splitnet/scenario';
import type { Subjects, Transport } from '@splitnet/transport';
import type { ControlMessage, HeldFault } from './control.js';
import { whereDetail, whereIs } from './actor-handle.js';
import type { ActorHandle } from './actor-handle.js';
import type { DilatedClock } from './dilated-clock.js';
import { clusterFaultTarget, switchPortSteps } from './fabric-faults.js';

/** What the injector may do to the NATS server the run uses (present when the run's placement started it). */
export interface NatsServerControl {
  /** Kill the server (SIGKILL, or `docker kill` of its containers): clients see a disconnect and start reconnecting. */
  kill(): void | Promise<void>;
  /** Start it again on the same address. */
  restart(): Promise<void>;
  /** How the kill is done, for the event log and the console (default: SIGKILL of nats-server). */
  readonly how?: { readonly kill: string; readonly restart: string };
}

/** Fault actions on an emulated Docker node's containers (the docker placement provides them; see @splitnet/docker's DockerFaults). */
export interface NodeFaultControl {
  pauseNode(node: number): Promise<string>;
  unpauseNode(node: number): Promise<string>;
  disconnectNode(node: number): Promise<string>;
  reconnectNode(node: number): Promise<string>;
}

export interface LiveFaultOptions {
  readonly scenario: CompiledScenario;
  /** One host's graph (a multi-host run: its first host's, for ad-hoc requests, which it refuses). */
  readonly graph: ActorGraph;
  /** A multi-host run's hosts (refs global) and every actor of the run by ref: each host's own faults are planned on its graph. */
  readonly cluster?: { readonly hosts: readonly ActorGraph[]; readonly all: readonly { readonly id: string }[] };
  readonly transport: Transport;
  readonly subjects: Subjects;
  readonly logger: Logger;
  /** The run's clock: fault steps happen at their emulated times on it. */
  readonly clock: DilatedClock;
  /** The process hosting an actor id (undefined when actors were started elsewhere). */
  readonly processOf: (actorId: string) => ActorHandle | undefined;
  /** A datapath fault command to the process hosting actor `actor` (sealed, on that process's control subject). */
  readonly sendFault: (actor: string, m: ControlMessage) => void;
  /** `m` to every actor process of the run (a node partition's end: their actors resync). */
  readonly sendAll?: (m: ControlMessage) => void;
  readonly nats?: NatsServerControl;
  readonly nodes?: NodeFaultControl;
  /** Record an event in the run's log at emulated time t. */
  readonly record: (t: Nanos, actor: string, kind: string, detail: Record<string, unknown>) => void;
}

export interface AdHocResult {
  readonly ok: boolean;
  readonly message: string;
  readonly applied: readonly string[];
}

/** A signal to the process hosting `ref` (a restart is the supervisor's, not the injector's). */
interface ProcessAction {
  readonly type: 'pause' | 'resume' | 'kill';
  readonly ref: number;
  /** The fault's id (an occurrence's, or a host pause's). */
  readonly id: string;
}
type NodeAction = Extract<PlannedAction, { type: 'node' }>;
type NatsAction = Extract<PlannedAction, { type: 'nats-down' | 'nats-up' }>;

export class LiveFaultInjector {
  /** Every fault occurrence injected so far (scheduled and ad-hoc), for the summary. */
  readonly occurrences: FaultOccurrence[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private adHocCount = 0;
  private stopped = false;
  /**
   * Processes this injector SIGKILLed: until the supervisor launches a new incarnation, processOf still
   * returns the dead one, and a second kill (a crash loop faster than the restart) must not be
   * reported as if it had hit a live process.
   */
  private readonly killed = new WeakSet<ActorHandle>();
  /** Datapath faults that hold a state, in effect, per actor id: a restarted actor gets them again. */
  private readonly held = new HeldFaults<string>();
  /** Node faults (docker pause, network disconnect) and NATS outages under way, and when the last one was undone (wall ms). */
  private nodeFaultsOpen = 0;
  private nodeFaultUndoneMs = -Infinity;
  /** Processes a `pause` fault stopped and not yet resumed, and when each resumed one was resumed (wall ms). */
  private readonly paused = new Set<string>();
  private readonly resumedMs = new Map<string, number>();

  constructor(private readonly o: LiveFaultOptions) {}

  /** Emulated time now (0 before the run started). */
  private emuNow(): Nanos {
    return this.o.clock.started ? this.o.clock.now() : 0;
  }

  private wallNow(): number {
    return this.o.clock.wall.nowMs();
  }

  /** Schedule the scenario's faults against the run's epoch (the clock has started). */
  start(): void {
    this.fabric();
    const plans = this.plans();
    if (plans.length === 0) return;
    // As sim's cluster plan: every host's occurrences by their start, the steps by time and kind at one instant.
    this.occurrences.push(...plans.flatMap((p) => p.occurrences).sort((a, b) => a.start - b.start));
    this.schedule(plans.flatMap((p) => p.steps).sort((a, b) => a.t - b.t || a.order - b.order));
  }

  /**
   * A multi-host run's host and switch-port faults: the switch's process changes its ports at their instants
   * (fabric-faults.ts); here, their fault-start and fault-end events, as sim records them.
   */
  private fabric(): void {
    for (const st of switchPortSteps(this.o.scenario)) {
      if (st.phase === 'restart' || st.t > this.o.scenario.duration) continue;
      const f = st.fault;
      const kind = st.phase === 'start' ? 'fault-start' : 'fault-end';
      const target = clusterFaultTarget(f);
      this.at(st.t, () => {
        this.o.record(st.t, 'controller', kind, { id: f.id, target, kind: f.kind });
        this.say(`${kind} ${f.id}: ${f.kind} on ${target}`, st.t);
        if (f.kind === 'host-pause') this.signalHost(st.t, f.index, st.on ? 'pause' : 'resume', f.id);
      });
    }
  }

  /**
   * A host pause's start or end: SIGSTOP / SIGCONT of every process of host `host` (each once, whatever actors it
   * hosts), as a one-host pause of each; its switch port is down meanwhile (the switch's process: fabric-faults.ts).
   */
  private signalHost(t: Nanos, host: number, type: 'pause' | 'resume', id: string): void {
    const g = this.o.cluster?.hosts[host];
    if (g === undefined) return;
    const seen = new Set<string>();
    for (const actor of g.all) {
      const name = this.o.processOf(actor.id)?.name ?? actor.id;
      if (seen.has(name)) continue;
      seen.add(name);
      this.signalProcess(t, { type, ref: (this.o.cluster?.all ?? []).findIndex((a) => a.id === actor.id), id });
    }
  }

  /** Run `fn` at emulated time t (now if due already), unless the injector has stopped. */
  private at(t: Nanos, fn: () => void): void {
    const waitMs = this.o.clock.msUntil(t);
    if (waitMs <= 0) {
      if (!this.stopped) fn();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) fn();
    }, waitMs);
    this.timers.add(timer);
  }

  /** The scenario's faults planned: one host's, or each host's own faults on its graph (checkLiveScenario took only those). */
  private plans(): FaultPlan[] {
    const s = this.o.scenario;
    const views = s.cluster?.hosts;
    const hosts = this.o.cluster?.hosts;
    if (views === undefined || hosts === undefined) return s.faults.length === 0 ? [] : [planFaults(s, this.o.graph, 'live')];
    return views.flatMap((view, i) => (view.faults.length === 0 ? [] : [planFaults(view, hosts[i] as ActorGraph, 'live')]));
  }

  /**
   * Whether an actor's silence is the expected consequence of a node fault or a NATS outage: its container
   * is paused or cut from its network, or the bus is down, or was until less than `graceMs` ago (a NATS
   * client needs a few seconds to notice that its connection works again, or to make a new one).
   */
  excusesSilence(nowMs: number, graceMs: number): boolean {
    return this.nodeFaultsOpen > 0 || nowMs < this.nodeFaultUndoneMs + graceMs;
  }

  /**
   * Whether the silence of process `name` is the expected consequence of a `pause` fault on it: it is
   * paused, or was resumed less than `graceMs` ago.
   */
  excusesSilenceOf(name: string, nowMs: number, graceMs: number): boolean {
    const resumed = this.resumedMs.get(name);
    return this.paused.has(name) || (resumed !== undefined && nowMs < resumed + graceMs);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private schedule(steps: readonly FaultStep[], collect?: string[]): void {
    for (const st of steps) {
      if (st.t > this.o.scenario.duration) continue;
      const waitMs = this.o.clock.msUntil(st.t);
      if (waitMs <= 0) {
        // Due already (a step at the run's start, or a start() late on a loaded machine): now. Not inside
        // `collect?.push(…)`, whose argument is not evaluated at all without a collector.
        const line = this.apply(st);
        collect?.push(line);
        continue;
      }
      this.at(st.t, () => this.apply(st));
    }
  }

  /**
   * A restarted process's actors are fresh: a fault that holds a state (a link held down, a guest not
   * polling, a slowed worker, notifications lost or delayed) and is still in effect goes with their
   * rejoin (the `start` message), so the fault lasts its whole window whatever happened to the process.
   * Each is also an event in the run's log.
   */
  heldFor(actorIds: readonly string[], t: Nanos): HeldFault[] {
    const out: HeldFault[] = [];
    if (this.stopped) return out;
    for (const actor of actorIds) {
      for (const cmd of this.held.of(actor)) {
        this.o.record(t, actor, 'fault-reapplied', { id: cmd.id, action: cmd.action });
        this.o.logger.info('fault', { line: `${cmd.action} ${cmd.id} goes again to ${actor}: it restarted while the fault was in effect`, t });
        out.push({ actor, cmd });
      }
    }
    return out;
  }

  /** Say what a step did (the log and `splitnet fault`'s reply); returns the line. */
  private say(line: string, t: Nanos): string {
    this.o.logger.info('fault', { line, t });
    return line;
  }

  private idOf(ref: number): string {
    return (this.o.cluster?.all ?? this.o.graph.all)[ref]?.id ?? String(ref);
  }

  /** Carry out one step now; returns a line saying what was done. */
  private apply(st: FaultStep): string {
    if (this.stopped) return 'run stopping: skipped';
    const a = st.action;
    switch (a.type) {
      case 'fault-start':
      case 'fault-end':
        this.o.record(st.t, 'controller', a.type, faultDetail(a.occ));
        return this.say(`${a.type} ${a.occ.id}: ${a.occ.spec.action} on ${a.occ.spec.targetText}`, st.t);
      case 'datapath': {
        const actor = this.idOf(a.ref);
        this.held.note(actor, a.cmd);
        this.o.sendFault(actor, { kind: 'fault', actor, cmd: a.cmd });
        return this.say(`${a.cmd.action} ${a.cmd.phase} sent to ${actor}${a.cmd.queues ? ` (queues ${a.cmd.queues.join(', ')})` : ''}`, st.t);
      }
      case 'pause':
      case 'resume':
      case 'kill':
        return this.signalProcess(st.t, { type: a.type, ref: a.ref, id: a.occ.id });
      case 'restart':
        return this.say(`restart of ${this.idOf(a.ref)} left to the supervisor`, st.t);
      case 'node':
        return this.nodeFault(st.t, a);
      case 'nats-down':
      case 'nats-up':
        return this.natsFault(st.t, a);
      case 'resync':
        return this.say(`resync of ${this.idOf(a.ref)} left to its process (at the partition's end)`, st.t);
    }
  }

  /** SIGSTOP / SIGCONT / SIGKILL of the process that hosts the actor (a container: docker pause / unpause / kill). */
  private signalProcess(t: Nanos, a: ProcessAction): string {
    const actor = this.idOf(a.ref);
    const h = this.o.processOf(actor);
    if (h === undefined || h.pid === process.pid) {
      this.o.record(t, actor, 'fault-skipped', { id: a.id, reason: 'no process of ours to signal (placement external or inprocess)' });
      return this.say(`${a.type} of ${actor} skipped: its process is not one this controller started`, t);
    }
    if (this.killed.has(h)) {
      this.o.record(t, h.name, 'fault-skipped', { id: a.id, reason: 'the process is down: the supervisor has not restarted it yet' });
      return this.say(`${a.type} of ${h.name} skipped: its process (${whereIs(h)}) is down and not restarted yet`, t);
    }
    if (a.type === 'kill') this.killed.add(h);
    if (a.type === 'pause') this.paused.add(h.name);
    if (a.type === 'resume' && this.paused.delete(h.name)) this.resumedMs.set(h.name, this.wallNow());
    const sig = a.type === 'pause' ? 'SIGSTOP' : a.type === 'resume' ? 'SIGCONT' : 'SIGKILL';
    h.kill(sig);
    this.o.record(t, h.name, a.type === 'kill' ? 'actor-killed-by-fault' : a.type === 'pause' ? 'actor-paused' : 'actor-resumed', {
      id: a.id,
      ...whereDetail(h),
      signal: sig,
    });
    return this.say(`${sig} to ${h.name} (${whereIs(h)})${a.type === 'kill' ? '; the supervisor restarts it' : ''}`, t);
  }

  /** A node's containers paused or cut from their network, or brought back (docker placement). */
  private nodeFault(t: Nanos, a: NodeAction): string {
    const nodes = this.o.nodes;
    if (!nodes) {
      this.o.record(t, 'controller', 'fault-skipped', { id: a.occ.id, reason: 'node faults need the docker placement' });
      return this.say(`node ${a.node} ${a.op} skipped: not a docker-placed run`, t);
    }
    const undo = a.op === 'unpause' || a.op === 'reconnect';
    if (!undo) this.nodeFaultsOpen++;
    const call =
      a.op === 'pause'
        ? nodes.pauseNode(a.node)
        : a.op === 'unpause'
          ? nodes.unpauseNode(a.node)
          : a.op === 'disconnect'
            ? nodes.disconnectNode(a.node)
            : nodes.reconnectNode(a.node);
    void call
      .then(
        (line) => {
          this.o.record(this.emuNow(), 'controller', `node-${a.op}`, { id: a.occ.id, node: a.node, line });
          // The cut is over: what the bus lost in it (messages to and from the node's actors) is resynced by every
          // actor, as at an actor partition's end or after a NATS outage (docs/faults.md#the-transmit-path-a-guest-that-sends).
          if (a.op === 'reconnect') this.o.sendAll?.({ kind: 'resync', id: a.occ.id });
        },
        (err: unknown) => this.o.record(this.emuNow(), 'controller', 'fault-failed', { id: a.occ.id, node: a.node, op: a.op, error: String(err) }),
      )
      .finally(() => {
        if (!undo) return;
        this.nodeFaultsOpen--;
        this.nodeFaultUndoneMs = this.wallNow();
      });
    return this.say(`node ${a.node}: ${a.op} requested from Docker`, t);
  }

  /** The run's NATS server killed, or started again on the same address. */
  private natsFault(t: Nanos, a: NatsAction): string {
    const nats = this.o.nats;
    if (!nats) {
      this.o.record(t, 'controller', 'fault-skipped', { id: a.occ.id, reason: 'the NATS server is not one this run started' });
      return this.say('nats-restart skipped: the NATS server is not one this run started (live.nats or --nats is set)', t);
    }
    const how = nats.how ?? { kill: 'nats-server killed (SIGKILL)', restart: 'nats-server restarting on the same address' };
    if (a.type === 'nats-down') {
      // While the bus is down no heartbeat gets through: the silence is the fault's, as for a node fault.
      this.nodeFaultsOpen++;
      const killed = nats.kill();
      if (killed === undefined) this.o.record(t, 'controller', 'nats-down', { id: a.occ.id });
      else
        void killed.then(
          () => this.o.record(t, 'controller', 'nats-down', { id: a.occ.id }),
          (err: unknown) => this.o.record(this.emuNow(), 'controller', 'fault-failed', { id: a.occ.id, op: 'nats-down', error: String(err) }),
        );
      return this.say(how.kill, t);
    }
    void nats
      .restart()
      .then(
        () => this.o.record(this.emuNow(), 'controller', 'nats-up', { id: a.occ.id }),
        (err: unknown) => this.o.record(this.emuNow(), 'controller', 'nats-restart-failed', { id: a.occ.id, error: String(err) }),
      )
      .finally(() => {
        this.nodeFaultsOpen--;
        this.nodeFaultUndoneMs = this.wallNow();
      });
    return this.say(how.restart, t);
  }

  /**
   * An ad-hoc fault from `splitnet fault`: a faults item without a time, checked against the running
   * scenario by the scenario's own rules (so its errors read like the scenario compiler's) and injected now.
   */
  adHoc(item: Readonly<Record<string, unknown>>): AdHocResult {
    const refuse = (message: string): AdHocResult => ({ ok: false, message, applied: [] });
    if (!this.o.clock.started) return refuse('the run has not started yet');
    const now = Math.ceil(this.emuNow());
    if (now >= this.o.scenario.duration) return refuse('the run has already reached its end');
    const id = typeof item['id'] === 'string' ? item['id'] : `adhoc-${++this.adHocCount}`;
    let f: FaultSpec;
    try {
      f = compileFaultItem({ ...item, id, at: `${now}ns` }, this.o.scenario);
    } catch (err) {
      return refuse(err instanceof Error ? err.message : String(err));
    }
    if (f.action.endsWith('-messages') || f.action === 'partition') {
      return refuse(`${f.action} acts in each process's send path, which is set up from the scenario at start: schedule it in the scenario's faults instead`);
    }
    let plan;
    try {
      plan = planFaults({ ...this.o.scenario, faults: [f] }, this.o.graph, 'live');
    } catch (err) {
      return refuse(err instanceof SplitnetError ? err.message : String(err));
    }
    this.occurrences.push(...plan.occurrences);
    const applied: string[] = [];
    this.schedule(plan.steps, applied);
    const later = plan.steps.filter((s) => s.t <= this.o.scenario.duration).length - applied.length;
    return {
      ok: true,
      message: `${id}: ${f.action} on ${f.targetText} at ${(now / 1e6).toFixed(3)} ms emulated${later > 0 ? `; ${later} more step(s) scheduled` : ''}`,
      applied,
    };
  }
}
