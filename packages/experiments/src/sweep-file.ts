// Sweep files: parse and validate the YAML (base scenario, axes with value lists or ranges, zip groups, repetitions) with located errors.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join } from 'node:path';
import { SplitnetError } from '@splitnet/model';
import { describeValue, formatPath, MAX_SEED, parseScenarioPath, parseYamlSource, type Path, type YamlSource } from '@splitnet/scenario';

export const SWEEP_KEYS = ['name', 'description', 'base', 'seed', 'repetitions', 'set', 'axes'] as const;
const AXIS_KEYS = ['path', 'values'] as const;
const RANGE_KEYS = ['from', 'to', 'step', 'times'] as const;
/** Bounds that catch a typo (a step of 0.001 over 0…10000) before it plans a month of runs. */
export const MAX_AXIS_VALUES = 10_000;
export const MAX_RUNS = 100_000;
export const MAX_REPETITIONS = 1000;
/** Scenario settings a sweep may not vary: the seed is derived per run, and sweeps run in sim. */
const RESERVED_PATHS: Readonly<Record<string, string>> = {
  seed: 'each run gets a seed derived from the sweep seed, its point and repetition; vary it with repetitions',
  runtime: 'sweeps run in the sim runtime',
};

/** One value a sweep sets: where it was written, so that a problem with it is reported there. */
export interface LocatedValue {
  readonly value: unknown;
  /** `file:line:col` of the value (a list item, or the range it came from). */
  readonly label: string;
}

export interface SweepAxis {
  /** The scenario path as a table column: dotted, list indexes as numbers (`traffic.0.rate`). */
  readonly path: string;
  readonly segments: Path;
  /** `file:line:col` of the path (an unknown key in it is reported there). */
  readonly pathLabel: string;
  readonly values: readonly LocatedValue[];
}

/** Axes that advance together (one `zip:` item), or a single axis. The points are the product of the groups. */
export type AxisGroup = readonly SweepAxis[];

export type SweepBase =
  | { readonly kind: 'file'; readonly path: string }
  /** The scenario is the `base:` map of the sweep file itself. */
  | { readonly kind: 'inline'; readonly text: string };

export interface SweepDefinition {
  /** The sweep file as named on the command line. */
  readonly file: string;
  readonly name: string;
  readonly description: string;
  readonly base: SweepBase;
  /** undefined: the base scenario's own seed. */
  readonly seed: number | undefined;
  readonly repetitions: number;
  /** Fixed values (`set:`) applied to every point before the axes. */
  readonly set: readonly (LocatedValue & { readonly path: string; readonly segments: Path; readonly pathLabel: string })[];
  readonly groups: readonly AxisGroup[];
}

/** A located one-line problem in the sweep file: `file:line:col: path: detail`. */
class SweepIssue {
  constructor(
    readonly path: Path,
    readonly detail: string,
    readonly atKey = false,
  ) {}
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function expected(path: Path, what: string, found: unknown): never {
  throw new SweepIssue(path, `expected ${what}, found ${describeValue(found)}`);
}

/** Unknown keys are reported at the key, naming the ones allowed. */
function checkKeys(map: Record<string, unknown>, path: Path, allowed: readonly string[]): void {
  for (const key of Object.keys(map)) {
    if (!allowed.includes(key)) throw new SweepIssue([...path, key], `unknown key ${JSON.stringify(key)} (expected one of: ${allowed.join(', ')})`, true);
  }
}

/** Read and validate a sweep file. Problems are `E_SCENARIO` errors located in the file; a file that cannot be read is `E_FILE`. */
export function loadSweepFile(file: string): SweepDefinition {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new SplitnetError('E_FILE', `${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a sweep file' : 'cannot be read'}`, { cause: err });
  }
  return parseSweepText(text, file);
}

/** Validate sweep text; `file` names it in messages and is where a relative `base:` is found from. */
export function parseSweepText(text: string, file: string): SweepDefinition {
  const yaml = parseYamlSource(text, file);
  try {
    return readSweep(yaml, text);
  } catch (err) {
    if (!(err instanceof SweepIssue)) throw err;
    const { line, col } = yaml.locate(err.path, err.atKey);
    const shown = formatPath(err.atKey ? err.path.slice(0, -1) : err.path);
    throw new SplitnetError('E_SCENARIO', `${file}:${line}:${col}: ${shown === '' ? '' : `${shown}: `}${err.detail}`);
  }
}

/** `file:line:col` of a sweep file's value at `path` (or of its key). */
type Locator = (path: Path) => string;

