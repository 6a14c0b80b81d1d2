// Builds the actor graph (NIC, back-end, workers, front-ends) and its steering tables from a compiled scenario.
import { BatchPool, CpuAccount, deriveSeed, IndirectionTable, reciprocalScale, rssInput, softwareFlowHash, toeplitzHash, Vcpu } from '@splitnet/model';
import type { Actor, ActorRef, ClosedLoopFlow, CostProfile, Nanos, PacketTap, TxOrigin, VcpuParams } from '@splitnet/model';
import type { CompiledScenario, FlowSpec, VrssMode } from '@splitnet/scenario';
import { BackendActor } from '@splitnet/backend';
import type { BackendSched } from '@splitnet/backend';
import { FrontendActor } from '@splitnet/frontend';
import { NicActor } from '@splitnet/nic';
import { WorkerActor } from '@splitnet/worker';
import type { PassRule, ServedQueue, WorkerSched } from '@splitnet/worker';

/** Packets a per-queue netback pass takes at most (RX_BATCH_SIZE, rx.c xenvif_rx_action). */
export const WORKER_BATCH = 64;
/** Grant-copy ops per flush in per-queue netback (COPY_BATCH_SIZE, common.h; xenvif_rx_copy_add flushes when full). */
export const COPY_BATCH_SIZE = 64;
/** MAX_SKB_FRAGS of the kernels legacy netback ran in (65536 / PAGE_SIZE + 1): its pass stopped this short of a ring. */
export const LEGACY_MAX_SKB_FRAGS = 17;

/**
 * How much a netback pass takes, by the netback generation each vRSS mode stands for. per-flow: the
 * per-queue kthread netback (Linux ≥ 3.16; rx.c since 4.10), 64 packets per pass, a flush every 64 copy
 * ops. single and per-vif: the netback of one thread (classic) and of per-VIF thread groups (the 2010
 * multi-threaded netback; xen_netbk_rx_action in Linux 3.0–3.11): packets until the slots taken plus
 * MAX_SKB_FRAGS reach the ring size, i.e. a ring's worth, with one grant-copy hypercall for the pass.
 */
export function passRuleFor(vrss: VrssMode): PassRule {
  return vrss === 'per-flow'
    ? { maxPackets: WORKER_BATCH, ringSlack: 0, copyBatch: COPY_BATCH_SIZE }
    : { maxPackets: Infinity, ringSlack: LEGACY_MAX_SKB_FRAGS, copyBatch: Infinity };
}

/** IP protocol numbers, for the flow hash's input. */
const IPPROTO = { tcp: 6, udp: 17 } as const;
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
  /** The driver domain's scheduled vCPUs, which the back end and the workers share (empty with dedicated cores). */
  readonly vcpus: readonly Vcpu[];
  /** Where frames a guest sent come from, for the zero-copy callback of a batch a fault drops (absent: no guest sends). */
  readonly txOrigin?: TxOrigin;
  /**
   * Where every frame a guest sent comes from, to the wire too (txOrigin has only those to other guests: a link fault
   * loses no frame to the wire after the bridge): for the zero-copy callbacks of what a dead process held.
   */
  readonly txCrashOrigin?: TxOrigin;
  /** A fresh actor for `ref`, built as the graph built it (a restarted process's new incarnation). */
  readonly respawn: (ref: ActorRef) => Actor;
  /** Per flow: guest queue index (gq) and the gq → (vm, queue, worker) tables. */
  readonly steering: {
    readonly flowNicQueue: Uint16Array;
    readonly flowGq: Uint32Array;
    readonly gqVm: readonly number[];
    readonly gqQueue: readonly number[];
    readonly gqWorker: readonly number[];
    /** The transmit path's (null: no guest sends): per flow, the guest that sends on it (-1: none) and its TX queue there. */
    readonly tx: { readonly flowVm: Int32Array; readonly flowGuestQueue: Uint16Array } | null;
  };
}

/** The NIC's Toeplitz hash of each flow over its 4-tuple (hardware RSS; the driver also hands it up as the skb's hash). */
function flowHashes(s: CompiledScenario): Uint32Array {
  const key = s.topology.rssKey;
  const out = new Uint32Array(s.traffic.flows.length);
  for (const f of s.traffic.flows) {
    out[f.id] = toeplitzHash(key, rssInput(f.src, f.dst, f.srcPort, f.dstPort));
  }
  return out;
}

