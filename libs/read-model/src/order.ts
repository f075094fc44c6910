/**
 * Small total orders used by the merge. Every choice the reducer makes goes through one of these,
 * so that the result never depends on which of two values arrived first.
 */

/**
 * `toISOString()` form of a time that cannot need normalising: every field in range, and a day
 * that exists in every month (29-31 may roll over into the next month, and take the long way).
 */
const alreadyCanonical =
  /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

/**
 * Normalises an ISO-8601 time to `toISOString()` form, so that string order is time order. Times
 * our services write are in that form already and are returned as they are: parsing and formatting
 * every time of every event was a measurable share of the projector's work.
 */
export function canonicalTime(iso: string): string {
  return alreadyCanonical.test(iso) ? iso : new Date(iso).toISOString();
}

export { compareTuples } from "@conveyor/contracts";

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
