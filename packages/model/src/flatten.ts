// Dotted-key flattening of nested results: the walk behind the report's lookups into summary.json (`throughput.gbps`).

/**
 * `value` as `[key, leaf]` pairs in document order: object keys and array indices joined with dots
 * (`throughput.gbps`, `interrupts.perVm.0.perQueue.1`); null and other non-objects are leaves.
 */
export function flattenDotted(value: unknown): [string, unknown][] {
  const out: [string, unknown][] = [];
  const walk = (prefix: string, v: unknown): void => {
    if (v !== null && typeof v === 'object') {
      const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v as Record<string, unknown>);
      for (const [k, x] of entries) walk(prefix === '' ? k : `${prefix}.${k}`, x);
    } else {
      out.push([prefix, v]);
    }
  };
  walk('', value);
  return out;
}
