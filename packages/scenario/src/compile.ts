// Scenario compiler: YAML text → overrides → validation with located errors → defaults → frozen CompiledScenario.
import { readFileSync } from 'node:fs';
import { basename, dirname, extname } from 'node:path';
import { SplitnetError, type Nanos } from '@splitnet/model';
import { stringify } from 'yaml';
import { readCosts, resolveProfileMap } from './cost-profile.js';
import { readTx } from './tx.js';
import { Field, isPlainMap, readDuration, readEnum, readInt, readMap, readString } from './field.js';
import { buildFlowTable } from './flow-table.js';
import { formatPath, ScenarioIssue, type Path } from './issue.js';
import { readLive } from './live.js';
import { applyOverrides, overrideAt, parseOverride, type Override, type OverrideOwnership } from './overrides.js';
import { readCoalescing } from './coalescing.js';
import { readFaults, sendersOf } from './faults.js';
import { readNetback } from './netback.js';
import { readTopology } from './topology.js';
import { readTraffic } from './traffic.js';
import { compileCluster, isCluster } from './hosts.js';
import { MAX_SEED, RUNTIMES, SCENARIO_SPEC } from './scenario-spec.js';

export { MAX_SEED };
import type { CompiledScenario, CostProfile } from './types.js';
import { formatDuration } from './units.js';
import { parseYamlSource, type YamlSource } from './yaml-source.js';

export interface CompileOptions {
  /** `path=value` strings from `--set`, applied in order before validation. */
  readonly overrides?: readonly string[];
  /** `--seed`: replaces the scenario's seed. */
  readonly seed?: number;
  /** `--duration`: replaces the scenario's duration (warm-up and sample interval defaults follow it). */
  readonly duration?: string;
  /**
   * Values set by a tool rather than typed as `--set` (a sweep's axes), applied after `overrides`:
   * a problem in one is reported against its `label` (e.g. `sweep.yaml:12:9`).
   */
  readonly values?: readonly ScenarioValue[];
  /**
   * The scenario is the node at this path of the document rather than the whole document (a
   * sweep file's inline `base:`); locations still point into the whole text.
   */
  readonly within?: Path;
}

/** One value a tool sets in a scenario: `path` as `--set` writes it (`traffic.0.rate`). */
export interface ScenarioValue {
  readonly label: string;
  /** Names it instead of `label` when a key on its path is unknown (where the path was written). */
  readonly pathLabel?: string;
  readonly path: Path;
  readonly value: unknown;
}

/** Bounds the metrics time series. */
const MAX_SAMPLES = 100_000;
const K = SCENARIO_SPEC.keys;

/** Read, parse, validate and compile a scenario file. A file that cannot be read is E_FILE. */
export function loadScenarioFile(path: string, opts: CompileOptions = {}): CompiledScenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a scenario file' : 'cannot be read';
    throw new SplitnetError('E_FILE', `${path}: ${why}`, { cause: err });
  }
  // An empty file would run with every default: more likely the wrong file, or one not saved yet.
  if (parseYamlSource(text, path).value === null) {
    throw new SplitnetError(
      'E_SCENARIO',
      `${path}: the scenario file is empty (no settings, only whitespace or comments); write at least one setting such as "name: my-run", or "{}" to run with every default (docs/scenario-reference.md)`,
    );
  }
  return compileScenarioText(text, path, opts);
}

/**
 * Compile scenario text. `source` names it in messages (a path, or `<inline>`); a relative cost
 * profile path is looked up next to it.
 */
export function compileScenarioText(text: string, source: string, opts: CompileOptions = {}): CompiledScenario {
  const overrides = optionOverrides(opts);
  const whole = parseYamlSource(text, source);
  const yaml = opts.within === undefined ? whole : subSource(whole, opts.within);
  const { value, owned } = applyOverrides(yaml.value, overrides);
  try {
    return compileValue(value, source);
  } catch (err) {
    throw locate(err, yaml, owned);
  }
}

/** The node at `at` of a parsed document, seen as a document of its own. */
function subSource(whole: YamlSource, at: Path): YamlSource {
  let value: unknown = whole.value;
  for (const segment of at) value = isPlainMap(value) || Array.isArray(value) ? (value as Record<string, unknown>)[segment] : undefined;
  return { name: whole.name, value, locate: (path, atKey) => whole.locate([...at, ...path], atKey) };
}

/** `--set`, tool-set values, `--seed` and `--duration` as overrides, in that order so that the dedicated flags win. */
function optionOverrides(opts: CompileOptions): Override[] {
  const out = (opts.overrides ?? []).map(parseOverride);
  for (const v of opts.values ?? [])
    out.push({ label: v.label, path: v.path, value: v.value, ...(v.pathLabel !== undefined ? { pathLabel: v.pathLabel } : {}) });
  if (opts.seed !== undefined) out.push({ label: `--seed ${opts.seed}`, path: ['seed'], value: opts.seed });
  if (opts.duration !== undefined) out.push({ label: `--duration ${opts.duration}`, path: ['duration'], value: opts.duration });
  return out;
}

