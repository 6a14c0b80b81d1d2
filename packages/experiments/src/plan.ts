// A sweep's plan: every point of the axes' product, every run with its derived seed, and every point's scenario compiled up front.
import { deriveSeed, SplitnetError } from '@splitnet/model';
import { compileScenarioText, loadScenarioFile, type CompiledScenario, type ScenarioValue } from '@splitnet/scenario';
import { numericAxis } from './axis-numbers.js';
import type { SweepBase, SweepDefinition } from './sweep-file.js';

/** One combination of axis values. */
export interface SweepPoint {
  readonly point: number;
  /** One entry per axis, in the order the axes are written (zip members in place). */
  readonly values: readonly { readonly path: string; readonly value: unknown }[];
}

/** What a worker needs to compile and run one run on its own: plain data, so it crosses to a worker thread. */
export interface RunSpec {
  /** `p<point, 3 digits>-r<rep>`, e.g. `p004-r1`. */
  readonly run: string;
  readonly point: number;
  readonly rep: number;
  readonly seed: number;
  /** The sweep file (names an inline base in messages). */
  readonly file: string;
  readonly base: SweepBase;
  /** The sweep's `set:` values, then this point's axis values. */
  readonly values: readonly ScenarioValue[];
}

export interface SweepPlan {
  readonly definition: SweepDefinition;
  /** The seed the runs' seeds are derived from. */
  readonly baseSeed: number;
  readonly points: readonly SweepPoint[];
  /** Sorted by point, then repetition. */
  readonly runs: readonly RunSpec[];
  /** The resolved scenario of each run (what its scenario.resolved.yaml holds), by run id. */
  readonly resolved: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
  /** Emulated duration (ns) and expected frames of each run, by run id: weights for progress and ETA. */
  readonly work: ReadonlyMap<string, { readonly durationNs: number; readonly frames: number }>;
}

export function runId(point: number, rep: number): string {
  return `p${String(point).padStart(3, '0')}-r${rep}`;
}

/**
 * The seed of repetition `rep` at `point`: a hash of the sweep's base seed and both indexes
 * (model's `deriveSeed`, the function that gives each actor its stream), so runs are independent
 * of each other and of the order or the machine they run on, and a resumed sweep reruns a run
 * with the seed it had.
 */
export function runSeed(baseSeed: number, point: number, rep: number): number {
  return deriveSeed(baseSeed, `sweep:p${point}:r${rep}`);
}

/** Compile one run's scenario exactly as its worker will. */
export function compileRun(spec: Pick<RunSpec, 'file' | 'base' | 'values'> & { readonly seed?: number }): CompiledScenario {
  const opts = { values: spec.values, ...(spec.seed !== undefined ? { seed: spec.seed } : {}) };
  return spec.base.kind === 'file'
    ? loadScenarioFile(spec.base.path, opts)
    : compileScenarioText(spec.base.text, spec.file, { ...opts, within: ['base'] });
}

/** Point number → the value index in each axis group (mixed radix, the last group the lowest digit). */
function groupIndexes(def: SweepDefinition, point: number): number[] {
  const index = new Array<number>(def.groups.length).fill(0);
  let rest = point;
  for (let g = def.groups.length - 1; g >= 0; g--) {
    const n = def.groups[g]?.[0]?.values.length ?? 1;
    index[g] = rest % n;
    rest = Math.floor(rest / n);
  }
  return index;
}

/** The points of the product of the axis groups, the last group varying fastest. */
export function expandPoints(def: SweepDefinition): SweepPoint[] {
  const count = def.groups.reduce((n, g) => n * (g[0]?.values.length ?? 1), 1);
  const points: SweepPoint[] = [];
  for (let p = 0; p < count; p++) {
    const index = groupIndexes(def, p);
    const values = def.groups.flatMap((group, g) => group.map((axis) => ({ path: axis.path, value: axis.values[index[g] as number]?.value })));
    points.push({ point: p, values });
  }
  return points;
}

