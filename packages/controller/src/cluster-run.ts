// A multi-host sim run's own parts: the cluster's graph, per-host and fabric snapshots beside the whole run's, and the per-host and switch summaries.
import { deriveSeed, SplitnetError } from '@splitnet/model';
import type { ActorReport, Nanos } from '@splitnet/model';
import { LinkFaults } from '@splitnet/runtime';
import type { SimRuntime } from '@splitnet/runtime';
import type { ClusterFault, CompiledScenario, FaultOccurrence, FaultSpec } from '@splitnet/scenario';
import { combine, coresOnHost, fabricBalance, summarize, summarizeFabric, withTxBalance } from '@splitnet/results';
import type { Accounting, FabricSnapshot, HostSummary, PacketCapture, Snapshot, Summary } from '@splitnet/results';
import { buildCluster, clusterLinkDelay, clusterOf } from './cluster.js';
import type { ClusterGraph } from './cluster.js';
import { accounting, flowPlacement, ghostReport, withRuntimeDrops, withRuntimeTxDrops } from './run-sim.js';
import { planSimFaults, sendsReplayed, sourceFramesUpTo } from './fault-plan.js';
import type { PlannedAction, SimFaultPlan, SimGhost } from './fault-plan.js';
import type { ActorGraph } from './build.js';

/** A step of a multi-host scenario's faults: at t, the parts on the actors `owns` accepts (all of them in sim; a partition's own in lockstep). */
export interface ClusterFaultStep {
  readonly t: Nanos;
  readonly apply: (rt: SimRuntime, owns: (ref: number) => boolean) => void;
}

/** An incarnation a host's fault killed: the index of the plan's step that killed it, its host and its ref. */
export interface ClusterGhost {
  readonly step: number;
  readonly host: number;
  readonly ref: number;
  readonly ghost: SimGhost;
}

/**
 * A multi-host scenario's faults as one plan: the steps (clusterFaultSteps), the message faults on the hosts' links
 * in one LinkFaults (each host a group of its own: its frames' origins, its FIFO floors), the hosts' own faults'
 * occurrences, and the incarnations killed so far (in the order the steps killed them). `hostFaults`: some host has
 * faults on its actors (snapshots then take the runtime's drops and the killed incarnations, and the summary its
 * `faults` section, as on one host).
 */
export interface ClusterFaultPlan {
  readonly steps: readonly ClusterFaultStep[];
  readonly linkFaults: LinkFaults | undefined;
  readonly occurrences: readonly FaultOccurrence[];
  readonly ghosts: ClusterGhost[];
  readonly hostFaults: boolean;
  /** Per host, what its own plan counted lost at restarts: a restarted sender's replayed sends that were due while it was down (SimFaultPlan.wire). */
  readonly wires: readonly SimFaultPlan['wire'][];
}

/**
 * The scenario's faults as one plan. Its steps: the host and switch-port faults (fabricFaultSteps), then each host's
 * own faults on its actors as its one-host plan makes them (refs: the host's in the cluster; the log lines with the
 * host's NIC); at one instant in that order, each plan's own order kept. Each step acts only on the actors `owns`
 * accepts (sim: all; lockstep: its partition's), and an incarnation it kills joins `ghosts` with the step's index.
 */
