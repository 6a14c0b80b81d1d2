// The interrupt moderation / coalescing policies (none, static timer or throttle, adaptive ITR, buffer-bounded AIC, vIC) behind `Coalescer`.
import type { ArrivalView, Coalescer, PolicyKind, PolicySpec } from './coalescing-types.js';
import { SplitnetError } from './errors.js';
import { MS, SEC, US, type Nanos } from './time.js';

/**
 * Time constant of the packet-rate estimators (AIC, vIC, the adaptive ITR's front-end count).
 * [assumption] 1 ms averages dozens of interrupts at any rate where coalescing matters (≥ 20K
 * packets/s) yet follows a change of load within a few ms; no source fixes it.
 */
export const RATE_WINDOW: Nanos = MS;

/** ixgbe's EITR interval is programmed in steps of 256 ns (docs/model.md, "The NIC"). */
export const ITR_GRANULARITY: Nanos = 256;

/** Build the policy instance a scenario asked for. One instance per interrupt source: they keep state. */
export function createCoalescer(spec: PolicySpec): Coalescer {
  switch (spec.kind) {
    case 'none':
      return new NoCoalescing();
    case 'static':
      return spec.mode === 'throttle' ? new ThrottleCoalescing(spec.usecs) : new StaticCoalescing(spec.usecs, spec.frames);
    case 'adaptive-itr':
      return new AdaptiveItr(spec.lowestLatencyRate, spec.lowLatencyRate, spec.bulkRate, spec.lowestLatencyMaxBytesPerUs, spec.lowLatencyMaxBytesPerUs);
    case 'aic':
      return new BufferBoundedAic(spec.minUsecs, spec.maxUsecs, spec.bufferFraction);
    case 'vic':
      return new VicCoalescing(spec.lowRate, spec.targetRate, spec.maxRatio, spec.maxUsecs);
  }
}

/**
 * Packets per ns, as an exponentially weighted average whose weight depends on the time a sample
 * covers (w = 1 − e^(−Δ/RATE_WINDOW)), so irregular interrupt spacing is weighted fairly and a
 * sample spanning a long idle gap replaces the old estimate almost entirely.
 *
 * - Start: no data means no evidence of load, so the estimate is 0 until a second `observe`
 *   gives an interval to divide by (the first one only sets the reference time: the packets it
 *   reports arrived over an unknown span).
 * - Same-instant observations (Δ = 0) are folded into the next sample instead of dividing by zero.
 * - `at(t)` reads the estimate as of a later time t, assuming nothing arrived since the last
 *   sample (true at the callers' query points: the first un-announced arrival, or a poll that just
 *   reported), so a stale high estimate decays after an idle gap without mutating state.
 */
class PacketRateEstimator {
  private rate = 0;
  private refAt = Number.NaN;
  private pending = 0;

  observe(now: Nanos, packets: number): void {
    if (Number.isNaN(this.refAt)) {
      this.refAt = now;
      return;
    }
    this.pending += packets;
    const dt = now - this.refAt;
    if (dt <= 0) return;
    const w = 1 - Math.exp(-dt / RATE_WINDOW);
    this.rate += w * (this.pending / dt - this.rate);
    this.pending = 0;
    this.refAt = now;
  }

  /** Packets per ns as of time t (≥ the last sample; earlier t reads the estimate undecayed). */
  at(t: Nanos): number {
    const idle = t - this.refAt;
    return idle > 0 ? this.rate * Math.exp(-idle / RATE_WINDOW) : this.rate;
  }
}

/** Clamp a front-end count to [1, freeSlots]: more than the back end can fill would never notify. */
function clampAhead(k: number, freeSlots: number): number {
  const cap = freeSlots >= 1 ? Math.floor(freeSlots) : 1;
  return k < 1 ? 1 : k > cap ? cap : Math.floor(k);
}

/**
 * Xen's default: the producer notifies once per push whenever the consumer re-armed
 * (`rsp_event = rsp_cons + 1`), the NIC raises one interrupt per completion. No parameters.
 */
class NoCoalescing implements Coalescer {
  readonly kind: PolicyKind = 'none';
  fireAt(arrivals: ArrivalView): Nanos {
    return arrivals.arrivalAt(0);
  }
  onFire(): void {}
  eventAhead(): number {
    return 1;
  }
  pollAfter(): Nanos {
    return Infinity;
  }
}