/**
 * netback's own Toeplitz hash (xenvif_set_skb_hash, hash.c) under the front end's key: TCP over the
 * 4-tuple (IPv4+TCP / IPv6+TCP), anything else over the two addresses only (IPv4 / IPv6), the hash types
 * netback offers.
 */
function guestToeplitz(key: readonly number[], f: FlowSpec): number {
  return toeplitzHash(key, f.protocol === 'tcp' ? rssInput(f.src, f.dst, f.srcPort, f.dstPort) : rssInput(f.src, f.dst));
}

/**
 * The steering netback applies: `topology.steering` in per-flow mode (the multi-queue netback that
 * xenvif_select_queue belongs to). The single and per-VIF netbacks serve one queue per VIF and hash
 * nothing, whatever the setting: for them, as for rx-queue, the skb keeps the NIC's hash.
 */
function effectiveSteering(s: CompiledScenario): CompiledScenario['topology']['steering'] {
  return s.topology.vrss === 'per-flow' ? s.topology.steering : 'rx-queue';
}

/**
 * Per flow: the VIF queue netback picks (xenvif_select_queue) and the skb hash the vif's qdisc sees.
 * - rx-queue: netdev_pick_tx → skb_tx_hash returns the recorded RX queue (ixgbe records it,
 *   skb_record_rx_queue), reduced below the queue count by subtraction, i.e. modulo; the skb hash is the
 *   NIC's RSS hash (ixgbe_rx_hash).
 * - flow-hash: no RX queue recorded, so reciprocal_scale(skb_get_hash, queues): the software flow hash's
 *   high bits, while the NIC's table used its hash's low bits.
 * - toeplitz: mapping[hash % mappingSize] under the front end's key, the mapping filled round-robin over
 *   the queues [assumption: what netfront drivers write by default]; the skb hash is that Toeplitz hash.
 */
function steer(s: CompiledScenario, nicHash: Uint32Array, nicQueue: Uint16Array): { queue: Uint16Array; skbHash: Uint32Array } {
  const topo = s.topology;
  const flows = s.traffic.flows;
  const queue = new Uint16Array(flows.length);
  const skbHash = new Uint32Array(flows.length);
  const seed = deriveSeed(s.seed, 'steering:flowHash');
  const steering = effectiveSteering(s);
  for (const f of flows) {
    const queues = (topo.vms[f.vm] as { queues: number }).queues;
    if (steering === 'toeplitz' && topo.toeplitz !== null) {
      const h = guestToeplitz(topo.toeplitz.key, f);
      skbHash[f.id] = h;
      queue[f.id] = (h % topo.toeplitz.mappingSize) % queues;
    } else if (steering === 'flow-hash') {
      const h = softwareFlowHash(seed, rssInput(f.src, f.dst, f.srcPort, f.dstPort), IPPROTO[f.protocol]);
      skbHash[f.id] = h;
      queue[f.id] = reciprocalScale(h, queues);
    } else {
      skbHash[f.id] = nicHash[f.id] as number;
      queue[f.id] = (nicQueue[f.id] as number) % queues;
    }
  }
  return { queue, skbHash };
}

/**
 * The back end's costs as its core pays them: with Toeplitz steering, netback hashes every packet in
 * xenvif_select_queue, on the core that transmits it onto the VIF (the NIC's), so `backend.toeplitz` is
 * added to the per-packet cost there.
 */
function backendCosts(s: CompiledScenario): CostProfile {
  if (effectiveSteering(s) !== 'toeplitz') return s.costs;
  const b = s.costs.backend;
  return { ...s.costs, backend: { ...b, perPacket: b.perPacket + b.toeplitz } };
}

/** Where the driver domain's work runs on scheduled vCPUs: each NIC queue's NAPI, each worker's thread or tasklet. */
interface Dom0Placement {
  readonly vcpus: readonly Vcpu[];
  readonly backend: BackendSched;
  readonly workers: readonly WorkerSched[];
}

/**
 * The scheduled dom0 vCPUs of `topology.dom0` (null: dedicated cores), created once per actor graph like the batch
 * pool: the back end and the workers placed on a vCPU share it, so they must run in one process.
 */