export function clusterFaultPlan(s: CompiledScenario, g: ClusterGraph): ClusterFaultPlan {
  const c = clusterOf(s);
  const plans = c.hosts.map((view, i) => (view.faults.length === 0 ? null : planSimFaults(view, g.hosts[i] as ActorGraph)));
  const ghosts: ClusterGhost[] = [];
  const own = plans.flatMap((plan, i) => {
    if (plan === null) return [];
    const hg = g.hosts[i] as ActorGraph;
    return plan.steps.map((st) => ({
      t: st.t,
      apply: (rt: SimRuntime, owns: (ref: number) => boolean, k: number) => {
        nicCarrier(rt, owns, g, i, st.action);
        const ref = 'ref' in st.action ? st.action.ref : hg.refs.nic;
        if (!owns(ref)) return;
        const had = plan.ghosts.length;
        st.apply(rt);
        for (const ghost of plan.ghosts.slice(had)) ghosts.push({ step: k, host: i, ref, ghost });
      },
    }));
  });
  // A stable sort: the fabric's steps, then the hosts', at one instant; each step knows its index (a ghost's order).
  // Per host, the frames lost at its restarts beyond what its actors count: its own plan's, shared with a host restart.
  const wires = plans.map((p) => p?.wire ?? { lostWhileDown: 0, txLostWhileDown: 0 });
  const fabric = fabricFaultSteps(s, g, ghosts, wires);
  const steps = [...fabric, ...own].sort((a, b) => a.t - b.t).map((st, k): ClusterFaultStep => ({ t: st.t, apply: (rt, owns) => st.apply(rt, owns, k) }));
  const windows = plans.flatMap((p) => p?.windows ?? []);
  const linkFaults =
    windows.length === 0 ? undefined : new LinkFaults(windows, g.all.length, undefined, { of: g.hostOf, origins: g.hosts.map((h) => h.txOrigin) });
  const occurrences = plans.flatMap((p) => p?.occurrences ?? []);
  const killed = c.faults.filter((f) => f.kind === 'host-kill');
  return {
    steps,
    linkFaults,
    occurrences: [...occurrences, ...killed.map((f) => hostKillOccurrence(f, s.duration))].sort((a, b) => a.start - b.start),
    ghosts,
    hostFaults: plans.some((p) => p !== null) || killed.length > 0,
    wires,
  };
}

/**
 * A host's NIC killed (its driver domain's process) or restarted by the supervisor: its switch port has no carrier
 * while it is dead (SwitchActor.nicCarrier: frames toward it dropped there, `switch-port-down`), acted on where the
 * switch runs. A restart step finds the NIC down wherever a kill step left it (the same steps in every partition).
 */
function nicCarrier(rt: SimRuntime, owns: (ref: number) => boolean, g: ClusterGraph, host: number, a: PlannedAction): void {
  if ((a.type !== 'kill' && a.type !== 'restart') || a.ref !== (g.hosts[host] as ActorGraph).refs.nic || !owns(g.switchRef)) return;
  g.switch.nicCarrier(host, a.type === 'restart', rt.now);
}

/** A host kill as an occurrence of the summary's timeline (target h<i>): until the host's restart, else to the end (as faultOccurrences writes one that outlasts the run). */
function hostKillOccurrence(f: ClusterFault, runDuration: Nanos): FaultOccurrence {
  const spec: FaultSpec = {
    id: f.id,
    action: 'kill',
    target: { kind: 'actor', actor: { role: '*' } },
    targetText: `h${f.index}`,
    start: f.at,
    duration: 0,
    every: 0,
    count: 1,
    params: f.restartAfter === undefined ? {} : { restartAfter: f.restartAfter },
  };
  const back = f.restartAfter === undefined ? Infinity : f.at + f.restartAfter;
  return { spec, id: f.id, start: f.at, end: back < runDuration ? back : runDuration + 1, instantaneous: false };
}

/**
 * What a multi-host run's faults add to a snapshot: the killed incarnations' reports (each with its host, in the
 * order the plan killed them) and, per host, the packets the runtime dropped on faulty links and lost in crashes.
 */
export interface ClusterFaultShot {
  readonly ghosts: readonly { readonly host: number; readonly report: ActorReport }[];
  readonly linkDropped: readonly number[];
  readonly lostInCrash: readonly number[];
  /** Per host, frames its guests sent that died with one of its actors: on a TX ring netfront re-created (release-tx-bufs), else lost-in-crash. */
  readonly txReleasedInCrash: readonly number[];
  readonly txLostInCrash: readonly number[];
  /** Per host, frames its guests sent in messages a partition dropped inside it (SimRuntime.txLinkDroppedTo): link-drop in its tx.drops. */
  readonly txLinkDropped: readonly number[];
  /** Per host, the fabric's frames that reached its dead NIC (SimRuntime.fabricLostAt): delivered to the host, and lost there in the crash. */
  readonly fabricLost: readonly number[];
  readonly fabricLostBytes: readonly number[];
}