/** A ScenarioIssue becomes one line: `<file>:<line>:<col>: <path>: <detail>`, or `--set …: <path>: <detail>`. */
function locate(err: unknown, yaml: YamlSource, overrides: readonly OverrideOwnership[]): unknown {
  if (!(err instanceof ScenarioIssue)) return err;
  const override = overrideAt(err.path, overrides);
  let where: string;
  if (override !== undefined) {
    where = err.atKey && override.pathLabel !== undefined ? override.pathLabel : override.label;
  } else {
    const { line, col } = yaml.locate(err.path, err.atKey);
    where = `${yaml.name}:${line}:${col}`;
  }
  const path = formatPath(err.shownPath);
  // A cross-field rule may be broken by a --set elsewhere: say so, or the file looks fine to its reader.
  const cause = override === undefined ? err.related.map((p) => overrideAt(p, overrides)).find((o) => o !== undefined) : undefined;
  const via = cause === undefined ? '' : ` (with ${cause.label})`;
  return new SplitnetError('E_SCENARIO', `${where}: ${path === '' ? '' : `${path}: `}${err.detail}${via}`, { cause: err });
}

function defaultName(source: string): string {
  const base = basename(source, extname(source)).replace(/^<(.*)>$/, '$1');
  return base === '' ? 'scenario' : base;
}

/** The directory relative cost-profile paths are found from. */
function baseDirOf(source: string): string {
  return /^<.*>$/.test(source) ? '.' : dirname(source);
}

/** 1, 2 or 5 × 10^k ns, the largest not above `ns`: sample intervals people can read off a plot axis. */
function niceInterval(ns: number): Nanos {
  if (ns < 1) return 1;
  const decade = 10 ** Math.floor(Math.log10(ns));
  for (const m of [5, 2, 1]) if (m * decade <= ns) return m * decade;
  return decade;
}

