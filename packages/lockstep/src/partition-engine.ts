// One lockstep partition's event loop, whatever carries its messages: the sim runtime over its actors, run up to the safe time its neighbours' promises give.
import type { Actor, ActorReport, Message, Nanos } from '@splitnet/model';
import { clusterFaultPlan, crashCounts, fabricFramesWaiting, ghostReport, planSimFaults } from '@splitnet/controller';
import type { ClusterFaultPlan, SimFaultPlan } from '@splitnet/controller';
import { SimRuntime } from '@splitnet/runtime';
import type { LogKey, RuntimeEvent } from '@splitnet/runtime';
import type { CompiledScenario } from '@splitnet/scenario';
import { planOf } from './partition-plan.js';
import type { PartitionPlan, RunGraph } from './partition-plan.js';

/**
 * Per host: a window ends early, after the instant of a frame across, only when more than this many of its channel's
 * lookaheads of it would be left (a split-off remainder shorter than that is not worth a promise and a wake-up).
 */
const SPLIT_LOOKAHEADS = 4;

/** A link's last sequence number: [from ref, to ref, seq]. */
export type LinkSeq = readonly [number, number, number];

/** What a partition hands whoever carries its messages and reports. */
export interface PartitionPorts {
  /** A message of one of its actors to an actor of partition `to` (copy it: its batch is reused after). */
  send(to: number, from: number, toRef: number, seq: number, at: Nanos, due: Nanos, msg: Message): void;
  /**
   * A promise to partition `to`: nothing more is sent to it due before `promise`, and the last sequence number
   * sent on each of its links to it is in `links` (the promise holds once those have arrived: messages and
   * promises may travel apart). Sent after the messages of the window, every window.
   */
  promise(to: number, promise: Nanos, links: readonly LinkSeq[]): void;
  /** Its actors' reports at a sample time. */
  sample(t: Nanos, shot: PartitionShot): void;
}

/**
 * A partition's part of a snapshot of the run: its actors' reports (ascending refs; null for one that is down, killed
 * by a fault and not restarted yet) and, in a run with faults, what sim's fault snapshot adds (run-sim.ts): the
 * reports of the incarnations killed here, each with the index of the plan's step that killed it (sim lists them in
 * that order), and the packets its runtime dropped on faulty links and lost in crashes.
 */
export interface PartitionShot {
  readonly reports: readonly (ActorReport | null)[];
  readonly faults?: {
    readonly ghosts: readonly { readonly step: number; readonly report: ActorReport }[];
    readonly linkDropped: number;
    readonly lostInCrash: number;
    /** Frames guests sent that reached a dead actor here (SimRuntime.txReleasedInCrash, txLostInCrash). */
    readonly txReleasedInCrash?: number;
    readonly txLostInCrash?: number;
    /** Frames guests sent in messages a partition dropped here (SimRuntime.txLinkDropped). */
    readonly txLinkDropped?: number;
  };
  /** In a multi-host run with faults: the fabric's frames here waiting for a paused host's NIC (sim's snapshot counts them). */
  readonly fabricWaiting?: number;
  /**
   * In a multi-host run with faults on a host's actors: the incarnations killed here (each with its plan step, ref and
   * host: sim lists them by step, then ref) and, per host, the packets its runtime dropped on faulty links and lost in
   * crashes, and the frames guests sent that died in crashes (ClusterFaultShot).
   */
  readonly clusterFaults?: {
    readonly ghosts: readonly { readonly step: number; readonly ref: number; readonly host: number; readonly report: ActorReport }[];
    readonly linkDropped: readonly number[];
    readonly lostInCrash: readonly number[];
    readonly txReleasedInCrash: readonly number[];
    readonly txLostInCrash: readonly number[];
    /** Per host, frames its guests sent in messages a partition dropped here (ClusterFaultShot.txLinkDropped). */
    readonly txLinkDropped: readonly number[];
    /** Per host, the fabric's frames that reached its dead NIC here (ClusterFaultShot.fabricLost). */
    readonly fabricLost: readonly number[];
    readonly fabricLostBytes: readonly number[];
  };
}

/** A log entry of a partition, with where it falls in sim's order (LogKey). */
export interface KeyedEvent extends RuntimeEvent {
  readonly key: LogKey;
}

