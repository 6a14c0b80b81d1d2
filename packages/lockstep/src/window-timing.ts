// Where a lockstep partition's wall time goes, window by window: running events, publishing its frames and promises, waking up to a promise, and waiting for one (docs/lockstep.md#how-fast).

/** The breakdown a partition logs at its end (`ran to the end`) and the bench prints: wall ms, summed over the run. */
export interface WindowTimes {
  readonly windows: number;
  /** Running the sim event loop of its windows (fault steps and samples' reports included). */
  readonly eventsMs: number;
  /** Encoding and handing to the transport its windows' frames and promises (the transport writes them to the socket after). */
  readonly publishMs: number;
  /** Publishing its samples to the controller (held until its end, or 256 at a time in a turn of their own while it waits). */
  readonly samplesMs: number;
  /** From the arrival that let a waiting partition run again to the start of that run (the event loop's turn). */
  readonly wakeMs: number;
  /** Waiting with no window to run, publishing samples left out: a neighbour's window and the bus's hops both ways. */
  readonly waitMs: number;
  /** Wake-ups with no window to run after all (a message that came before the promise covering it, or a promise that moved nothing). */
  readonly idleWakes: number;
  /**
   * The bus's one-way hop, from a neighbour's publishing a promise to its arrival here (ms; the median, the 10th and
   * 90th percentiles of the last 4096): wall clocks of one machine, so meaningless across machines.
   */
  readonly hopMs: { readonly median: number; readonly p10: number; readonly p90: number; readonly mean: number } | null;
  /** Windows that covered at most two lookaheads (the least channel's): a neighbour promised no more than its time. */
  readonly shortWindows: number;
  /** Bus messages it published to its neighbours (frames and promises) and received from them: counts, which the machine's load does not change. */
  readonly messagesOut: number;
  readonly messagesIn: number;
}

/** Accumulates WindowTimes; the wire calls it around what it does (performance.now() in ms). */
export class WindowTiming {
  windows = 0;
  eventsMs = 0;
  publishMs = 0;
  samplesMs = 0;
  samplesWhileWaitingMs = 0;
  wakeMs = 0;
  idleWakes = 0;
  shortWindows = 0;
  messagesOut = 0;
  messagesIn = 0;
  private readonly hops = new Float64Array(4096);
  private hopCount = 0;
  private hopSum = 0;

  /** A promise's hop from its sender's publish to its arrival (ms). */
  hop(ms: number): void {
    this.hops[this.hopCount++ % this.hops.length] = ms;
    this.hopSum += ms;
  }

  private hopStats(): WindowTimes['hopMs'] {
    const n = Math.min(this.hopCount, this.hops.length);
    if (n === 0) return null;
    const h = this.hops.slice(0, n).sort();
    const at = (q: number): number => Math.round((h[Math.min(n - 1, Math.floor(q * n))] as number) * 1e3) / 1e3;
    return { median: at(0.5), p10: at(0.1), p90: at(0.9), mean: Math.round((this.hopSum / this.hopCount) * 1e3) / 1e3 };
  }

  /** Per window: its emulated length against the least lookahead. */
  window(emulatedNs: number, lookaheadNs: number): void {
    this.windows++;
    if (emulatedNs <= 2 * lookaheadNs) this.shortWindows++;
  }

  times(waitMs: number): WindowTimes {
    const r = (x: number): number => Math.round(x * 1e3) / 1e3;
    return {
      windows: this.windows,
      eventsMs: r(this.eventsMs),
      publishMs: r(this.publishMs),
      samplesMs: r(this.samplesMs),
      wakeMs: r(this.wakeMs),
      waitMs: r(waitMs - this.samplesWhileWaitingMs),
      idleWakes: this.idleWakes,
      shortWindows: this.shortWindows,
      messagesOut: this.messagesOut,
      messagesIn: this.messagesIn,
      hopMs: this.hopStats(),
    };
  }
}
