// Turns a scenario's fault schedule into timed steps (actor commands, process signals, NATS and node actions, message-path windows) for sim and live.
import {
  DATAPATH_FAULT_ACTIONS,
  deriveSeed,
  HELD_STATE_FAULT_ACTIONS,
  MESSAGE_FAULT_ACTIONS,
  MESSAGE_KINDS,
  RecordingEffects,
  SplitnetError,
} from '@splitnet/model';
import type { Actor, ActorRef, ActorReport, DatapathFaultAction, FaultCommand, Message, MessageFaultAction, Nanos } from '@splitnet/model';
import { LinkFaults } from '@splitnet/runtime';
import type { LinkFaultWindow, SimRuntime } from '@splitnet/runtime';
import { faultDetail } from '@splitnet/results';
import { faultOccurrences } from '@splitnet/scenario';
import type { ActorSelector, CompiledScenario, FaultOccurrence, FaultSpec } from '@splitnet/scenario';
import type { ActorGraph } from './build.js';

/** One thing the fault injector does at an emulated instant. */
export type PlannedAction =
  | { readonly type: 'fault-start' | 'fault-end'; readonly occ: FaultOccurrence }
  /** A datapath fault command for one actor (delivered by its runtime like any input). */
  | { readonly type: 'datapath'; readonly ref: ActorRef; readonly cmd: FaultCommand }
  /** SIGSTOP / SIGCONT of the actor's process. */
  | { readonly type: 'pause' | 'resume'; readonly ref: ActorRef; readonly occ: FaultOccurrence }
  /** The actor's process dies; `restart`: the supervisor brings it back (sim: after restartAfter; live: its own backoff). */
  | { readonly type: 'kill' | 'restart'; readonly ref: ActorRef; readonly occ: FaultOccurrence }
  /** Every actor container of an emulated Docker node: docker pause / unpause, network disconnect / connect. */
  | { readonly type: 'node'; readonly op: 'pause' | 'unpause' | 'disconnect' | 'reconnect'; readonly node: number; readonly occ: FaultOccurrence }
  /** The NATS server goes down / comes back (live only). */
  | { readonly type: 'nats-down' | 'nats-up'; readonly occ: FaultOccurrence }
  /** At a partition's end the actor announces its ring state again (Actor.resync; sim and lockstep: live hosts do it themselves). */
  | { readonly type: 'resync'; readonly ref: ActorRef; readonly occ: FaultOccurrence };

export interface FaultStep {
  readonly t: Nanos;
  /** At one instant: ends (0), starts (1), actions (2), restarts (3) — a repeated fault's next occurrence starts as the previous ends. */
  readonly order: number;
  readonly action: PlannedAction;
}

export interface FaultPlan {
  readonly steps: readonly FaultStep[];
  /** Message-path windows (message faults and partitions), for the LinkFaults of every runtime. */
  readonly windows: readonly LinkFaultWindow[];
  readonly occurrences: readonly FaultOccurrence[];
}

export interface SimFaultPlan {
  /** In the plan's order; `action` says whom a step acts on (lockstep applies it in that actor's partition). */
  readonly steps: readonly { readonly t: Nanos; readonly action: PlannedAction; readonly apply: (rt: SimRuntime) => void }[];
  readonly linkFaults: LinkFaults | undefined;
  /** The message-path windows behind linkFaults (a multi-host run joins its hosts' in one LinkFaults). */
  readonly windows: readonly LinkFaultWindow[];
  readonly occurrences: readonly FaultOccurrence[];
  /** Actors killed during the run, with their time of death: their counters still count. */
  readonly ghosts: SimGhost[];
  /**
   * Frames that arrived at a dead NIC: its successor counts them as emitted (it replays the traffic
   * source up to its restart), and they went nowhere: lost-in-crash.
   */
  readonly wire: { lostWhileDown: number; txLostWhileDown: number };
}

