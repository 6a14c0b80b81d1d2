// The actor contract: deterministic state machines whose only outputs are effects a runtime executes.
import type { FaultCommand } from './faults.js';
import type { Message, PacketBatch } from './messages.js';
import type { ActorReport } from './report.js';
import type { Nanos } from './time.js';

/** A runtime-assigned reference to another actor (an index in sim, a subject in live). */
export type ActorRef = number;

/**
 * What an actor may ask of its runtime. Calls only record intentions; the runtime carries them
 * out. Nothing here reads wall time, the network or the environment.
 */
export interface Effects {
  /**
   * Send `msg` so that it leaves this actor at emulated time `at` (≥ now: the time the work
   * producing it finishes on an emulated core). The runtime adds the link's delay.
   */
  send(to: ActorRef, msg: Message, at: Nanos): void;
  /**
   * Fire `timer(tag)` on this actor at emulated time `at` (≥ now). Timers cannot be cancelled: keep a generation in the
   * tag and ignore stale ones. A tag is any integer above Number.MIN_SAFE_INTEGER (which a runtime may use itself).
   */
  timer(at: Nanos, tag: number): void;
  /** A lifecycle or diagnostic event for the run's event log. */
  event(kind: string, detail: Record<string, unknown>): void;
}

export interface Actor {
  /** Stable id such as `nic`, `backend`, `worker.2`, `vm.0`. */
  readonly id: string;
  /** Called once at time 0 before any input (an actor restarted mid-run gets `reconnect` instead). */
  start(now: Nanos, fx: Effects): void;
  /**
   * Called instead of `start` when this actor was restarted in the middle of a run, at the time it
   * rejoins: it has fresh state and re-establishes what it shares with its peers (a netback worker
   * asks each front end for its ring state, as a reconnecting netback does through xenstore; a
   * netfront sets up new rings; a NIC resumes its traffic at `now`). Without it, `start` is called.
   */
  reconnect?(now: Nanos, fx: Effects): void;
  /**
   * Live runs only, just after `reconnect`: this actor's process died and was restarted. What the dead process held
   * for peers in other processes it cannot give back itself, as sim's runtime does at the death (`crashRelease`):
   * announce what those peers must know to take it back (a restarted bridge tells each sending vif queue's netback
   * that it holds none of its slots). `incarnation`: which restart of the process this is (1 for the first). Not
   * called in sim or lockstep.
   */
  rejoined?(now: Nanos, fx: Effects, incarnation: number): void;
  /**
   * Sim and lockstep, before `reconnect`: the supervisor restarts this actor in place of `dead`, which died at
   * `diedAt`. The actor takes over what it hosts that is not the emulated process's and outlives it — a NIC, the
   * far hosts' TCP ends behind the wire (a modelling device, docs/model.md §12). Absent: it takes nothing.
   */
  inherit?(dead: Actor, diedAt: Nanos): void;
  /**
   * Live runs only: the bus between processes was down (the transport reconnected), so messages may have
   * been lost in it — an emulation artefact Xen does not have (event channels and shared rings lose
   * nothing). Announce again, without modelled cost, what peers must know so that a lost notification or
   * ring write cannot stall a queue for good, as Xen drivers kick their peer after a resume. Idempotent:
   * the runtime may call it several times.
   */
  resync?(now: Nanos, fx: Effects): void;
  receive(msg: Message, now: Nanos, fx: Effects): void;
  /**
   * A datapath fault starts or ends on this actor (lose notifications, stop polling, a slow core…).
   * The runtime delivers it at its scheduled emulated time, like any other input.
   */
  fault?(cmd: FaultCommand, now: Nanos, fx: Effects): void;
  timer(tag: number, now: Nanos, fx: Effects): void;
  /**
   * Lockstep's promises (docs/lockstep.md#promises): a lower bound on the emulated time at which this actor may next
   * create a frame that leaves its host (a guest's transmitted frame) or pass one on, given only inputs that do not
   * carry such frames — the transmit path's messages (`txPacketsIn` > 0) the runtime bounds itself. `now` when it
   * holds such a frame, or reacts to other inputs by transmitting (a TCP or request-response end); Infinity when it
   * will create none on its own. Absent: `now` (it may at any moment), which is always safe.
   */
  earliestTransmit?(now: Nanos): Nanos;
  /**
   * The actor's process dies at `now`: the frames a guest sent that it holds as skbs with that guest's grant-mapped
   * pages as frags (a NIC's TX descriptors, a driver's completions not cleaned yet), handed over so that the runtime
   * runs their zero-copy callbacks (xenvif_zerocopy_callback: the sender's netback gets its slots back), as freeing
   * those skbs does. Absent: it holds none. `fx` (the dying actor's own effects, valid during the call only): for
   * what it announced ahead of time and that will not happen now — a NIC's uplinks of frames that never leave
   * (UplinkMessage.voided), sent at `now`.
   */
  crashRelease?(now: Nanos, fx: Effects): readonly PacketBatch[];
  /** Packets this actor currently holds (queued, in rings, awaiting interrupt) for the accounting invariant. */
  heldPackets(): number;
  /** Cumulative counters at time t (≥ its last input); `final` adds bulky parts such as histograms. */
  report(t: Nanos, final: boolean): ActorReport;
}
