// Turns a scenario's fault schedule into timed steps (actor commands, process signals, NATS and node actions, message-path windows) for sim and live.
import { DATAPATH_FAULT_ACTIONS, deriveSeed, HELD_STATE_FAULT_ACTIONS, MESSAGE_FAULT_ACTIONS, MESSAGE_KINDS, SplitnetError } from '@splitnet/model';
import type { ActorRef, DatapathFaultAction, FaultCommand, Message, MessageFaultAction, Nanos } from '@splitnet/model';
import { LinkFaults } from '@splitnet/runtime';
import type { LinkFaultWindow, SimRuntime } from '@splitnet/runtime';
import { faultDetail } from '@splitnet/results';
import { faultOccurrences } from '@splitnet/scenario';
import type { ActorSelector, CompiledScenario, FaultOccurrence, FaultSpec } from '@splitnet/scenario';
import { NicActor } from '@splitnet/nic';
import { buildActors } from './build.js';
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
  | { readonly type: 'nats-down' | 'nats-up'; readonly occ: FaultOccurrence };

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
  readonly steps: readonly { readonly t: Nanos; readonly apply: (rt: SimRuntime) => void }[];
  readonly linkFaults: LinkFaults | undefined;
  readonly occurrences: readonly FaultOccurrence[];
  /** Actors killed during the run, with their time of death: their counters still count. */
  readonly ghosts: SimGhost[];
  /**
   * Frames that arrived at a dead NIC: its successor counts them as emitted (it replays the traffic
   * source up to its restart), and they went nowhere: lost-in-crash.
   */
  readonly wire: { lostWhileDown: number };
}

/** A killed actor's dead incarnation. */
export interface SimGhost {
  readonly actor: ActorGraph['all'][number];
  readonly t: Nanos;
  /** A NIC's: the traffic-source frames it counted as emitted, which its successor counts again (its replay). */
  emittedAgain?: { readonly frames: number; readonly bytes: number };
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
      return g.workers.map((_, k) => k).filter((k) => sel.index === '*' || sel.index === k).map((k) => ({ ref: g.refs.worker(k) }));
    case 'vm':
      return g.frontends
        .map((_, v) => v)
        .filter((v) => sel.index === '*' || sel.index === v)
        .map((v) => (sel.queue === '*' ? { ref: g.refs.frontend(v) } : { ref: g.refs.frontend(v), queues: [sel.queue] }));
    default:
      return g.all.map((_, i) => ({ ref: i }));
  }
}

function liveOnly(f: FaultSpec, what: string): never {
  throw new SplitnetError('E_SCENARIO', `${f.id} (${f.action} on ${f.targetText}): ${what}`);
}

/**
 * Plan every fault of the scenario against the actor graph. `sim` rejects what only a live run can
 * do; `live` rejects what only sim models (kills of a NIC or guest are fine live: the supervisor restarts the process).
 */