/** A killed actor's dead incarnation. */
export interface SimGhost {
  readonly actor: Actor;
  readonly t: Nanos;
  /** A NIC's: the traffic-source frames it counted as emitted, which its successor counts again (its replay). */
  emittedAgain?: { readonly frames: number; readonly bytes: number };
  /** A guest's that sends: the frames its application sent, which its successor counts again (it replays its sends). */
  sentAgain?: { readonly frames: number; readonly bytes: number };
  /** A worker's that died with its host's guests (a host crash): the requests it held from their TX rings are lost-in-crash, not released by netfront. */
  readonly ringsLost?: true;
}

const DATAPATH: ReadonlySet<string> = new Set(DATAPATH_FAULT_ACTIONS);
const MESSAGE: ReadonlySet<string> = new Set(MESSAGE_FAULT_ACTIONS);

/** Actor refs a selector names, with the guest queues it names for VMs. */
export function selectActors(g: ActorGraph, sel: ActorSelector): { ref: ActorRef; queues?: number[] }[] {
  switch (sel.role) {
    case 'nic':
      return [{ ref: g.refs.nic }];
    case 'backend':
      return [{ ref: g.refs.backend }];
    case 'worker':
      return g.workers
        .map((_, k) => k)
        .filter((k) => sel.index === '*' || sel.index === k)
        .map((k) => ({ ref: g.refs.worker(k) }));
    case 'vm':
      return g.frontends
        .map((_, v) => v)
        .filter((v) => sel.index === '*' || sel.index === v)
        .map((v) => (sel.queue === '*' ? { ref: g.refs.frontend(v) } : { ref: g.refs.frontend(v), queues: [sel.queue] }));
    default:
      // A host's graph in a multi-host run: its refs start at its NIC's.
      return g.all.map((_, i) => ({ ref: g.refs.nic + i }));
  }
}

function liveOnly(f: FaultSpec, what: string): never {
  throw new SplitnetError('E_SCENARIO', `${f.id} (${f.action} on ${f.targetText}): ${what}`);
}

/** What planning one occurrence adds to: the plan's steps and message-path windows. */
interface Planning {
  readonly s: CompiledScenario;
  readonly g: ActorGraph;
  readonly mode: 'sim' | 'live';
  readonly steps: FaultStep[];
  readonly windows: LinkFaultWindow[];
}

function step(p: Planning, t: Nanos, order: number, action: PlannedAction): void {
  p.steps.push({ t, order, action });
}

/**
 * Plan every fault of the scenario against the actor graph. `sim` rejects what only a live run can
 * do; `live` rejects what only sim models (kills of a NIC or guest are fine live: the supervisor restarts the process).
 */
export function planFaults(s: CompiledScenario, g: ActorGraph, mode: 'sim' | 'live'): FaultPlan {
  const occurrences = faultOccurrences(s.faults, s.duration);
  const p: Planning = { s, g, mode, steps: [], windows: [] };
  for (const occ of occurrences) {
    const f = occ.spec;
    step(p, occ.start, 1, { type: 'fault-start', occ });
    if (!occ.instantaneous) step(p, occ.end, 0, { type: 'fault-end', occ });
    if (f.target.kind === 'node' || f.target.kind === 'nats') planOutside(p, occ);
    else if (MESSAGE.has(f.action) || f.action === 'partition') planMessageWindows(p, occ);
    else if (f.target.kind !== 'actor') continue;
    else if (DATAPATH.has(f.action)) planDatapath(p, occ, f.target.actor);
    else planProcess(p, occ, f.target.actor);
  }
  p.steps.sort((a, b) => a.t - b.t || a.order - b.order);
  return { steps: p.steps, windows: p.windows, occurrences };
}

