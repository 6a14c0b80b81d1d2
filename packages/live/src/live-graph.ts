// The actors of a live run and the rules of the links between them: one host's graph, or a multi-host scenario's (every host's and the switch).
import { DATAPATH_FAULT_ACTIONS, MESSAGE_FAULT_ACTIONS, SplitnetError } from '@splitnet/model';
import type { Actor, ActorRef, BatchPool, Message, Nanos } from '@splitnet/model';
import {
  buildActors,
  buildCluster,
  planFaults,
  clusterLinkDelay,
  clusterSenderRules,
  decoderLimitsFor,
  fabricDecoderLimits,
  linkDelayFor,
  senderRulesFor,
} from '@splitnet/controller';
import type { ActorGraph, ClusterGraph } from '@splitnet/controller';
import type { CompiledScenario, LiveProcesses } from '@splitnet/scenario';
import type { DecoderLimits } from '@splitnet/transport';
import { LinkFaults } from '@splitnet/runtime';
import { switchPortSteps } from './fabric-faults.js';
import type { TimedStep } from './live-host.js';

/** What a live process builds from the scenario: every actor of the run (by ref), its link delays and the receivers' rules. */
export interface LiveGraph {
  /** Every actor of the run, by ref (their ids address subjects). */
  readonly all: readonly Actor[];
  readonly pool: BatchPool;
  /** One host's graph (null in a multi-host run: its hosts are in `hosts`). */
  readonly host: ActorGraph | null;
  /** A multi-host run's hosts (one host: just that one). */
  readonly hosts: readonly ActorGraph[];
  /** The switch's id in a multi-host run. */
  readonly switchId: string | null;
  /** The switch itself in a multi-host run (its process carries out the port faults: fabric-faults.ts). */
  readonly switch: ClusterGraph['switch'] | null;
  /** Which host each ref belongs to (−1: the switch; one host: 0). */
  readonly hostOf: (ref: ActorRef) => number;
  readonly linkDelay: (a: number, b: number) => Nanos;
  readonly limits: DecoderLimits;
  readonly admit: (from: string, to: string, m: Message) => string | undefined;
}

/** The run's actors as sim builds them (run-sim.ts): buildActors for one host, buildCluster for several. */
export function liveGraphOf(s: CompiledScenario): LiveGraph {
  if (s.cluster !== undefined) {
    const cg = buildCluster(s);
    return {
      all: cg.all,
      pool: cg.pool,
      host: null,
      hosts: cg.hosts,
      switchId: cg.switch.id,
      switch: cg.switch,
      hostOf: cg.hostOf,
      linkDelay: clusterLinkDelay(cg, s),
      limits: fabricDecoderLimits(s),
      admit: clusterSenderRules(cg),
    };
  }
  const g = buildActors(s);
  return {
    all: g.all,
    pool: g.pool,
    host: g,
    hosts: [g],
    switchId: null,
    switch: null,
    hostOf: () => 0,
    linkDelay: linkDelayFor(g, s),
    limits: decoderLimitsFor(s),
    admit: senderRulesFor(g),
  };
}

/**
 * The actors each process hosts. `per-actor`: one process per actor, except that the NIC and the back end
 * (its driver) share one: they share the host's memory in the model (DMA, register reads, zero link
 * delay), and the driver's NAPI poll of the hardware ring is a per-batch handshake that a bus round trip
 * would slow to a crawl. `per-domain`: one process per Xen domain, the driver domain (NIC, back end and
 * the vRSS workers, netback's threads in dom0) and each guest, so that messages cross the bus exactly
 * where they cross Xen's domain boundary (the shared rings and event channels). In a multi-host run, so for
 * every host, and the switch is a process of its own (the fabric's frames cross the bus both ways).
 */
export function processIdsOf(lg: Pick<LiveGraph, 'hosts' | 'switchId'>, processes: LiveProcesses): string[][] {
  const ids = lg.hosts.flatMap((g) =>
    processes === 'per-domain'
      ? [[g.nic.id, g.backend.id, ...g.workers.map((w) => w.id)], ...g.frontends.map((f) => [f.id])]
      : [[g.nic.id, g.backend.id], ...g.workers.map((w) => [w.id]), ...g.frontends.map((f) => [f.id])],
  );
  return lg.switchId === null ? ids : [...ids, [lg.switchId]];
}

/**
 * The faults on one host's actors that a multi-host live run takes: datapath faults, message faults on links inside a
 * host, a process's pause (SIGSTOP of its process) and a partition (in the send paths; the host's processes resync at
 * its end: hostResyncTimes). Not a kill, restart or crash loop: the supervisor's crash accounting is one host's.
 */
const LIVE_HOST_ACTIONS: ReadonlySet<string> = new Set([...DATAPATH_FAULT_ACTIONS, ...MESSAGE_FAULT_ACTIONS, 'pause', 'partition']);