/** The runtime's crash counts per host (SimRuntime's per-actor counts), with each host plan's losses at restarts: a partition's, or sim's whole. */
export function crashCounts(rt: SimRuntime, g: ClusterGraph, wires: readonly SimFaultPlan['wire'][]): Omit<ClusterFaultShot, 'ghosts'> {
  const plus = (xs: number[], pick: (w: SimFaultPlan['wire']) => number): number[] => xs.map((n, i) => n + (wires[i] === undefined ? 0 : pick(wires[i])));
  return {
    linkDropped: perHost(rt.linkDroppedTo, g),
    lostInCrash: plus(perHost(rt.lostInCrashAt, g), (w) => w.lostWhileDown),
    txReleasedInCrash: perHost(rt.txReleasedInCrashAt, g),
    txLostInCrash: plus(perHost(rt.txLostInCrashAt, g), (w) => w.txLostWhileDown),
    txLinkDropped: perHost(rt.txLinkDroppedTo, g),
    fabricLost: perHost(rt.fabricLostAt, g),
    fabricLostBytes: perHost(rt.fabricLostBytesAt, g),
  };
}

/** Per host, the sum of a per-actor count (the runtime's drops by actor). */
export function perHost(counts: readonly number[], g: ClusterGraph): number[] {
  const out = new Array<number>(g.hosts.length).fill(0);
  counts.forEach((n, ref) => {
    const h = g.hostOf(ref);
    if (h >= 0 && n !== undefined) out[h] = (out[h] as number) + n;
  });
  return out;
}

/** A step of the fabric's faults; `k` is its index in the whole plan (an incarnation it kills is listed with it). */
interface FabricStep {
  readonly t: Nanos;
  readonly apply: (rt: SimRuntime, owns: (ref: number) => boolean, k: number) => void;
}

/**
 * The scenario's host and switch-port faults as steps at their instants: a paused host's actors stop (their inputs
 * wait, as SIGSTOP) and its switch port goes down until it resumes; a killed host's driver, workers and guests die
 * (their incarnations join `ghosts`), its NIC's link and its switch port go down, until its restart or the end; a port goes
 * down, loses or delays frames. Each part acts where its actor runs: the log line and the port with the switch, the
 * pause or the kill with the host's actors.
 */
function fabricFaultSteps(s: CompiledScenario, g: ClusterGraph, ghosts: ClusterGhost[], wires: readonly SimFaultPlan['wire'][]): FabricStep[] {
  const c = clusterOf(s);
  const steps: (FabricStep & { order: number })[] = [];
  c.faults.forEach((f, n) => {
    const onHost = f.kind === 'host-pause' || f.kind === 'host-kill';
    const target = onHost ? `h${f.index}` : `switch:port:${f.index}`;
    const seed = deriveSeed(s.seed, `cluster-fault:${f.id}`);
    const kind = f.kind === 'port-loss' ? 'loss' : f.kind === 'port-delay' ? 'delay' : 'down';
    const hostRefs = g.all.map((_, ref) => ref).filter((ref) => g.hostOf(ref) === f.index);
    const phase =
      (on: boolean) =>
      (rt: SimRuntime, owns: (ref: number) => boolean, k: number): void => {
        if (owns(g.switchRef)) {
          rt.record('controller', on ? 'fault-start' : 'fault-end', { id: f.id, target, kind: f.kind });
          g.switch.portFault(f.index, kind, on, f.probability ?? f.delay ?? 0, seed, rt.now);
        }
        if (f.kind === 'host-kill') return killHost(rt, owns, g, f, k, ghosts, seed);
        if (f.kind !== 'host-pause') return;
        for (const ref of hostRefs) {
          if (!owns(ref)) continue;
          if (on) rt.pause(ref);
          else rt.resume(ref);
        }
      };
    steps.push({ t: f.at, order: 2 * n, apply: phase(true) });
    // A killed host stays down to its restart, if it has one (an instant with no fault-end line, as a restarted actor's).
    if (f.kind !== 'host-kill') steps.push({ t: f.until, order: 2 * n + 1, apply: phase(false) });
    else if (f.restartAfter !== undefined && f.at + f.restartAfter < s.duration)
      steps.push({
        t: f.at + f.restartAfter,
        order: 2 * n + 1,
        apply: (rt, owns, k) => restartHost(rt, owns, g, f, { k, ghosts, wire: wires[f.index] as SimFaultPlan['wire'] }, seed),
      });
  });
  // In time order; at one instant, in the order the faults are written (a start before its own end).
  return steps.sort((a, b) => a.t - b.t || a.order - b.order).map(({ t, apply }) => ({ t, apply }));
}

