// Command-line overrides (`--set topology.workers=2`, `--seed`, `--duration`) applied to the parsed scenario before validation.
import { SplitnetError } from '@splitnet/model';
import { isPlainMap } from './field.js';
import { describeValue, formatPath, type Path, type PathSegment } from './issue.js';
import { parseYamlValue } from './yaml-source.js';

export interface Override {
  /** How messages name it: `--set topology.workers=2`. */
  readonly label: string;
  /** How messages name it when a key on its path is wrong (unknown): a sweep points at the path it wrote, not the value. */
  readonly pathLabel?: string;
  readonly path: Path;
  readonly value: unknown;
}

const SEGMENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * `path=value`, the path dotted with list indexes as numbers or in brackets
 * (`traffic.0.rate`, `traffic[0].rate`), the value read as YAML (`5Gbps`, `2`, `{policy: static, usecs: 50}`).
 */
export function parseOverride(text: string): Override {
  const label = `--set ${text}`;
  const eq = text.indexOf('=');
  if (eq <= 0) throw new SplitnetError('E_USAGE', `${label}: expected path=value, e.g. --set topology.workers=2`);
  const path = parseScenarioPath(text.slice(0, eq));
  if (path === undefined) throw new SplitnetError('E_USAGE', `${label}: expected a dotted path such as topology.vms.count or traffic.0.rate before "="`);
  const parsed = parseYamlValue(text.slice(eq + 1));
  if ('problem' in parsed) throw new SplitnetError('E_USAGE', `${label}: the value is not valid YAML: ${parsed.problem}`);
  return { label, path, value: parsed.value };
}

/** `traffic.0.rate` or `traffic[0].rate` → ['traffic', 0, 'rate']; undefined if it is not such a path. */
export function parseScenarioPath(text: string): Path | undefined {
  const path: PathSegment[] = [];
  for (const raw of text
    .trim()
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')) {
    if (/^\d+$/.test(raw)) path.push(Number(raw));
    else if (SEGMENT.test(raw)) path.push(raw);
    else return undefined;
  }
  return path;
}

/** The part of the scenario an override wrote: problems found inside it are reported as the override's. */
export interface OverrideOwnership {
  readonly override: Override;
  /** The override's path, or the shallowest map or list on it that the override had to create. */
  readonly owns: Path;
}

/**
 * The scenario with every override applied in order; the input is not modified. Missing maps on
 * the way are created; a list index may point at an existing item or one past the end (to add one).
 */
export function applyOverrides(root: unknown, overrides: readonly Override[]): { value: unknown; owned: OverrideOwnership[] } {
  let value = root;
  const owned: OverrideOwnership[] = [];
  for (const o of overrides) {
    const created = { depth: o.path.length };
    value = setIn(value, o.path, 0, o, created);
    owned.push({ override: o, owns: o.path.slice(0, created.depth) });
  }
  return { value, owned };
}

function setIn(node: unknown, path: Path, depth: number, o: Override, created: { depth: number }): unknown {
  if (depth === path.length) return o.value;
  const segment = path[depth] as PathSegment;
  const here = formatPath(path.slice(0, depth)) || 'the scenario';
  if (node === undefined || node === null) {
    created.depth = Math.min(created.depth, depth);
    // Nothing there yet: a list if the override indexes it from 0, otherwise a map.
    if (typeof segment === 'number') {
      if (segment !== 0) throw new SplitnetError('E_USAGE', `${o.label}: ${here} is empty; use index 0 to add its first item`);
      return [setIn(undefined, path, depth + 1, o, created)];
    }
    const fresh: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    fresh[segment] = setIn(undefined, path, depth + 1, o, created);
    return fresh;
  }
  if (Array.isArray(node)) {
    if (typeof segment !== 'number') {
      throw new SplitnetError('E_USAGE', `${o.label}: ${here} is a list; index it with a number, e.g. ${formatPath(path.slice(0, depth))}.0.${segment}`);
    }
    if (segment > node.length) {
      throw new SplitnetError('E_USAGE', `${o.label}: ${here} has ${node.length} item${node.length === 1 ? '' : 's'}; use an index from 0 to ${node.length}`);
    }
    const copy = [...(node as unknown[])];
    copy[segment] = setIn(node[segment], path, depth + 1, o, created);
    return copy;
  }
  if (isPlainMap(node)) {
    const copy: Record<string, unknown> = Object.assign(Object.create(null) as Record<string, unknown>, node);
    const key = String(segment);
    copy[key] = setIn(Object.hasOwn(node, key) ? node[key] : undefined, path, depth + 1, o, created);
    return copy;
  }
  throw new SplitnetError('E_USAGE', `${o.label}: ${here} is ${describeValue(node)}, not a map; set it as a whole instead`);
}

/** The last override that wrote `path` or one of its ancestors: a problem there is the override's. */
export function overrideAt(path: Path, owned: readonly OverrideOwnership[]): Override | undefined {
  for (let i = owned.length - 1; i >= 0; i--) {
    const { override, owns } = owned[i] as OverrideOwnership;
    if (owns.length <= path.length && owns.every((s, k) => String(s) === String(path[k]))) return override;
  }
  return undefined;
}
