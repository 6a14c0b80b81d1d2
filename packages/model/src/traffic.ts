// The NIC's traffic source: merges the generators' frames and serializes them on one wire at line rate.
import { SplitnetError } from './errors.js';
import { Prng, deriveSeed } from './prng.js';
import type { Nanos } from './time.js';
import { SEC } from './time.js';
import { WIRE_OVERHEAD_BYTES } from './traffic-types.js';
import type { GeneratorSpec, PacketSize, TrafficPattern } from './traffic-types.js';

/** Frame lengths the source accepts (traffic-types: header + payload + FCS, minimum to jumbo). */
const MIN_FRAME_BYTES = 64;
const MAX_FRAME_BYTES = 9018;

/** Time one frame of `frameBytes` (Ethernet frame incl. FCS) occupies a `linkGbps` wire, preamble and inter-frame gap included. */
export function wireTimeNs(frameBytes: number, linkGbps: number): Nanos {
  return ((frameBytes + WIRE_OVERHEAD_BYTES) * 8) / linkGbps;
}

/** Frames per second a `linkGbps` wire carries back to back (10 GbE: 812,744 at 1518 bytes, 14,880,952 at 64). */
export function lineRatePps(frameBytes: number, linkGbps: number): number {
  return (linkGbps * SEC) / ((frameBytes + WIRE_OVERHEAD_BYTES) * 8);
}

/** Mean frame length (bytes) of a size distribution. */
export function meanFrameBytes(size: PacketSize): number {
  switch (size.kind) {
    case 'fixed':
      return size.bytes;
    case 'uniform':
      return (size.min + size.max) / 2;
    case 'choice':
      return size.values.reduce((acc, v, i) => acc + v * (size.weights[i] ?? 0), 0) / size.weights.reduce((x, y) => x + y, 0);
  }
}

/**
 * The most the generators ask of the wire at once, in Gbit/s counting preamble and inter-frame gap (as
 * traffic rates and topology.link do): the largest sum of the rates of the generators running together,
 * an on/off generator counted at its rate during its bursts. Above the link speed the TrafficSource
 * cannot emit it all: its generators wait for the wire (see `Generator.advance`) and the excess is never
 * offered, so a run reports this to say that the offered load was capped.
 */
export function requestedWireGbps(generators: readonly GeneratorSpec[]): number {
  const wireGbps = generators.map((g) => (g.pps * (meanFrameBytes(g.size) + WIRE_OVERHEAD_BYTES) * 8) / 1e9);
  let peak = 0;
  // The sum only grows where a generator starts, so the peak is at one of the start times.
  for (const at of generators) {
    let sum = 0;
    generators.forEach((g, i) => {
      if (g.start <= at.start && at.start < g.stop) sum += wireGbps[i] ?? 0;
    });
    if (sum > peak) peak = sum;
  }
  return peak;
}

const PATTERN_CONSTANT = 0;
const PATTERN_POISSON = 1;
const PATTERN_ONOFF = 2;
/** Mean gaps a Poisson generator's schedule may lag the wire (its send backlog); see `Generator.advance`. */
export const POISSON_BACKLOG_GAPS = 64;

const SIZE_FIXED = 0;
const SIZE_UNIFORM = 1;
const SIZE_CHOICE = 2;

function invalid(where: string, what: string): SplitnetError {
  return new SplitnetError('E_USAGE', `traffic ${where}: ${what}`);
}

function checkFrameBytes(where: string, bytes: number): void {
  if (!Number.isInteger(bytes) || bytes < MIN_FRAME_BYTES || bytes > MAX_FRAME_BYTES) {
    throw invalid(where, `expected a frame length ${MIN_FRAME_BYTES}-${MAX_FRAME_BYTES} bytes, found ${String(bytes)}`);
  }
}

/**
 * One generator's state. A small class with number fields (not the spec object) so that the
 * per-frame path reads monomorphic fields and never allocates.
 */
