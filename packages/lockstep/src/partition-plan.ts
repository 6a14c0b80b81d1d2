// How a lockstep run is partitioned: which actors each partition runs, who talks to whom across partitions, and the lookahead of each such channel.
import { busPeersOf, roleOf, SplitnetError } from '@splitnet/model';
import type { Nanos } from '@splitnet/model';
import { buildActors, buildCluster, clusterLinkDelay, linkDelayFor } from '@splitnet/controller';
import type { ActorGraph, ClusterGraph } from '@splitnet/controller';
import type { CompiledScenario } from '@splitnet/scenario';
import type { ProcessGroup } from '@splitnet/live';

/**
 * What a partition is. In a one-host scenario, one per Xen domain (the driver domain — NIC, back end and the vRSS
 * workers, which are netback's threads in dom0 — and each guest), which is where the model's messages cross Xen's
 * domain boundary with the link delay. In a multi-host scenario (hosts:), one per host (its NIC, back end, workers
 * and guests), the switch in host 0's: only the fabric's links cross partitions, and their delay is the lookahead.
 */
export type PartitionBy = 'domain' | 'host';

/** The actors a lockstep run partitions: one host's graph, or a multi-host scenario's (every host's and the switch). */
export type RunGraph = ActorGraph | ClusterGraph;

function isCluster(g: RunGraph): g is ClusterGraph {
  return 'hosts' in g;
}

/** The graph of scenario `s` and its link delays, as sim builds them (run-sim.ts). */
export function runGraphOf(s: CompiledScenario): { readonly g: RunGraph; readonly linkDelay: (a: number, b: number) => Nanos } {
  if (s.cluster !== undefined) {
    const cg = buildCluster(s);
    return { g: cg, linkDelay: clusterLinkDelay(cg, s) };
  }
  const g = buildActors(s);
  return { g, linkDelay: linkDelayFor(g, s) };
}

/** The partitions of scenario `s` (per domain for one host, per host for several). */
export function planOf(s: CompiledScenario): { readonly g: RunGraph; readonly linkDelay: (a: number, b: number) => Nanos; readonly plan: PartitionPlan } {
  const { g, linkDelay } = runGraphOf(s);
  return { g, linkDelay, plan: planPartitions(g, linkDelay) };
}

/**
 * The scenario value that gives a run `n` partitions (`--expect partition=n`, what compose scales): per Xen domain,
 * the driver domain and n − 1 guests (`topology.vms.count`); per host, n hosts (`hosts: n`, each a copy of the
 * top-level host).
 */
export function partitionsValue(n: number, by: PartitionBy = 'domain'): { readonly path: readonly string[]; readonly value: number; readonly label: string } {
  switch (by) {
    case 'host':
      if (!Number.isSafeInteger(n) || n < 2 || n > 64)
        throw new SplitnetError('E_USAGE', `--expect partition=${n}: a multi-host lockstep run has one partition per host, from 2 to 64 hosts`);
      return { path: ['hosts'], value: n, label: `--expect partition=${n} (${n} hosts, one partition each)` };
    case 'domain':
      if (!Number.isSafeInteger(n) || n < 2)
        throw new SplitnetError(
          'E_USAGE',
          `--expect partition=${n}: a lockstep run per Xen domain has at least 2 partitions (the driver domain and one guest)`,
        );
      return { path: ['topology', 'vms', 'count'], value: n - 1, label: `--expect partition=${n} (the driver domain and ${n - 1} guests)` };
  }
}

/** One partition: a process group of the live runtime's kind (its name is its actor ids joined by '+'). */
export interface Partition extends ProcessGroup {
  /** Its actors' refs in the graph, ascending. */
  readonly refs: readonly number[];
}

export interface PartitionPlan {
  readonly by: PartitionBy;
  readonly partitions: readonly Partition[];
  /** Per actor ref: the index of the partition that runs it. */
  readonly partOf: readonly number[];
  /**
   * lookahead[p][q]: the least delay of any message an actor of partition p may send to one of partition q
   * (Infinity when none may): what p's promises to q add to its time.
   */
  readonly lookahead: readonly (readonly Nanos[])[];
  /**
   * channel[p][q]: the link [from ref, to ref] whose data subject carries p's promises to q (the first link
   * between them: the bus's permissions already let p's process publish there and q's read it).
   */
  readonly channel: readonly (readonly (readonly [number, number] | undefined)[])[];
  /** Per partition: the partitions it sends to, and those it hears from (ascending). */
  readonly sendsTo: readonly (readonly number[])[];
  readonly hearsFrom: readonly (readonly number[])[];
}