function dom0Placement(s: CompiledScenario): Dom0Placement | null {
  const d = s.topology.dom0;
  if (d.vcpus === null || d.softirq === null) return null;
  const params: VcpuParams = {
    contextSwitch: s.costs.dom0.contextSwitch,
    wakeup: s.costs.dom0.wakeup,
    timeslice: d.timeslice,
    netdevBudget: d.softirq.netdevBudget,
    netdevBudgetTime: d.softirq.netdevBudgetTime,
    maxSoftirqTime: d.softirq.maxTime,
    maxSoftirqRestart: d.softirq.maxRestart,
    ksoftirqd: d.softirq.ksoftirqd,
  };
  const vcpus = Array.from({ length: d.vcpus }, (_, i) => new Vcpu(`dom0.vcpu${i}`, params, (v) => new CpuAccount(`dom0.ksoftirqd${i}`, v)));
  const on = (i: number) => vcpus[i] as Vcpu;
  const queues = d.nicVcpu.map((i, q) => {
    const vcpu = on(i);
    const account = new CpuAccount(`dom0.nic${q}`, vcpu);
    return { vcpu, napi: vcpu.napi(`nic${q}`, account), account };
  });
  const threading = s.netback.threading;
  const workers = d.workerVcpu.map((i, k): WorkerSched => {
    const vcpu = on(i);
    const account = new CpuAccount(`dom0.worker${k}`, vcpu);
    const src = threading === 'tasklet' ? vcpu.tasklet(`netback${k}`, account) : vcpu.thread(`netback${k}`, account, threading === 'kthread-rt');
    return { vcpu, src, account };
  });
  return { vcpus, backend: { queues, vcpus }, workers };
}

/** NAPI weight of a vif queue's TX poll (XENVIF_NAPI_WEIGHT, common.h). */
export const XENVIF_NAPI_WEIGHT = 64;

function isClosedLoop(s: CompiledScenario, generator: number): boolean {
  return s.traffic.generators[generator]?.closedLoop !== undefined;
}

/**
 * The closed-loop flows as the actors at their ends take them: the far ends (the NIC's: every flow between a guest and
 * the wire), or guest `vm`'s ends. Between two guests a connection is two flows, one per direction (`reverse`); each
 * guest's end is listed under the connection's flow, sends on its own direction's flow and receives on the other's.
 */
function closedLoopFlows(s: CompiledScenario, vm: number | 'far'): ClosedLoopFlow[] {
  const out: ClosedLoopFlow[] = [];
  for (const f of s.traffic.flows) {
    const g = s.traffic.generators[f.generator];
    if (g?.closedLoop === undefined || f.reverseOf !== undefined) continue;
    const end = { flow: f.id, spec: g.closedLoop, start: g.start, stop: g.stop };
    if (f.reverse === undefined) {
      if (vm === 'far' || f.vm === vm) out.push(end);
    } else if (f.sender === vm) out.push({ ...end, guestToGuest: { active: true, out: f.id, in: f.reverse } });
    else if (f.vm === vm) out.push({ ...end, guestToGuest: { active: false, out: f.reverse, in: f.id } });
  }
  return out;
}

/** The transmit path's wiring (null: no guest sends): what each role's transmit side is configured with. */
function transmitPath(s: CompiledScenario, flowNicQueue: Uint16Array) {
  const t = s.tx;
  const costs = s.costs.tx;
  if (t === null || costs === undefined) return null;
  const flows = s.traffic.flows;
  const flowVm = new Int32Array(flows.length).fill(-1);
  const flowReceiver = new Int32Array(flows.length).fill(-1);
  const flowGuestQueue = new Uint16Array(flows.length);
  const hashSeed = deriveSeed(s.seed, 'steering:flowHash');
  for (const f of flows) {
    // A closed-loop flow's guest end sends its ACKs out to the wire on the same flow (the connection's other direction).
    const sender = f.sender ?? (isClosedLoop(s, f.generator) ? f.vm : undefined);
    if (sender === undefined) continue;
    flowVm[f.id] = sender;
    // Guest to guest: the flow's `vm` is the receiving guest (its RX steering is the flow's like any other).
    if (f.sender !== undefined && f.vm !== f.sender) flowReceiver[f.id] = f.vm;
    // xennet_select_queue: the skb's (software) flow hash modulo the queues.
    const queues = (s.topology.vms[sender] as { queues: number }).queues;
    flowGuestQueue[f.id] = softwareFlowHash(hashSeed, rssInput(f.src, f.dst, f.srcPort, f.dstPort), IPPROTO[f.protocol]) % queues;
  }
  // Frames arriving at a vif came from a guest's grants only when that guest sent them across the bridge.
  const originVm = flowVm.map((vm, f) => ((flowReceiver[f] as number) >= 0 ? vm : -1));
  return {
    split: t.splitEventChannels,
    credit: t.creditBytes === null ? null : { bytes: t.creditBytes, interval: t.creditInterval },
    nic: { queues: s.topology.nicQueues, ringSize: s.topology.nicRingSize, queueLen: t.nicQdiscLen, dma: costs.nicDma },
    // The physical NIC's TX queue: the flow hash's (skb_tx_hash), which is the queue RSS gives the flow.
    backend: { flowNicQueue, flowGuestQueue, flowVm, flowReceiver },
    originVm,
    /** A guest's transmit side, given the workers serving its queues. */
    frontend: (vm: number, workers: readonly ActorRef[]) => ({
      generators: s.traffic.generators.filter((g) => g.sender === vm),
      flowCount: flows.length,
      linkGbps: s.topology.linkGbps,
      seed: deriveSeed(s.seed, `guest-tx:${vm}`),
      flowQueue: flowGuestQueue,
      workers,
      qdiscLen: t.guestQdiscLen,
      split: t.splitEventChannels,
    }),
  };
}

