// Turns a scenario's fault schedule into actions on a sim run: commands to actors, process faults, message-path windows.
import { deriveSeed, SplitnetError } from '@splitnet/model';
import type { ActorRef, DatapathFaultAction, FaultCommand, Message, MessageFaultAction, Nanos } from '@splitnet/model';
import { LinkFaults } from '@splitnet/runtime';
import type { LinkFaultWindow, SimRuntime } from '@splitnet/runtime';
import { faultOccurrences, formatDuration } from '@splitnet/scenario';
import type { ActorSelector, CompiledScenario, FaultOccurrence, FaultSpec } from '@splitnet/scenario';
import { buildActors } from './build.js';
import type { ActorGraph } from './build.js';

/** Something to do at an emulated instant, between events. */
export interface FaultStep {
  readonly t: Nanos;
  /** Ends sort before starts at the same instant (a repeated fault's next occurrence starts as the previous ends). */
  readonly order: number;
  readonly apply: (rt: SimRuntime) => void;
}

export interface SimFaultPlan {
  readonly steps: readonly FaultStep[];
  readonly linkFaults: LinkFaults | undefined;
  readonly occurrences: readonly FaultOccurrence[];
  /** Reports of actors killed during the run, frozen at their death (their counters still count). */
  readonly ghosts: { readonly actor: ActorGraph['all'][number]; readonly t: Nanos }[];
}

const DATAPATH: ReadonlySet<string> = new Set(['lose-notifications', 'delay-notifications', 'stop-polling', 'slow-worker', 'ring-full-storm', 'link-flap', 'corrupt-ring-index']);
const MESSAGE: ReadonlySet<string> = new Set(['drop-messages', 'delay-messages', 'duplicate-messages', 'reorder-messages']);

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

/** The detail of a fault-start / fault-end event: id, action, target and the parameters as the scenario writes them. */
export function faultDetail(occ: FaultOccurrence): Record<string, unknown> {
  const d: Record<string, unknown> = { id: occ.id, action: occ.spec.action, target: occ.spec.targetText };
  for (const [k, v] of Object.entries(occ.spec.params)) d[k] = k === 'delay' || k === 'restartAfter' ? formatDuration(v as number) : v;
  return d;
}

function liveOnly(f: FaultSpec, what: string): never {
  throw new SplitnetError('E_SCENARIO', `${f.id} (${f.action} on ${f.targetText}): ${what}`);
}

