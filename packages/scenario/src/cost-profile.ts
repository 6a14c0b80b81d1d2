// Cost profiles: the emulated CPU cost of each datapath step, loaded from named YAML files or paths, validated, and overridden per scenario.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, extname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SplitnetError } from '@splitnet/model';
import { isPlainMap, readMap, readNumber, readString, Field, type MapField } from './field.js';
import { keysOf, map, number, oneOf, string, type MapSpec } from './spec.js';
import { ScenarioIssue, formatPath } from './issue.js';
import { didYouMean } from './suggest.js';
import type { CostProfile } from './types.js';
import { parseYamlSource, type YamlSource } from './yaml-source.js';

const PROFILES_DIR = profilesDir();

/**
 * packages/scenario/profiles/: from dist/src/cost-profile.js (and from src/ under a TS loader) two levels up; bundled
 * into the actor processes' entry (packages/cli/src/actor-entry.ts), where this module is not in its package, found
 * as Node finds the package.
 */
function profilesDir(): string {
  const own = fileURLToPath(new URL('../../profiles/', import.meta.url));
  return existsSync(own) ? own : fileURLToPath(new URL('profiles/', import.meta.resolve('@splitnet/scenario/package.json')));
}

export const DEFAULT_PROFILE = 'default';

/** A second of CPU per packet is no longer a cost model; it is a typo. */
const MAX_COST_NS = 1e9;
const COST = number({ min: 0, max: MAX_COST_NS, unit: 'ns' });

function cost(description: string): typeof COST & { readonly description: string } {
  return { ...COST, description: `${description} (ns).` };
}

/** Every number a profile holds, section by section; `link` is a top-level number. */
const SECTIONS = {
  nic: map({ irq: cost("Physical interrupt on the driver domain's core") }, { description: 'The NIC driver in the driver domain.' }),
  backend: map(
    {
      perBatch: cost('Driver NAPI poll per DMA batch'),
      perPacket: cost('Driver receive, bridge demux and transmit onto the VIF per packet'),
      toeplitz: cost("netback's Toeplitz hash per packet, with steering: toeplitz"),
    },
    { description: "netback's dispatch in the driver domain." },
  ),
  worker: map(
    {
      perPass: cost('One netback RX pass: thread wake-up and set-up'),
      perFlush: cost('One grant-copy flush: the hypercall for up to 64 copy ops, and the push'),
      perPacket: cost('Per packet: dequeue, its first grant-copy op and its response'),
      perCopyOp: cost('Each further grant-copy op of a frame (a chunk across a page boundary)'),
      perByte: cost('Grant copy per byte'),
      notify: cost('Event-channel notify hypercall'),
      timer: cost('Driver-domain timer interrupt (back-end coalescing)'),
    },
    { description: 'A netback (vRSS) worker thread.' },
  ),
  frontend: map(
    {
      virq: cost("Virtual interrupt delivery, with the guest's handler"),
      pollOverhead: cost('One NAPI poll'),
      perPacket: cost('Guest stack and application per packet'),
      perByte: cost('Guest per byte'),
      refillPerPacket: cost('Re-posting one RX buffer'),
      timerTick: cost('A guest timer tick that polls (front-end coalescing)'),
      notify: cost('Notify hypercall to wake netback for new RX requests'),
      wakeup: cost("Latency before an upcall runs on a guest vCPU that had blocked (Xen's wake-up of a blocked vCPU; with topology.vms.blockAfter)"),
    },
    { description: "The guest's netfront." },
  ),
  dom0: map(
    {
      contextSwitch: cost('CPU time of switching a dom0 vCPU to a kernel thread (a netback worker, ksoftirqd)'),
      wakeup: cost('Latency before work runs on a dom0 vCPU that was idle, hence blocked in Xen'),
    },
    { description: "The driver domain's scheduled vCPUs (topology.dom0.vcpus; unused with dedicated cores)." },
  ),
  tx: map(
    {
      guestPerPacket: cost("Guest: the application's send and the stack down to xennet_start_xmit, per frame"),
      guestPerByte: cost("Guest: the send's copy from user space, per byte"),
      guestPerSlot: cost('Guest: xennet_start_xmit per ring slot (a grant reference and a TX request)'),
      guestGcPerSlot: cost('Guest: xennet_tx_buf_gc per TX response (end the grant, free the skb)'),
      netbackPerPoll: cost('netback: one TX NAPI poll (the grant-copy and grant-map hypercalls of a batch)'),
      netbackPerPacket: cost('netback: per frame, building and submitting it, and the bridge forwarding it to the NIC'),
      netbackPerMappedSlot: cost('netback: per grant-mapped slot'),
      deallocPerBatch: cost('netback dealloc: one pass (wake-up, the unmap hypercall)'),
      deallocPerSlot: cost('netback dealloc: per slot unmapped and answered'),
      nicCleanPerPacket: cost('NIC driver: per frame cleaned after a TX-completion interrupt'),
      nicDma: cost("NIC: from the descriptor tail write to the frame's first bit on the wire (a latency, not CPU)"),
    },
    { description: 'The transmit path (guests that send); optional in a profile, required when a guest sends.' },
  ),
} as const;
type Section = keyof typeof SECTIONS;
const SECTION_NAMES = Object.keys(SECTIONS) as Section[];
const LINK_COST = cost('One-way message delay between actors on a host');

