import { InvalidQueryError } from "./errors.ts";

/** Largest page a list query returns. */
export const maxPageLimit = 500;

/** One page of a list, newest first. */
export interface Page<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; `null` on the last page. */
  nextCursor: string | null;
}

/** @throws {InvalidQueryError} naming `limit` unless it is an integer in 1..{@link maxPageLimit}. */
export function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > maxPageLimit) {
    throw new InvalidQueryError("limit", `limit must be an integer from 1 to ${maxPageLimit}`);
  }
}