/**
 * Host f.index comes back (its power cycled): its switch port and its NIC's link come up with a fresh NIC — the old
 * one is reset, what its ring held lost (`lost-in-crash`), and the fresh one replays its host's own wire up to now
 * (as a restarted NIC on one host: the old one's counts of those frames go to the new one) — and the back end, the
 * workers and the guests start again and reconnect, as each does when the supervisor restarts it.
 */
function restartHost(
  rt: SimRuntime,
  owns: (ref: number) => boolean,
  g: ClusterGraph,
  f: ClusterFault,
  at: { readonly k: number; readonly ghosts: ClusterGhost[]; readonly wire: SimFaultPlan['wire'] },
  seed: number,
): void {
  const { k, ghosts, wire } = at;
  if (owns(g.switchRef)) {
    g.switch.portFault(f.index, 'down', false, 0, seed, rt.now);
    // A NIC killed on its own before the host came back is a fresh one now, with its carrier.
    g.switch.nicCarrier(f.index, true, rt.now);
  }
  const hg = g.hosts[f.index] as ActorGraph;
  const nic = hg.refs.nic;
  hg.all.forEach((_, i) => {
    const ref = nic + i;
    if (!owns(ref)) return;
    if (ref === nic) {
      const old = rt.kill(nic);
      if (old === undefined) return;
      ghosts.push({ step: k, host: f.index, ref, ghost: { actor: old, t: rt.now, emittedAgain: sourceFramesUpTo(hg, nic, rt.now) } });
    }
    if (!rt.isDown(ref)) return;
    const fresh = hg.respawn(ref);
    // Its TCP ends start with no connection, but the run's measurement of them goes on (as a guest restarted alone).
    const gh = ghosts.findLast((x) => x.ref === ref);
    if (gh !== undefined) fresh.inherit?.(gh.ghost.actor, gh.ghost.t);
    rt.record(fresh.id, 'actor-restart', { fault: f.id, by: 'host-restart' });
    rt.restart(ref, fresh);
    // A guest that sends replays its application's sends up to now: what was due while the host was down is lost with it.
    if (gh !== undefined) wire.txLostWhileDown += sendsReplayed(gh.ghost, fresh.report(rt.now, false));
  });
}

/**
 * Host f.index crashes: its NIC loses its link (frames already on the cable toward it are lost there, `link-down`, as
 * with no carrier; its switch port is down beside it) and every other actor of the host dies — the driver domain's
 * back end, the netback workers, the guests — with what it held (`lost-in-crash`, as a killed actor on one host).
 * The NIC itself stays an actor with its link down, so that the frames reaching it are counted where they end.
 */
function killHost(rt: SimRuntime, owns: (ref: number) => boolean, g: ClusterGraph, f: ClusterFault, k: number, ghosts: ClusterGhost[], seed: number): void {
  const hg = g.hosts[f.index] as ActorGraph;
  const nic = hg.refs.nic;
  if (owns(nic)) rt.injectFault(nic, { id: f.id, action: 'link-flap', phase: 'start', params: {}, seed });
  hg.all.forEach((_, i) => {
    const ref = nic + i;
    if (ref === nic || !owns(ref)) return;
    // Its guests die with it: what was on their TX rings is lost with them, not released by a netfront that lives on.
    const dead = rt.kill(ref, true);
    if (dead === undefined) return;
    ghosts.push({ step: k, host: f.index, ref, ghost: { actor: dead, t: rt.now, ringsLost: true } });
    rt.record(dead.id, 'actor-died', { fault: f.id });
  });
}

/**
 * A snapshot with the fabric's frames that reached a dead NIC (`frames`, `bytes`): the fabric delivered them (its `in`),
 * they reached the host's NIC (`emitted`, as the frames from the wire a restarted NIC replays) and were lost there
 * (`lost-in-crash`).
 */
