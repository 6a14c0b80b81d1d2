// A parsed YAML file: its plain value for validation, and the map from a path inside it back to line:column.
import { SplitnetError } from '@splitnet/model';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Path } from './issue.js';

export interface Position {
  readonly line: number;
  readonly col: number;
}

export interface YamlSource {
  /** Where the text came from, as the user named it. */
  readonly name: string;
  /** The document as plain data: maps are null-prototype records, lists arrays, scalars as YAML 1.2 core types. */
  readonly value: unknown;
  /** Line and column (1-based) of the node at `path`, or of its nearest ancestor that exists. */
  locate(path: Path, atKey: boolean): Position;
}

/**
 * Parse `text`. Invalid YAML throws `SplitnetError('E_SCENARIO', '<name>:<line>:<col>: invalid
 * YAML: <reason>')`, one line, for the first syntax error.
 */
export function parseYamlSource(text: string, name: string): YamlSource {
  const lineCounter = new LineCounter();
  // prettyErrors off: yaml would append a multi-line excerpt to the message; we print our own location.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, keepSourceTokens: false });
  const where = (offset: number): string => {
    const { line, col } = lineCounter.linePos(offset);
    return `${name}:${line}:${col}`;
  };
  const first = doc.errors[0];
  if (first !== undefined) {
    // yaml's own wording for this one points at its API; say what it means for a scenario file.
    const reason = first.code === 'MULTIPLE_DOCS' ? 'a scenario is one YAML document, but a second one starts here (---)' : oneLine(first.message);
    throw new SplitnetError('E_SCENARIO', `${where(first.pos[0])}: invalid YAML: ${reason}`, { cause: first });
  }
  const value = toPlain(doc.contents, doc, new Set(), where);
  return {
    name,
    value,
    locate(path: Path, atKey: boolean): Position {
      const node = find(doc, path, atKey);
      const offset = node?.range?.[0] ?? 0;
      return lineCounter.linePos(offset);
    },
  };
}

function oneLine(message: string): string {
  return message.replace(/\s*\n[\s\S]*$/, '').trim();
}

/**
 * Plain data from a node. Written out rather than `doc.toJS()` so that problems yaml accepts but
 * a scenario cannot mean (a list used as a key, an alias to an anchor that does not exist) get a
 * location too, and so that a key named `__proto__` is just a key.
 */
function toPlain(node: unknown, doc: Document, visiting: Set<unknown>, where: (offset: number) => string): unknown {
  if (node === null || node === undefined) return null;
  const at = (n: { range?: [number, number, number] | null | undefined }): string => where(n.range?.[0] ?? 0);
  if (isAlias(node)) {
    const target = node.resolve(doc);
    if (target === undefined) {
      throw new SplitnetError('E_SCENARIO', `${at(node)}: invalid YAML: alias *${node.source} has no anchor &${node.source} before it`);
    }
    if (visiting.has(target)) {
      throw new SplitnetError('E_SCENARIO', `${at(node)}: invalid YAML: alias *${node.source} refers to a node that contains it`);
    }
    return toPlain(target, doc, visiting, where);
  }
  if (isScalar(node)) {
    return node.value;
  }
  if (isSeq(node)) {
    visiting.add(node);
    const out = node.items.map((item) => toPlain(item, doc, visiting, where));
    visiting.delete(node);
    return out;
  }
  if (isMap(node)) {
    visiting.add(node);
    const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const pair of node.items) {
      const key = isAlias(pair.key) ? pair.key.resolve(doc) : pair.key;
      if (!isScalar(key)) {
        const n = (isAlias(pair.key) || isScalar(pair.key) || isMap(pair.key) || isSeq(pair.key) ? pair.key : node) as Node;
        throw new SplitnetError('E_SCENARIO', `${at(n)}: invalid YAML: expected a plain key, found a ${isSeq(key) ? 'list' : 'map'} used as a key`);
      }
      out[String(key.value)] = toPlain(pair.value, doc, visiting, where);
    }
    visiting.delete(node);
    return out;
  }
  return null;
}

/** The node at `path` (its key node if `atKey`), or the deepest ancestor that exists. */
function find(doc: Document, path: Path, atKey: boolean): Node | undefined {
  let current: unknown = doc.contents;
  let deepest: Node | undefined = (doc.contents as Node | null) ?? undefined;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i] as string | number;
    if (isAlias(current)) current = current.resolve(doc);
    let keyNode: Node | undefined;
    let next: unknown;
    if (isMap(current)) {
      const pair = current.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
      if (pair === undefined) return deepest;
      keyNode = pair.key as Node;
      next = pair.value;
    } else if (isSeq(current) && typeof segment === 'number') {
      next = current.items[segment];
      if (next === undefined) return deepest;
    } else {
      return deepest;
    }
    const last = i === path.length - 1;
    if (last && atKey && keyNode !== undefined) return keyNode;
    // `key:` with nothing after it has no value node: point at the key.
    const nextNode = (next ?? keyNode) as Node | undefined;
    if (nextNode === undefined || nextNode === null) return deepest;
    deepest = nextNode;
    current = next;
  }
  return deepest;
}

/** A YAML value given on the command line (`--set path=<value>`): the value, or yaml's reason it is not one. */
export function parseYamlValue(text: string): { readonly value: unknown } | { readonly problem: string } {
  const doc = parseDocument(text, { prettyErrors: false });
  const first = doc.errors[0];
  if (first !== undefined) return { problem: oneLine(first.message) };
  try {
    return { value: toPlain(doc.contents, doc, new Set(), () => 'value') };
  } catch (err) {
    return { problem: err instanceof Error ? err.message.replace(/^value: invalid YAML: /, '') : String(err) };
  }
}
