// While a lockstep partition makes its direct links (direct-links.ts), before its hello: which neighbours it waits for, and which side of each link waits, in words for its log and the controller's hello-timeout error.

/**
 * Where a partition's direct links stand. As a sender: whether it listens, the receivers that have not connected
 * with their token (`pending`), and how many connections it accepted whose token is not in yet (`unproven`: whose
 * they are, only the token tells). As a receiver: the senders whose offer it took, and those of them it reached.
 */
export interface DirectWaiting {
  readonly listening: boolean;
  readonly pending: readonly number[];
  readonly unproven: number;
  readonly taken: readonly number[];
  readonly connected: readonly number[];
}

/**
 * One line per link not made yet, naming the neighbour (`name`: a partition's name by its index). A partition says
 * hello once every receiver has connected: its own lines `to …` are what it waits for — "offered, not connected"
 * (the receiver has not connected: its offers do not reach it, or it cannot connect) or "connected, no token" (a
 * connection came in, its token has not). Its lines `from …` are the links its senders wait for: "no offer seen
 * yet" or "offer taken, connecting". Empty: nothing pending.
 */
export function describeWaiting(w: DirectWaiting, hearsFrom: readonly number[], name: (p: number) => string): string[] {
  const lines: string[] = [];
  const n = w.pending.length;
  for (const q of w.pending) {
    let state: string;
    if (!w.listening) state = 'not listening yet, nothing offered';
    else if (w.unproven === 0) state = 'offered, not connected';
    else if (w.unproven >= n) state = 'connected, no token';
    else state = `offered, not connected, or connected, no token (${w.unproven} of the ${n} pending receivers connected without a token yet)`;
    lines.push(`to ${name(q)}: ${state}`);
  }
  for (const p of hearsFrom)
    if (!w.connected.includes(p)) lines.push(`from ${name(p)}: ${w.taken.includes(p) ? 'offer taken, connecting' : 'no offer seen yet'}`);
  return lines;
}
