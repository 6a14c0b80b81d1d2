// The controller's merge of a lockstep run: the partitions' reports, event logs and counts made into the result sim gives for the same scenario and seed.
import { LatencyHistogram } from '@splitnet/model';
import type { ActorReport, Nanos } from '@splitnet/model';
import { accounting, ClusterRun, SampleSeries, withRuntimeDrops, withRuntimeTxDrops } from '@splitnet/controller';
import type { ClusterFaultShot } from '@splitnet/controller';
import { combine, faultsSummary, summarize, withTxBalance } from '@splitnet/results';
import type { RunResult, Snapshot } from '@splitnet/results';
import type { LogKey, RuntimeEvent } from '@splitnet/runtime';
import { faultOccurrences } from '@splitnet/scenario';
import type { CompiledScenario } from '@splitnet/scenario';
import type { KeyedEvent, PartitionFinal, PartitionShot } from './partition-engine.js';
import type { PartitionPlan } from './partition-plan.js';

function compareKeys(a: LogKey, b: LogKey): number {
  return a.t - b.t || a.dst - b.dst || a.origin - b.origin;
}

/**
 * The partitions' logs in sim's order: each log is in its partition's order, keyed by the running maximum of
 * the ordering keys it had run (LogKey), which sim's interleaving of the partitions follows; entries of two
 * partitions never share a key (their destinations differ). A stable sort by key is that merge.
 */
export function mergeEvents(logs: readonly (readonly KeyedEvent[])[]): RuntimeEvent[] {
  return logs
    .flat()
    .sort((a, b) => compareKeys(a.key, b.key))
    .map(({ t, actor, kind, detail }) => ({ t, actor, kind, detail }));
}

/**
 * The run's snapshot at t from its partitions' parts, as sim makes it (run-sim.ts): every actor's report in the
 * graph's order (those that are down left out), then the killed incarnations' in the order the plan killed them,
 * and the runtime's own drops summed over the partitions.
 */
export function snapshotOf(plan: PartitionPlan, shots: readonly PartitionShot[], t: Nanos): Snapshot {
  const reports = reportsInGraph(plan, shots);
  if (!shots.some((x) => x.faults !== undefined)) return combine(reports, t);
  const ghosts = shots.flatMap((x) => x.faults?.ghosts ?? []).sort((a, b) => a.step - b.step);
  const sum = (pick: (f: NonNullable<PartitionShot['faults']>) => number) => shots.reduce((n, x) => n + (x.faults ? pick(x.faults) : 0), 0);
  const snap = withRuntimeDrops(
    combine([...reports, ...ghosts.map((g) => g.report)], t),
    sum((f) => f.linkDropped),
    sum((f) => f.lostInCrash),
  );
  return withRuntimeTxDrops(
    snap,
    sum((f) => f.txReleasedInCrash ?? 0),
    sum((f) => f.txLostInCrash ?? 0),
    sum((f) => f.txLinkDropped ?? 0),
  );
}

/** Every actor's report in the graph's order (those that are down left out). */
function reportsInGraph(plan: PartitionPlan, shots: readonly PartitionShot[]): ActorReport[] {
  return atRefs(plan, shots).filter((r): r is ActorReport => r !== null);
}

/** Every actor's report at its ref (null: down). */
function atRefs(plan: PartitionPlan, shots: readonly PartitionShot[]): (ActorReport | null)[] {
  const inGraph = new Array<ActorReport | null>(plan.partOf.length).fill(null);
  plan.partitions.forEach((p, i) => p.refs.forEach((ref, k) => (inGraph[ref] = shots[i]?.reports[k] ?? null)));
  return inGraph;
}

/**
 * What a multi-host run's faults add to its snapshot, from every partition's part: the killed incarnations in sim's
 * order (by the plan's step, then ref), the runtime's drops per host summed (none: no host has faults on its actors).
 */
export function clusterFaultShot(shots: readonly PartitionShot[]): ClusterFaultShot | undefined {
  const parts = shots.flatMap((x) => (x.clusterFaults === undefined ? [] : [x.clusterFaults]));
  if (parts.length === 0) return undefined;
  const ghosts = parts
    .flatMap((f) => f.ghosts)
    .sort((a, b) => a.step - b.step || a.ref - b.ref)
    .map(({ host, report }) => ({ host, report }));
  const add = (pick: (f: NonNullable<PartitionShot['clusterFaults']>) => readonly number[]): number[] =>
    parts.reduce<number[]>((acc, f) => pick(f).map((n, i) => n + (acc[i] ?? 0)), []);
  return {
    ghosts,
    linkDropped: add((f) => f.linkDropped),
    lostInCrash: add((f) => f.lostInCrash),
    txReleasedInCrash: add((f) => f.txReleasedInCrash),
    txLostInCrash: add((f) => f.txLostInCrash),
    txLinkDropped: add((f) => f.txLinkDropped),
    fabricLost: add((f) => f.fabricLost),
    fabricLostBytes: add((f) => f.fabricLostBytes),
  };
}

/** The link faults' counts per occurrence, summed over the partitions (in the plan's order of occurrences). */
function linkFaultCounts(finals: readonly PartitionFinal[]): Map<string, { messages: number; packets: number }> | undefined {
  if (!finals.some((f) => f.linkFaultCounts !== undefined)) return undefined;
  const out = new Map<string, { messages: number; packets: number }>();
  for (const f of finals) {
    for (const [id, c] of f.linkFaultCounts ?? []) {
      const was = out.get(id) ?? { messages: 0, packets: 0 };
      out.set(id, { messages: was.messages + c.messages, packets: was.packets + c.packets });
    }
  }
  return out;
}

