// Lockstep partitions started elsewhere (compose's `partition` service) join the run: each joiner gets the next partition of the plan, the run's scenario and what the controller issues it, sealed to its key; one too many, and live actors, are refused.
import type { Logger } from '@splitnet/model';
import { isBoxKey, sealTo } from '@splitnet/live';
import type { JoinReply, JoinRequest, ProcessAccess } from '@splitnet/live';
import { Subjects } from '@splitnet/transport';
import type { Subscription, Transport } from '@splitnet/transport';
import type { Partition, PartitionPlan } from './partition-plan.js';

export interface PartitionRegistryOptions {
  readonly runId: string;
  readonly transport: Transport;
  readonly logger: Logger;
  readonly plan: PartitionPlan;
  /** The run's resolved scenario, which every joiner gets (it has no file of its own). */
  readonly scenarioYaml: string;
  /** What the controller issues the process of partition `p`: its control secret and, where the server has one per process, its NATS login. */
  readonly accessFor: (p: Partition) => ProcessAccess;
  /** A partition was assigned (for the person watching: compose's log). */
  readonly onJoin?: (p: Partition, container: string | undefined, joined: number) => void;
  /** A join was refused (why, as the joiner is told). */
  readonly onRefused?: (why: string) => void;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Answers joins on the run's join subject while the controller's connection is open: partitions in the order
 * the joins arrived (a joiner has no say in which it gets: any container may run any partition, whatever
 * compose named it), then refusals. A joined partition's later probe (awaitControllerGone) is answered too, so it
 * outlives the controller until the controller has stopped answering.
 */
export class PartitionRegistry {
  /** Per partition of the plan (in its order): the container its joiner said it runs in, once it joined. */
  readonly containers: (string | undefined)[];
  private assigned = 0;
  private readonly sub: Subscription;

  constructor(private readonly o: PartitionRegistryOptions) {
    this.containers = o.plan.partitions.map(() => undefined);
    this.sub = o.transport.respond(new Subjects(o.runId).join(), (data) => enc.encode(JSON.stringify(this.answer(data))));
  }

  /** How many partitions have been assigned. */
  get joined(): number {
    return this.assigned;
  }

  /** Whether every partition of the plan has a process. */
  get complete(): boolean {
    return this.assigned === this.o.plan.partitions.length;
  }

  /** The partitions still without a process (names). */
  missing(): string[] {
    return this.o.plan.partitions.slice(this.assigned).map((p) => p.name);
  }

  close(): void {
    this.sub.unsubscribe();
  }

  private refuse(reason: string): JoinReply {
    this.o.onRefused?.(reason);
    // In the log file; the person watching is told by onRefused (a warning would say it twice on the console).
    this.o.logger.info('join refused', { reason });
    return { kind: 'refuse', reason };
  }

  private answer(data: Uint8Array): JoinReply {
    let x: Partial<JoinRequest> | { kind?: unknown } | null;
    try {
      x = JSON.parse(dec.decode(data)) as Partial<JoinRequest>;
    } catch {
      x = null;
    }
    // A joined partition after its run asks whether the controller is still there: no join.
    if (x?.kind === 'probe') return { kind: 'refuse', reason: 'probe' };
    if (x === null || x.kind !== 'join') return this.refuse('not a join request');
    const req = x as Partial<JoinRequest>;
    const n = this.o.plan.partitions.length;
    if (req.role !== 'partition')
      return this.refuse(
        `run ${this.o.runId} is a lockstep run: its partitions join it (splitnet partition --join), not a live run's ${String(req.role)}; start this actor against a run with --runtime live`,
      );
    if (!isBoxKey(req.pub)) return this.refuse("a join request without the joiner's public key (pub): is the joining splitnet as recent as the controller?");
    if (req.container !== undefined && (typeof req.container !== 'string' || req.container.length === 0 || req.container.length > 256))
      return this.refuse(`bad join request: container: expected a container name, found ${JSON.stringify(req.container)}`);
    const p = this.o.plan.partitions[this.assigned];
    if (p === undefined)
      return this.refuse(
        `run ${this.o.runId} has its ${n} partitions already (${this.o.plan.partitions.map((q) => q.name).join(', ')}): this one is one too many; scale the partition service to the controller's --expect partition=<n> (compose: SPLITNET_PARTITIONS)`,
      );
    this.containers[this.assigned] = req.container;
    this.assigned++;
    this.o.logger.info('partition joined', { partition: p.name, ...(req.container !== undefined ? { container: req.container } : {}) });
    this.o.onJoin?.(p, req.container, this.assigned);
    return {
      kind: 'assign',
      ids: [...p.ids],
      scenarioYaml: this.o.scenarioYaml,
      box: sealTo(req.pub, enc.encode(JSON.stringify(this.o.accessFor(p)))),
    };
  }
}