/** A node's containers (docker pause, network cut) or the NATS server: live only. */
function planOutside(p: Planning, occ: FaultOccurrence): void {
  const f = occ.spec;
  if (f.target.kind === 'node') {
    if (p.mode === 'sim') liveOnly(f, 'node targets act on the containers of a docker-placed live run');
    const node = Number(f.target.name);
    const [on, off] = f.action === 'pause' ? (['pause', 'unpause'] as const) : (['disconnect', 'reconnect'] as const);
    step(p, occ.start, 2, { type: 'node', op: on, node, occ });
    step(p, occ.end, 0, { type: 'node', op: off, node, occ });
    return;
  }
  if (p.mode === 'sim') liveOnly(f, 'the NATS server exists only in live runs (runtime: live)');
  step(p, occ.start, 2, { type: 'nats-down', occ });
  step(p, occ.end, 0, { type: 'nats-up', occ });
}

/** Message faults on a link, and partitions: windows every runtime's send path consults. */
function planMessageWindows(p: Planning, occ: FaultOccurrence): void {
  const { g, s } = p;
  const f = occ.spec;
  if (f.action === 'partition') {
    if (f.target.kind !== 'actor') return;
    // Cut off from every peer, every message kind, both ways; the NIC and its driver share a process, so either means both.
    let cut = selectActors(g, f.target.actor).map((x) => x.ref);
    if (cut.includes(g.refs.nic) || cut.includes(g.refs.backend)) cut = [...new Set([...cut, g.refs.nic, g.refs.backend])];
    // The host's other actors (a multi-host run's host graph numbers its refs from its NIC's).
    const others = g.all.map((_, i) => g.refs.nic + i).filter((i) => !cut.includes(i));
    p.windows.push({ ...window(occ, cut, others, MESSAGE_KINDS, s.seed, 1, 0), resyncAtEnd: true });
    p.windows.push({ ...window(occ, others, cut, MESSAGE_KINDS, s.seed, 1, 0, '<'), resyncAtEnd: true });
    // At its end every actor resyncs, as after a NATS outage (costless): what the cut dropped — ring writes,
    // responses, notifications, the TX ring's frames and deallocs — is announced again, so no slot waits for good.
    // A live host does it itself at the window's end (LinkFaults.resyncTimes).
    if (p.mode === 'sim') for (let ref = 0; ref < g.all.length; ref++) step(p, occ.end, 0, { type: 'resync', ref: g.refs.nic + ref, occ });
    return;
  }
  if (f.target.kind !== 'link') return;
  const from = selectActors(g, f.target.from).map((x) => x.ref);
  const to = selectActors(g, f.target.to).map((x) => x.ref);
  const kinds = (f.params.kinds ?? []) as Message['kind'][];
  p.windows.push(window(occ, from, to, kinds, s.seed, f.params.probability ?? 1, f.params.delay ?? 0));
}

/** The flows steered to the guest queues a selector names (where a ring-full storm must arrive). */
function flowsTo(p: Planning, sel: ActorSelector): number[] {
  const { g, s } = p;
  const want = new Set<number>();
  for (const t of selectActors(g, sel)) {
    const vm = t.ref - g.refs.frontend(0);
    const qs = t.queues ?? Array.from({ length: s.topology.vms[vm]?.queues ?? 0 }, (_, q) => q);
    for (let gq = 0; gq < g.steering.gqVm.length; gq++) {
      if (g.steering.gqVm[gq] === vm && qs.includes(g.steering.gqQueue[gq] as number)) want.add(gq);
    }
  }
  const flows: number[] = [];
  g.steering.flowGq.forEach((gq, flow) => {
    if (want.has(gq)) flows.push(flow);
  });
  return flows;
}