/** The host and switch-port faults a multi-host live run takes (the switch's process changes its ports, the supervisor stops a paused host's processes). */
const LIVE_CLUSTER_FAULTS: ReadonlySet<string> = new Set(['port-down', 'port-loss', 'port-delay', 'host-pause']);

/**
 * What live refuses of a multi-host scenario, before any I/O: a host kill (sim keeps a killed host's NIC as an actor
 * with its link down; live's supervisor would restart its processes), a fault on one host's actors other than a
 * datapath or message fault, a pause or a partition (a process's kill, restart or crash loop: the live supervisor's
 * crash accounting acts on a one-host run's processes), and a placement whose containers join by role (docker,
 * external: a process joins as one host's driver, worker or frontend; no role names a host or the switch).
 * Switch-port faults (down, lossy, delayed) and a host's pause run (fabric-faults.ts, LiveFaultInjector).
 */
export function checkLiveScenario(s: CompiledScenario): void {
  if (s.cluster === undefined) return;
  const fault = s.cluster.faults.find((f) => !LIVE_CLUSTER_FAULTS.has(f.kind));
  if (fault !== undefined)
    throw new SplitnetError(
      'E_SCENARIO',
      `faults: ${fault.kind} (${fault.id}): live runs no ${fault.kind.replace('-', ' ')} of a multi-host scenario yet (it runs switch-port faults, a host's pause, and datapath, message, pause and partition faults on one host's actors); run it in sim or lockstep`,
    );
  // A fault on one host's actors (h1.worker:0) is in that host's view, not in the run-wide list.
  const own = s.cluster.hosts.flatMap((h) => h.faults).find((f) => !LIVE_HOST_ACTIONS.has(f.action));
  if (own !== undefined)
    throw new SplitnetError(
      'E_SCENARIO',
      `faults: ${own.action} of ${own.targetText} (${own.id}): live runs only datapath and message faults, pause and partition on a multi-host scenario's actors (${[...LIVE_HOST_ACTIONS].join(', ')}); run it in sim or lockstep`,
    );
  const placement = s.live.placement;
  if (placement !== 'processes' && placement !== 'inprocess')
    throw new SplitnetError(
      'E_USAGE',
      `--placement ${placement}: live runs a multi-host scenario with placement processes or inprocess (its containers would join as one host's driver, worker or frontend, and no role names a host or the switch yet); run it in lockstep for docker`,
    );
}

/**
 * The message-path faults and partitions of a live run, the same windows in every process (each acts in its sender's
 * send path): one host's plan, or in a multi-host run each host's own, each host a group of its own (its frames'
 * origins, its FIFO floors), as sim's cluster plan makes them (clusterFaultPlan).
 */
export function liveLinkFaults(s: CompiledScenario, lg: LiveGraph): LinkFaults | undefined {
  if (lg.host !== null) {
    const windows = s.faults.length > 0 ? planFaults(s, lg.host, 'live').windows : [];
    return windows.length > 0 ? new LinkFaults(windows, lg.all.length, lg.host.txOrigin) : undefined;
  }
  const views = s.cluster?.hosts ?? [];
  const windows = views.flatMap((view, i) => (view.faults.length === 0 ? [] : planFaults(view, lg.hosts[i] as ActorGraph, 'live').windows));
  return windows.length === 0 ? undefined : new LinkFaults(windows, lg.all.length, undefined, { of: lg.hostOf, origins: lg.hosts.map((h) => h.txOrigin) });
}

/**
 * The switch's port faults as steps of its process's host (LiveHostOptions.steps): at each instant the port's state
 * changes as sim's fault step changes it (switchPortSteps), so its drops are counted by the switch itself, in its
 * ports' `drops`, as in sim.
 */
export function switchSteps(s: CompiledScenario, lg: Pick<LiveGraph, 'switch'>): TimedStep[] {
  const sw = lg.switch;
  if (sw === null) return [];
  return switchPortSteps(s).map((st) => ({
    t: st.t,
    apply: (now: Nanos): void => {
      sw.portFault(st.port, st.kind, st.on, st.value, st.seed, now);
      // A killed host back (its power cycled): its NIC is a fresh one, with its carrier.
      if (st.phase === 'restart') sw.nicCarrier(st.port, true, now);
    },
  }));
}

/**
 * A multi-host run's process on host `host`: the instants its actors resync at, its own host's partitions' ends (sim's
 * resync steps are the partition's host's); undefined in a one-host run (every partition's: LinkFaults.resyncTimes).
 * The switch's process (host −1) never resyncs.
 */
export function hostResyncTimes(s: CompiledScenario, lg: LiveGraph, host: number): Nanos[] | undefined {
  if (lg.host !== null) return undefined;
  const view = s.cluster?.hosts[host];
  const g = lg.hosts[host];
  if (view === undefined || g === undefined || view.faults.length === 0) return [];
  const ends = new Set(planFaults(view, g, 'live').windows.flatMap((w) => (w.resyncAtEnd === true ? [w.end] : [])));
  return [...ends].sort((a, b) => a - b);
}