// Long on purpose: the top-level keys in the order the schema lists them, each section read by its own module;
// the order is the order errors are found in.
// eslint-disable-next-line max-lines-per-function -- the top-level keys in schema order (see above)
function compileValue(value: unknown, source: string): CompiledScenario {
  if (isCluster(value)) return deepFreeze(compileCluster(value as Record<string, unknown>, (v) => compileValue(v, source)));
  const root = new Field(value, []);
  const map = readMap(root, SCENARIO_SPEC, 'a map of scenario settings (name, duration, topology, traffic, …)');

  const name = readString(map.get('name'), defaultName(source));
  if (name === '') map.get('name').expected('a non-empty name');
  const description = readString(map.get('description'), K.description.default);
  const seed = readInt(map.get('seed'), K.seed.default, K.seed);

  const durationField = map.get('duration');
  const duration = readDuration(durationField, K.duration.default, K.duration.min);
  if (duration > K.duration.max) durationField.expected(`a duration up to ${formatDuration(K.duration.max)}`);
  const warmupField = map.get('warmup');
  // Start-up transients (rings filling, adaptive policies settling) are excluded from the summary by default.
  const warmup = readDuration(warmupField, Math.floor(duration / 10), K.warmup.min);
  if (warmup >= duration) {
    warmupField.expected(`a warm-up shorter than the duration (${formatDuration(duration)})`, '', [durationField.path]);
  }
  const sampleField = map.get('sampleInterval');
  const sampleInterval = readDuration(sampleField, niceInterval(duration / 100), K.sampleInterval.min);
  if (sampleInterval > duration) {
    sampleField.expected(`at most the duration (${formatDuration(duration)})`, '', [durationField.path]);
  }
  if (duration / sampleInterval > MAX_SAMPLES) {
    const least = Math.ceil(duration / MAX_SAMPLES);
    sampleField.expected(`at least ${formatDuration(least)} (at most ${MAX_SAMPLES} samples per run)`, '', [durationField.path]);
  }

  const runtimeField = map.get('runtime');
  const runtime = readEnum(runtimeField, K.runtime.default, RUNTIMES);
  const live = readLive(map.get('live'));

  const topology = readTopology(map.get('topology'), seed);
  const generators = readTraffic(map.get('traffic'), {
    vmCount: topology.compiled.vms.length,
    vmCountPath: ['topology', 'vms', 'count'],
    duration,
    durationPath: durationField.path,
    linkBitsPerSecond: topology.linkBitsPerSecond,
    seed,
  });
  const flows = buildFlowTable(generators, seed);
  const coalescing = readCoalescing(map.get('coalescing'));
  const napiMap = readMap(map.get('napi'), K.napi);
  const budget = readInt(napiMap.get('budget'), K.napi.keys.budget.default, K.napi.keys.budget);
  const profile = readCosts(map.get('costs'), baseDirOf(source));
  // A closed-loop flow's guest end sends too: its ACKs (and responses) take the transmit path.
  const sends = generators.some((g) => g.sender !== null || g.spec.closedLoop !== undefined);
  const tx = readGuestTx(map.get('tx'), sends, profile, map.get('costs'));
  // A receive-only scenario carries no transmit costs, so that it compiles (and resolves) as it always did.
  const costs: CostProfile = sends || profile.tx === undefined ? profile : withoutTx(profile);
  const faults = readFaults(map.get('faults'), {
    duration,
    workers: topology.compiled.workers,
    vmQueues: topology.compiled.vms.map((v) => v.queues),
    senders: sendersOf(generators),
    closedLoop: generators.some((g) => g.spec.closedLoop !== undefined),
    runtime,
    perDomain: live.compiled.processes === 'per-domain',
  });
  const dom0 = topology.compiled.dom0;
  const netback = readNetback(map.get('netback'), topology.compiled.vms[0]?.ringSize ?? 256, dom0.vcpus !== null, topology.dom0VcpusPath);
  if (tx !== null && netback.threading === 'tasklet') {
    // The 2010 netback ran its transmit side in a tasklet too, grant-copying every frame (no mapping, no dealloc
    // thread); the model's transmit path is today's netback (TX NAPI, grant map, dealloc thread).
    new Field(netback.threading, ['netback', 'threading']).fail(
      "expected kthread or kthread-rt with a guest that sends: the tasklet netback's transmit side (a TX tasklet that grant-copies every frame) is not modelled, found tasklet",
      [topology.dom0VcpusPath],
    );
  }
  if (dom0.vcpus !== null && runtime === 'live' && live.compiled.processes === 'per-actor') {
    // The vCPUs are objects the driver domain's actors share: they must live in one process.
    new Field(dom0.vcpus, [...topology.dom0VcpusPath]).fail(
      `expected "dedicated" in a live run with one process per actor (live.processes: per-actor): shared dom0 vCPUs need the driver domain's actors in one process, found ${dom0.vcpus} vCPUs; set live.processes: per-domain (--processes per-domain)`,
      [runtimeField.path, ['live', 'processes']],
    );
  }

  const resolved = {
    name,
    description,
    seed,
    duration: formatDuration(duration),
    warmup: formatDuration(warmup),
    sampleInterval: formatDuration(sampleInterval),
    runtime,
    live: live.resolved,
    topology: topology.resolved,
    traffic: generators.map((g) => g.resolved),
    coalescing: coalescing.resolved,
    napi: { budget },
    costs: resolveProfileMap(costs, sends),
    netback: {
      rxQueueBytes: netback.rxQueueBytes,
      qdisc: netback.qdisc,
      rxStallTimeout: formatDuration(netback.rxStallTimeout),
      stallKick: netback.stallKick,
      threading: netback.threading,
    },
    ...(tx === null ? {} : { tx: tx.resolved }),
    ...(faults.compiled.length > 0 ? { faults: faults.resolved } : {}),
  };
  const compiled: CompiledScenario = {
    source,
    name,
    description,
    seed,
    duration,
    warmup,
    sampleInterval,
    runtime,
    live: live.compiled,
    topology: topology.compiled,
    traffic: { generators: generators.map((g) => g.spec), flows },
    coalescing: coalescing.compiled,
    napi: { budget },
    costs,
    netback,
    tx: tx?.compiled ?? null,
    faults: faults.compiled,
    resolved,
  };
  return deepFreeze(compiled);
}

/** The profile without its transmit-path section. */
function withoutTx(profile: CostProfile): CostProfile {
  const { tx: _tx, ...rest } = profile;
  return rest;
}

/**
 * The `tx` section when a guest sends (null otherwise: a `tx` section without a sending guest is a mistake worth
 * naming). A guest that sends needs the profile's transmit costs; the faults section refuses the actions not
 * modelled with it.
 */
function readGuestTx(field: Field, sends: boolean, profile: CostProfile, costsField: Field): ReturnType<typeof readTx> | null {
  if (!sends) {
    if (!field.absent) field.expected('no tx section', ' (no generator sends from a guest: give one from: vm.<index>)');
    return null;
  }
  if (profile.tx === undefined) {
    costsField.expected(`a cost profile with a tx section (profile ${JSON.stringify(profile.name)} has none, and a generator sends from a guest)`);
  }
  return readTx(field);
}

function deepFreeze<T>(value: T): T {
  if (ArrayBuffer.isView(value)) return value; // typed arrays cannot be frozen (the flow tables and routes are read-only by convention)
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * The resolved scenario as YAML, ready to save next to results as `scenario.resolved.yaml`;
 * compiling it gives the same scenario.
 */
export function formatResolvedYaml(scenario: CompiledScenario): string {
  const header = `# ${scenario.name}: resolved from ${scenario.source} with every default filled in.\n# Compiling this file reproduces the same run.\n`;
  return header + stringify(scenario.resolved, { lineWidth: 0, flowCollectionPadding: false });
}
