// Builds the actor graph (NIC, back-end, workers, front-ends) and its steering tables from a compiled scenario.
import { BatchPool, IndirectionTable, rssInput, toeplitzHash } from '@splitnet/model';
import type { Actor, ActorRef, Nanos } from '@splitnet/model';
import type { CompiledScenario } from '@splitnet/scenario';
import { BackendActor } from '@splitnet/backend';
import { FrontendActor } from '@splitnet/frontend';
import { NicActor } from '@splitnet/nic';
import { WorkerActor } from '@splitnet/worker';
import type { ServedQueue } from '@splitnet/worker';

/** NAPI-related batch size of a netback RX pass (xenvif_rx_action handles up to 64 packets). */
export const WORKER_BATCH = 64;
/** NIC generation lookahead [assumption, affects speed only, not results]. */
export const NIC_LOOKAHEAD: Nanos = 50_000;

export interface ActorGraph {
  readonly nic: NicActor;
  readonly backend: BackendActor;
  readonly workers: readonly WorkerActor[];
  readonly frontends: readonly FrontendActor[];
  /** In registration order (refs are indices into this list). */
  readonly all: readonly (NicActor | BackendActor | WorkerActor | FrontendActor)[];
  readonly refs: { readonly nic: ActorRef; readonly backend: ActorRef; readonly worker: (k: number) => ActorRef; readonly frontend: (v: number) => ActorRef };
  /** The packet batches every actor of the graph takes from and gives back to (a runtime running them shares it). */
  readonly pool: BatchPool;
  /** A fresh actor for `ref`, built as the graph built it (a restarted process's new incarnation). */
  readonly respawn: (ref: ActorRef) => Actor;
  /** Per flow: guest queue index (gq) and the gq → (vm, queue, worker) tables. */
  readonly steering: { readonly flowNicQueue: Uint16Array; readonly flowGq: Uint32Array; readonly gqVm: readonly number[]; readonly gqQueue: readonly number[]; readonly gqWorker: readonly number[] };
}

/** The flow's Toeplitz hash over its 4-tuple (the NIC and netback both hash the same input with the same key). */
function flowHashes(s: CompiledScenario): Uint32Array {
  const key = s.topology.rssKey;
  const out = new Uint32Array(s.traffic.flows.length);
  for (const f of s.traffic.flows) {
    out[f.id] = toeplitzHash(key, rssInput(f.src, f.dst, f.srcPort, f.dstPort));
  }
  return out;
}

// Long on purpose: the graph is wired in one place, every actor's configuration reading the steering tables
// built above it; `respawn` builds one actor again exactly as the graph did.
export function buildActors(s: CompiledScenario): ActorGraph {
  const topo = s.topology;
  const W = topo.workers;
  const vms = topo.vms;
  const refs = {
    nic: 0,
    backend: 1,
    worker: (k: number) => 2 + k,
    frontend: (v: number) => 2 + W + v,
  };
  const hashes = flowHashes(s);

  // Hardware RSS on the NIC: hash → indirection table over the NIC's RX queues.
  const nicReta = new IndirectionTable(topo.retaSize, topo.nicQueues);
  const flowNicQueue = new Uint16Array(hashes.length);
  for (let f = 0; f < hashes.length; f++) flowNicQueue[f] = nicReta.queueFor(hashes[f] as number);

  // Guest queues: VM v's queues are gq = base[v] … base[v] + queues − 1.
  const base: number[] = [];
  const gqVm: number[] = [];
  const gqQueue: number[] = [];
  const gqWorker: number[] = [];
  for (const vm of vms) {
    base.push(gqVm.length);
    for (let q = 0; q < vm.queues; q++) {
      const gq = gqVm.length;
      gqVm.push(vm.id);
      gqQueue.push(q);
      // single: one netback thread for everything; per-vif: whole VIFs round-robin over threads
      // (the 2010 multi-thread netback); per-flow: each guest queue's own thread, spread over workers.
      gqWorker.push(topo.vrss === 'single' ? 0 : topo.vrss === 'per-vif' ? vm.id % W : gq % W);
    }
  }
  // vRSS steering in netback: the VM's own indirection table over its queues (configured by netfront).
  const vmReta = vms.map((vm) => new IndirectionTable(topo.retaSize, vm.queues));
  const flowGq = new Uint32Array(hashes.length);
  for (const f of s.traffic.flows) {
    const q = topo.vrss === 'per-flow' ? (vmReta[f.vm] as IndirectionTable).queueFor(hashes[f.id] as number) : 0;
    flowGq[f.id] = (base[f.vm] as number) + q;
  }

  const budget = s.napi.budget;
  const pool = new BatchPool();
  const makeNic = () => new NicActor({
    id: 'nic',
    backend: refs.backend,
    queues: topo.nicQueues,
    ringSize: topo.nicRingSize,
    budget,
    linkGbps: topo.linkGbps,
    generators: s.traffic.generators,
    flowCount: s.traffic.flows.length,
    flowQueue: flowNicQueue,
    policy: s.coalescing.nic,
    seed: s.seed,
    lookahead: NIC_LOOKAHEAD,
    pool,
  });
  const makeBackend = () => new BackendActor({
    id: 'backend',
    nic: refs.nic,
    nicQueues: topo.nicQueues,
    budget,
    costs: s.costs,
    flowGq,
    gqWorker: gqWorker.map((k) => refs.worker(k)),
    gqVm,
    gqQueue,
    pool,
  });
  const makeWorker = (k: number) => {
    const served: ServedQueue[] = [];
    for (let g = 0; g < gqVm.length; g++) {
      if (gqWorker[g] !== k) continue;
      const v = gqVm[g] as number;
      served.push({ vm: v, queue: gqQueue[g] as number, frontend: refs.frontend(v), ringSize: (vms[v] as { ringSize: number }).ringSize });
    }
    return new WorkerActor({
        id: `worker.${k}`,
        index: k,
        costs: s.costs,
        batch: WORKER_BATCH,
        backlog: topo.backlogPackets,
        served,
        policy: s.coalescing.backend,
        rxStallTimeout: s.netback.rxStallTimeout,
        stallKick: s.netback.stallKick,
        pool,
      });
  };
  const makeFrontend = (v: number) => {
    const vm = vms[v] as (typeof vms)[number];
    return new FrontendActor({
        id: `vm.${vm.id}`,
        vm: vm.id,
        queues: vm.queues,
        ringSize: vm.ringSize,
        budget,
        costs: s.costs,
        workers: Array.from({ length: vm.queues }, (_, q) => refs.worker(gqWorker[(base[vm.id] as number) + q] as number)),
        policy: s.coalescing.frontend,
        measureFrom: s.warmup,
        flowCount: s.traffic.flows.length,
        pool,
      });
  };
  const nic = makeNic();
  const backend = makeBackend();
  const workers = Array.from({ length: W }, (_, k) => makeWorker(k));
  const frontends = vms.map((vm) => makeFrontend(vm.id));
  const respawn = (ref: ActorRef): Actor => (ref === refs.nic ? makeNic() : ref === refs.backend ? makeBackend() : ref < refs.frontend(0) ? makeWorker(ref - refs.worker(0)) : makeFrontend(ref - refs.frontend(0)));
  return {
    nic,
    backend,
    workers,
    frontends,
    all: [nic, backend, ...workers, ...frontends],
    refs,
    pool,
    respawn,
    steering: { flowNicQueue, flowGq, gqVm, gqQueue, gqWorker },
  };
}