class Generator {
  readonly pattern: number;
  /** Mean gap between desired frame starts: 1/pps, in ns. */
  readonly gap: Nanos;
  readonly start: Nanos;
  readonly stop: Nanos;
  readonly on: Nanos;
  readonly period: Nanos;
  /** The spec's phase modulo the pattern's cycle (the gap, or on + off); 0 for Poisson. */
  readonly offset: Nanos;
  /** On/off: the start of the burst cycle under way at `start` (start + offset − period when offset > 0). */
  readonly origin: Nanos;
  /** How far this generator's schedule may lag the wire before it slips (see `advance`). */
  readonly maxLag: Nanos;
  readonly sizeKind: number;
  readonly fixedBytes: number;
  readonly uniformMin: number;
  readonly uniformSpan: number;
  readonly choiceBytes: Uint16Array;
  /** Running sums of the choice weights, so a draw is one uniform and a short scan. */
  readonly choiceCumulative: Float64Array;
  readonly firstFlow: number;
  readonly flows: number;
  readonly prng: Prng;

  /** Next flow to use, relative to firstFlow (round-robin). */
  cursor = 0;
  /** Desired start of the pending frame; Infinity once the generator has stopped. */
  due: Nanos = Infinity;
  /** Length of the pending frame, drawn when it was scheduled so `peek` can know its arrival. */
  len = 0;
  /** Constant schedules are anchor + k·gap (not a running sum) so rounding cannot drift the rate. */
  anchor: Nanos = 0;
  k = 0;

  // Long on purpose: every field of this hot object (the source of every frame) is set here, in one order,
  // so that every generator shares one hidden class; readonly fields can only be set in the constructor.
  // eslint-disable-next-line max-lines-per-function -- one hidden class for a hot object (see above)
  constructor(spec: GeneratorSpec, index: number, flowCount: number, seed: number) {
    const where = `generator ${index} (${spec.name})`;
    if (!(spec.pps > 0 && Number.isFinite(spec.pps))) {
      throw invalid(where, `expected pps > 0, found ${String(spec.pps)}`);
    }
    if (!(spec.start >= 0 && Number.isFinite(spec.start)) || !(spec.stop >= spec.start)) {
      throw invalid(where, `expected 0 ≤ start ≤ stop (stop may be Infinity), found start ${String(spec.start)}, stop ${String(spec.stop)}`);
    }
    if (!Number.isInteger(spec.flows) || spec.flows < 1 || !Number.isInteger(spec.firstFlow) || spec.firstFlow < 0 || spec.firstFlow + spec.flows > flowCount) {
      throw invalid(
        where,
        `expected flows [firstFlow, firstFlow + flows) inside the ${flowCount}-flow table, found firstFlow ${String(spec.firstFlow)}, flows ${String(spec.flows)}`,
      );
    }
    this.gap = SEC / spec.pps;
    this.start = spec.start;
    this.stop = spec.stop;
    this.firstFlow = spec.firstFlow;
    this.flows = spec.flows;
    this.prng = new Prng(deriveSeed(seed, 'gen:' + index));

    const pattern: TrafficPattern = spec.pattern;
    this.on = 0;
    this.period = 0;
    this.maxLag = 0;
    switch (pattern.kind) {
      case 'constant':
        this.pattern = PATTERN_CONSTANT;
        break;
      case 'poisson':
        this.pattern = PATTERN_POISSON;
        this.maxLag = POISSON_BACKLOG_GAPS * this.gap;
        break;
      case 'onoff':
        if (!(pattern.on > 0 && Number.isFinite(pattern.on)) || !(pattern.off >= 0 && Number.isFinite(pattern.off))) {
          throw invalid(where, `expected on/off with on > 0 and off ≥ 0 ns, found on ${String(pattern.on)}, off ${String(pattern.off)}`);
        }
        this.pattern = PATTERN_ONOFF;
        this.on = pattern.on;
        this.period = pattern.on + pattern.off;
        break;
    }
    const phase = spec.phase ?? 0;
    if (!(phase >= 0 && Number.isFinite(phase))) throw invalid(where, `expected a phase ≥ 0 ns, found ${String(phase)}`);
    if (this.pattern === PATTERN_POISSON && phase !== 0) {
      throw invalid(where, `expected phase 0 for a Poisson pattern (memoryless arrivals have no grid to shift), found ${String(phase)}`);
    }
    this.offset = phase % (this.pattern === PATTERN_ONOFF ? this.period : this.gap);
    this.origin = this.pattern === PATTERN_ONOFF && this.offset > 0 ? this.start + this.offset - this.period : this.start;

    const size: PacketSize = spec.size;
    this.fixedBytes = 0;
    this.uniformMin = 0;
    this.uniformSpan = 0;
    this.choiceBytes = new Uint16Array(0);
    this.choiceCumulative = new Float64Array(0);
    switch (size.kind) {
      case 'fixed':
        checkFrameBytes(where, size.bytes);
        this.sizeKind = SIZE_FIXED;
        this.fixedBytes = size.bytes;
        break;
      case 'uniform':
        checkFrameBytes(where, size.min);
        checkFrameBytes(where, size.max);
        if (size.max < size.min) throw invalid(where, `expected a uniform size with min ≤ max, found ${size.min} > ${size.max}`);
        this.sizeKind = SIZE_UNIFORM;
        this.uniformMin = size.min;
        this.uniformSpan = size.max - size.min + 1;
        break;
      case 'choice': {
        if (size.values.length === 0 || size.values.length !== size.weights.length) {
          throw invalid(where, `expected as many weights as sizes (at least one), found ${size.values.length} sizes and ${size.weights.length} weights`);
        }
        this.sizeKind = SIZE_CHOICE;
        this.choiceBytes = new Uint16Array(size.values.length);
        this.choiceCumulative = new Float64Array(size.values.length);
        let total = 0;
        for (let i = 0; i < size.values.length; i++) {
          const bytes = size.values[i] ?? 0;
          const weight = size.weights[i] ?? 0;
          checkFrameBytes(where, bytes);
          if (!(weight >= 0 && Number.isFinite(weight))) throw invalid(where, `expected weights ≥ 0, found ${String(weight)}`);
          total += weight;
          this.choiceBytes[i] = bytes;
          this.choiceCumulative[i] = total;
        }
        if (!(total > 0)) throw invalid(where, 'expected at least one positive size weight');
        break;
      }
    }
  }

