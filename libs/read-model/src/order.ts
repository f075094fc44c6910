/**
 * Small total orders used by the merge. Every choice the reducer makes goes through one of these,
 * so that the result never depends on which of two values arrived first.
 */

/** Normalises an ISO-8601 time to `toISOString()` form, so that string order is time order. */
export function canonicalTime(iso: string): string {
  return new Date(iso).toISOString();
}

/** Compares number tuples lexicographically: negative, zero or positive. */
export function compareTuples(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/** The smaller of two optional strings; an absent value never wins over a present one. */
export function minDefined(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a <= b ? a : b;
}

/** The larger of two optional strings; an absent value never wins over a present one. */
export function maxDefined(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a >= b ? a : b;
}