/** What a partition has at the end of the run, for the controller to merge. */
export interface PartitionFinal {
  /** Its actors' reports before the first event, at the end of the warm-up, and at the end. */
  readonly startReports: PartitionShot;
  readonly warmReports: PartitionShot;
  readonly finalReports: PartitionShot;
  readonly events: readonly KeyedEvent[];
  /** Packets it counts on links: sent by its actors (or to them) and not delivered here yet. Summed over partitions: sim's. */
  readonly onLinks: number;
  /** Of those, frames guests sent (the transmit path's in flight on links): summed over partitions, sim's. */
  readonly txOnLinks: number;
  readonly eventsProcessed: number;
  /**
   * In a multi-host run: per host, the packets on links to its actors queued here (rx, and tx: guests' frames), as
   * sim's cluster summary counts them (inFlightByGroup); summed over partitions, sim's.
   */
  readonly hostsOnLinks?: { readonly rx: readonly number[]; readonly tx: readonly number[] };
  /** Messages refused: arriving due before this partition's time (out of window), or for an actor it does not run. */
  readonly refused: number;
  /** Windows run (safe-time advances), and how often it had to wait for a promise. */
  readonly windows: number;
  /** In a run with faults: per occurrence id, the messages its link faults hit here (sim's counts, summed over partitions). */
  readonly linkFaultCounts?: readonly (readonly [string, { readonly messages: number; readonly packets: number }])[];
}

/** A fault step this partition applies: the plan's step `k` (its index in the whole plan). */
interface OwnStep {
  readonly k: number;
  readonly t: Nanos;
  readonly apply: (rt: SimRuntime) => void;
}

/** A promise from a neighbour not yet in force: some of the messages it covers have not arrived. */
interface PendingPromise {
  readonly promise: Nanos;
  readonly links: readonly LinkSeq[];
}

/**
 * The partition's side of the conservative protocol (Chandy–Misra–Bryant with null messages, pairwise as in
 * SimBricks): it may run every event strictly before its safe time, the least of its neighbours' promises; after
 * each window it promises each neighbour its new time plus the channel's lookahead. The ordering key and the
 * runtime's partition mode make the events it runs, and their order, exactly sim's (docs/lockstep.md).
 */
export class PartitionEngine {
  readonly plan: PartitionPlan;
  readonly g: RunGraph;
  private readonly rt: SimRuntime;
  private readonly local: readonly Actor[];
  /** Emulated time reached: every event before it has run. */
  reached: Nanos = 0;
  /** Per neighbour partition: the promise in force, and those waiting for their messages. */
  private readonly inForce: Nanos[];
  private readonly waiting: PendingPromise[][];
  /** Per link into this partition ("from>to" refs): the last sequence number that arrived. */
  private readonly arrived = new Map<string, number>();
  /** Per neighbour this partition sends to: per link, the last sequence number sent. */
  private readonly sentSeq: Map<string, LinkSeq>[];
  private readonly startReports: PartitionShot;
  private warmReports: PartitionShot | null = null;
  private finalReports: PartitionShot | null = null;
  /** The run's faults: the plan (its ghosts are this partition's), the steps it applies, the next one, each ghost's step. */
  private readonly faults: SimFaultPlan | null;
  private readonly steps: OwnStep[] = [];
  private nextStep = 0;
  private readonly ghostSteps: number[] = [];
  /** A multi-host run with host or switch-port faults (its shots count the fabric's frames waiting for a paused host). */
  private readonly clusterFaults: boolean;
  /** A multi-host run's fault plan (its ghosts are this partition's), or null. */
  private readonly clusterPlan: ClusterFaultPlan | null = null;
  private refused = 0;
  private windows = 0;
  /** A multi-host run's switch (its ref; −1: none), whose inputs bound what its partition sends (earliestOutputs). */
  private readonly switchRef: number;
  /**
   * The switch's partition only: feeds[p][q], whether a frame partition p's NICs send up may be forwarded by the switch
   * to a NIC of partition q (some route of one of p's hosts leads to a port of one of q's): p's promise bounds the
   * switch's downlinks to q only then.
   */
  private readonly feeds: readonly (readonly boolean[])[] = [];

  /**
   * While its window's last run goes: a message across sent before this time ends the window after its instant
   * (−Infinity: never). Per host only, and only with more than SPLIT_LOOKAHEADS lookaheads of the window left.
   */
  private splitBefore: Nanos = -Infinity;
  /** Per host: the least lookahead to a neighbour it sends to, which sets how much of a window is worth splitting off. */
  private readonly splitMargin: Nanos;
  /** Per neighbour it sends to: the last promise it sent (−Infinity: none yet). */
  private readonly promised: Nanos[];

  /** A rehearsal (partition-rehearsal.ts): its neighbours are not heard, it runs alone up to this time. */
  rehearseUntil: Nanos | null = null;

