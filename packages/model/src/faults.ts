// Fault commands: what the fault injector asks of one actor at a fault's start or end, the same in sim and live.
import type { Nanos } from './time.js';

/** Actions on the datapath's own semantics, carried out by the actors themselves. */
export const DATAPATH_FAULT_ACTIONS = [
  'lose-notifications',
  'delay-notifications',
  'stop-polling',
  'slow-worker',
  'ring-full-storm',
  'link-flap',
  'corrupt-ring-index',
  // The transmit path's (a guest that sends): its TX event channel, its TX completion handling, its TX ring.
  'lose-tx-notifications',
  'delay-tx-notifications',
  'stop-tx-completion',
  'corrupt-tx-ring-index',
] as const;
/**
 * Datapath faults whose start sets a state in the actor that lasts until their end. A restarted actor
 * is fresh, so the runtimes give it those still in effect again when it comes back. The other
 * datapath actions act once at their start (a ring-full storm's burst, a corrupt ring index written):
 * giving those again would inject them twice.
 */
export const HELD_STATE_FAULT_ACTIONS: ReadonlySet<DatapathFaultAction> = new Set<DatapathFaultAction>([
  'lose-notifications',
  'delay-notifications',
  'stop-polling',
  'slow-worker',
  'link-flap',
  'lose-tx-notifications',
  'delay-tx-notifications',
  'stop-tx-completion',
]);
/** The transmit path's datapath actions: a guest's netfront TX side and the netback TX of the worker serving the queue carry them out. */
export const TX_FAULT_ACTIONS: ReadonlySet<DatapathFaultAction> = new Set<DatapathFaultAction>([
  'lose-tx-notifications',
  'delay-tx-notifications',
  'stop-tx-completion',
  'corrupt-tx-ring-index',
]);
/** Actions on an actor's process (or container); in sim the runtime plays the process and the supervisor. */
export const PROCESS_FAULT_ACTIONS = ['kill', 'restart', 'crash-loop', 'pause'] as const;
/** Actions on messages in the actors' send path (one module, used by every runtime). */
export const MESSAGE_FAULT_ACTIONS = ['drop-messages', 'delay-messages', 'duplicate-messages', 'reorder-messages'] as const;
/** Actions on the live transport (NATS): live runs only. */
export const NETWORK_FAULT_ACTIONS = ['partition', 'nats-restart'] as const;

export type DatapathFaultAction = (typeof DATAPATH_FAULT_ACTIONS)[number];
export type ProcessFaultAction = (typeof PROCESS_FAULT_ACTIONS)[number];
export type MessageFaultAction = (typeof MESSAGE_FAULT_ACTIONS)[number];
export type NetworkFaultAction = (typeof NETWORK_FAULT_ACTIONS)[number];
export type FaultAction = DatapathFaultAction | ProcessFaultAction | MessageFaultAction | NetworkFaultAction;

export const FAULT_ACTIONS: readonly FaultAction[] = [...DATAPATH_FAULT_ACTIONS, ...PROCESS_FAULT_ACTIONS, ...MESSAGE_FAULT_ACTIONS, ...NETWORK_FAULT_ACTIONS];

/** Parameters of a fault (each action reads the ones it documents; the scenario compiler fills defaults). */
export interface FaultParams {
  /** Chance that one notification / message is affected, 0 < p ≤ 1. */
  readonly probability?: number;
  /** Extra delay (emulated ns) of a delayed notification or message; the reorder window for reorder-messages. */
  readonly delay?: Nanos;
  /** CPU cost multiplier of a slow worker. */
  readonly factor?: number;
  /** Frames in a ring-full storm. */
  readonly packets?: number;
  /** Frame size (bytes) of a ring-full storm. */
  readonly size?: number;
  /** How far beyond `req_cons + ring size` a corrupted req_prod points. */
  readonly offset?: number;
  /** Emulated ns between a kill and the supervisor's restart (sim; live uses the supervisor's own backoff). */
  readonly restartAfter?: Nanos;
  /** Message kinds a message-path fault applies to. */
  readonly kinds?: readonly string[];
}

/** One fault occurrence as an actor receives it, at its start and (for faults with a duration) at its end. */
export interface FaultCommand {
  /** Occurrence id, e.g. `f0` or `f2#3` (third occurrence of a repeated fault). */
  readonly id: string;
  readonly action: DatapathFaultAction;
  readonly phase: 'start' | 'end';
  /**
   * The guest whose queues `queues` names, for a command to a netback worker about a guest's vif queues (the
   * transmit path's notification faults act where the guest's kicks arrive, in the worker serving the queue).
   */
  readonly vm?: number;
  /** The actor's queues it applies to (guest queue numbers for a VM; every queue when absent). */
  readonly queues?: readonly number[];
  /** Flows a ring-full storm sends to (steered to the target queues). */
  readonly flows?: readonly number[];
  readonly params: FaultParams;
  /** Seed of this occurrence's PRNG stream (derived from the run seed, the fault id and the actor). */
  readonly seed: number;
}
