// The one place a live run converts between wall time and emulated time: a wall clock, the time dilation factor (TDF) and the run's epoch.
import { SplitnetError } from '@splitnet/model';
import type { Nanos } from '@splitnet/model';

/** Wall time in milliseconds (fractions allowed) on a clock shared by every process of a run. */
export interface WallClock {
  nowMs(): number;
}

/**
 * This machine's wall clock (ms since the Unix epoch, sub-ms). One object for every host of a process —
 * the code warm-up's and the run's — so that the code V8 optimised in the rehearsal calls the same
 * function in the run instead of being thrown away at its first pump ("wrong call target").
 */
export const systemWallClock: WallClock = { nowMs: () => performance.timeOrigin + performance.now() };

/**
 * Emulated time of a live run: emulated ns = (wall ms − epoch) · 10⁶ ÷ TDF, so emulated time runs TDF
 * times slower than wall time from the epoch on. Every process of a run gets the same epoch (the
 * controller's `start` message); the live hosts, the controller's supervisor, progress display and
 * fault timing all convert through one of these, never by hand.
 */
export class DilatedClock {
  private epoch = Infinity;

  constructor(
    readonly wall: WallClock,
    /** Emulated time runs this many times slower than wall time (≥ 1). */
    readonly tdf: number,
  ) {
    if (!(tdf >= 1)) throw new SplitnetError('E_USAGE', `tdf: expected a number ≥ 1, found ${tdf}`);
  }

  /** Wall ms at which emulated time is 0 (Infinity until the run's start is known). */
  get epochMs(): number {
    return this.epoch;
  }

  /** Whether the epoch is known (the run has started). */
  get started(): boolean {
    return this.epoch !== Infinity;
  }

  /** Emulated time 0 is at wall time `epochMs`. */
  start(epochMs: number): void {
    this.epoch = epochMs;
  }

  /** Emulated time now: negative before the epoch, −Infinity before `start`. */
  now(): Nanos {
    return ((this.wall.nowMs() - this.epoch) * 1e6) / this.tdf;
  }

  /** Emulated time now as event logs stamp it: whole ns, 0 before the run started. */
  stamp(): Nanos {
    return this.epoch === Infinity ? 0 : Math.max(0, Math.round(this.now()));
  }

  /** The wall time (ms) an emulated span lasts. */
  wallMs(span: Nanos): number {
    return (span * this.tdf) / 1e6;
  }

  /** Wall ms from now until emulated time `t` is reached (≤ 0: it has been). */
  msUntil(t: Nanos): number {
    return this.epoch + this.wallMs(t) - this.wall.nowMs();
  }

  /** The epoch that makes emulated time `t` now (a host that joins a run in the middle, or a rehearsal). */
  epochWhereNowIs(t: Nanos): number {
    return this.wall.nowMs() - this.wallMs(t);
  }
}