function withFabricLost(snap: Snapshot, frames: number, bytes: number): Snapshot {
  if (frames === 0) return snap;
  const fabric = snap.fabric === null ? null : { ...snap.fabric, in: snap.fabric.in + frames, inBytes: snap.fabric.inBytes + bytes };
  return {
    ...snap,
    emitted: snap.emitted + frames,
    emittedBytes: snap.emittedBytes + bytes,
    drops: { ...snap.drops, 'lost-in-crash': snap.drops['lost-in-crash'] + frames },
    fabric,
  };
}

/** The fabric's frames in messages waiting for a paused actor (a host's NIC): the fabric counts them, links do not. */
export function fabricFramesWaiting(rt: SimRuntime): number {
  return rt.deferredFrames((m) => (m.kind === 'downlink' || m.kind === 'uplink' ? m.batch.count : 0));
}

/** Every host's snapshot and the fabric's, at one instant. */
interface ClusterSnap {
  readonly hosts: readonly Snapshot[];
  readonly fabric: FabricSnapshot;
}

export class ClusterRun {
  readonly graph: ClusterGraph;
  /** The per-host and fabric snapshots taken with the latest whole-run one, and with those at 0 and at the warm-up's end (a window starts at one of them). */
  private latest: (ClusterSnap & { readonly t: Nanos }) | null = null;
  private readonly starts = new Map<Nanos, ClusterSnap>();
  /** The ones taken with the run's final snapshot (its end). */
  private final: (ClusterSnap & { readonly t: Nanos }) | null = null;
  /** Per host, its snapshots at the samples in the measured window. */
  private readonly inWindow: Snapshot[][];
  /** Per host, the cluster-wide number of its flow 0 (the flow counts of the hosts before it). */
  private readonly flowBase: readonly number[];

  /** Per host, its packet capture (none: the run captures nothing). */
  private readonly captures: readonly PacketCapture[];

  /** The scenario's faults (its steps, its hosts' link faults, the incarnations killed so far). */
  readonly faults: ClusterFaultPlan;

  constructor(
    private readonly s: CompiledScenario,
    capture?: PacketCapture,
    hostCaptures: readonly PacketCapture[] = [],
  ) {
    // One capture is one flow table and one set of VMs: a cluster's hosts each have their own.
    if (capture !== undefined) throw new SplitnetError('E_USAGE', '--pcap: a multi-host scenario (hosts:) captures per host');
    this.captures = hostCaptures;
    this.graph = buildCluster(s, hostCaptures);
    this.faults = clusterFaultPlan(s, this.graph);
    this.graph.hosts.forEach((g, i) => hostCaptures[i]?.begin(flowPlacement(g)));
    this.inWindow = this.graph.hosts.map(() => []);
    let base = 0;
    this.flowBase = clusterOf(s).hosts.map((h) => {
      const at = base;
      base += h.traffic.flows.length;
      return at;
    });
  }

  /** The runtime running the cluster, once it exists (the fabric's frames waiting for a paused host are in it). */
  private rt: SimRuntime | null = null;

  attach(rt: SimRuntime): void {
    this.rt = rt;
  }

  /** The scenario's faults as steps at their instants (sim applies every part of each: clusterFaultPlan). */
  faultSteps(): { t: Nanos; apply: (rt: SimRuntime) => void }[] {
    return this.faults.steps.map(({ t, apply }) => ({ t, apply: (rt: SimRuntime) => apply(rt, () => true) }));
  }

  /** What the faults add to a sim snapshot now: the killed incarnations and the runtime's drops per host (null: no host has faults on its actors). */
  private faultShot(rt: SimRuntime, final: boolean, t: Nanos): ClusterFaultShot | undefined {
    const f = this.faults;
    if (!f.hostFaults) return undefined;
    return { ghosts: f.ghosts.map((x) => ({ host: x.host, report: ghostReport(x.ghost, final, t) })), ...crashCounts(rt, this.graph, f.wires) };
  }

  linkDelay(): (a: number, b: number) => Nanos {
    return clusterLinkDelay(this.graph, this.s);
  }