/** Plan every fault of the scenario against the sim runtime's actor graph. */
export function planSimFaults(s: CompiledScenario, g: ActorGraph): SimFaultPlan {
  const occurrences = faultOccurrences(s.faults, s.duration);
  const steps: FaultStep[] = [];
  const windows: LinkFaultWindow[] = [];
  const ghosts: SimFaultPlan['ghosts'] = [];
  const log = (rt: SimRuntime, kind: string, occ: FaultOccurrence, extra: Record<string, unknown> = {}) =>
    rt.log.push({ t: rt.now, actor: 'controller', kind, detail: { ...faultDetail(occ), ...extra } });

  for (const occ of occurrences) {
    const f = occ.spec;
    const seedFor = (actorId: string) => deriveSeed(s.seed, `fault:${occ.id}:${actorId}`);
    const withEnd = !occ.instantaneous;
    steps.push({ t: occ.start, order: 1, apply: (rt) => log(rt, 'fault-start', occ) });
    if (withEnd) steps.push({ t: occ.end, order: 0, apply: (rt) => log(rt, 'fault-end', occ) });

    if (f.target.kind === 'nats') liveOnly(f, 'the NATS server exists only in live runs (runtime: live)');
    if (f.target.kind === 'node') liveOnly(f, 'node targets need the docker placement of a live run');
    if (f.action === 'partition') liveOnly(f, 'a partition cuts an actor off NATS: live runs only (runtime: live)');

    if (MESSAGE.has(f.action)) {
      if (f.target.kind !== 'link') continue;
      const from = selectActors(g, f.target.from).map((x) => x.ref);
      const to = selectActors(g, f.target.to).map((x) => x.ref);
      windows.push({
        id: occ.id,
        action: f.action as MessageFaultAction,
        from,
        to,
        start: occ.start,
        end: occ.end,
        probability: f.params.probability ?? 1,
        delay: f.params.delay ?? 0,
        kinds: (f.params.kinds ?? []) as Message['kind'][],
        seed: deriveSeed(s.seed, `fault:${occ.id}`),
      });
      continue;
    }
    if (f.target.kind !== 'actor') continue;
    const sel = f.target.actor;

    if (DATAPATH.has(f.action)) {
      const action = f.action as DatapathFaultAction;
      if (action === 'ring-full-storm') {
        // The storm arrives at the NIC, on flows steered to the target guest queues.
        const targets = selectActors(g, sel);
        const want = new Set<number>();
        for (const t of targets) {
          const vm = t.ref - g.refs.frontend(0);
          const qs = t.queues ?? Array.from({ length: (s.topology.vms[vm]?.queues ?? 0) }, (_, q) => q);
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
        const cmd: FaultCommand = { id: occ.id, action, phase: 'start', flows, params: f.params, seed: seedFor('nic') };
        steps.push({ t: occ.start, order: 2, apply: (rt) => rt.injectFault(g.refs.nic, cmd) });
        continue;
      }
      for (const t of selectActors(g, sel)) {
        const id = g.all[t.ref]?.id ?? String(t.ref);
        const base = { id: occ.id, action, params: f.params, seed: seedFor(id), ...(t.queues ? { queues: t.queues } : {}) };
        steps.push({ t: occ.start, order: 2, apply: (rt) => rt.injectFault(t.ref, { ...base, phase: 'start' }) });
        if (withEnd) steps.push({ t: occ.end, order: 0, apply: (rt) => rt.injectFault(t.ref, { ...base, phase: 'end' }) });
      }
      continue;
    }

    // Process faults: the sim runtime plays the process and its supervisor.
    const targets = selectActors(g, sel);
    if (f.action === 'pause') {
      for (const t of targets) {
        steps.push({ t: occ.start, order: 2, apply: (rt) => rt.pause(t.ref) });
        steps.push({ t: occ.end, order: 0, apply: (rt) => rt.resume(t.ref) });
      }
      continue;
    }
    // kill / restart / crash-loop: workers only in sim (a restarted netback thread reconnects to
    // its guests' rings; a restarted NIC or guest would need a fresh traffic source or ring).
    if (sel.role !== 'worker') liveOnly(f, 'in sim only workers can be killed and restarted (a NIC or guest restarted mid-run has no model there); use runtime: live');
    const after = f.action === 'restart' ? 0 : (f.params.restartAfter ?? 0);
    for (const t of targets) {
      const k = t.ref - g.refs.worker(0);
      steps.push({
        t: occ.start,
        order: 2,
        apply: (rt) => {
          if (rt.isDown(t.ref)) return;
          ghosts.push({ actor: rt.actor(t.ref) as ActorGraph['all'][number], t: rt.now });
          rt.kill(t.ref);
          rt.log.push({ t: rt.now, actor: `worker.${k}`, kind: 'actor-died', detail: { fault: occ.id } });
        },
      });
      steps.push({
        t: occ.start + after,
        order: 3,
        apply: (rt) => {
          if (!rt.isDown(t.ref)) return;
          const fresh = buildActors(s).workers[k];
          if (!fresh) return;
          rt.log.push({ t: rt.now, actor: `worker.${k}`, kind: 'actor-restart', detail: { fault: occ.id, by: 'supervisor' } });
          rt.restart(t.ref, fresh);
        },
      });
    }
  }
  steps.sort((a, b) => a.t - b.t || a.order - b.order);
  const linkFaults = windows.length > 0 ? new LinkFaults(windows, g.all.length) : undefined;
  return { steps, linkFaults, occurrences, ghosts };
}