/**
 * The actor ids of each partition, by `by`. Per host, the switch runs with host 0: it talks only to the hosts' NICs,
 * over links with the ports' delays either way, so in a partition of its own it would add a process and a hop of
 * promises to every frame between hosts without adding lookahead; with host 0 the partitions form a star around it.
 */
function groupsOf(g: RunGraph, by: PartitionBy): string[][] {
  if (isCluster(g)) {
    if (by !== 'host') throw new SplitnetError('E_USAGE', 'lockstep: a multi-host scenario is partitioned per host');
    return g.hosts.map((h, i) => [...h.all.map((a) => a.id), ...(i === 0 ? [g.switch.id] : [])]);
  }
  if (by !== 'domain') throw new SplitnetError('E_USAGE', 'lockstep: a one-host scenario is partitioned per Xen domain');
  return [[g.nic.id, g.backend.id, ...g.workers.map((w) => w.id)], ...g.frontends.map((f) => [f.id])];
}

/** The host prefix of an actor id (`h1.` of `h1.vm.3`; '' for a one-host id or the switch). */
function hostPrefix(id: string): string {
  return /^h[0-9]+\./.exec(id)?.[0] ?? '';
}

/**
 * Whether actor `a` may send to actor `b` at all: over the routes of the datapath (MESSAGE_ROUTES), or in memory
 * between the NIC and its driver. A superset of what a run sends (a worker may not serve a guest): a promise on a
 * channel nothing uses costs one small message per window.
 */
function maySend(a: string, b: string): boolean {
  const ra = roleOf(a);
  const rb = roleOf(b);
  if (ra === undefined || rb === undefined) return false;
  // The fabric: a host's NIC and the switch, either way (off the bus in live, so not in busPeersOf).
  if ((ra === 'nic' && rb === 'switch') || (ra === 'switch' && rb === 'nic')) return true;
  // Within a host only (a host's actors never talk to another host's but through the switch).
  if (hostPrefix(a) !== hostPrefix(b)) return false;
  if ((ra === 'nic' && rb === 'backend') || (ra === 'backend' && rb === 'nic')) return true;
  return busPeersOf(ra).includes(rb);
}

/**
 * The partitions of a run and the channels between them. A channel whose lookahead is 0 (a link without delay
 * between two partitions) is refused: a partition could then never run ahead of its neighbour by any time, and
 * exact ordering of one instant across partitions would need a round per event (docs/lockstep.md#lookahead).
 */
export function planPartitions(g: RunGraph, linkDelay: (a: number, b: number) => Nanos, by: PartitionBy = isCluster(g) ? 'host' : 'domain'): PartitionPlan {
  const ids = g.all.map((a) => a.id);
  const refOf = new Map(ids.map((id, ref) => [id, ref]));
  const partitions: Partition[] = groupsOf(g, by).map((list) => {
    const refs = list.map((id) => refOf.get(id) as number).sort((x, y) => x - y);
    return { name: list.join('+'), ids: list, refs };
  });
  const partOf: number[] = new Array<number>(ids.length).fill(-1);
  partitions.forEach((p, i) => p.refs.forEach((r) => (partOf[r] = i)));
  const n = partitions.length;
  const lookahead = Array.from({ length: n }, () => new Array<Nanos>(n).fill(Infinity));
  const channel = Array.from({ length: n }, () => new Array<readonly [number, number] | undefined>(n).fill(undefined));
  for (let a = 0; a < ids.length; a++) {
    for (let b = 0; b < ids.length; b++) {
      const pa = partOf[a] as number;
      const pb = partOf[b] as number;
      if (pa === pb || !maySend(ids[a] as string, ids[b] as string)) continue;
      const d = linkDelay(a, b);
      if (!(d > 0)) {
        throw new SplitnetError(
          'E_SCENARIO',
          `lockstep: the link ${ids[a]} → ${ids[b]} crosses partitions (${partitions[pa]?.name} → ${partitions[pb]?.name}) with no delay (costs.link = ${d} ns); lockstep needs a delay > 0 on every link between partitions (its lookahead: docs/lockstep.md#lookahead)`,
        );
      }
      const row = lookahead[pa] as Nanos[];
      row[pb] = Math.min(row[pb] as Nanos, d);
      (channel[pa] as (readonly [number, number] | undefined)[])[pb] ??= [a, b];
    }
  }
  const sendsTo = lookahead.map((row) => row.flatMap((d, q) => (d < Infinity ? [q] : [])));
  const hearsFrom = partitions.map((_, q) => lookahead.flatMap((row, p) => ((row[q] as Nanos) < Infinity ? [p] : [])));
  return { by, partitions, partOf, lookahead, channel, sendsTo, hearsFrom };
}
