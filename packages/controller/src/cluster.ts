// Builds a multi-host scenario's actor graph: every host's graph (ids h<i>.…, refs one after another) and the switch joining their NICs.
import { BatchPool } from '@splitnet/model';
import type { Actor, ActorRef, Nanos, PacketTap, TxOrigin } from '@splitnet/model';
import { SwitchActor } from '@splitnet/nic';
import type { ClusterSpec, CompiledScenario } from '@splitnet/scenario';
import { buildActors } from './build.js';
import type { ActorGraph } from './build.js';
import { linkDelayFor } from './links.js';

/** The switch's actor id. */
export const SWITCH_ID = 'switch';

export interface ClusterGraph {
  /** Host i's graph (its refs are global: they start at its first actor's place in `all`). */
  readonly hosts: readonly ActorGraph[];
  readonly switch: SwitchActor;
  readonly switchRef: ActorRef;
  /** In registration order: host 0's actors, host 1's, …, then the switch. */
  readonly all: readonly Actor[];
  /** Which host each ref belongs to (−1: the switch). */
  readonly hostOf: (ref: ActorRef) => number;
  readonly pool: BatchPool;
  /**
   * Where the frames guests sent come from, as the host of `ref` numbers its flows (its graph's txCrashOrigin;
   * undefined: the switch, or a host none of whose guests sends): the runtime's zero-copy release in a crash.
   */
  readonly txOriginOf: (ref: ActorRef) => TxOrigin | undefined;
}

/** The cluster of a multi-host scenario (its `cluster` section). */
export function clusterOf(s: CompiledScenario): ClusterSpec {
  if (s.cluster === undefined) throw new Error('not a multi-host scenario');
  return s.cluster;
}

/** The cluster's graph; `taps[i]`, when given, is told of host i's packets at its capture points (its NIC and front ends). */
export function buildCluster(s: CompiledScenario, taps: readonly PacketTap[] = []): ClusterGraph {
  const c = clusterOf(s);
  const hosts: ActorGraph[] = [];
  const bases: number[] = [];
  // Every host's actors come first, so the switch's ref is their count.
  const switchRef = c.hosts.reduce((n, h) => n + 2 + h.topology.workers + h.topology.vms.length, 0);
  let base = 0;
  c.hosts.forEach((h, i) => {
    bases.push(base);
    const delay = (c.fabric.ports[i] as { delay: Nanos }).delay;
    const tap = taps[i];
    const g = buildActors(h, { host: { prefix: `h${i}.`, refBase: base, switch: switchRef, delay }, ...(tap !== undefined ? { tap } : {}) });
    hosts.push(g);
    base += g.all.length;
  });
  const pool = new BatchPool();
  const sw = new SwitchActor({
    id: SWITCH_ID,
    ports: c.fabric.ports.map((p, i) => ({ nic: (hosts[i] as ActorGraph).refs.nic, gbps: p.linkGbps, queueBytes: p.queueBytes, delay: p.delay })),
    routes: c.fabric.routes,
    ...(c.fabric.sources === undefined
      ? {}
      : {
          sources: c.fabric.sources.map((src) => ({
            name: src.name,
            port: src.port,
            egress: src.host,
            generator: src.generator,
            flowCount: src.flowCount,
            gbps: src.linkGbps,
            delay: src.delay,
            seed: src.seed,
          })),
        }),
    seed: s.seed,
    pool,
  });
  const hostOf = (ref: ActorRef): number => {
    if (ref >= switchRef) return -1;
    let i = bases.length - 1;
    while (i > 0 && (bases[i] as number) > ref) i--;
    return i;
  };
  const txOriginOf = (ref: ActorRef): TxOrigin | undefined => hosts[hostOf(ref)]?.txCrashOrigin;
  return { hosts, switch: sw, switchRef, all: [...hosts.flatMap((g) => g.all), sw], hostOf, pool, txOriginOf };
}

/** Link delays in a cluster: a host's own links as in one host; a NIC's cable to its switch port, both ways, the port's delay. */
export function clusterLinkDelay(cg: ClusterGraph, s: CompiledScenario): (a: ActorRef, b: ActorRef) => Nanos {
  const c = clusterOf(s);
  const within = cg.hosts.map((g, i) => linkDelayFor(g, c.hosts[i] as CompiledScenario));
  return (a, b) => {
    const ha = cg.hostOf(a);
    const hb = cg.hostOf(b);
    if (ha >= 0 && ha === hb) return (within[ha] as (a: ActorRef, b: ActorRef) => Nanos)(a, b);
    // Only a NIC and the switch talk across hosts (the switch's timers are its own link: no delay).
    const host = ha >= 0 ? ha : hb;
    return host < 0 ? 0 : (c.fabric.ports[host] as { delay: Nanos }).delay;
  };
}