export function planFaults(s: CompiledScenario, g: ActorGraph, mode: 'sim' | 'live'): FaultPlan {
  const occurrences = faultOccurrences(s.faults, s.duration);
  const steps: FaultStep[] = [];
  const windows: LinkFaultWindow[] = [];
  const step = (t: Nanos, order: number, action: PlannedAction) => steps.push({ t, order, action });

  for (const occ of occurrences) {
    const f = occ.spec;
    const seedFor = (actorId: string) => deriveSeed(s.seed, `fault:${occ.id}:${actorId}`);
    const withEnd = !occ.instantaneous;
    step(occ.start, 1, { type: 'fault-start', occ });
    if (withEnd) step(occ.end, 0, { type: 'fault-end', occ });

    if (f.target.kind === 'node') {
      if (mode === 'sim') liveOnly(f, 'node targets act on the containers of a docker-placed live run');
      const node = Number(f.target.name);
      const [on, off] = f.action === 'pause' ? (['pause', 'unpause'] as const) : (['disconnect', 'reconnect'] as const);
      step(occ.start, 2, { type: 'node', op: on, node, occ });
      step(occ.end, 0, { type: 'node', op: off, node, occ });
      continue;
    }
    if (f.target.kind === 'nats') {
      if (mode === 'sim') liveOnly(f, 'the NATS server exists only in live runs (runtime: live)');
      step(occ.start, 2, { type: 'nats-down', occ });
      step(occ.end, 0, { type: 'nats-up', occ });
      continue;
    }

    if (MESSAGE.has(f.action) || f.action === 'partition') {
      if (f.action === 'partition') {
        if (f.target.kind !== 'actor') continue;
        // Cut off from every peer, every message kind, both ways; the NIC and its driver share a process, so either means both.
        let cut = selectActors(g, f.target.actor).map((x) => x.ref);
        if (cut.includes(g.refs.nic) || cut.includes(g.refs.backend)) cut = [...new Set([...cut, g.refs.nic, g.refs.backend])];
        const others = g.all.map((_, i) => i).filter((i) => !cut.includes(i));
        windows.push(window(occ, cut, others, MESSAGE_KINDS, s.seed, 1, 0));
        windows.push(window(occ, others, cut, MESSAGE_KINDS, s.seed, 1, 0, '<'));
        continue;
      }
      if (f.target.kind !== 'link') continue;
      const from = selectActors(g, f.target.from).map((x) => x.ref);
      const to = selectActors(g, f.target.to).map((x) => x.ref);
      const kinds = (f.params.kinds ?? []) as Message['kind'][];
      windows.push(window(occ, from, to, kinds, s.seed, f.params.probability ?? 1, f.params.delay ?? 0));
      continue;
    }
    if (f.target.kind !== 'actor') continue;
    const sel = f.target.actor;

    if (DATAPATH.has(f.action)) {
      const action = f.action as DatapathFaultAction;
      if (action === 'ring-full-storm') {
        // The storm arrives at the NIC, on flows steered to the target guest queues.
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
        if (flows.length === 0) {
          throw new SplitnetError('E_SCENARIO', `${f.id} (ring-full-storm on ${f.targetText}): no flow of the traffic is steered to that queue, so a storm cannot reach it`);
        }
        step(occ.start, 2, { type: 'datapath', ref: g.refs.nic, cmd: { id: occ.id, action, phase: 'start', flows, params: f.params, seed: seedFor('nic') } });
        continue;
      }
      for (const t of selectActors(g, sel)) {
        const id = g.all[t.ref]?.id ?? String(t.ref);
        const base = { id: occ.id, action, params: f.params, seed: seedFor(id), ...(t.queues ? { queues: t.queues } : {}) };
        step(occ.start, 2, { type: 'datapath', ref: t.ref, cmd: { ...base, phase: 'start' } });
        if (withEnd) step(occ.end, 0, { type: 'datapath', ref: t.ref, cmd: { ...base, phase: 'end' } });
      }
      continue;
    }

    // Process faults: on each selected actor's process. The driver domain (NIC and back end) is one
    // process in every live placement; in sim a process fault on either acts on both, to match.
    const targets = mode === 'sim' && (sel.role === 'nic' || sel.role === 'backend') ? [{ ref: g.refs.nic }, { ref: g.refs.backend }] : selectActors(g, sel);
    if (f.action === 'pause') {
      for (const t of targets) {
        step(occ.start, 2, { type: 'pause', ref: t.ref, occ });
        step(occ.end, 0, { type: 'resume', ref: t.ref, occ });
      }
      continue;
    }
    // kill / restart / crash-loop act on a process: a VM's front end as a whole, not one of its queues.
    if (sel.role === 'vm' && sel.queue !== '*') {
      throw new SplitnetError('E_SCENARIO', `${f.id} (${f.action} on ${f.targetText}): a ${f.action} acts on a whole VM (its front end's process); write vm:${String(sel.index)}`);
    }
    // In sim a dead incarnation's counters stay in the results (a ghost); what it held and what was sent
    // to it while down are lost-in-crash, and so are what netback purged for a restarted guest's old
    // ring and the frames that arrived at a dead NIC (its successor replays the wire up to its restart).
    const after = f.action === 'restart' ? 0 : (f.params.restartAfter ?? 0);
    for (const t of targets) {
      step(occ.start, 2, { type: 'kill', ref: t.ref, occ });
      step(occ.start + after, 3, { type: 'restart', ref: t.ref, occ });
    }
  }
  steps.sort((a, b) => a.t - b.t || a.order - b.order);
  return { steps, windows, occurrences };
}