/** Every key of a map required: a profile file is complete. */
function complete(spec: MapSpec): MapSpec {
  return { ...spec, required: keysOf(spec) };
}

/** A complete profile: a profile file, or the inline form a resolved scenario holds. */
const PROFILE_SPEC = map(
  {
    name: string({ nonEmpty: true, description: "The profile's name (default: the file name)." }),
    description: string({ description: 'What the profile models.' }),
    nic: complete(SECTIONS.nic),
    backend: complete(SECTIONS.backend),
    worker: complete(SECTIONS.worker),
    frontend: complete(SECTIONS.frontend),
    dom0: complete(SECTIONS.dom0),
    tx: complete(SECTIONS.tx),
    link: LINK_COST,
  },
  {
    required: [...SECTION_NAMES.filter((s) => s !== 'tx'), 'link'],
    description: 'A complete cost profile written inline (what scenario.resolved.yaml holds).',
  },
);

/** Some numbers of a profile, replacing the base's. */
const OVERRIDE_SPEC = map({ ...SECTIONS, link: LINK_COST }, { description: "Numbers replacing the base profile's (any subset)." });

const REFERENCE_SPEC = map(
  {
    profile: string({
      nonEmpty: true,
      suggestions: () => builtInNames(),
      description: 'A built-in profile name, or a path to a profile file relative to this scenario (default: default).',
    }),
    override: OVERRIDE_SPEC,
  },
  { minKeys: 1, description: 'A profile with some of its numbers replaced.' },
);

export const COSTS_SPEC = oneOf({
  variants: [
    string({
      nonEmpty: true,
      suggestions: () => builtInNames(),
      description: 'A built-in profile name, or a path to a profile file relative to this scenario.',
    }),
    REFERENCE_SPEC,
    PROFILE_SPEC,
  ],
  default: DEFAULT_PROFILE,
  description: 'Emulated CPU costs: a profile name or path, { profile, override }, or a complete profile inline.',
});

export interface ProfileInfo {
  /** What a scenario writes after `costs:`. */
  readonly name: string;
  readonly description: string;
  readonly path: string;
}

/** The built-in profiles, sorted by name. */
export function listProfiles(): readonly ProfileInfo[] {
  return builtInNames().map((name) => {
    const path = resolve(PROFILES_DIR, `${name}.yaml`);
    const source = parseYamlSource(readFileSync(path, 'utf8'), path);
    const description = isPlainMap(source.value) && typeof source.value['description'] === 'string' ? source.value['description'] : '';
    return { name, description, path };
  });
}

function builtInNames(): string[] {
  if (!existsSync(PROFILES_DIR)) return [];
  return readdirSync(PROFILES_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

/** A path rather than a name: it has a directory part or a YAML extension. */
function looksLikePath(text: string): boolean {
  return /[\\/]/.test(text) || /\.ya?ml$/i.test(text);
}

/**
 * A built-in profile by name, or a profile file by path (relative paths against `baseDir`,
 * default the current directory). Unknown names are E_USAGE, missing files E_FILE, invalid
 * contents E_SCENARIO located in the profile file.
 */
export function loadCostProfile(nameOrPath: string, baseDir = '.'): CostProfile {
  const path = resolveProfile(nameOrPath, baseDir);
  if (typeof path !== 'string') throw new SplitnetError('E_USAGE', path.problem);
  return loadProfileFile(path, looksLikePath(nameOrPath) ? nameOrPath : path);
}

/** The file a name or path refers to, or why there is none. */
function resolveProfile(nameOrPath: string, baseDir: string): string | { problem: string } {
  if (looksLikePath(nameOrPath)) return isAbsolute(nameOrPath) ? nameOrPath : resolve(baseDir, nameOrPath);
  const names = builtInNames();
  if (names.includes(nameOrPath)) return resolve(PROFILES_DIR, `${nameOrPath}.yaml`);
  return {
    problem: `unknown cost profile ${JSON.stringify(nameOrPath)} (built-in profiles: ${names.join(', ')}${didYouMean(nameOrPath, names)}; or give a path to a .yaml file)`,
  };
}

function loadProfileFile(path: string, shownAs: string): CostProfile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SplitnetError('E_FILE', `${shownAs}: no such file`, { cause: err });
  }
  const source = parseYamlSource(text, shownAs);
  const fallbackName = basename(path, extname(path));
  try {
    return readProfile(new Field(source.value, []), undefined, fallbackName);
  } catch (err) {
    throw locatedIssue(err, source);
  }
}

