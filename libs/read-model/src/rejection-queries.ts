import type { Db, Filter } from "mongodb";

import { rejectionsCollection } from "./collections.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import type { RejectionDocument } from "./documents.ts";
import { checkLimit } from "./page.ts";
import type { Page } from "./page.ts";
import { readOptions } from "./read-deadline.ts";
import type { ReadDeadline } from "./read-deadline.ts";

export interface ListRejectionsOptions extends ReadDeadline {
  /** Page size, 1 to 500. */
  limit: number;
  /** `nextCursor` of the previous page; absent for the first page. */
  cursor?: string | undefined;
  /** Only the rejections of submissions that named this job id. */
  jobId?: string | undefined;
}

export async function findRejection(
  db: Db,
  id: string,
  deadline: ReadDeadline = {},
): Promise<RejectionDocument | null> {
  return rejectionsCollection(db).findOne({ _id: id }, readOptions(deadline));
}

/**
 * Rejections, newest first by `(at, _id)`; with `jobId`, those of that job id only.
 *
 * @throws {InvalidQueryError} naming `limit`; {@link InvalidCursorError} for a bad cursor.
 */
export async function listRejections(
  db: Db,
  options: ListRejectionsOptions,
): Promise<Page<RejectionDocument>> {
  checkLimit(options.limit);
  const filter: Filter<RejectionDocument> = {};
  if (options.jobId !== undefined) filter.jobId = options.jobId;
  if (options.cursor !== undefined) {
    const [at = "", id = ""] = decodeCursor(options.cursor, "rejections", 2);
    filter.$or = [{ at: { $lt: at } }, { at, _id: { $lt: id } }];
  }
  const docs = await rejectionsCollection(db)
    .find(filter, readOptions(options))
    .sort({ at: -1, _id: -1 })
    .limit(options.limit + 1)
    .toArray();
  const items = docs.slice(0, options.limit);
  const last = items.at(-1);
  const nextCursor =
    docs.length > options.limit && last ? encodeCursor("rejections", [last.at, last._id]) : null;
  return { items, nextCursor };
}