/**
 * ethtool `rx-usecs` / `rx-frames` as a timer (docs/model.md, "The NIC"): fire when `usecs` µs
 * have passed since the first un-notified completion or `frames` completions are pending,
 * whichever comes first. On a NIC this is mlx5's CQ moderation (a period counted from the first
 * completion, `MLX5_CQ_PERIOD_MODE_START_FROM_CQE`, and a completion count); in netback and netfront
 * it is the only static mode.
 *
 * - `usecs`: time bound in µs; 0 = no time bound.
 * - `frames`: count bound; 0 = no count bound. `usecs` 0 with `frames` ≤ 1 (or any `usecs` with
 *   `frames` 1) means no coalescing: the first completion fires at once.
 * - `frames` ≥ 2 with `usecs` 0 fires only on the count (Infinity until enough are known), as a
 *   NIC programmed that way would.
 *
 * Front end: the event index is set `frames` past the consumer, clamped to the free slots because
 * the back end cannot produce more responses than there are posted buffers (a larger count would
 * never notify, and with `usecs` 0 the queue would stall); `frames` 0 means "notify only when the
 * posted buffers are all used", i.e. `freeSlots`. The guest timer polls `usecs` after the poll
 * completes — measured from re-arming rather than from the first response, so the bound is a
 * little tighter than the NIC's.
 */
class StaticCoalescing implements Coalescer {
  readonly kind: PolicyKind = 'static';
  private readonly delay: Nanos;
  private readonly frames: number;
  private readonly immediate: boolean;

  constructor(usecs: number, frames: number) {
    this.delay = usecs * US;
    this.frames = Math.floor(frames);
    this.immediate = this.frames === 1 || (usecs === 0 && this.frames === 0);
  }

  fireAt(arrivals: ArrivalView): Nanos {
    const first = arrivals.arrivalAt(0);
    if (this.immediate) return first;
    let at = this.delay > 0 ? first + this.delay : Infinity;
    if (this.frames > 0 && arrivals.known >= this.frames) {
      const full = arrivals.arrivalAt(this.frames - 1);
      if (full < at) at = full;
    }
    return at;
  }

  onFire(): void {}

  eventAhead(_now: Nanos, freeSlots: number): number {
    if (this.immediate) return 1;
    return clampAhead(this.frames > 0 ? this.frames : freeSlots, freeSlots);
  }

  pollAfter(): Nanos {
    return this.immediate || this.delay === 0 ? Infinity : this.delay;
  }
}

/**
 * Intel's interrupt throttle (EITR, `ethtool -C rx-usecs` on ixgbe: `ixgbe_set_coalesce` programs
 * the interval with `ixgbe_write_eitr`; docs/model.md, "The NIC"): at least `usecs` between two
 * interrupts of a queue, and no frame count (ixgbe ignores `rx-frames`). A queue that has been quiet
 * for longer than the interval interrupts at its first completion, so a lone frame waits for
 * nothing, and under load frames wait on average about half the interval.
 *
 * fireAt = max(first arrival, previous interrupt + usecs). NIC placement only: netback and netfront
 * coalescing have no throttle (the scenario rejects it there), so the front-end calls are errors.
 */
class ThrottleCoalescing implements Coalescer {
  readonly kind: PolicyKind = 'static';
  private readonly gap: Nanos;

  constructor(usecs: number) {
    this.gap = usecs * US;
  }

  fireAt(arrivals: ArrivalView, lastFireAt: Nanos): Nanos {
    return throttled(arrivals.arrivalAt(0), lastFireAt, this.gap);
  }

  onFire(): void {}

  eventAhead(): number {
    throw new SplitnetError('E_INTERNAL', 'a static throttle has no front-end placement');
  }

  pollAfter(): Nanos {
    throw new SplitnetError('E_INTERNAL', 'a static throttle has no front-end placement');
  }
}

/** An interrupt throttled to one per `interval`: at the first arrival, but not before `interval` after the last one. */
function throttled(first: Nanos, lastFireAt: Nanos, interval: Nanos): Nanos {
  const earliest = lastFireAt + interval;
  return earliest > first ? earliest : first;
}

/**
 * Intel ixgbe adaptive interrupt throttling, 3.x era (docs/model.md, "The NIC";
 * `ixgbe_update_itr` / `ixgbe_set_itr` in drivers/net/ethernet/intel/ixgbe/ixgbe_main.c). At each
 * `onFire` — at the NIC, the end of a NAPI poll cycle, where `ixgbe_poll` calls `ixgbe_set_itr`
 * after `napi_complete_done` — the bytes of every poll since the previous update (ixgbe's
 * `q_vector->rx.total_bytes`, which `ixgbe_clean_rx_irq` adds to on every poll, interrupt-started
 * or not), divided by the µs elapsed, pick a state:
 * - ≤ `lowestLatencyMaxBytesPerUs` (default 10): lowest latency, `lowestLatencyRate` ints/s (100K);
 * - ≤ `lowLatencyMaxBytesPerUs` (default 20): low latency, `lowLatencyRate` ints/s (20K);
 * - above: bulk, `bulkRate` ints/s (8K).
 * The throttle interval moves towards the state's interval by ixgbe's smoothing
 * `new = 10·new·old / (9·new + old)`. ixgbe applies it to the EITR value, which is an *interval*,
 * so in rates it is a plain average: rate' = 0.9·rate + 0.1·target. The interval actually
 * programmed is rounded to the 256 ns ITR granularity. It starts in the low-latency state
 * (ixgbe starts at 20K ints/s, its low-latency rate).
 *
 * Differences from ixgbe, on purpose: bytes/µs divides by the real time since the previous
 * interrupt (ixgbe divides by its own interval), so a lone packet after an idle gap reads as
 * light load; the state follows the thresholds directly (ixgbe steps one state per update).
 * Like ixgbe, an update that saw no packets leaves the state alone — its bytes and time carry into
 * the next sample. The first update has no previous one; its span is taken to be the current
 * interval.
 *
 * fireAt = max(first arrival, last interrupt + interval). Front end: the event index is set to
 * the packets expected in one interval (estimated packet rate × interval, ≥ 1), and the timer
 * polls after one interval.
 */