/** Per host, the packets on links to its actors at the end, summed over the partitions (sim's inFlightByGroup). */
function hostsOnLinks(finals: readonly PartitionFinal[], hosts: number): { rx: number[]; tx: number[] } {
  const rx = new Array<number>(hosts).fill(0);
  const tx = new Array<number>(hosts).fill(0);
  for (const f of finals) {
    f.hostsOnLinks?.rx.forEach((n, i) => (rx[i] = (rx[i] as number) + n));
    f.hostsOnLinks?.tx.forEach((n, i) => (tx[i] = (tx[i] as number) + n));
  }
  return { rx, tx };
}

export interface PartitionedRun {
  readonly plan: PartitionPlan;
  /** Per sample time: each partition's reports. */
  readonly samples: ReadonlyMap<Nanos, readonly PartitionShot[]>;
  readonly finals: readonly PartitionFinal[];
}

/**
 * The run's result, as sim makes it (run-sim.ts): snapshots combined from every actor's report in the graph's
 * order, the same samples, window and accounting, and the controller's own log entries where sim writes them
 * (run-start first, warmup-end before anything at the warm-up's end, run-end last).
 */
export function mergeRun(s: CompiledScenario, r: PartitionedRun): RunResult {
  const { plan, finals } = r;
  // A multi-host run's snapshots keep each host's and the fabric's beside the whole run's, in the order sim takes them
  // (cluster-run.ts: a window starts at the last one taken at its instant), with the fabric's frames waiting for a paused host in any partition.
  const cluster = s.cluster !== undefined ? new ClusterRun(s) : null;
  const shotAt = (shots: readonly PartitionShot[], t: Nanos, final = false): Snapshot =>
    cluster === null
      ? snapshotOf(plan, shots, t)
      : cluster.fromReports(
          atRefs(plan, shots),
          t,
          final,
          shots.reduce((n, x) => n + (x.fabricWaiting ?? 0), 0),
          false,
          undefined,
          clusterFaultShot(shots),
        );
  const snap = (pick: (f: PartitionFinal) => PartitionShot, t: Nanos, final = false) => shotAt(finals.map(pick), t, final);
  const book = new SampleSeries(
    s.warmup,
    snap((f) => f.startReports, 0),
  );
  // Sim takes the warm-up's snapshot after the sample at its instant (and again at 0 for a run without a warm-up).
  let warm = s.warmup === 0 ? snap((f) => f.warmReports, 0) : null;
  for (const t of [...r.samples.keys()].sort((a, b) => a - b)) {
    if (warm === null && t > s.warmup) warm = snap((f) => f.warmReports, s.warmup);
    book.add(t, shotAt(r.samples.get(t) ?? [], t));
    cluster?.sampled(t);
  }
  warm ??= snap((f) => f.warmReports, s.warmup);
  const end = snap((f) => f.finalReports, s.duration, true);
  const sum = (pick: (f: PartitionFinal) => number) => finals.reduce((n, f) => n + pick(f), 0);
  // The transmit path's balance too, when a guest sends: its frames on links are counted where they were sent.
  // A multi-host run with faults on a host's actors reports them as one host does (run-sim.ts).
  const hostFaults = cluster?.faults.hostFaults === true;
  const withFaults = s.faults.length > 0 || hostFaults;
  const hostAcc = withTxBalance(
    accounting(
      end,
      sum((f) => f.onLinks),
      withFaults,
    ),
    end,
    sum((f) => f.txOnLinks),
  );
  const acc = cluster === null ? hostAcc : cluster.withFabric(hostAcc);
  const actors = mergeEvents(finals.map((f) => f.events));
  const at = actors.findIndex((e) => e.t >= s.warmup);
  const events: RuntimeEvent[] = [{ t: 0, actor: 'controller', kind: 'run-start', detail: { scenario: s.name, seed: s.seed, duration: s.duration } }];
  const warmupEnd: RuntimeEvent = { t: s.warmup, actor: 'controller', kind: 'warmup-end', detail: {} };
  if (s.warmup > 0) {
    const cut = at < 0 ? actors.length : at;
    events.push(...actors.slice(0, cut), warmupEnd, ...actors.slice(cut));
  } else events.push(...actors);
  events.push({ t: s.duration, actor: 'controller', kind: 'run-end', detail: { balanced: acc.balanced, unaccounted: acc.unaccounted } });
  let summary = summarize(s, warm, end, book.inWindow, acc, withFaults);
  if (cluster !== null) summary = cluster.summaryWith(summary, hostsOnLinks(finals, s.cluster?.hosts.length ?? 0), warm.t, end.t);
  const occurrences = hostFaults ? [...(cluster?.faults.occurrences ?? [])] : s.faults.length > 0 ? faultOccurrences(s.faults, s.duration) : [];
  if (withFaults) {
    const faults = faultsSummary({
      occurrences,
      events,
      samples: book.samples,
      end,
      messages: linkFaultCounts(finals),
      interval: s.sampleInterval,
      warmup: s.warmup,
      runEnd: s.duration,
      // A host's fault is measured on its host's delivered throughput, as in sim (run-sim.ts).
      ...(cluster !== null ? { hostSamples: book.hostSamples } : {}),
    });
    summary = { ...summary, faults };
  }
  return {
    summary,
    samples: book.samples,
    series: book.series,
    events,
    accounting: acc,
    latency: end.latency ?? new LatencyHistogram(),
    eventsProcessed: finals.reduce((n, f) => n + f.eventsProcessed, 0),
    end,
    occurrences,
  };
}
