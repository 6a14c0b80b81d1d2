// One problem found in a scenario or cost profile: where it is (a path inside the document) and what is wrong.

export type PathSegment = string | number;
/** A position inside a document: map keys and list indexes from the root, e.g. ['traffic', 0, 'rate']. */
export type Path = readonly PathSegment[];

/**
 * Thrown by the readers while validating; the compiler turns it into a located one-line
 * `SplitnetError('E_SCENARIO', …)`. Internal to this package.
 */
export class ScenarioIssue extends Error {
  override readonly name = 'ScenarioIssue';
  constructor(
    /** The node the message is about; the location points at it (or its nearest existing ancestor). */
    readonly path: Path,
    /** The message after the path, e.g. `expected an integer from 1 to 64, found 0`. */
    readonly detail: string,
    /** Point at the key rather than its value (unknown keys), and show the parent's path. */
    readonly atKey = false,
    /** Other settings this problem depends on (cross-field rules), so a message can say when one came from --set. */
    readonly related: readonly Path[] = [],
  ) {
    super(detail);
  }

  /** The path printed before the detail: for a key problem, the map that holds the key. */
  get shownPath(): Path {
    return this.atKey ? this.path.slice(0, -1) : this.path;
  }
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** ['traffic', 0, 'rate'] → `traffic[0].rate`; the root is the empty string. */
export function formatPath(path: Path): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** How a found value is shown after "found": strings quoted, collections by kind. */
export function describeValue(value: unknown): string {
  if (value === undefined || value === null) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `a list of ${value.length}`;
  if (typeof value === 'object') return Object.keys(value).length === 0 ? 'an empty map' : 'a map';
  return typeof value;
}

/** `"a", "b" or "c"` for lists of allowed words. */
export function listWords(words: readonly string[]): string {
  const quoted = words.map((w) => JSON.stringify(w));
  if (quoted.length <= 1) return quoted.join('');
  return `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1] as string}`;
}