/** Turn a ScenarioIssue into a one-line `file:line:col: path: …` SplitnetError (anything else passes through). */
export function locatedIssue(err: unknown, source: YamlSource): unknown {
  if (!(err instanceof ScenarioIssue)) return err;
  const { line, col } = source.locate(err.path, err.atKey);
  const path = formatPath(err.shownPath);
  return new SplitnetError('E_SCENARIO', `${source.name}:${line}:${col}: ${path === '' ? '' : `${path}: `}${err.detail}`, { cause: err });
}

/**
 * Read a profile map. With no `base` every number is required (a profile file is complete);
 * with a base, given numbers replace the base's (a scenario's `override:`).
 */
export function readProfile(field: Field, base: CostProfile | undefined, fallbackName: string): CostProfile {
  const map = readMap(field, base === undefined ? PROFILE_SPEC : OVERRIDE_SPEC, base === undefined ? 'a cost profile map' : 'a map of costs to override');
  if (base === undefined && field.absent) field.expected('a cost profile map');
  const nameField = map.get('name');
  const name = base?.name ?? readString(nameField, fallbackName);
  if (name === '') nameField.expected('a non-empty profile name');
  if (base === undefined) readString(map.get('description'), '');
  const number = (f: Field, baseValue: number | undefined): number => {
    if (f.absent && baseValue === undefined) f.expected('a cost in ns (a number ≥ 0)');
    return readNumber(f, baseValue ?? 0, COST);
  };
  const section = <S extends Section>(s: S): Record<keyof (typeof SECTIONS)[S]['keys'], number> => {
    const sectionField = map.get(s);
    const keys = keysOf(SECTIONS[s]);
    if (base === undefined && sectionField.absent) sectionField.expected(`a map of ${keys.join(', ')}`);
    const sectionMap: MapField = readMap(sectionField, keys);
    const out: Record<string, number> = {};
    const baseSection = base?.[s] as Readonly<Record<string, number>> | undefined;
    for (const key of keys) out[key] = number(sectionMap.get(key), baseSection?.[key]);
    return out as Record<keyof (typeof SECTIONS)[S]['keys'], number>;
  };
  // The transmit path's section is optional: a receive-only profile need not have it.
  const hasTx = !map.get('tx').absent || base?.tx !== undefined;
  return {
    name,
    nic: section('nic'),
    backend: section('backend'),
    worker: section('worker'),
    frontend: section('frontend'),
    dom0: section('dom0'),
    link: number(map.get('link'), base?.link),
    ...(hasTx ? { tx: section('tx') } : {}),
  };
}

/**
 * The profile written out in full, the form the resolved scenario uses so that it needs no file. The transmit
 * path's costs are written only when `withTx` (a guest sends), so a receive-only scenario resolves as before.
 */
export function resolveProfileMap(profile: CostProfile, withTx = false): Record<string, unknown> {
  return {
    name: profile.name,
    nic: { ...profile.nic },
    backend: { ...profile.backend },
    worker: { ...profile.worker },
    frontend: { ...profile.frontend },
    dom0: { ...profile.dom0 },
    link: profile.link,
    ...(withTx && profile.tx !== undefined ? { tx: { ...profile.tx } } : {}),
  };
}

/**
 * The scenario's `costs`: a profile name or path (relative to the scenario's directory), or
 * `{ profile: <name or path>, override: { … } }`, or a complete profile written inline (what the
 * resolved scenario contains).
 */
export function readCosts(field: Field, baseDir: string): CostProfile {
  if (field.absent) return loadCostProfile(DEFAULT_PROFILE);
  if (typeof field.value === 'string') return loadReferenced(field, baseDir);
  const what = 'a profile name, a path to a profile file, or { profile: <name or path>, override: { … } }';
  if (!isPlainMap(field.value)) field.expected(what);
  const keys = Object.keys(field.value);
  const isReference = keys.includes('profile') || keys.includes('override');
  if (!isReference) {
    // Spelling is checked against both forms so that `profil:` suggests `profile`.
    readMap(field, [...keysOf(PROFILE_SPEC), ...keysOf(REFERENCE_SPEC)], what);
    return readProfile(field, undefined, 'inline');
  }
  const map = readMap(field, REFERENCE_SPEC, what);
  const profileField = map.get('profile');
  const base = profileField.absent ? loadCostProfile(DEFAULT_PROFILE) : loadReferenced(profileField, baseDir);
  return readProfile(map.get('override'), base, base.name);
}

function loadReferenced(field: Field, baseDir: string): CostProfile {
  if (typeof field.value !== 'string' || field.value === '') field.expected('a profile name or a path to a profile file');
  const found = resolveProfile(field.value, baseDir);
  const names = builtInNames();
  if (typeof found !== 'string') {
    field.expected(`a built-in profile (${names.join(', ')}) or a path to a .yaml file`, ` (no such profile${didYouMean(field.value, names)})`);
  }
  if (!existsSync(found)) field.expected(`a built-in profile (${names.join(', ')}) or a path to a .yaml file`, ` (no such file: ${found})`);
  // Messages about the profile's contents name it as written when that also finds it from the current directory.
  const shown = looksLikePath(field.value) && resolve(field.value) === found ? field.value : found;
  return loadProfileFile(found, shown);
}
