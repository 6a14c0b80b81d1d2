// Where a live host's lag comes from, measured only when asked (SPLITNET_LIVE_DIAGNOSTICS=1): wake-ups, passes, event-loop delay, GC, warm-up.
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';
import { LatencyHistogram } from '@splitnet/model';

/** Percentiles of one figure, in µs of wall time (or emulated time where the name says so). */
export interface Spread {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** What a host's diagnostics measured over its run (the actor process logs it with its final report). */
export interface DiagnosticsReport {
  /** How late a timer-driven pass started after the wall time it was armed for (libuv timers: 1 ms granularity). */
  readonly timerLateUs: Spread;
  /** From `setImmediate` to the pass it asked for (a wake-up with work already due). */
  readonly immediateUs: Spread;
  /** From a frame's arrival on the socket to the pass that handled its due messages (µs of wall time, only for messages already due when they arrived). */
  readonly arrivalToPassUs: Spread;
  /** Wall time of a pass: every message sent in it waits this long at most in its outbox before the frame is published. */
  readonly passUs: Spread;
  /** Event-loop delay (perf_hooks monitorEventLoopDelay, 1 ms resolution): what any callback waits behind others. */
  readonly eventLoopDelayUs: Spread;
  /** Garbage collections during the run (PerformanceObserver 'gc'): how many, their total and longest pause. */
  readonly gc: { readonly count: number; readonly major: number; readonly totalMs: number; readonly maxMs: number };
  /** Processing lag in emulated µs during the warm-up (the first window: JIT and start-up) and after it. */
  readonly lagWarmupUs: Spread;
  readonly lagMeasuredUs: Spread;
}

function spread(h: LatencyHistogram, scale = 1000): Spread {
  return { n: h.count, p50: h.percentile(50) / scale, p99: h.percentile(99) / scale, max: h.max / scale };
}

/** V8's major GC kind (NODE_PERFORMANCE_GC_MAJOR). */
const GC_MAJOR = 4;

/** A live host's diagnostics: it calls these hooks on its wake-ups and passes; nothing is measured unless a host has one. */
export class LiveDiagnostics {
  private readonly timerLate = new LatencyHistogram();
  private readonly immediate = new LatencyHistogram();
  private readonly arrival = new LatencyHistogram();
  private readonly pass = new LatencyHistogram();
  private readonly lagWarmup = new LatencyHistogram();
  private readonly lagMeasured = new LatencyHistogram();
  private loop: IntervalHistogram | undefined;
  private gcObserver: PerformanceObserver | undefined;
  private gcCount = 0;
  private gcMajor = 0;
  private gcTotalMs = 0;
  private gcMaxMs = 0;

  /** At the run's start: the event-loop and GC monitors run from here on. */
  start(): void {
    this.loop = monitorEventLoopDelay({ resolution: 1 });
    this.loop.enable();
    this.gcObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        this.gcCount++;
        const kind = ((e as { detail?: unknown }).detail as { kind?: number } | undefined)?.kind;
        if (kind === GC_MAJOR) this.gcMajor++;
        this.gcTotalMs += e.duration;
        if (e.duration > this.gcMaxMs) this.gcMaxMs = e.duration;
      }
    });
    this.gcObserver.observe({ entryTypes: ['gc'] });
  }

  /** A timer-driven pass started at `wallMs`, armed for `armedMs`. */
  timerFired(armedMs: number, wallMs: number): void {
    this.timerLate.record(Math.max(0, wallMs - armedMs) * 1e6);
  }

  /** An immediate-driven pass started `ms` after it was asked for. */
  immediateRan(ms: number): void {
    this.immediate.record(Math.max(0, ms) * 1e6);
  }

  /** A pass started `ms` after a frame arrived whose messages were already due. */
  arrivalHandled(ms: number): void {
    this.arrival.record(Math.max(0, ms) * 1e6);
  }

  /** A pass that processed events took `ms` of wall time. */
  passTook(ms: number): void {
    this.pass.record(Math.max(0, ms) * 1e6);
  }

  /** An event processed `lagNs` (emulated) after its time; `measured`: after the warm-up. */
  lag(lagNs: number, measured: boolean): void {
    (measured ? this.lagMeasured : this.lagWarmup).record(lagNs);
  }

  /** Stop the monitors and say what they saw. */
  report(): DiagnosticsReport {
    const loop = this.loop;
    loop?.disable();
    this.gcObserver?.disconnect();
    const ns = (x: number | undefined): number => (x === undefined || !Number.isFinite(x) ? 0 : x / 1000);
    return {
      timerLateUs: spread(this.timerLate),
      immediateUs: spread(this.immediate),
      arrivalToPassUs: spread(this.arrival),
      passUs: spread(this.pass),
      eventLoopDelayUs: { n: loop?.count ?? 0, p50: ns(loop?.percentile(50)), p99: ns(loop?.percentile(99)), max: ns(loop?.max) },
      gc: { count: this.gcCount, major: this.gcMajor, totalMs: Math.round(this.gcTotalMs * 100) / 100, maxMs: Math.round(this.gcMaxMs * 100) / 100 },
      lagWarmupUs: spread(this.lagWarmup),
      lagMeasuredUs: spread(this.lagMeasured),
    };
  }
}