class AdaptiveItr implements Coalescer {
  readonly kind: PolicyKind = 'adaptive-itr';
  private readonly lowestInterval: Nanos;
  private readonly lowInterval: Nanos;
  private readonly bulkInterval: Nanos;
  /** The smoothed interval, unrounded so repeated smoothing converges instead of sticking on a step. */
  private smoothed: Nanos;
  /** `smoothed` rounded to the ITR granularity: what fireAt and the front end use. */
  private interval: Nanos;
  private refAt = Number.NaN;
  private bytesSinceRef = 0;
  private readonly packetRate = new PacketRateEstimator();

  constructor(
    lowestLatencyRate: number,
    lowLatencyRate: number,
    bulkRate: number,
    private readonly lowestMaxBytesPerUs: number,
    private readonly lowMaxBytesPerUs: number,
  ) {
    this.lowestInterval = SEC / lowestLatencyRate;
    this.lowInterval = SEC / lowLatencyRate;
    this.bulkInterval = SEC / bulkRate;
    this.smoothed = this.lowInterval;
    this.interval = roundToItr(this.smoothed);
  }

  fireAt(arrivals: ArrivalView, lastFireAt: Nanos): Nanos {
    return throttled(arrivals.arrivalAt(0), lastFireAt, this.interval);
  }

  onFire(now: Nanos, packets: number, bytes: number): void {
    this.packetRate.observe(now, packets);
    this.bytesSinceRef += bytes;
    if (packets === 0) return;
    const elapsed = Number.isNaN(this.refAt) ? this.interval : now - this.refAt;
    if (elapsed <= 0) return;
    const bytesPerUs = this.bytesSinceRef / (elapsed / US);
    this.bytesSinceRef = 0;
    this.refAt = now;
    const target = bytesPerUs <= this.lowestMaxBytesPerUs ? this.lowestInterval : bytesPerUs <= this.lowMaxBytesPerUs ? this.lowInterval : this.bulkInterval;
    if (target !== this.smoothed) {
      this.smoothed = (10 * target * this.smoothed) / (9 * target + this.smoothed);
      this.interval = roundToItr(this.smoothed);
    }
  }

  eventAhead(now: Nanos, freeSlots: number): number {
    return clampAhead(this.packetRate.at(now) * this.interval, freeSlots);
  }

  pollAfter(): Nanos {
    return this.interval;
  }
}

function roundToItr(interval: Nanos): Nanos {
  const steps = Math.round(interval / ITR_GRANULARITY);
  return (steps < 1 ? 1 : steps) * ITR_GRANULARITY;
}

/**
 * Buffer-bounded adaptive interrupt coalescing, the family of Dong et al., "High performance
 * network virtualization with SR-IOV" (HPCA 2010): interrupt often enough that the consumer's
 * buffer cannot overflow at the current packet rate, and never later than a latency bound.
 *
 *   delay = clamp(bufferFraction × freeSlots ÷ packet rate, minUsecs, maxUsecs)
 *
 * - `bufferFraction`: share of the free slots allowed to fill before the interrupt (headroom for
 *   bursts above the estimated rate).
 * - `minUsecs`: floor on the delay, i.e. at most 1e6/minUsecs interrupts/s however full the ring.
 * - `maxUsecs`: latency bound, used whenever the rate is low (or unknown: the estimate starts at 0).
 * The packet rate is the estimator above, fed by `onFire`, read as of the first pending arrival.
 *
 * fireAt = first arrival + delay. Front end: the event index is set to the packets expected
 * within the delay (rate × delay, within [1, freeSlots]); the timer polls after the delay, using
 * the free slots last passed to `eventAhead` (the caller asks `eventAhead` then `pollAfter` after
 * each poll; before any `eventAhead` the delay is `maxUsecs`).
 */