function readSweep(yaml: YamlSource, text: string): SweepDefinition {
  const root = yaml.value;
  const file = yaml.name;
  const locator = (atKey: boolean): Locator => (path) => {
    const { line, col } = yaml.locate(path, atKey);
    return `${file}:${line}:${col}`;
  };
  const at = locator(false);
  if (!isMap(root)) expected([], 'a map of sweep settings (base, axes, repetitions, …)', root);
  checkKeys(root, [], SWEEP_KEYS);
  const name = readText(root, 'name', basename(file, extname(file)) || 'sweep');
  if (name === '' || !/^[A-Za-z0-9_.-]+$/.test(name)) expected(['name'], 'a name of letters, digits, ".", "_" or "-"', root['name']);
  const description = readText(root, 'description', '');
  const base = readBase(root['base'], file, text);
  const seed = readWhole(root, 'seed', 0, MAX_SEED, `a whole number from 0 to ${MAX_SEED}`);
  const repetitions = readWhole(root, 'repetitions', 1, MAX_REPETITIONS, `an integer from 1 to ${MAX_REPETITIONS}`) ?? 1;
  const set = readSet(root['set'], at, locator(true));
  const groups = readAxes(root['axes'], at);
  const points = groups.reduce((n, g) => n * (g[0]?.values.length ?? 1), 1);
  if (points * repetitions > MAX_RUNS) {
    throw new SweepIssue(['axes'], `expected at most ${MAX_RUNS} runs, found ${points} points × ${repetitions} repetitions = ${points * repetitions}`);
  }
  return { file, name, description, base, seed, repetitions, set, groups };
}

/** `base`: a scenario file (a relative path is read from the sweep file's directory; an absolute one as it is) or an inline scenario. */
function readBase(baseValue: unknown, file: string, text: string): SweepBase {
  if (typeof baseValue === 'string' && baseValue !== '') {
    const path = isAbsolute(baseValue) ? baseValue : join(dirname(file), baseValue);
    if (!existsSync(path)) throw new SweepIssue(['base'], `no such scenario file: ${path}${isAbsolute(baseValue) ? '' : " (a relative path is read from the sweep file's directory)"}`);
    if (statSync(path).isDirectory()) throw new SweepIssue(['base'], `expected a scenario file, found the directory ${path}`);
    return { kind: 'file', path };
  }
  if (isMap(baseValue)) return { kind: 'inline', text };
  return expected(['base'], 'a scenario file path (relative to the sweep file) or an inline scenario map', baseValue);
}

/** A whole number from `min` to `max` at `key`, or undefined when absent. */
function readWhole(root: Record<string, unknown>, key: string, min: number, max: number, what: string): number | undefined {
  const v = root[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) expected([key], what, v);
  return v;
}

/** `set`: scenario values every run of the sweep gets, each located for messages. */
function readSet(setValue: unknown, at: Locator, atKey: Locator): SweepDefinition['set'] {
  const set: (LocatedValue & { path: string; segments: Path; pathLabel: string })[] = [];
  if (setValue === undefined || setValue === null) return set;
  if (!isMap(setValue)) expected(['set'], 'a map of scenario paths to values, e.g. { duration: 20ms }', setValue);
  for (const [key, value] of Object.entries(setValue)) {
    const segments = scenarioPath(key, ['set', key], true);
    set.push({ path: segments.join('.'), segments, value, label: at(['set', key]), pathLabel: atKey(['set', key]) });
  }
  return set;
}

/** `axes`: free axes, and zips of axes that advance together (as many values each); a scenario path is one axis at most. */
function readAxes(axesValue: unknown, at: Locator): AxisGroup[] {
  if (!Array.isArray(axesValue) || axesValue.length === 0) expected(['axes'], 'a list of axes ({ path, values } or { zip: [ … ] })', axesValue);
  const groups: AxisGroup[] = [];
  const seen = new Map<string, Path>();
  const claim = (axis: SweepAxis, where: Path): void => {
    const before = seen.get(axis.path);
    if (before !== undefined) throw new SweepIssue([...where, 'path'], `${axis.path} is already an axis (at ${formatPath(before)}); give each scenario path one axis`);
    seen.set(axis.path, where);
  };
  axesValue.forEach((item, i) => {
    const where: Path = ['axes', i];
    if (!(isMap(item) && 'zip' in item)) {
      const axis = readAxis(item, where, at);
      claim(axis, where);
      groups.push([axis]);
      return;
    }
    checkKeys(item, where, ['zip']);
    const zip = item['zip'];
    if (!Array.isArray(zip) || zip.length < 2) expected([...where, 'zip'], 'a list of at least 2 axes that advance together', zip);
    const group = zip.map((sub, j) => readAxis(sub, [...where, 'zip', j], at));
    const n = group[0]?.values.length ?? 0;
    group.forEach((axis, j) => {
      if (axis.values.length !== n) {
        throw new SweepIssue([...where, 'zip', j, 'values'], `expected ${n} values, as many as the first axis of this zip (${group[0]?.path ?? ''}), found ${axis.values.length}`);
      }
      claim(axis, [...where, 'zip', j]);
    });
    groups.push(group);
  });
  return groups;
}

