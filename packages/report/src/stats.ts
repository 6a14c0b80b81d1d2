// Statistics across repetitions: mean, sample standard deviation, and the 95 % confidence interval of the mean (Student's t).

export interface Estimate {
  readonly n: number;
  readonly mean: number;
  /** Sample standard deviation (n − 1); 0 for a single value. */
  readonly sd: number;
  /** Half-width of the 95 % confidence interval of the mean; 0 for a single value. */
  readonly ci95: number;
}

/** Two-sided 95 % quantiles of Student's t for 1…30 degrees of freedom (standard table values). */
const T975: readonly number[] = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069,
  2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

export function tQuantile975(df: number): number {
  if (df < 1) return Number.NaN;
  // Beyond 30 degrees of freedom the normal quantile is within 2 % of t's.
  return T975[df - 1] ?? 1.96;
}

export function estimate(xs: readonly number[]): Estimate {
  const n = xs.length;
  if (n === 0) return { n, mean: Number.NaN, sd: Number.NaN, ci95: Number.NaN };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  // Equal values have no spread: exactly 0, not the rounding noise of their mean (which would draw a "± 0" bar).
  if (n === 1 || xs.every((x) => x === xs[0])) return { n, mean: n === 1 ? mean : (xs[0] as number), sd: 0, ci95: 0 };
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  return { n, mean, sd, ci95: (tQuantile975(n - 1) * sd) / Math.sqrt(n) };
}

/** What the error bars of a sweep report show. */
export type ErrorBars = 'sd' | 'ci95';

export function errorOf(e: Estimate, kind: ErrorBars): number {
  return kind === 'sd' ? e.sd : e.ci95;
}

/**
 * What the error bars show, in a sentence. `identical` of the points had repetitions that agreed on
 * every metric (the scenario does not depend on the seed): those have no error bar, and when all do,
 * the sentence says so instead of describing bars that are not there.
 */
export function describeErrorBars(kind: ErrorBars, reps: number, identical = 0, points = 0): string {
  if (reps <= 1) return 'One repetition per point: no error bars.';
  if (points > 0 && identical === points) {
    return `Repetitions identical: the ${reps} repetitions (seeds) of each point gave the same results, metric for metric (the scenario does not depend on the seed), so there are no error bars.`;
  }
  const bars =
    kind === 'sd'
      ? `Error bars: ± one sample standard deviation across the ${reps} repetitions (seeds) of each point; markers are the mean.`
      : `Error bars: 95 % confidence interval of the mean across the ${reps} repetitions (seeds) of each point (Student's t); markers are the mean.`;
  return identical > 0 ? `${bars} ${identical} of ${points} points have identical repetitions (no error bar there; see the Points table).` : bars;
}