  drawLen(): number {
    switch (this.sizeKind) {
      case SIZE_FIXED:
        return this.fixedBytes;
      case SIZE_UNIFORM:
        return this.uniformMin + this.prng.below(this.uniformSpan);
      default: {
        const cumulative = this.choiceCumulative;
        const last = cumulative.length - 1;
        const r = this.prng.next() * (cumulative[last] ?? 0);
        // Strict < skips zero-weight entries (their running sum equals the previous one).
        for (let i = 0; i < last; i++) {
          if (r < (cumulative[i] ?? 0)) return this.choiceBytes[i] ?? 0;
        }
        // Reached only when r ≥ every earlier running sum, so the last entry has positive weight
        // (a zero-weight last entry repeats the total, which r is below, so the loop returned).
        return this.choiceBytes[last] ?? 0;
      }
    }
  }

  /**
   * Schedule the first frame: constant at start + offset; on/off at `start` if a burst is under
   * way then, else when the next one begins (settle); Poisson one exponential gap after `start`.
   */
  begin(): void {
    this.anchor = this.pattern === PATTERN_CONSTANT ? this.start + this.offset : this.start;
    this.k = 0;
    const due = this.pattern === PATTERN_POISSON ? this.start + this.prng.exponential(this.gap) : this.anchor;
    this.settle(due);
  }

