// The Placement port: where a live run's actor processes run and where its NATS is — one interface for inprocess, processes, external and docker.
import type { CompiledScenario, LivePlacement } from '@splitnet/scenario';
import type { ActorHandle } from './actor-handle.js';
import type { NodeFaultControl, NatsServerControl } from './fault-injector.js';
import type { JoinRole } from './join.js';
import type { ControlSecret } from './control-seal.js';
import type { NatsCredentials } from './nats-connect.js';

/** Where the controller reaches the run's NATS, and the login its servers want (none: the environment's credentials apply). */
export interface NatsAccess {
  readonly url: string;
  readonly login?: NatsCredentials;
  /**
   * The login of the process hosting `ids`, on servers the placement configured for the run (a user per
   * process, allowed only its own subjects); absent: the processes use the environment's credentials.
   */
  readonly processLogin?: (ids: readonly string[]) => NatsLogin;
}

/**
 * What one incarnation of an actor process is handed, out of band, when it is launched (environment) or
 * joins (the join reply): the secret of its control messages, and its own NATS login where the run has them
 * (a server splitnet configured: one user per process, allowed only that process's subjects).
 */
export interface ProcessAccess {
  readonly secret: ControlSecret;
  readonly login?: NatsLogin;
}

/** A NATS user of one process (or the controller) and the reply prefix its permissions allow. */
export interface NatsLogin {
  readonly user: string;
  readonly pass: string;
  /** Where its request replies arrive (`_INBOX.<user>`): no other user may read them. */
  readonly inboxPrefix: string;
}

/** The actors one OS process (or container) hosts, as the supervisor launches and restarts it. */
export interface ProcessGroup {
  /** The actor ids joined by '+' (`nic+backend`, `worker.1`). */
  readonly name: string;
  readonly ids: readonly string[];
  /** The container it said it runs in when it joined the run (docker); the first incarnation is that container. */
  readonly container?: string;
}

/**
 * How actor processes that start on their own (compose, other hosts, the docker placement's containers) come
 * to the run: they register with the controller, which sizes the scenario to them (join.ts).
 */
export interface RegistrationPolicy {
  /** Close as soon as one process per group of the scenario has joined (containers the placement started for exactly those). */
  readonly expectEveryProcess?: boolean;
  /** Otherwise wait for at least these many of a role before the quiet window counts (`--expect`). */
  readonly atLeast?: Partial<Record<JoinRole, number>>;
  /** Otherwise close once every role has joined and nobody new joined for this long (ms). */
  readonly windowMs: number;
  /** Give up if registration has not closed after this long (ms). */
  readonly timeoutMs: number;
}

/**
 * Where a live run's actors run. The controller's run (run-live.ts) is the same for every placement: it
 * asks the placement to start (and say where NATS is), connects, lets registered actors join or launches
 * one process per group, supervises them (restarts go through `launch` again), and stops the placement.
 * A new placement (Kubernetes, SSH to hosts…) implements this and nothing else changes.
 */
export interface Placement {
  /** The scenario's `live.placement` this implements. */
  readonly kind: LivePlacement;
  /**
   * Start what the run needs before its actors (a private NATS server, containers and their networks) and say
   * where NATS is. `groups`: the processes the scenario has (those that register may be sized otherwise), for a
   * placement that configures its NATS with a user per process.
   */
  start(groups: readonly ProcessGroup[]): Promise<NatsAccess>;
  /**
   * Present when the actors register themselves (external, docker): how registration closes. Absent: the
   * controller launches one process per group of the scenario (inprocess, processes).
   */
  readonly registration?: RegistrationPolicy;
  /** Start the actor processes that will register (docker: one container per process), once NATS is up. */
  invite?(s: CompiledScenario, nats: NatsAccess): Promise<void>;
  /**
   * Launch the process hosting `group` as its `incarnation`-th incarnation (0 for the first; a registered
   * group's first incarnation is the process that joined). Absent when the processes are not the
   * placement's to start or signal (external): the supervisor then only watches their heartbeats.
   */
  readonly launch?: (group: ProcessGroup, incarnation: number, access: ProcessAccess) => ActorHandle;
  /** Watch heartbeats although `launch` exists (a container on a remote engine may go silent without its exit being seen). */
  readonly watchHeartbeats: boolean;
  /** The NATS server the nats-restart fault kills and starts again (absent: not the placement's own). */
  readonly nats?: NatsServerControl | undefined;
  /** Node faults on the placement's containers (docker). */
  readonly nodes?: NodeFaultControl | undefined;
  /** Stop every actor process, server and container it started. Idempotent; never throws (it logs what it could not stop). */
  stop(): Promise<void>;
}

/**
 * A last-resort hook of the process that owns the run (the CLI): `kill` runs, synchronously, if the
 * process exits without the placement having stopped what it started; `child` (its pid, and what it is)
 * is also killed by a watcher of the owning process if that process dies without running any hook
 * (SIGKILL), and recorded for `splitnet cleanup --run`. Returns the function that removes it (call it
 * once the child has exited).
 */
export type ExitGuard = (kill: () => void, child?: { readonly pid: number; readonly what: string }) => () => void;