/** A datapath fault: commands to each selected actor (a storm: to the NIC, on the flows of the target queues). */
function planDatapath(p: Planning, occ: FaultOccurrence, sel: ActorSelector): void {
  const { g, s } = p;
  const f = occ.spec;
  const action = f.action as DatapathFaultAction;
  const seedFor = (actorId: string) => deriveSeed(s.seed, `fault:${occ.id}:${actorId}`);
  if (action === 'ring-full-storm') {
    const flows = flowsTo(p, sel);
    if (flows.length === 0) {
      throw new SplitnetError(
        'E_SCENARIO',
        `${f.id} (ring-full-storm on ${f.targetText}): no flow of the traffic is steered to that queue, so a storm cannot reach it`,
      );
    }
    step(p, occ.start, 2, { type: 'datapath', ref: g.refs.nic, cmd: { id: occ.id, action, phase: 'start', flows, params: f.params, seed: seedFor('nic') } });
    return;
  }
  const kicks = action === 'lose-tx-notifications' || action === 'delay-tx-notifications';
  for (const t of selectActors(g, sel)) {
    const id = g.all[t.ref - g.refs.nic]?.id ?? String(t.ref);
    const base = { id: occ.id, action, params: f.params, seed: seedFor(id), ...(t.queues ? { queues: t.queues } : {}) };
    step(p, occ.start, 2, { type: 'datapath', ref: t.ref, cmd: { ...base, phase: 'start' } });
    if (!occ.instantaneous) step(p, occ.end, 0, { type: 'datapath', ref: t.ref, cmd: { ...base, phase: 'end' } });
    if (kicks) planKicks(p, occ, t.ref - g.refs.frontend(0), t.queues, seedFor);
  }
}

/**
 * The guest's kicks to netback on its TX event channels arrive at the workers serving its queues: each gets the
 * fault for guest `vm`'s queues it serves (one PRNG stream per worker and occurrence).
 */
function planKicks(p: Planning, occ: FaultOccurrence, vm: number, queues: readonly number[] | undefined, seedFor: (id: string) => number): void {
  const { g } = p;
  const st = g.steering;
  const served = new Map<number, number[]>();
  st.gqVm.forEach((v, gq) => {
    const q = st.gqQueue[gq] as number;
    if (v !== vm || (queues !== undefined && !queues.includes(q))) return;
    const k = st.gqWorker[gq] as number;
    served.set(k, [...(served.get(k) ?? []), q]);
  });
  for (const [k, qs] of [...served].sort((a, b) => a[0] - b[0])) {
    const ref = g.refs.worker(k);
    const id = g.all[ref - g.refs.nic]?.id ?? String(ref);
    const action = occ.spec.action as DatapathFaultAction;
    const base = { id: occ.id, action, params: occ.spec.params, seed: seedFor(id), vm, queues: qs };
    step(p, occ.start, 2, { type: 'datapath', ref, cmd: { ...base, phase: 'start' } });
    if (!occ.instantaneous) step(p, occ.end, 0, { type: 'datapath', ref, cmd: { ...base, phase: 'end' } });
  }
}

/** A process fault (pause, kill, restart, crash-loop) on each selected actor's process. */
function planProcess(p: Planning, occ: FaultOccurrence, sel: ActorSelector): void {
  const { g } = p;
  const f = occ.spec;
  // The driver domain (NIC and back end) is one process in every live placement; in sim a process fault
  // on either acts on both, to match.
  const targets = p.mode === 'sim' && (sel.role === 'nic' || sel.role === 'backend') ? [{ ref: g.refs.nic }, { ref: g.refs.backend }] : selectActors(g, sel);
  if (f.action === 'pause') {
    for (const t of targets) {
      step(p, occ.start, 2, { type: 'pause', ref: t.ref, occ });
      step(p, occ.end, 0, { type: 'resume', ref: t.ref, occ });
    }
    return;
  }
  // kill / restart / crash-loop act on a process: a VM's front end as a whole, not one of its queues.
  if (sel.role === 'vm' && sel.queue !== '*') {
    throw new SplitnetError(
      'E_SCENARIO',
      `${f.id} (${f.action} on ${f.targetText}): a ${f.action} acts on a whole VM (its front end's process); write vm:${String(sel.index)}`,
    );
  }
  // In sim a dead incarnation's counters stay in the results (a ghost); what it held and what was sent
  // to it while down are lost-in-crash, and so are what netback purged for a restarted guest's old
  // ring and the frames that arrived at a dead NIC (its successor replays the wire up to its restart).
  const after = f.action === 'restart' ? 0 : (f.params.restartAfter ?? 0);
  for (const t of targets) {
    step(p, occ.start, 2, { type: 'kill', ref: t.ref, occ });
    step(p, occ.start + after, 3, { type: 'restart', ref: t.ref, occ });
  }
}

