// The fault injector of a live run: scheduled faults at their emulated times, and ad-hoc ones requested by `splitnet fault`.
import { SplitnetError } from '@splitnet/model';
import type { Logger, Nanos } from '@splitnet/model';
import { compileScenarioText, formatResolvedYaml } from '@splitnet/scenario';
import type { CompiledScenario, FaultOccurrence } from '@splitnet/scenario';
import type { Subjects, Transport } from '@splitnet/transport';
import { HeldFaults, planFaults } from '@splitnet/controller';
import type { ActorGraph, FaultStep } from '@splitnet/controller';
import { faultDetail } from '@splitnet/results';
import { encodeControl } from './control.js';
import type { HeldFault } from './control.js';
import { whereDetail, whereIs } from './actor-handle.js';
import type { ActorHandle } from './actor-handle.js';

/** What the injector may do to the NATS server the run uses (present when the CLI started a private one). */
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
  readonly graph: ActorGraph;
  readonly transport: Transport;
  readonly subjects: Subjects;
  readonly logger: Logger;
  readonly tdf: number;
  readonly nowMs: () => number;
  /** The process hosting an actor id (undefined when actors were started elsewhere). */
  readonly processOf: (actorId: string) => ActorHandle | undefined;
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

export class LiveFaultInjector {
  /** Every fault occurrence injected so far (scheduled and ad-hoc), for the summary. */
  readonly occurrences: FaultOccurrence[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private epochMs = Infinity;
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

  constructor(private readonly o: LiveFaultOptions) {}

  /** Emulated time now. */
  private emuNow(): Nanos {
    return this.epochMs === Infinity ? 0 : ((this.o.nowMs() - this.epochMs) * 1e6) / this.o.tdf;
  }

  /** Schedule the scenario's faults against the run's epoch. */
  start(epochMs: number): void {
    this.epochMs = epochMs;
    if (this.o.scenario.faults.length === 0) return;
    const plan = planFaults(this.o.scenario, this.o.graph, 'live');
    this.occurrences.push(...plan.occurrences);
    this.schedule(plan.steps);
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
  /** Processes a `pause` fault stopped and not yet resumed, and when each resumed one was resumed (wall ms). */
  private readonly paused = new Set<string>();
  private readonly resumedMs = new Map<string, number>();

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private schedule(steps: readonly FaultStep[], collect?: string[]): void {
    for (const st of steps) {
      if (st.t > this.o.scenario.duration) continue;
      const waitMs = this.epochMs + (st.t * this.o.tdf) / 1e6 - this.o.nowMs();
      if (waitMs <= 0) {
        collect?.push(this.apply(st));
        continue;
      }
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.apply(st);
      }, waitMs);
      this.timers.add(timer);
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

  /** Carry out one step now; returns a line saying what was done. */
  private apply(st: FaultStep): string {
    if (this.stopped) return 'run stopping: skipped';
    const a = st.action;
    const o = this.o;
    const idOf = (ref: number) => o.graph.all[ref]?.id ?? String(ref);
    const say = (line: string, t: Nanos = st.t) => {
      o.logger.info('fault', { line, t });
      return line;
    };
    switch (a.type) {
      case 'fault-start':
      case 'fault-end':
        o.record(st.t, 'controller', a.type, faultDetail(a.occ));
        return say(`${a.type} ${a.occ.id}: ${a.occ.spec.action} on ${a.occ.spec.targetText}`);
      case 'datapath': {
        const actor = idOf(a.ref);
        this.held.note(actor, a.cmd);
        o.transport.publish(o.subjects.controlAll(), encodeControl({ kind: 'fault', actor, cmd: a.cmd }));
        return say(`${a.cmd.action} ${a.cmd.phase} sent to ${actor}${a.cmd.queues ? ` (queues ${a.cmd.queues.join(', ')})` : ''}`);
      }
      case 'pause':
      case 'resume':
      case 'kill': {
        const actor = idOf(a.ref);
        const h = o.processOf(actor);
        if (h === undefined || h.pid === process.pid) {
          o.record(st.t, actor, 'fault-skipped', { id: a.occ.id, reason: 'no process of ours to signal (placement external or inprocess)' });
          return say(`${a.type} of ${actor} skipped: its process is not one this controller started`);
        }
        if (this.killed.has(h)) {
          o.record(st.t, h.name, 'fault-skipped', { id: a.occ.id, reason: 'the process is down: the supervisor has not restarted it yet' });
          return say(`${a.type} of ${h.name} skipped: its process (${whereIs(h)}) is down and not restarted yet`);
        }
        if (a.type === 'kill') this.killed.add(h);
        if (a.type === 'pause') this.paused.add(h.name);
        if (a.type === 'resume' && this.paused.delete(h.name)) this.resumedMs.set(h.name, o.nowMs());
        const sig = a.type === 'pause' ? 'SIGSTOP' : a.type === 'resume' ? 'SIGCONT' : 'SIGKILL';
        h.kill(sig);
        o.record(st.t, h.name, a.type === 'kill' ? 'actor-killed-by-fault' : a.type === 'pause' ? 'actor-paused' : 'actor-resumed', { id: a.occ.id, ...whereDetail(h), signal: sig });
        return say(`${sig} to ${h.name} (${whereIs(h)})${a.type === 'kill' ? '; the supervisor restarts it' : ''}`);
      }
      case 'restart':
        return say(`restart of ${idOf(a.ref)} left to the supervisor`);
      case 'node': {
        const nodes = o.nodes;
        if (!nodes) {
          o.record(st.t, 'controller', 'fault-skipped', { id: a.occ.id, reason: 'node faults need the docker placement' });
          return say(`node ${a.node} ${a.op} skipped: not a docker-placed run`);
        }
        const undo = a.op === 'unpause' || a.op === 'reconnect';
        if (!undo) this.nodeFaultsOpen++;
        const call = a.op === 'pause' ? nodes.pauseNode(a.node) : a.op === 'unpause' ? nodes.unpauseNode(a.node) : a.op === 'disconnect' ? nodes.disconnectNode(a.node) : nodes.reconnectNode(a.node);
        void call
          .then(
            (line) => o.record(this.emuNow(), 'controller', `node-${a.op}`, { id: a.occ.id, node: a.node, line }),
            (err: unknown) => o.record(this.emuNow(), 'controller', 'fault-failed', { id: a.occ.id, node: a.node, op: a.op, error: String(err) }),
          )
          .finally(() => {
            if (!undo) return;
            this.nodeFaultsOpen--;
            this.nodeFaultUndoneMs = o.nowMs();
          });
        return say(`node ${a.node}: ${a.op} requested from Docker`);
      }
      case 'nats-down':
      case 'nats-up': {
        if (!o.nats) {
          o.record(st.t, 'controller', 'fault-skipped', { id: a.occ.id, reason: 'the NATS server is not one this run started' });
          return say('nats-restart skipped: the NATS server is not one this run started (live.nats or --nats is set)');
        }
        const how = o.nats.how ?? { kill: 'nats-server killed (SIGKILL)', restart: 'nats-server restarting on the same address' };
        if (a.type === 'nats-down') {
          // While the bus is down no heartbeat gets through: the silence is the fault's, as for a node fault.
          this.nodeFaultsOpen++;
          const killed = o.nats.kill();
          if (killed === undefined) o.record(st.t, 'controller', 'nats-down', { id: a.occ.id });
          else void killed.then(
            () => o.record(st.t, 'controller', 'nats-down', { id: a.occ.id }),
            (err: unknown) => o.record(this.emuNow(), 'controller', 'fault-failed', { id: a.occ.id, op: 'nats-down', error: String(err) }),
          );
          return say(how.kill);
        }
        void o.nats
          .restart()
          .then(
            () => o.record(this.emuNow(), 'controller', 'nats-up', { id: a.occ.id }),
            (err: unknown) => o.record(this.emuNow(), 'controller', 'nats-restart-failed', { id: a.occ.id, error: String(err) }),
          )
          .finally(() => {
            this.nodeFaultsOpen--;
            this.nodeFaultUndoneMs = o.nowMs();
          });
        return say(how.restart);
      }
    }
  }

  /**
   * An ad-hoc fault from `splitnet fault`: a faults item without a time, compiled against the running
   * scenario (so its errors read like the scenario's) and injected now.
   */
  adHoc(item: Readonly<Record<string, unknown>>): AdHocResult {
    if (this.epochMs === Infinity) return { ok: false, message: 'the run has not started yet', applied: [] };
    const now = Math.ceil(this.emuNow());
    if (now >= this.o.scenario.duration) return { ok: false, message: 'the run has already reached its end', applied: [] };
    const id = typeof item['id'] === 'string' ? item['id'] : `adhoc-${++this.adHocCount}`;
    const full = { ...item, id, at: `${now}ns` };
    let compiled: CompiledScenario;
    try {
      compiled = compileScenarioText(formatResolvedYaml({ ...this.o.scenario, resolved: { ...this.o.scenario.resolved, faults: [full] } }), 'splitnet fault');
    } catch (err) {
      const msg = err instanceof Error ? err.message.replace(/^splitnet fault:\d+:\d+: /, '') : String(err);
      return { ok: false, message: msg, applied: [] };
    }
    const f = compiled.faults[0];
    if (!f) return { ok: false, message: 'no fault given', applied: [] };
    if (f.action.endsWith('-messages') || f.action === 'partition') {
      return {
        ok: false,
        message: `${f.action} acts in each process's send path, which is set up from the scenario at start: schedule it in the scenario's faults instead`,
        applied: [],
      };
    }
    let plan;
    try {
      plan = planFaults(compiled, this.o.graph, 'live');
    } catch (err) {
      return { ok: false, message: err instanceof SplitnetError ? err.message : String(err), applied: [] };
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
