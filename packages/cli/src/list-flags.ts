// Repeatable command-line options: commander's accumulators (kept apart so that the actor entry loads no more than it needs).

/** A repeatable option whose values may also be comma-separated (--docker-host a,b --docker-host c). */
export function collectList(v: string, acc: string[]): string[] {
  return [
    ...acc,
    ...v
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== ''),
  ];
}

/** A repeatable option: each occurrence one value. */
export function collect(v: string, acc: string[]): string[] {
  return [...acc, v];
}
