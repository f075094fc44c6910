/** Median, minimum and maximum of one figure's repetitions. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  /** How many repetitions produced a value. */
  n: number;
}

function finiteSorted(values: readonly number[]): number[] {
  return values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
}

/** The median of the finite values (the mean of the middle two for an even count); NaN when none. */
export function median(values: readonly number[]): number {
  const sorted = finiteSorted(values);
  if (sorted.length === 0) return Number.NaN;
  const at = (i: number) => sorted[i] ?? Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
}

/**
 * The nearest-rank percentile `p` (0-100) of the finite values: the smallest value with at least
 * p % of the values at or below it. NaN when there are none.
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0-100, got ${p}`);
  const sorted = finiteSorted(values);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}

/** Summarizes repetitions, ignoring values that are not finite (a repetition that produced none). */
export function summarize(values: readonly number[]): Summary {
  const sorted = finiteSorted(values);
  return {
    median: median(sorted),
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
    n: sorted.length,
  };
}