  /**
   * Schedule the next frame after the pending one started on the wire at `wireStart`; returns how
   * far the schedule had to slip (ns) because the wire held frames back.
   *
   * Back-pressure rule — next desired = max(previous desired + gap, wireStart − maxLag):
   * the generator keeps its own schedule while the wire keeps up, but its schedule may never
   * lag the wire by more than `maxLag`. When offered load exceeds line rate the schedule is pulled
   * forward each frame, so the wire runs back to back at line rate and the excess is simply not
   * offered: no unbounded backlog, no memory of the deficit, and other generators' frames still
   * get through within about `maxLag` of their own desired times.
   * - constant, on/off: maxLag = 0, a closed-loop sender limited by the wire; it owes at most the
   *   frame in hand, so after being held up it catches up by at most one frame instead of
   *   bursting, and below line rate (uncontended) it is exactly periodic.
   * - Poisson: maxLag = POISSON_BACKLOG_GAPS mean gaps. An open-loop Poisson sender is meant to
   *   queue behind the wire (that queueing is what Poisson load is for); with maxLag = 0 a
   *   single sender would lose 3 % of its rate at 50 % load and 14 % at 90 %, with 64 gaps it
   *   keeps its rate to within 0.1 % up to 95 % load, while overload still cannot build more
   *   than 64 frames of backlog. The price: like any deep FIFO, an *overloaded* Poisson generator
   *   delays everyone else's frames by up to its backlog (64 of its gaps), and a constant sender
   *   sharing the wire with it (closed loop, maxLag 0) loses rate to that queueing delay.
   */
  advance(wireStart: Nanos): Nanos {
    let due: Nanos;
    if (this.pattern === PATTERN_POISSON) {
      due = this.due + this.prng.exponential(this.gap);
    } else {
      this.k += 1;
      due = this.anchor + this.k * this.gap;
    }
    let slip = 0;
    const floor = wireStart - this.maxLag;
    if (due < floor) {
      slip = floor - due;
      due = floor;
      this.anchor = floor;
      this.k = 0;
    }
    this.settle(due);
    return slip;
  }

  /** Apply the on/off phase and the stop time to a desired start, then draw the frame's length. */
  private settle(desired: Nanos): void {
    let due = desired;
    if (this.pattern === PATTERN_ONOFF) {
      const cycle = Math.floor((due - this.origin) / this.period);
      const phaseStart = this.origin + cycle * this.period;
      if (due - phaseStart >= this.on) {
        // Silent phase: the next burst starts at the next cycle, its frames anchored there.
        due = phaseStart + this.period;
        this.anchor = due;
        this.k = 0;
      }
    }
    if (due >= this.stop) {
      this.due = Infinity;
      return;
    }
    this.due = due;
    this.len = this.drawLen();
  }
}

/**
 * Frames as they arrive at the NIC, in arrival order, after serialization on one wire.
 *
 * Each generator wants to start frames at its own desired times (constant: every 1/pps;
 * Poisson: exponential gaps of mean 1/pps; on/off: constant during `on`, silent during `off`),
 * only within [start, stop). A constant or on/off grid is shifted by the spec's `phase` (modulo
 * its cycle): the first constant frame is due at start + phase, on/off cycles begin at
 * start + phase + k·(on + off). The source picks the generator with
 * the earliest desired start (ties: lowest index); the frame starts when the wire is free and
 * its last bit arrives one wire time later. Offered load above line rate is never emitted: the
 * generators' schedules slip instead (`slipNs`); see `Generator.advance` for the exact rule.
 *
 * Pull API, allocation-free: `peek()` is the pending frame's arrival time; `take()` consumes it
 * and exposes it through the public fields (valid until the next `take`).
 */
export class TrafficSource {
  /** The frame last taken: flow index, frame length (bytes), per-flow sequence, arrival time. */
  flow = 0;
  len = 0;
  seq = 0;
  at: Nanos = 0;
  /** Which generator made the frame last taken. */
  generator = 0;

  /** Frames taken so far, and their Ethernet bytes (frame lengths, without preamble/IFG). */
  emitted = 0;
  emittedBytes = 0;
  /** Total time frames waited for the wire beyond their desired start, and how many waited. */
  wireWaitNs: Nanos = 0;
  deferredFrames = 0;
  /**
   * Total time generators' schedules slipped because the wire was busy: the offered load the
   * wire refused. Non-zero means some generator offered more than line rate (alone or together);
   * slip × pps / 1e9 estimates the frames not offered.
   */
  slipNs: Nanos = 0;
  /** Time the wire carried frames (preamble and IFG included): utilization = wireBusyNs / elapsed. */
  wireBusyNs: Nanos = 0;

