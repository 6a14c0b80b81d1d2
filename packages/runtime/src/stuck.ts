// A guard shared by both runtimes: emulated time that stops advancing while events keep coming.
import { SplitnetError } from '@splitnet/model';
import type { Message, Nanos } from '@splitnet/model';

/**
 * Events one emulated instant may hold before the runtime calls it a livelock. Legitimate bursts at one
 * instant (every actor's start, a batch fanned out to every queue) are thousands at most; an actor that
 * re-arms a timer at the current instant, or two that answer each other with zero delay, never stop.
 */
export const MAX_EVENTS_AT_ONE_INSTANT = 1_000_000;

/** The error for a livelock at `t`, naming the actor and what it was handling. */
export function stuckError(t: Nanos, actorId: string, msg: Message | null, tag: number): SplitnetError {
  const what = msg !== null ? `a '${msg.kind}' message` : `a timer (tag ${tag})`;
  return new SplitnetError(
    'E_INTERNAL',
    `emulated time stopped at ${t} ns: more than ${MAX_EVENTS_AT_ONE_INSTANT.toLocaleString('en-US')} events at that instant, the last for ${actorId} (${what}) — an actor keeps scheduling work at the current instant (a bug; please report it with the scenario)`,
  );
}