function window(
  occ: FaultOccurrence,
  from: readonly ActorRef[],
  to: readonly ActorRef[],
  kinds: readonly Message['kind'][],
  runSeed: number,
  probability: number,
  delay: Nanos,
  suffix = '',
): LinkFaultWindow {
  const action: MessageFaultAction = occ.spec.action === 'partition' ? 'drop-messages' : (occ.spec.action as MessageFaultAction);
  return {
    id: occ.id,
    action,
    from,
    to,
    start: occ.start,
    end: occ.end,
    probability,
    delay,
    kinds,
    seed: deriveSeed(runSeed, `fault:${occ.id}${suffix}`),
  };
}

/** The plan as steps on a sim runtime: it plays the processes and the supervisor too. */
export function planSimFaults(s: CompiledScenario, g: ActorGraph): SimFaultPlan {
  const plan = planFaults(s, g, 'sim');
  const ghosts: SimGhost[] = [];
  const wire = { lostWhileDown: 0, txLostWhileDown: 0 };
  const held = new HeldFaults<ActorRef>();
  const steps = plan.steps.map((st) => ({ t: st.t, action: st.action, apply: (rt: SimRuntime) => applySimStep(rt, st.action, g, ghosts, wire, held) }));
  const linkFaults = plan.windows.length > 0 ? new LinkFaults(plan.windows, g.all.length, g.txOrigin) : undefined;
  return { steps, linkFaults, windows: plan.windows, occurrences: plan.occurrences, ghosts, wire };
}

/**
 * The datapath faults that hold a state (HELD_STATE_FAULT_ACTIONS) and are in effect, per target actor
 * (a ref in sim, an actor id live): what a restarted actor takes again. Both runtimes' injectors use it.
 */
export class HeldFaults<K> {
  private readonly byTarget = new Map<K, Map<string, FaultCommand>>();

  /** Follow a datapath command as it is sent to `target`: a start of such a fault holds until its end. */
  note(target: K, cmd: FaultCommand): void {
    if (!HELD_STATE_FAULT_ACTIONS.has(cmd.action)) return;
    const mine = this.byTarget.get(target) ?? new Map<string, FaultCommand>();
    this.byTarget.set(target, mine);
    if (cmd.phase === 'start') mine.set(cmd.id, cmd);
    else mine.delete(cmd.id);
  }

  /** The start commands in effect for `target`, in the order they started. */
  of(target: K): FaultCommand[] {
    return [...(this.byTarget.get(target)?.values() ?? [])];
  }
}

/**
 * The traffic-source frames a NIC that died at `t` had counted as emitted: what a NIC restarted at that very
 * instant replays (Actor.reconnect: the wire is deterministic from the seed, so a restarted NIC counts every
 * source frame that arrived up to its restart), read from its report. Storm frames a fault injected are not
 * among them: they are not the source's.
 */
export function sourceFramesUpTo(g: ActorGraph, ref: ActorRef, t: Nanos): { frames: number; bytes: number } {
  const probe = g.respawn(ref);
  probe.reconnect?.(t, new RecordingEffects());
  const r = probe.report(t, false);
  return r.role === 'nic' ? { frames: r.emitted, bytes: r.emittedBytes } : { frames: 0, bytes: 0 };
}