/** The located values a point sets: `set:` first, then each axis at this point's index. */
function pointValues(def: SweepDefinition, point: number): ScenarioValue[] {
  const index = groupIndexes(def, point);
  const out: ScenarioValue[] = def.set.map((v) => ({ label: v.label, pathLabel: v.pathLabel, path: v.segments, value: v.value }));
  def.groups.forEach((group, g) => {
    for (const axis of group) {
      const v = axis.values[index[g] as number];
      if (v !== undefined) out.push({ label: v.label, pathLabel: axis.pathLabel, path: axis.segments, value: v.value });
    }
  });
  return out;
}

function describePoint(p: SweepPoint): string {
  return p.values.map((v) => `${v.path}=${typeof v.value === 'string' ? v.value : JSON.stringify(v.value)}`).join(', ');
}

/** Frames the traffic generators offer over the run (before the wire's cap): a run's share of the work. */
function expectedFrames(s: CompiledScenario): number {
  let frames = 0;
  for (const g of s.traffic.generators) frames += (g.pps * Math.max(0, Math.min(g.stop, s.duration) - g.start)) / 1e9;
  return frames;
}

/**
 * Plan a sweep: expand the points, derive every run's seed, and compile every point's scenario,
 * so that a bad value is reported (located in the sweep file, naming the point) before anything runs.
 */
export function planSweep(def: SweepDefinition): SweepPlan {
  const points = expandPoints(def);
  const valuesOf = points.map((p) => pointValues(def, p.point));
  const compiled: CompiledScenario[] = [];
  for (const p of points) {
    let s: CompiledScenario;
    try {
      s = compileRun({ file: def.file, base: def.base, values: valuesOf[p.point] as ScenarioValue[] });
    } catch (err) {
      if (err instanceof SplitnetError && err.code === 'E_SCENARIO' && points.length > 1) {
        throw new SplitnetError('E_SCENARIO', `${err.message} (in point ${String(p.point).padStart(3, '0')}: ${describePoint(p)})`, { cause: err });
      }
      throw err;
    }
    if (s.runtime !== 'sim') {
      throw new SplitnetError('E_SCENARIO', `${s.source}: runtime: expected "sim" (a sweep runs every point in the sim runtime), found "${s.runtime}"`);
    }
    compiled.push(s);
  }
  const first = compiled[0];
  if (first === undefined) throw new SplitnetError('E_INTERNAL', `${def.file}: a sweep without points`);
  const baseSeed = def.seed ?? first.seed;
  const runs: RunSpec[] = [];
  const resolved = new Map<string, Readonly<Record<string, unknown>>>();
  const work = new Map<string, { durationNs: number; frames: number }>();
  for (const p of points) {
    const s = compiled[p.point] as CompiledScenario;
    const values = valuesOf[p.point] as ScenarioValue[];
    for (let rep = 0; rep < def.repetitions; rep++) {
      const id = runId(p.point, rep);
      const seed = runSeed(baseSeed, p.point, rep);
      runs.push({ run: id, point: p.point, rep, seed, file: def.file, base: def.base, values });
      // The seed is the only thing a repetition changes.
      resolved.set(id, { ...(s.resolved as unknown as Record<string, unknown>), seed });
      work.set(id, { durationNs: s.duration, frames: expectedFrames(s) });
    }
  }
  return { definition: def, baseSeed, points, runs, resolved, work };
}

/** The contents of `<out>/sweep.json`: what the sweep is, without anything about the host or the clock. */
export function sweepJson(plan: SweepPlan): Record<string, unknown> {
  const def = plan.definition;
  return {
    name: def.name,
    base: def.base.kind === 'file' ? def.base.path : `${def.file}#base`,
    // A zip's members carry `zip`: the index of their item in the sweep file's `axes:` list, so a reader
    // (the report) can tell axes that move together from a product.
    // An axis whose values have units (rates, durations) names the table column with them as numbers, and their unit;
    // an axis of plain numbers is numeric in its own column.
    axes: def.groups.flatMap((group, g) =>
      group.map((axis) => {
        const values = axis.values.map((v) => v.value);
        const numeric = numericAxis(axis.path, values);
        return {
          path: axis.path,
          values,
          ...(group.length > 1 ? { zip: g } : {}),
          ...(numeric?.unit ? { numeric: { column: numeric.column, unit: numeric.unit } } : {}),
        };
      }),
    ),
    repetitions: def.repetitions,
    baseSeed: plan.baseSeed,
    points: plan.points.length,
    runs: plan.runs.length,
  };
}