  constructor(
    private readonly s: CompiledScenario,
    readonly index: number,
    private readonly ports: PartitionPorts,
  ) {
    const { g, linkDelay, plan } = planOf(s);
    this.g = g;
    this.plan = plan;
    const owned = plan.partOf.map((p) => p === index);
    this.switchRef = 'hosts' in g ? g.switchRef : -1;
    if ('hosts' in g && s.cluster !== undefined && plan.partOf[g.switchRef] === index)
      this.feeds = feedsOf(plan, g.hostOf, g.switchRef, s.cluster.fabric.routes);
    this.sentSeq = plan.partitions.map(() => new Map<string, LinkSeq>());
    // The fault plan, as sim makes it; each step is applied in the partition of the actor it acts on (the
    // controller's own log lines, fault-start and fault-end, in the driver domain's).
    const faults = (this.faults = s.faults.length > 0 && !('hosts' in g) ? planSimFaults(s, g) : null);
    faults?.steps.forEach((st, k) => {
      const a = st.action;
      const at = 'ref' in a ? plan.partOf[a.ref] : 0;
      if (at === index) this.steps.push({ k, t: st.t, apply: st.apply });
    });
    // A multi-host run's faults: each step's parts on this partition's actors (a switch port's fault and its log line
    // with the switch, a paused host's actors with that host, a host's actor fault with that host), at sim's instant and order.
    this.clusterFaults = 'hosts' in g && ((s.cluster?.faults.length ?? 0) > 0 || (s.cluster?.hosts.some((h) => h.faults.length > 0) ?? false));
    if ('hosts' in g && this.clusterFaults) {
      const mine = (ref: number): boolean => owned[ref] === true;
      const cp = (this.clusterPlan = clusterFaultPlan(s, g));
      cp.steps.forEach((st, k) => this.steps.push({ k, t: st.t, apply: (rt) => st.apply(rt, mine) }));
    }
    // Each partition draws the link faults of its own senders (a host's links are all in its partition).
    const linkFaults = linkFaultsOf(faults, this.clusterPlan);
    const rt = (this.rt = new SimRuntime({
      linkDelay,
      pool: g.pool,
      ...(linkFaults ? { linkFaults } : {}),
      ...(faults !== null && !('hosts' in g) && g.txCrashOrigin !== undefined ? { txOrigin: g.txCrashOrigin } : {}),
      ...('hosts' in g && this.clusterPlan?.hostFaults === true ? { txOrigin: { of: g.txOriginOf } } : {}),
      partition: {
        owned,
        remote: (from, to, msg, at, due, seq) => {
          const q = plan.partOf[to] as number;
          if (at < this.splitBefore) this.rt.stopAfterInstant();
          (this.sentSeq[q] as Map<string, LinkSeq>).set(`${from}>${to}`, [from, to, seq]);
          ports.send(q, from, to, seq, at, due, msg);
          if ('batch' in msg) g.pool.release(msg.batch);
        },
      },
    }));
    g.all.forEach((a) => rt.add(a));
    this.local = (plan.partitions[index]?.refs ?? []).map((r) => g.all[r] as Actor);
    // Before any event (sim's snapshot at 0; again for a run without a warm-up, as sim takes it twice).
    this.startReports = this.reports(0, false);
    if (s.warmup === 0) this.warmReports = this.reports(0, false);
    // Before the first promise: nothing is sent before time 0, so nothing arrives before the lookahead.
    this.inForce = plan.partitions.map((_, p) => plan.lookahead[p]?.[index] ?? Infinity);
    this.waiting = plan.partitions.map(() => []);
    this.promised = plan.partitions.map(() => -Infinity);
    const least = Math.min(...this.sendsTo.map((q) => plan.lookahead[index]?.[q] ?? Infinity));
    this.splitMargin = plan.by === 'host' && Number.isFinite(least) ? SPLIT_LOOKAHEADS * least : Infinity;
  }