/**
 * A guest that sends, restarted (`fresh`: its report just after): it replayed its application's sends up to now
 * (NetfrontTx.reconnect), as a NIC its wire, so what the dead guest had counted is its ghost's no more
 * (`gh.sentAgain`), and what was due while it was down went with it: the frames returned (lost-in-crash).
 */
export function sendsReplayed(gh: SimGhost, fresh: ActorReport): number {
  if (fresh.role !== 'frontend' || fresh.tx === undefined) return 0;
  const was = gh.actor.report(gh.t, false);
  if (was.role !== 'frontend' || was.tx === undefined) return 0;
  // Its closed-loop ends' frames are not replayed: the successor's ends start with no connection.
  gh.sentAgain = {
    frames: (was.tx.sent ?? 0) - (was.tx.closedLoopSent ?? 0),
    bytes: (was.tx.sentBytes ?? 0) - (was.tx.closedLoopSentBytes ?? 0),
  };
  return (fresh.tx.sent ?? 0) - gh.sentAgain.frames;
}

/** The supervisor's restart of a killed actor: a fresh incarnation that reconnects, with the held faults still in effect. */
function restartInSim(
  rt: SimRuntime,
  a: { readonly ref: ActorRef; readonly occ: FaultOccurrence },
  g: ActorGraph,
  ghosts: readonly SimGhost[],
  wire: SimFaultPlan['wire'],
  held: HeldFaults<ActorRef>,
): void {
  if (!rt.isDown(a.ref)) return;
  const id = rt.actor(a.ref).id;
  const fresh = g.respawn(a.ref);
  const dead = ghosts.findLast((x) => x.actor.id === id);
  if (dead !== undefined) fresh.inherit?.(dead.actor, dead.t);
  rt.record(id, 'actor-restart', { fault: a.occ.id, by: 'supervisor' });
  rt.restart(a.ref, fresh);
  const r = fresh.report(rt.now, false);
  if (r.role === 'nic') {
    // Its reconnect replayed the traffic source up to now, counting every frame as emitted: those the
    // dead NIC had counted are its ghost's no more, and those that arrived while it was down are lost.
    const gh = ghosts.findLast((x) => x.actor.id === id);
    if (gh) {
      gh.emittedAgain = sourceFramesUpTo(g, a.ref, gh.t);
      wire.lostWhileDown += r.emitted - gh.emittedAgain.frames;
    }
  }
  const gh = ghosts.findLast((x) => x.actor.id === id);
  if (gh !== undefined) wire.txLostWhileDown += sendsReplayed(gh, r);
  // The fresh actor takes the faults still in effect at the instant it is back (a slowed worker stays slow).
  for (const cmd of held.of(a.ref)) {
    rt.record(id, 'fault-reapplied', { id: cmd.id, action: cmd.action });
    rt.injectFault(a.ref, cmd);
  }
}

function applySimStep(rt: SimRuntime, a: PlannedAction, g: ActorGraph, ghosts: SimGhost[], wire: SimFaultPlan['wire'], held: HeldFaults<ActorRef>): void {
  switch (a.type) {
    case 'fault-start':
    case 'fault-end':
      rt.record('controller', a.type, faultDetail(a.occ));
      return;
    case 'datapath':
      held.note(a.ref, a.cmd);
      rt.injectFault(a.ref, a.cmd);
      return;
    case 'pause':
      rt.pause(a.ref);
      return;
    case 'resume':
      rt.resume(a.ref);
      return;
    case 'kill': {
      // The runtime brings the dead incarnation's counters to its death (so what it holds then is what is lost).
      const dead = rt.kill(a.ref);
      if (dead === undefined) return;
      ghosts.push({ actor: dead, t: rt.now });
      rt.record(dead.id, 'actor-died', { fault: a.occ.id });
      return;
    }
    case 'restart':
      restartInSim(rt, a, g, ghosts, wire, held);
      return;
    case 'resync':
      rt.resync(a.ref);
      return;
    default:
      return;
  }
}