class BufferBoundedAic implements Coalescer {
  readonly kind: PolicyKind = 'aic';
  private readonly minDelay: Nanos;
  private readonly maxDelay: Nanos;
  private readonly packetRate = new PacketRateEstimator();
  private lastFreeSlots = Infinity;

  constructor(
    minUsecs: number,
    maxUsecs: number,
    private readonly bufferFraction: number,
  ) {
    this.minDelay = minUsecs * US;
    this.maxDelay = maxUsecs * US;
  }

  private delay(rate: number, freeSlots: number): Nanos {
    // rate 0 gives Infinity (or NaN for 0 slots at rate 0): both land on a bound below.
    const d = (this.bufferFraction * (freeSlots > 0 ? freeSlots : 0)) / rate;
    if (!(d < this.maxDelay)) return freeSlots > 0 ? this.maxDelay : this.minDelay;
    return d > this.minDelay ? d : this.minDelay;
  }

  fireAt(arrivals: ArrivalView, _lastFireAt: Nanos, freeSlots: number): Nanos {
    const first = arrivals.arrivalAt(0);
    return first + this.delay(this.packetRate.at(first), freeSlots);
  }

  onFire(now: Nanos, packets: number): void {
    this.packetRate.observe(now, packets);
  }

  eventAhead(now: Nanos, freeSlots: number): number {
    this.lastFreeSlots = freeSlots;
    // rate × clamp(f·slots ÷ rate, min, max) = clamp(f·slots, rate·min, rate·max): exact while the
    // delay is buffer-bound (no rate/rate round-off), and 0 → 1 when the rate is unknown.
    const rate = this.packetRate.at(now);
    const wanted = this.bufferFraction * freeSlots;
    const fewest = rate * this.minDelay;
    const most = rate * this.maxDelay;
    return clampAhead(wanted < fewest ? fewest : wanted > most ? most : wanted, freeSlots);
  }

  pollAfter(now: Nanos): Nanos {
    return this.delay(this.packetRate.at(now), this.lastFreeSlots);
  }
}

/**
 * vIC, Ahmad, Gulati & Mashtizadeh, "vIC: Interrupt Coalescing for Virtual Machine Storage Device
 * IO" (USENIX ATC 2011), adapted from storage commands to packets: deliver one interrupt per
 * `ratio` completions, with coalescing off at low load and a timer backstop.
 *
 * - `lowRate`: completions/s below which every completion interrupts (ratio 1).
 * - `targetRate`: interrupts/s aimed for above it: ratio = round(rate ÷ targetRate).
 * - `maxRatio`: cap on the ratio (it bounds the added latency in completions).
 * - `maxUsecs`: backstop timer in µs from the first pending completion.
 * The rate is the estimator above (starting at 0, hence ratio 1), read as of the first pending
 * arrival.
 *
 * fireAt = min(arrival of the ratio-th pending completion if known, first + maxUsecs).
 * Front end: event index `ratio` ahead (≤ freeSlots); the timer polls after `maxUsecs`, or never
 * at ratio 1 since then the very next response notifies anyway.
 */
class VicCoalescing implements Coalescer {
  readonly kind: PolicyKind = 'vic';
  private readonly lowRate: number;
  private readonly targetRate: number;
  private readonly maxRatio: number;
  private readonly backstop: Nanos;
  private readonly packetRate = new PacketRateEstimator();

  constructor(lowRate: number, targetRate: number, maxRatio: number, maxUsecs: number) {
    // Rates are held per ns like the estimator's, so the hot path needs no unit conversion.
    this.lowRate = lowRate / SEC;
    this.targetRate = targetRate / SEC;
    this.maxRatio = maxRatio >= 1 ? Math.floor(maxRatio) : 1;
    this.backstop = maxUsecs * US;
  }

  private ratio(rate: number): number {
    if (rate < this.lowRate) return 1;
    const r = Math.round(rate / this.targetRate);
    return r < 1 ? 1 : r > this.maxRatio ? this.maxRatio : r;
  }

  fireAt(arrivals: ArrivalView): Nanos {
    const first = arrivals.arrivalAt(0);
    const ratio = this.ratio(this.packetRate.at(first));
    if (ratio === 1) return first;
    const timer = first + this.backstop;
    if (arrivals.known >= ratio) {
      const nth = arrivals.arrivalAt(ratio - 1);
      if (nth < timer) return nth;
    }
    return timer;
  }

  onFire(now: Nanos, packets: number): void {
    this.packetRate.observe(now, packets);
  }

  eventAhead(now: Nanos, freeSlots: number): number {
    return clampAhead(this.ratio(this.packetRate.at(now)), freeSlots);
  }

  pollAfter(now: Nanos): Nanos {
    return this.ratio(this.packetRate.at(now)) === 1 ? Infinity : this.backstop;
  }
}
