// The test implementation of the Effects port: records what an actor asks for and runs its timers in time order.
import type { Actor, ActorRef, Effects } from './actor.js';
import type { Message } from './messages.js';
import type { Nanos } from './time.js';

/**
 * Drives one actor without a runtime: messages it sends are recorded (not delivered), its timers
 * fire in time order when `drain` is called. Unit tests of single actors use it.
 */
export class RecordingEffects implements Effects {
  readonly sent: { to: ActorRef; msg: Message; at: Nanos }[] = [];
  readonly timers: { at: Nanos; tag: number }[] = [];
  readonly events: { kind: string; detail: Record<string, unknown> }[] = [];

  send(to: ActorRef, msg: Message, at: Nanos): void {
    this.sent.push({ to, msg, at });
  }
  timer(at: Nanos, tag: number): void {
    this.timers.push({ at, tag });
  }
  event(kind: string, detail: Record<string, unknown>): void {
    this.events.push({ kind, detail });
  }

  /** Fire the actor's timers in time order (ties in the order set) while they are ≤ `until`. */
  drain(actor: Actor, until: Nanos = Infinity): void {
    for (;;) {
      let best = -1;
      for (let i = 0; i < this.timers.length; i++) {
        const t = this.timers[i] as { at: Nanos };
        if (t.at <= until && (best < 0 || t.at < (this.timers[best] as { at: Nanos }).at)) best = i;
      }
      if (best < 0) return;
      const [t] = this.timers.splice(best, 1);
      if (t) actor.timer(t.tag, t.at, this);
    }
  }

  /** The recorded messages of one kind, with their departure times. */
  of<K extends Message['kind']>(kind: K): (Extract<Message, { kind: K }> & { at: Nanos })[] {
    return this.sent.flatMap((s) => (s.msg.kind === kind ? [{ ...(s.msg as Extract<Message, { kind: K }>), at: s.at }] : []));
  }
}