function window(
  occ: FaultOccurrence, from: readonly ActorRef[], to: readonly ActorRef[], kinds: readonly Message['kind'][],
  runSeed: number, probability: number, delay: Nanos, suffix = '',
): LinkFaultWindow {
  const action: MessageFaultAction = occ.spec.action === 'partition' ? 'drop-messages' : (occ.spec.action as MessageFaultAction);
  return {
    id: occ.id, action, from, to, start: occ.start, end: occ.end, probability, delay, kinds,
    seed: deriveSeed(runSeed, `fault:${occ.id}${suffix}`),
  };
}

/** The plan as steps on a sim runtime: it plays the processes and the supervisor too. */
export function planSimFaults(s: CompiledScenario, g: ActorGraph): SimFaultPlan {
  const plan = planFaults(s, g, 'sim');
  const ghosts: SimGhost[] = [];
  const wire = { lostWhileDown: 0 };
  const held = new HeldFaults<ActorRef>();
  const steps = plan.steps.map((st) => ({ t: st.t, apply: (rt: SimRuntime) => applySimStep(rt, st.action, s, ghosts, wire, held) }));
  const linkFaults = plan.windows.length > 0 ? new LinkFaults(plan.windows, g.all.length) : undefined;
  return { steps, linkFaults, occurrences: plan.occurrences, ghosts, wire };
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

function applySimStep(rt: SimRuntime, a: PlannedAction, s: CompiledScenario, ghosts: SimGhost[], wire: SimFaultPlan['wire'], held: HeldFaults<ActorRef>): void {
  switch (a.type) {
    case 'fault-start':
    case 'fault-end':
      rt.log.push({ t: rt.now, actor: 'controller', kind: a.type, detail: faultDetail(a.occ) });
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
      if (rt.isDown(a.ref)) return;
      const actor = rt.actor(a.ref) as ActorGraph['all'][number];
      // A NIC counts arrivals lazily: bring them up to its death, so what its rings hold then is what is lost.
      if (actor instanceof NicActor) actor.settle(rt.now);
      ghosts.push({ actor, t: rt.now });
      rt.kill(a.ref);
      rt.log.push({ t: rt.now, actor: actor.id, kind: 'actor-died', detail: { fault: a.occ.id } });
      return;
    }
    case 'restart': {
      if (!rt.isDown(a.ref)) return;
      const id = rt.actor(a.ref).id;
      const fresh = buildActors(s).all[a.ref];
      if (!fresh) return;
      rt.log.push({ t: rt.now, actor: id, kind: 'actor-restart', detail: { fault: a.occ.id, by: 'supervisor' } });
      rt.restart(a.ref, fresh);
      if (fresh instanceof NicActor) {
        // Its reconnect replayed the traffic source up to now, counting every frame as emitted: those the
        // dead NIC had counted are its ghost's no more, and those that arrived while it was down are lost.
        const gh = ghosts.findLast((x) => x.actor.id === id);
        if (gh && gh.actor instanceof NicActor) {
          gh.actor.report(gh.t); // settled to its death
          const frames = gh.actor.emitted - gh.actor.stormArrived;
          gh.emittedAgain = { frames, bytes: gh.actor.emittedBytes - gh.actor.stormArrivedBytes };
          wire.lostWhileDown += fresh.emitted - frames;
        }
      }
      // The fresh actor takes the faults still in effect at the instant it is back (a slowed worker stays slow).
      for (const cmd of held.of(a.ref)) {
        rt.log.push({ t: rt.now, actor: id, kind: 'fault-reapplied', detail: { id: cmd.id, action: cmd.action } });
        rt.injectFault(a.ref, cmd);
      }
      return;
    }
    default:
      return;
  }
}