  /** The whole run's snapshot at t (every host and the switch), keeping each host's and the fabric's beside it. */
  snapshot(t: Nanos, final = false): Snapshot {
    const rt = this.rt;
    // With faults on a host's actors, the runtime's current incarnations (a killed one not restarted yet: its ghost alone).
    const reports =
      rt === null || !this.faults.hostFaults
        ? this.graph.all.map((a) => a.report(t, final))
        : this.graph.all.map((_, ref) => (rt.isDown(ref) ? null : rt.actor(ref).report(t, final)));
    const waiting = rt === null ? 0 : fabricFramesWaiting(rt);
    return this.fromReports(reports, t, final, waiting, false, undefined, rt === null ? undefined : this.faultShot(rt, final, t));
  }

  /**
   * The whole run's snapshot at t from every actor's report (in the graph's order; lockstep gathers them from its
   * partitions, live from its processes) and the fabric's frames waiting for a paused host, keeping each host's and the
   * fabric's beside it.
   */
  fromReports(
    reports: readonly (ActorReport | null)[],
    t: Nanos,
    final: boolean,
    waiting: number,
    start = false,
    onBus?: { readonly up: number; readonly down: readonly number[] },
    faults?: ClusterFaultShot,
  ): Snapshot {
    const g = this.graph;
    const perHost: ActorReport[][] = g.hosts.map(() => []);
    const all: ActorReport[] = [];
    const add = (r: ActorReport, h: number): void => {
      // In the whole run's figures a core is named with its host (h1.dom0.worker0): each host has its own dom0.worker0.
      all.push(h >= 0 ? coresOnHost(this.globalFlows(r, h), h) : r);
      if (h >= 0) (perHost[h] as ActorReport[]).push(r);
    };
    // Null: an actor killed and not restarted yet (its ghost stands for it, after the live ones, as on one host).
    reports.forEach((r, ref) => r !== null && add(r, g.hostOf(ref)));
    for (const gh of faults?.ghosts ?? []) add(gh.report, gh.host);
    const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
    const combined =
      faults === undefined
        ? combine(all, t)
        : withFabricLost(
            withRuntimeTxDrops(
              withRuntimeDrops(combine(all, t), sum(faults.linkDropped), sum(faults.lostInCrash)),
              sum(faults.txReleasedInCrash),
              sum(faults.txLostInCrash),
              sum(faults.txLinkDropped),
            ),
            sum(faults.fabricLost),
            sum(faults.fabricLostBytes),
          );
    const hostCombined = (rs: ActorReport[], i: number): Snapshot =>
      faults === undefined
        ? combine(rs, t)
        : withFabricLost(
            withRuntimeTxDrops(
              withRuntimeDrops(combine(rs, t), faults.linkDropped[i] ?? 0, faults.lostInCrash[i] ?? 0),
              faults.txReleasedInCrash[i] ?? 0,
              faults.txLostInCrash[i] ?? 0,
              faults.txLinkDropped[i] ?? 0,
            ),
            faults.fabricLost[i] ?? 0,
            faults.fabricLostBytes[i] ?? 0,
          );
    let fabric: FabricSnapshot = { ...(combined.fabric as FabricSnapshot), waiting };
    // A live run's frames that were due by t but not yet handled (on the bus, or waiting in the receiver's queue): still
    // on the cables, toward the switch (up) or toward each port's NIC (down).
    if (onBus !== undefined)
      fabric = { ...fabric, upOnLink: fabric.upOnLink + onBus.up, ports: fabric.ports.map((p, i) => ({ ...p, onLink: p.onLink + (onBus.down[i] ?? 0) })) };
    const snap = { t, hosts: perHost.map(hostCombined), fabric };
    // The hosts' own snapshots ride along for what is shown per host (timeseries.csv's h<i>. entities).
    const whole = { ...combined, fabric, hosts: snap.hosts };
    this.latest = snap;
    if (final) this.final = snap;
    // `start`: a live run's measured window starts at its first complete sample at or after the warm-up.
    if (t === 0 || t === this.s.warmup || start) this.starts.set(t, snap);
    return whole;
  }

