import { BSON } from "mongodb";
import type { Document, FindCursor } from "mongodb";

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

/**
 * Most bytes of documents (as stored, BSON) one page of a list holds unless the caller says
 * otherwise: 500 jobs with payloads near the submission limit would be over 100 MB, read, built
 * and sent in one piece.
 */
export const defaultMaxPageBytes = 8 * 1024 * 1024;

/**
 * Reads up to `limit` documents from `found` (which must ask for one more, to tell whether more
 * follow), stopping before the one that would take the page past `maxBytes`; the first document
 * is always taken, so no page is empty while documents remain. `more` says whether the list goes on.
 */
export async function readPage<D extends Document>(
  found: FindCursor<D>,
  limit: number,
  maxBytes: number,
): Promise<{ docs: D[]; more: boolean }> {
  const docs: D[] = [];
  let bytes = 0;
  try {
    for await (const doc of found) {
      const size = BSON.calculateObjectSize(doc);
      if (docs.length === limit || (docs.length > 0 && bytes + size > maxBytes)) {
        return { docs, more: true };
      }
      docs.push(doc);
      bytes += size;
    }
    return { docs, more: false };
  } finally {
    await found.close();
  }
}