  /** Its part of sim's snapshot at t (snapshot or faultSnapshot in run-sim.ts). */
  private reports(t: Nanos, final: boolean): PartitionShot {
    const f = this.faults;
    const rt = this.rt;
    const refs = this.plan.partitions[this.index]?.refs ?? [];
    const cp = this.clusterPlan;
    if (cp !== null && cp.hostFaults && 'hosts' in this.g) {
      const g = this.g;
      return {
        reports: refs.map((r) => (rt.isDown(r) ? null : rt.actor(r).report(t, final))),
        fabricWaiting: fabricFramesWaiting(rt),
        clusterFaults: {
          ghosts: cp.ghosts.map((x) => ({ step: x.step, ref: x.ref, host: x.host, report: ghostReport(x.ghost, final, t) })),
          ...crashCounts(rt, g, cp.wires),
        },
      };
    }
    if (this.clusterFaults) return { reports: this.local.map((a) => a.report(t, final)), fabricWaiting: fabricFramesWaiting(this.rt) };
    if (f === null) return { reports: this.local.map((a) => a.report(t, final)) };
    return {
      reports: refs.map((r) => (rt.isDown(r) ? null : rt.actor(r).report(t, final))),
      faults: {
        ghosts: f.ghosts.map((gh, i) => ({ step: this.ghostSteps[i] as number, report: ghostReport(gh, final) })),
        linkDropped: rt.linkDropped,
        lostInCrash: rt.lostInCrash + f.wire.lostWhileDown,
        ...(rt.txReleasedInCrash + rt.txLostInCrash + f.wire.txLostWhileDown > 0
          ? { txReleasedInCrash: rt.txReleasedInCrash, txLostInCrash: rt.txLostInCrash + f.wire.txLostWhileDown }
          : {}),
        ...(rt.txLinkDropped > 0 ? { txLinkDropped: rt.txLinkDropped } : {}),
      },
    };
  }

  /** The partitions it hears from and sends to. */
  get hearsFrom(): readonly number[] {
    return this.plan.hearsFrom[this.index] as readonly number[];
  }
  get sendsTo(): readonly number[] {
    return this.plan.sendsTo[this.index] as readonly number[];
  }

  get done(): boolean {
    return this.reached >= this.s.duration;
  }

  /** The time it may run up to (exclusive): its neighbours' least promise, the warm-up's end, the run's end. */
  safeTime(): Nanos {
    let safe = this.s.duration;
    if (this.rehearseUntil !== null) safe = Math.min(safe, this.rehearseUntil);
    else for (const p of this.hearsFrom) safe = Math.min(safe, this.inForce[p] as Nanos);
    if (this.warmReports === null && this.s.warmup < safe) safe = this.s.warmup;
    return safe;
  }

  /** A message from another partition. False when refused (counted): it came out of window or to an actor not here. */
  deliver(from: number, to: number, seq: number, due: Nanos, msg: Message): boolean {
    const p = this.plan.partOf[from];
    if (p === undefined || p === this.index) {
      // Not from another partition of this run: nothing the protocol sends.
      this.refused++;
      if ('batch' in msg) this.g.pool.release(msg.batch);
      return false;
    }
    const link = `${from}>${to}`;
    this.arrived.set(link, seq);
    if (!this.rt.deliver(from, to, msg, due, seq)) {
      this.refused++;
      if ('batch' in msg) this.g.pool.release(msg.batch);
      this.settle(p);
      return false;
    }
    this.settle(p);
    return true;
  }

  /** A promise from partition `p` (in force once the messages it covers have arrived). */
  promise(p: number, promise: Nanos, links: readonly LinkSeq[]): void {
    (this.waiting[p] as PendingPromise[]).push({ promise, links });
    this.settle(p);
  }

  /** Put in force the promises of `p` whose messages have all arrived (in the order they were made). */
  private settle(p: number): void {
    const w = this.waiting[p] as PendingPromise[];
    while (w.length > 0) {
      const first = w[0] as PendingPromise;
      if (!first.links.every(([a, b, seq]) => (this.arrived.get(`${a}>${b}`) ?? 0) >= seq)) return;
      w.shift();
      if (first.promise > (this.inForce[p] as Nanos)) this.inForce[p] = first.promise;
    }
  }

  /**
   * Run one window, if the safe time moved: every event before it, the samples up to it, the warm-up's
   * snapshot at its end; then promise every neighbour. False when it must wait for a promise.
   */
  advance(): boolean {
    if (this.done) return false;
    const safe = this.safeTime();
    if (safe <= this.reached) return false;
    const hooks = { sampleInterval: this.s.sampleInterval, onSample: (t: Nanos) => this.ports.sample(t, this.reports(t, false)) };
    // Fault steps happen between events, as in sim: every event before the step's instant, then the step.
    for (let st = this.steps[this.nextStep]; st !== undefined && st.t < safe; st = this.steps[++this.nextStep]) {
      this.rt.run(st.t, hooks);
      this.rt.driverStep(this.g.all.length + st.k);
      const had = this.faults?.ghosts.length ?? 0;
      st.apply(this.rt);
      for (let i = had; i < (this.faults?.ghosts.length ?? 0); i++) this.ghostSteps.push(st.k);
    }
    // Per host, a frame across ends the window once its instant is done (docs/lockstep.md#how-fast): its neighbour
    // may run on from it while this partition runs the rest in its next window.
    this.splitBefore = safe - this.splitMargin;
    const reached = this.rt.run(safe, hooks);
    this.splitBefore = -Infinity;
    this.reached = reached;
    this.windows++;
    if (this.warmReports === null && reached === this.s.warmup) this.warmReports = this.reports(reached, false);
    if (this.done) this.finalReports = this.reports(this.s.duration, true);
    const earliest = this.earliestOutputs(reached);
    for (const q of this.sendsTo) {
      const sent = this.sentSeq[q] as Map<string, LinkSeq>;
      const la = this.plan.lookahead[this.index]?.[q] ?? Infinity;
      // Nothing past the run's end matters (and a promise stays a finite number on the wire).
      const promise = Math.min(earliest(q), this.s.duration) + la;
      // A promise that would say nothing new (no message since the last, the same time) is not sent: q holds it already.
      if (sent.size === 0 && promise === this.promised[q]) continue;
      this.promised[q] = promise;
      this.ports.promise(q, promise, [...sent.values()]);
      sent.clear();
    }
    return true;
  }