  /**
   * A report of host h with its closed-loop ends under the cluster's flow numbers: host h's flow f is f plus the flow
   * counts of the hosts before it, and the passive end of a connection across hosts takes its active end's number, so
   * that the whole run's TCP summary pairs the two ends.
   */
  private globalFlows(r: ActorReport, h: number): ActorReport {
    if ((r.role !== 'nic' && r.role !== 'frontend') || r.closedLoop === undefined) return r;
    const c = clusterOf(this.s);
    const route = c.fabric.routes[h] as (typeof c.fabric.routes)[number];
    const place = (c.hosts[h] as CompiledScenario).host;
    const closedLoop = r.closedLoop.map((e) => {
      const across = place?.fabricFlows[e.flow] === 1 && !e.active;
      const flow = across ? (this.flowBase[route.port[e.flow] as number] as number) + (route.flow[e.flow] as number) : (this.flowBase[h] as number) + e.flow;
      return { ...e, flow };
    });
    return { ...r, closedLoop };
  }

  /** After every actor reported at t, each host's capture writes its packets before t; the hosts whose capture just stopped at its size bound. */
  flushCaptures(t: Nanos): { host: string; at: Nanos | null; maxBytes: number }[] {
    const stopped: { host: string; at: Nanos | null; maxBytes: number }[] = [];
    this.captures.forEach((c, i) => {
      if (c.flush(t)) stopped.push({ host: `h${i}`, at: c.stoppedAtNs, maxBytes: c.maxBytes });
    });
    return stopped;
  }

  /** A sample was just taken at t: in the measured window, each host's snapshot joins its own series. */
  sampled(t: Nanos): void {
    const snap = this.latest;
    if (snap === null || snap.t !== t || t <= this.s.warmup) return;
    snap.hosts.forEach((h, i) => (this.inWindow[i] as Snapshot[]).push(h));
  }

  /** The whole run's accounting with the fabric's: balanced only if the fabric balances too. */
  withFabric(acc: Accounting): Accounting {
    const last = this.final;
    if (last === null) return acc;
    const fabric = fabricBalance(last.fabric);
    return { ...acc, fabric, balanced: acc.balanced && fabric.balanced };
  }

  /**
   * The cluster's summary: the whole run's figures (every host's added up; its TCP flows numbered cluster-wide) without
   * the per-guest parts, whose indices are each host's own, then each host's summary and the switch's.
   */
  summary(whole: Summary, rt: SimRuntime, warmT: Nanos, endT: Nanos): Summary {
    return this.summaryWith(whole, rt.inFlightByGroup(this.graph.hostOf, clusterOf(this.s).hosts.length), warmT, endT);
  }

  /** The cluster's summary given, per host, the packets on links to its actors (rx, and tx: guests' frames) at the end. */
  summaryWith(whole: Summary, onLinks: { readonly rx: readonly number[]; readonly tx: readonly number[] }, warmT: Nanos, endT: Nanos): Summary {
    const c = clusterOf(this.s);
    const warm = this.starts.get(warmT);
    const end = this.final;
    if (warm === undefined || end === null || end.t !== endT) throw new Error('cluster snapshots missing');
    const hosts: HostSummary[] = c.hosts.map((view, i) => {
      const e = end.hosts[i] as Snapshot;
      const acc = withTxBalance(accounting(e, onLinks.rx[i] as number, view.faults.length > 0), e, onLinks.tx[i] as number);
      // Its TCP connections are the whole run's (a host holds one end of those across hosts).
      const { hosts: _h, fabric: _f, tcp: _t, ...own } = summarize(view, warm.hosts[i] as Snapshot, e, this.inWindow[i] as Snapshot[], acc);
      const capture = this.captures[i];
      return { host: `h${i}`, ...own, ...(capture !== undefined ? { pcap: capture.finish() } : {}) };
    });
    const fabric = summarizeFabric(warm.fabric, end.fabric, c.fabric.ports, fabricBalance(end.fabric), c.fabric.sources);
    return {
      ...whole,
      throughput: { ...whole.throughput, perVm: [] },
      interrupts: { ...whole.interrupts, perVm: [] },
      hosts,
      fabric,
    };
  }
}
