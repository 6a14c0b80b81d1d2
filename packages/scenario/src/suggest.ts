// "Did you mean …?": the closest allowed word to a misspelt key or enum value.

/** Letters only, lower case: `ring_size`, `ring-size` and `RingSize` all compare equal to `ringSize`. */
function fold(word: string): string {
  return word.toLowerCase().replace(/[-_\s]/g, '');
}

/** Optimal-string-alignment distance: edits plus adjacent transpositions ("wrokers" → "workers" is 1). */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] as number;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      d[i * cols + j] = best;
    }
  }
  return at(a.length, b.length);
}

/** The allowed word closest to `word`, if it is close enough to be a plausible typo. */
export function closest(word: string, allowed: readonly string[]): string | undefined {
  const folded = fold(word);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const distance = editDistance(folded, fold(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // Short words get one edit, longer ones a third of their length: beyond that a "suggestion" is noise.
  const limit = Math.max(1, Math.floor(folded.length / 3));
  return bestDistance <= limit ? best : undefined;
}

/** `; did you mean "x"?` or nothing, for appending inside a parenthesis. */
export function didYouMean(word: string, allowed: readonly string[]): string {
  const guess = closest(word, allowed);
  return guess === undefined ? '' : `; did you mean "${guess}"?`;
}