  /**
   * Per neighbour q: a lower bound on the emulated time of the event at which this partition may next send to q,
   * once every event before `safe` has run (its promise to q adds the channel's lookahead). Per Xen domain, `safe`
   * itself: any event may send across (every packet crosses). Per host, from what the actors know (the bound's
   * argument: docs/lockstep.md#promises): a host sends to the switch only while its NIC takes a guest's frame,
   * which is not before `transmit` (the earliest pending message carrying a guest's frames, or an actor's own
   * earliestTransmit); the switch sends to a host only while it takes a frame in — one queued for it (`watched`),
   * one from this host's NIC (not before `transmit`), or one from another partition whose hosts have a route to
   * that host (not before the promise in force from there: a host's own promise does not bound what the switch sends
   * it unless the switch may send its frames back to it). A fault step of this partition's not run yet bounds everything by its instant.
   */
  private earliestOutputs(safe: Nanos): (q: number) => Nanos {
    if (this.plan.by !== 'host' || this.switchRef < 0) return () => safe;
    const b = this.rt.transmitBounds(this.switchRef);
    const step = this.steps[this.nextStep]?.t ?? Infinity;
    const transmit = Math.max(safe, Math.min(b.transmit, step));
    if (this.plan.partOf[this.switchRef] !== this.index) return () => transmit;
    const own = Math.min(b.watched, transmit);
    return (q) => {
      let inputs = own;
      for (const p of this.hearsFrom) if (this.feeds[p]?.[q] !== false) inputs = Math.min(inputs, this.inForce[p] as Nanos);
      return Math.max(safe, inputs);
    };
  }

  /** The partition's account at the end (call once `done`). */
  final(): PartitionFinal {
    const keys = this.rt.eventKeys;
    const linkFaults = linkFaultsOf(this.faults, this.clusterPlan);
    return {
      startReports: this.startReports,
      warmReports: this.warmReports ?? { reports: [] },
      finalReports: this.finalReports ?? this.reports(this.reached, true),
      events: this.rt.events.map((e, i) => ({ ...e, key: keys[i] as LogKey })),
      onLinks: this.rt.inFlightOnLinks(),
      txOnLinks: this.rt.txInFlightOnLinks(),
      eventsProcessed: this.rt.eventsProcessed,
      ...('hosts' in this.g ? { hostsOnLinks: this.rt.inFlightByGroup(this.g.hostOf, this.g.hosts.length) } : {}),
      refused: this.refused,
      windows: this.windows,
      ...(linkFaults ? { linkFaultCounts: [...linkFaults.counts] } : {}),
    };
  }
}

/** The run's link faults, one host's or a multi-host run's. */
function linkFaultsOf(f: SimFaultPlan | null, c: ClusterFaultPlan | null): SimFaultPlan['linkFaults'] {
  return f?.linkFaults ?? c?.linkFaults;
}

/**
 * For the switch's partition: feeds[p][q] is true when some route of a host of partition p leads to a switch port
 * whose host is in partition q (routes[h].port[flow]: the egress port, which is the host's index; −1: none).
 */
function feedsOf(plan: PartitionPlan, hostOf: (ref: number) => number, switchRef: number, routes: readonly { readonly port: Int32Array }[]): boolean[][] {
  const hostsOf = plan.partitions.map((part) => new Set(part.refs.filter((r) => r !== switchRef).map(hostOf)));
  return hostsOf.map((from) => hostsOf.map((to) => [...from].some((h) => (routes[h]?.port ?? []).some((port) => to.has(port)))));
}