function readText(map: Record<string, unknown>, key: string, fallback: string): string {
  const v = map[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string') expected([key], 'a string', v);
  return v;
}

/** A scenario path as `--set` takes it; `where` locates the text (a key when `atKey`). */
function scenarioPath(text: unknown, where: Path, atKey = false): Path {
  const segments = typeof text === 'string' ? parseScenarioPath(text) : undefined;
  if (segments === undefined || segments.length === 0) {
    if (atKey) throw new SweepIssue(where, `expected a scenario path such as topology.workers or traffic.0.rate, found ${describeValue(text)}`, true);
    expected(where, 'a scenario path such as topology.workers or traffic.0.rate', text);
  }
  const reserved = RESERVED_PATHS[String(segments[0])];
  if (reserved !== undefined && segments.length === 1) {
    throw new SweepIssue(where, `a sweep cannot set ${String(segments[0])}: ${reserved}`, atKey);
  }
  return segments;
}

function readAxis(item: unknown, where: Path, at: (p: Path) => string): SweepAxis {
  if (!isMap(item)) expected(where, 'an axis { path: <scenario path>, values: [ … ] or { from, to, step | times } }', item);
  checkKeys(item, where, AXIS_KEYS);
  const segments = scenarioPath(item['path'], [...where, 'path']);
  const path = segments.join('.');
  const raw = item['values'];
  const valuesPath: Path = [...where, 'values'];
  let values: LocatedValue[];
  if (Array.isArray(raw)) {
    if (raw.length === 0) expected(valuesPath, 'at least one value', raw);
    if (raw.length > MAX_AXIS_VALUES) expected(valuesPath, `at most ${MAX_AXIS_VALUES} values`, raw);
    values = raw.map((value, k) => ({ value, label: at([...valuesPath, k]) }));
  } else if (isMap(raw)) {
    const label = at(valuesPath);
    values = expandRange(raw, valuesPath).map((value) => ({ value, label }));
  } else {
    expected(valuesPath, 'a list of values or a range { from, to, step } / { from, to, times }', raw);
  }
  return { path, segments, pathLabel: at([...where, 'path']), values };
}

/** Round away binary-fraction noise (0.1 + 0.2) so that range values print as typed. */
function tidy(x: number): number {
  return Number(x.toPrecision(12));
}

/**
 * `{from, to, step}`: from, from + step, … up to `to` inclusive (step may be negative to count
 * down). `{from, to, times}`: from, from × times, … up to `to` (a geometric series).
 */
export function expandRange(range: Record<string, unknown>, where: Path): number[] {
  checkKeys(range, where, RANGE_KEYS);
  const num = (key: string): number => {
    const v = range[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) expected([...where, key], 'a number', v);
    return v;
  };
  const from = num('from');
  const to = num('to');
  const hasStep = range['step'] !== undefined;
  const hasTimes = range['times'] !== undefined;
  if (hasStep === hasTimes) {
    throw new SweepIssue(where, `expected exactly one of step (from, from + step, …) or times (from, from × times, …), found ${hasStep ? 'both' : 'neither'}`);
  }
  const out: number[] = [];
  if (hasStep) {
    const step = num('step');
    if (step === 0 || (to - from) / step < 0) expected([...where, 'step'], `a step that goes from ${from} towards ${to}`, step);
    // The small slack keeps `to` in when (to − from) / step is a whole number up to rounding.
    const n = Math.floor((to - from) / step + 1e-9) + 1;
    if (n > MAX_AXIS_VALUES) expected([...where, 'step'], `a step giving at most ${MAX_AXIS_VALUES} values`, step);
    for (let i = 0; i < n; i++) out.push(tidy(from + i * step));
  } else {
    const times = num('times');
    if (from === 0 || Math.sign(from) !== Math.sign(to)) expected([...where, 'from'], `a non-zero start with the same sign as to (${to}) for a geometric range`, from);
    const ratio = to / from;
    if (times <= 0 || times === 1 || (ratio > 1 && times < 1) || (ratio < 1 && times > 1)) {
      expected([...where, 'times'], `a positive factor other than 1 that goes from ${from} towards ${to}`, times);
    }
    const n = Math.floor(Math.log(ratio) / Math.log(times) + 1e-9) + 1;
    if (n > MAX_AXIS_VALUES) expected([...where, 'times'], `a factor giving at most ${MAX_AXIS_VALUES} values`, times);
    for (let i = 0; i < n; i++) out.push(tidy(from * times ** i));
  }
  return out;
}
