// A V8 detail that matters for live runs: counters that will outgrow small integers.

/**
 * Make these number fields of `o` double-valued in V8's eyes from the start, keeping their values.
 *
 * V8 stores a field that has only held small integers (below 2^30) untagged, in the object's hidden
 * class. The first larger value changes that class, and every optimised function that has seen the
 * object is thrown away and compiled again. For a byte counter of a live run that happens mid-run,
 * seconds in, in the process doing the run's busiest work (measured with --log-deopt: a burst of
 * "overflow" and "wrong map" deoptimisations in the guest and the workers). Storing a non-integer
 * once, here, makes the change at construction instead, long before the run.
 */
export function doubleFields<T extends object>(o: T, keys: readonly (keyof T & string)[]): T {
  const rec = o as Record<string, number>;
  for (const k of keys) {
    const v = rec[k] as number;
    rec[k] = v + 0.5;
    rec[k] = v;
  }
  return o;
}
