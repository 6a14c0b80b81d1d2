// Test helpers for the scenario JSON Schema: a real validator (ajv) over it, and walks that find which keys and defaults it gives each map.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { scenarioJsonSchema } from '../src/index.js';

export type Json = { [key: string]: unknown };

/** The repository root, from dist/test/. */
export const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * ajv, strict about the schema itself, but for two draft-07 idioms the schema uses on purpose:
 * `type: [T, "null"]` (optional keys), and `required` alone in an anyOf/if (at or after).
 * yaml-language-server's message keywords are declared as such.
 */
export function schemaValidator(schema: Json = scenarioJsonSchema()): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, strictRequired: false });
  ajv.addVocabulary(['patternErrorMessage', 'errorMessage']);
  return ajv.compile(schema);
}

/** A YAML file or text as the plain data the schema sees. */
export function yamlData(text: string): unknown {
  return parse(text) as unknown;
}

export function yamlFile(path: string): unknown {
  return yamlData(readFileSync(path, 'utf8'));
}

function asJson(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

function deref(root: Json, s: Json): Json {
  const ref = s['$ref'];
  if (typeof ref !== 'string') return s;
  const name = ref.replace('#/definitions/', '');
  return (asJson(root['definitions']) ?? {})[name] as Json;
}

/**
 * The schemas that apply to `value` at once (a schema, its oneOf/anyOf forms, and the `then` of
 * each if/then whose tag `const` the value matches).
 */
function applicable(root: Json, s: Json, value: unknown): Json[] {
  const here = deref(root, s);
  const out = [here];
  for (const k of ['oneOf', 'anyOf']) for (const v of (here[k] as Json[] | undefined) ?? []) out.push(...applicable(root, v, value));
  for (const part of (here['allOf'] as Json[] | undefined) ?? []) {
    const cond = asJson(part['if']);
    const then = asJson(part['then']);
    if (cond === undefined || then === undefined) continue;
    if (ifHolds(cond, value)) out.push(...applicable(root, then, value));
  }
  return out;
}

/** An if of the shape the generator writes: { properties: { tag: { const } }, required }. */
function ifHolds(cond: Json, value: unknown): boolean {
  const map = asJson(value);
  if (map === undefined) return false;
  for (const key of (cond['required'] as string[] | undefined) ?? []) if (map[key] === undefined || map[key] === null) return false;
  for (const [key, p] of Object.entries(asJson(cond['properties']) ?? {})) {
    const c = asJson(p)?.['const'];
    if (c !== undefined && map[key] !== c) return false;
  }
  return true;
}

/** The schemas of the node at `path` inside `doc`, following the document's own values. */
export function schemasAt(root: Json, doc: unknown, path: readonly (string | number)[]): Json[] {
  let schemas = applicable(root, root, doc);
  let value = doc;
  for (const segment of path) {
    const next: Json[] = [];
    for (const s of schemas) {
      const child = typeof segment === 'number' ? asJson(s['items']) : asJson(asJson(s['properties'])?.[segment]);
      if (child !== undefined) next.push(child);
    }
    value = (value as Record<string | number, unknown> | undefined)?.[segment];
    schemas = next.flatMap((s) => applicable(root, s, value));
  }
  return schemas;
}

/**
 * The keys the schema allows in the map at `path` of `doc`: those of every applicable object
 * schema that closes its keys (additionalProperties false), or of any form when none does.
 */
export function keysAt(root: Json, doc: unknown, path: readonly (string | number)[]): string[] {
  const schemas = schemasAt(root, doc, path);
  let closed = schemas.filter((s) => asJson(s['properties']) !== undefined && s['additionalProperties'] === false);
  // A tagged map whose tag is missing or unknown: any variant's keys.
  if (closed.length === 0) {
    const variants = schemas.flatMap((s) => ((s['allOf'] as Json[] | undefined) ?? []).map((part) => asJson(part['then']) ?? {}));
    closed = [...schemas, ...variants].filter((s) => asJson(s['properties']) !== undefined);
  }
  return [...new Set(closed.flatMap((s) => Object.keys(asJson(s['properties']) ?? {})))].sort();
}

/** Each key's default at the map at `path` (the last applicable schema that gives one wins: a variant's over the base's). */
export function defaultsAt(root: Json, doc: unknown, path: readonly (string | number)[]): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const s of schemasAt(root, doc, path)) {
    for (const [key, p] of Object.entries(asJson(s['properties']) ?? {})) {
      const d = asJson(p)?.['default'];
      if (d !== undefined) out.set(key, d);
    }
  }
  return out;
}

/** Every place in a document where the schema describes a map, as a path with `[]` for list items. */
export function mapLocations(root: Json): string[] {
  const found = new Set<string>();
  const walk = (s: Json, at: string, depth: number): void => {
    if (depth > 12) return;
    const here = deref(root, s);
    const props = asJson(here['properties']);
    if (props !== undefined && Object.keys(props).length > 0) {
      found.add(at);
      for (const [key, p] of Object.entries(props)) {
        const child = asJson(p);
        if (child !== undefined) walk(child, at === '' ? key : `${at}.${key}`, depth + 1);
      }
    }
    const items = asJson(here['items']);
    if (items !== undefined) walk(items, `${at}[]`, depth + 1);
    for (const k of ['oneOf', 'anyOf']) for (const v of (here[k] as Json[] | undefined) ?? []) walk(v, at, depth + 1);
    for (const part of (here['allOf'] as Json[] | undefined) ?? []) {
      const then = asJson(part['then']);
      if (then !== undefined) walk(then, at, depth + 1);
    }
  };
  walk(root, '', 0);
  return [...found].sort();
}

/** ['traffic', 0, 'size'] → 'traffic[].size', the form mapLocations uses. */
export function locationOf(path: readonly (string | number)[]): string {
  let out = '';
  for (const s of path) out += typeof s === 'number' ? '[]' : out === '' ? s : `.${s}`;
  return out;
}