  private readonly generators: Generator[];
  private readonly seqs: Uint32Array;
  /** When the wire finishes the frame on it. */
  private wireFree: Nanos = 0;
  /** Generator of the pending frame (−1: not chosen yet, recompute on peek). */
  private pending = -1;
  private pendingAt: Nanos = Infinity;

  constructor(
    generators: readonly GeneratorSpec[],
    flowCount: number,
    readonly linkGbps: number,
    seed: number,
  ) {
    if (!(linkGbps > 0 && Number.isFinite(linkGbps))) {
      throw invalid('link', `expected a speed > 0 Gbit/s, found ${String(linkGbps)}`);
    }
    if (!Number.isInteger(flowCount) || flowCount < 0) {
      throw invalid('flows', `expected a flow count ≥ 0, found ${String(flowCount)}`);
    }
    this.seqs = new Uint32Array(flowCount);
    // A closed-loop generator's frames come from its TCP connections, not from here; the others keep their index (their seed).
    this.generators = generators.flatMap((spec, i) => (spec.closedLoop === undefined ? [new Generator(spec, i, flowCount, seed)] : []));
    for (const g of this.generators) g.begin();
  }

  /** Arrival time (last bit at the NIC) of the next frame; Infinity when every generator has stopped. */
  peek(): Nanos {
    if (this.pending < 0) this.choose();
    return this.pendingAt;
  }

  /**
   * The next sequence number of `flow`, taken for a frame that does not come from the generators
   * (a fault's burst), so that the flow's later frames keep counting up and the sink sees no reordering.
   */
  /** Flow `flow`'s next sequence numbers go on from where `from`'s are (a restarted NIC taking over its far ends' flows). */
  continueSeq(flow: number, from: TrafficSource): void {
    this.seqs[flow] = from.seqs[flow] ?? 0;
  }

  claimSeq(flow: number): number {
    const seq = this.seqs[flow] ?? 0;
    this.seqs[flow] = seq + 1;
    return seq;
  }

  /** Consume the next frame; its description is then in `flow`, `len`, `seq`, `at`, `generator`. */
  take(): void {
    if (this.pending < 0) this.choose();
    const index = this.pending;
    const g = this.generators[index];
    if (g === undefined) throw new SplitnetError('E_INTERNAL', 'TrafficSource.take: every generator has stopped');
    const due = g.due;
    const wireStart = due > this.wireFree ? due : this.wireFree;
    const at = this.pendingAt;
    const len = g.len;

    const flow = g.firstFlow + g.cursor;
    g.cursor = g.cursor + 1 === g.flows ? 0 : g.cursor + 1;
    const seq = this.seqs[flow] ?? 0;
    this.seqs[flow] = seq + 1; // Uint32Array: wraps at 2^32 like the u32 it models

    this.flow = flow;
    this.len = len;
    this.seq = seq;
    this.at = at;
    this.generator = index;
    this.emitted += 1;
    this.emittedBytes += len;
    this.wireBusyNs += at - wireStart;
    if (wireStart > due) {
      this.wireWaitNs += wireStart - due;
      this.deferredFrames += 1;
    }
    this.wireFree = at;
    this.slipNs += g.advance(wireStart);
    this.pending = -1;
  }

  /** Pick the generator with the earliest desired start (ties: lowest index) and its arrival time. */
  private choose(): void {
    const gens = this.generators;
    let best = -1;
    let bestDue = Infinity;
    for (let i = 0; i < gens.length; i++) {
      const due = (gens[i] as Generator).due;
      if (due < bestDue) {
        bestDue = due;
        best = i;
      }
    }
    if (best < 0) {
      this.pendingAt = Infinity;
      this.pending = -1;
      return;
    }
    const g = gens[best] as Generator;
    const wireStart = bestDue > this.wireFree ? bestDue : this.wireFree;
    this.pending = best;
    this.pendingAt = wireStart + wireTimeNs(g.len, this.linkGbps);
  }
}
