// The controller's control plane: sealed messages to each actor process on its own subject, and what it refused from the bus.
import type { Subjects, Transport } from '@splitnet/transport';
import type { ControlMessage } from './control.js';
import { ControllerControl } from './control-seal.js';
import type { ControlSecret, FromProcess, Opened } from './control-seal.js';

/** How many refusals are described one by one (the rest are counted). */
const REFUSALS_KEPT = 8;

/**
 * Every control message between the controller and an actor process goes through here: to a process on
 * its own control subject (`sn.<run>.ctl.<its first actor>`), sealed with that process incarnation's key;
 * from a process opened and checked. What does not open (forged, replayed, another controller's, an
 * unknown process) is refused and counted: a run that saw any is tainted (collect.ts).
 */
export class ControlPlane {
  private readonly keys: ControllerControl;
  /** The processes of the run, by name (their actor ids joined by '+'). */
  private names: readonly string[] = [];
  /** Messages refused, and the first few reasons. */
  refused = 0;
  readonly refusals: string[] = [];

  constructor(
    runId: string,
    nonce: string,
    private readonly transport: Transport,
    private readonly subjects: Subjects,
  ) {
    this.keys = new ControllerControl(runId, nonce);
  }

  /** The run's processes, once known (after the join step). */
  setProcesses(names: readonly string[]): void {
    this.names = names;
  }

  /** This controller's nonce. */
  get nonce(): string {
    return this.keys.nonce;
  }

  /** What process `name`'s `incarnation` is handed at spawn or join. */
  secretFor(name: string, incarnation: number): ControlSecret {
    return this.keys.secretFor(name, incarnation);
  }

  /** `m` to process `name` (its latest incarnation). */
  send(name: string, m: ControlMessage): void {
    this.transport.publish(this.subjects.control(name.split('+')[0] as string), this.keys.seal(name, m));
  }

  /** `m` to every process of the run (but `except`). */
  sendAll(m: ControlMessage, except?: string): void {
    for (const n of this.names) if (n !== except) this.send(n, m);
  }

  /** A message from a process, that came on `subject`; a refusal is counted and described. */
  open(data: Uint8Array, subject: string): Opened<FromProcess> {
    const o = this.keys.open(data);
    if (!o.ok) this.refuse(`on ${subject}: ${o.why}`);
    return o;
  }

  /** Count a refusal of something on the control plane (a message that opened but should not have come). */
  refuse(why: string): void {
    if (this.refused++ < REFUSALS_KEPT) this.refusals.push(why);
  }
}