export interface BuildOptions {
  /** A packet capture the NIC and the front ends (and their respawned incarnations) tell of the packets at their observation points. */
  readonly tap?: PacketTap;
  /** A host of a multi-host scenario: its actors' ids start with this (`h1.`), their refs at `refBase`, its NIC on the switch. */
  readonly host?: { readonly prefix: string; readonly refBase: number; readonly switch: ActorRef; readonly delay: Nanos };
}

// Long on purpose: the graph is wired in one place, every actor's configuration reading the steering tables
// built above it; `respawn` builds one actor again exactly as the graph did.
// eslint-disable-next-line max-lines-per-function -- the graph is wired in one place (see above)
export function buildActors(s: CompiledScenario, opts: BuildOptions = {}): ActorGraph {
  const topo = s.topology;
  const W = topo.workers;
  const vms = topo.vms;
  const at = opts.host?.refBase ?? 0;
  const prefix = opts.host?.prefix ?? '';
  const refs = {
    nic: at,
    backend: at + 1,
    worker: (k: number) => at + 2 + k,
    frontend: (v: number) => at + 2 + W + v,
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
  // Queue selection in netback (xenvif_select_queue), by topology.steering.
  const steered = steer(s, hashes, flowNicQueue);
  const flowGq = new Uint32Array(hashes.length);
  for (const f of s.traffic.flows) flowGq[f.id] = (base[f.vm] as number) + (steered.queue[f.id] as number);
  const extraSlots = effectiveSteering(s) === 'toeplitz' && topo.toeplitz?.hashSlot === true ? 1 : 0;

  /** The workers serving VM v's queues, in queue order. */
  const workersOf = (v: number, queues: number): ActorRef[] =>
    Array.from({ length: queues }, (_, q) => refs.worker(gqWorker[(base[v] as number) + q] as number));
  const budget = s.napi.budget;
  const pool = new BatchPool();
  const tx = transmitPath(s, flowNicQueue);
  const txOrigin =
    tx === null ? undefined : { flowVm: tx.originVm, flowGuestQueue: tx.backend.flowGuestQueue, vifWorker: vms.map((vm) => workersOf(vm.id, vm.queues)) };
  const tap = opts.tap !== undefined ? { tap: opts.tap } : {};
  const dom0 = dom0Placement(s);
  // In a cluster, a crossing flow's far end is a guest on another host: neither its frames nor its far end are this NIC's.
  const place = s.host;
  const fabricFlow = (f: number): boolean => place?.fabricFlows[f] === 1;
  const farFlows = closedLoopFlows(s, 'far').filter((e) => !fabricFlow(e.flow));
  const remote = new Set(place?.remoteGenerators ?? []);
  const wireGenerators = s.traffic.generators.filter((g, i) => !remote.has(i) && (tx === null || g.sender === undefined));
  const fabric =
    opts.host === undefined || place === undefined
      ? {}
      : { fabric: { switch: opts.host.switch, port: place.index, flows: place.fabricFlows, delay: opts.host.delay } };
  const guestFlows = vms.map((vm) => closedLoopFlows(s, vm.id));
  const makeNic = () =>
    new NicActor({
      id: `${prefix}nic`,
      backend: refs.backend,
      queues: topo.nicQueues,
      ringSize: topo.nicRingSize,
      budget,
      linkGbps: topo.linkGbps,
      generators: wireGenerators,
      flowCount: s.traffic.flows.length,
      flowQueue: flowNicQueue,
      policy: s.coalescing.nic,
      seed: s.seed,
      lookahead: NIC_LOOKAHEAD,
      pool,
      ...tap,
      ...(tx === null ? {} : { tx: tx.nic }),
      ...(farFlows.length === 0 ? {} : { closedLoop: farFlows }),
      ...fabric,
    });
  const makeBackend = () =>
    new BackendActor({
      id: `${prefix}backend`,
      nic: refs.nic,
      nicQueues: topo.nicQueues,
      budget,
      costs: backendCosts(s),
      flowGq,
      gqWorker: gqWorker.map((k) => refs.worker(k)),
      gqVm,
      gqQueue,
      pool,
      ...(dom0 === null ? {} : { sched: dom0.backend }),
      ...(tx === null
        ? {}
        : {
            tx: {
              ...tx.backend,
              vifWorker: vms.map((vm) => workersOf(vm.id, vm.queues)),
            },
          }),
    });
  const makeWorker = (k: number) => {
    const served: ServedQueue[] = [];
    for (let g = 0; g < gqVm.length; g++) {
      if (gqWorker[g] !== k) continue;
      const v = gqVm[g] as number;
      served.push({ vm: v, queue: gqQueue[g] as number, frontend: refs.frontend(v), ringSize: (vms[v] as { ringSize: number }).ringSize });
    }
    return new WorkerActor({
      id: `${prefix}worker.${k}`,
      index: k,
      costs: s.costs,
      pass: passRuleFor(topo.vrss),
      rxQueueBytes: s.netback.rxQueueBytes,
      qdisc: s.netback.qdisc,
      extraSlots,
      skbHash: steered.skbHash,
      served,
      policy: s.coalescing.backend,
      rxStallTimeout: s.netback.rxStallTimeout,
      stallKick: s.netback.stallKick,
      pool,
      ...(dom0 === null ? {} : { sched: dom0.workers[k] as WorkerSched }),
      ...(tx === null
        ? {}
        : {
            tx: {
              queues: served.map((q) => ({ ...q, port: tx.split ? (vms[q.vm] as { queues: number }).queues + q.queue : q.queue })),
              backend: refs.backend,
              budget: XENVIF_NAPI_WEIGHT,
              credit: tx.credit,
            },
            txOrigin: txOrigin as TxOrigin,
          }),
    });
  };
  const makeFrontend = (v: number) => {
    const vm = vms[v] as (typeof vms)[number];
    return new FrontendActor({
      id: `${prefix}vm.${vm.id}`,
      vm: vm.id,
      queues: vm.queues,
      ringSize: vm.ringSize,
      budget,
      costs: s.costs,
      workers: workersOf(vm.id, vm.queues),
      policy: s.coalescing.frontend,
      measureFrom: s.warmup,
      flowCount: s.traffic.flows.length,
      extraSlots,
      pool,
      ...tap,
      blockAfter: vm.blockAfter,
      ...(tx === null ? {} : { tx: tx.frontend(vm.id, workersOf(vm.id, vm.queues)) }),
      ...((guestFlows[v] as ClosedLoopFlow[]).length === 0 ? {} : { closedLoop: guestFlows[v] as ClosedLoopFlow[] }),
    });
  };
  const nic = makeNic();
  const backend = makeBackend();
  const workers = Array.from({ length: W }, (_, k) => makeWorker(k));
  const frontends = vms.map((vm) => makeFrontend(vm.id));
  const respawn = (ref: ActorRef): Actor =>
    ref === refs.nic
      ? makeNic()
      : ref === refs.backend
        ? makeBackend()
        : ref < refs.frontend(0)
          ? makeWorker(ref - refs.worker(0))
          : makeFrontend(ref - refs.frontend(0));
  return {
    nic,
    backend,
    workers,
    frontends,
    all: [nic, backend, ...workers, ...frontends],
    refs,
    pool,
    vcpus: dom0?.vcpus ?? [],
    respawn,
    steering: {
      flowNicQueue,
      flowGq,
      gqVm,
      gqQueue,
      gqWorker,
      tx: tx === null ? null : { flowVm: tx.backend.flowVm, flowGuestQueue: tx.backend.flowGuestQueue },
    },
    ...(txOrigin === undefined ? {} : { txOrigin }),
    ...(tx === null ? {} : { txCrashOrigin: { ...(txOrigin as TxOrigin), flowVm: tx.backend.flowVm } }),
  };
}
