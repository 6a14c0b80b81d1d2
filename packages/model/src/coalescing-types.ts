// The interface every interrupt moderation / coalescing policy implements, at any placement.
import type { Nanos } from './time.js';

/** Completions that are pending (or known to be coming) for one interrupt source, oldest first. */
export interface ArrivalView {
  /** How many completion arrival times are known (pending now plus any already scheduled). */
  readonly known: number;
  /** Arrival time of the k-th pending completion, k = 0 … known-1, non-decreasing. */
  arrivalAt(k: number): Nanos;
}

/**
 * A coalescing policy instance for one interrupt source (a NIC queue, a guest ring queue).
 * Pure and deterministic: state changes only through these calls.
 *
 * - NIC and back-end placement call `fireAt` whenever pending work changes and raise the
 *   interrupt (or notify) at the returned time; `onFire` updates adaptive state.
 * - Front-end placement calls `eventAhead` / `pollAfter` after each NAPI poll completes: the
 *   consumer sets its event index `eventAhead` responses past its consumer index and polls again
 *   after `pollAfter` ns (a guest timer tick) so that a quiet queue never stalls.
 */
export interface Coalescer {
  readonly kind: PolicyKind;
  /**
   * When should the interrupt announcing the pending completions fire? `arrivals` lists the
   * pending completions (known ≥ 1). `lastFireAt` is the previous interrupt (−Infinity if none),
   * `freeSlots` the consumer's free buffer space (ring slots) for buffer-bounded policies.
   * Arrivals may lie in the future (a NIC knows its DMA schedule): the caller raises the interrupt
   * at max(returned, now) and, if that is later than now, asks again when the timer expires or
   * more completions arrive.
   * Returns an absolute time; a value ≤ the first arrival means "at once"; Infinity means "only
   * more completions can trigger it" (the caller re-asks when more arrive).
   */
  fireAt(arrivals: ArrivalView, lastFireAt: Nanos, freeSlots: number): Nanos;
  /**
   * What the consumer took since the previous call: `packets` completions carrying `bytes`, up to
   * `now`. It is the adaptive policies' only view of the load, so every completion is reported once.
   * - NIC: at the end of each NAPI poll cycle (`napi_complete_done`, where ixgbe calls
   *   `ixgbe_set_itr`), with every frame that cycle's batches carried, interrupt-started or polled.
   * - Back end: when the held notification is sent, with the responses it announces.
   * - Front end: after every poll (interrupt- or timer-driven, possibly 0 packets).
   */
  onFire(now: Nanos, packets: number, bytes: number): void;
  /** Front-end placement: completions to let accumulate before the next notification (≥ 1). */
  eventAhead(now: Nanos, freeSlots: number): number;
  /** Front-end placement: poll again after this many ns even without a notification (Infinity: never). */
  pollAfter(now: Nanos): Nanos;
}

export type PolicyKind = 'none' | 'static' | 'adaptive-itr' | 'aic' | 'vic';

/** What a static policy's `usecs` bounds: the gap between interrupts, or the wait after the first completion. */
export type StaticMode = 'throttle' | 'timer';

/**
 * Policy parameters as compiled from a scenario. Times here are in µs, as a person writes them
 * (`usecs`, `minUsecs`, `maxUsecs`; the policies convert with `US`); rates are per second.
 */
export type PolicySpec =
  | { readonly kind: 'none' }
  | {
      /**
       * ethtool `rx-usecs` / `rx-frames`. `mode` says what `usecs` means:
       * - `timer` (the default when absent): fire when `usecs` have passed since the first
       *   un-notified completion or `frames` are pending, whichever first (usecs 0 = no time bound,
       *   frames 0 = no count bound) — mlx5's CQ moderation, and the only meaning in netback and netfront;
       * - `throttle`: at least `usecs` between two interrupts and no count (Intel EITR; `frames` 0).
       */
      readonly kind: 'static';
      readonly usecs: number;
      readonly frames: number;
      readonly mode?: StaticMode;
    }
  | {
      /** ixgbe-style three-state adaptive ITR (interrupt throttle rate from bytes/µs of the last interval). */
      readonly kind: 'adaptive-itr';
      /** Interrupts/s in each state: lowest latency, low latency, bulk. Defaults 100000, 20000, 8000. */
      readonly lowestLatencyRate: number;
      readonly lowLatencyRate: number;
      readonly bulkRate: number;
      /** bytes/µs thresholds between states. Defaults 10 and 20. */
      readonly lowestLatencyMaxBytesPerUs: number;
      readonly lowLatencyMaxBytesPerUs: number;
    }
  | {
      /** Buffer-bounded adaptive coalescing (Dong et al., HPCA 2010 family): delay ≤ (free slots × bufferFraction) ÷ packet rate, within [minUsecs, maxUsecs]. */
      readonly kind: 'aic';
      readonly minUsecs: number;
      readonly maxUsecs: number;
      readonly bufferFraction: number;
    }
  | {
      /** vIC-style (Ahmad et al., USENIX ATC 2011): below `lowRate` completions/s every completion interrupts; above, deliver one interrupt per `ratio` completions where ratio grows with rate up to `maxRatio`; `maxUsecs` timer backstop. */
      readonly kind: 'vic';
      readonly lowRate: number;
      readonly targetRate: number;
      readonly maxRatio: number;
      readonly maxUsecs: number;
    };
