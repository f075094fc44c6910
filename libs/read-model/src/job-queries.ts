import { jobStatuses } from "@conveyor/contracts";
import type { JobStatus } from "@conveyor/contracts";
import type { Db, Filter } from "mongodb";

import { jobsCollection } from "./collections.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import type { JobDocument } from "./documents.ts";
import { InvalidQueryError } from "./errors.ts";
import { fromStoredJob } from "./stored-job.ts";
import { checkLimit, defaultMaxPageBytes, readPage } from "./page.ts";
import { readOptions } from "./read-deadline.ts";
import type { ReadDeadline } from "./read-deadline.ts";
import type { Page } from "./page.ts";

export interface ListJobsOptions extends ReadDeadline {
  status?: JobStatus | undefined;
  type?: string | undefined;
  batchId?: string | undefined;
  /** Page size, 1 to 500. */
  limit: number;
  /** `nextCursor` of the previous page; absent for the first page. */
  cursor?: string | undefined;
  /** Most bytes of jobs (as stored) the page holds. @default {@link defaultMaxPageBytes} */
  maxBytes?: number | undefined;
}

/** How many jobs have one `(status, type)`. */
export interface StatusTypeCount {
  status: JobStatus;
  type: string;
  count: number;
}

export interface CountJobsOptions extends ReadDeadline {
  type?: string | undefined;
  batchId?: string | undefined;
}

export async function findJob(
  db: Db,
  id: string,
  deadline: ReadDeadline = {},
): Promise<JobDocument | null> {
  const doc = await jobsCollection(db).findOne({ _id: id }, readOptions(deadline));
  return doc === null ? null : fromStoredJob(doc);
}

/**
 * Jobs ordered by id, newest first (generated ids are UUIDv7, so this is submission order), with
 * cursor pagination that is stable while jobs are added.
 *
 * @throws {InvalidQueryError} naming `limit` or `status`; {@link InvalidCursorError} for a bad cursor.
 */
export async function listJobs(db: Db, options: ListJobsOptions): Promise<Page<JobDocument>> {
  checkLimit(options.limit);
  const filter: Filter<JobDocument> = {};
  if (options.status !== undefined) {
    if (!jobStatuses.includes(options.status)) {
      throw new InvalidQueryError("status", `status must be one of ${jobStatuses.join(", ")}`);
    }
    filter.status = options.status;
  }
  if (options.type !== undefined) filter.type = options.type;
  if (options.batchId !== undefined) filter.batchId = options.batchId;
  if (options.cursor !== undefined) {
    const [lastId] = decodeCursor(options.cursor, "jobs", 1);
    filter._id = { $lt: lastId ?? "" };
  }
  const found = jobsCollection(db)
    .find(filter, readOptions(options))
    .sort({ _id: -1 })
    .limit(options.limit + 1);
  const { docs, more } = await readPage(
    found,
    options.limit,
    options.maxBytes ?? defaultMaxPageBytes,
  );
  const items = docs.map(fromStoredJob);
  const last = items.at(-1);
  const nextCursor = more && last ? encodeCursor("jobs", [last._id]) : null;
  return { items, nextCursor };
}

/**
 * Job counts per `(status, type)`, optionally of one type or batch, ordered by type then status.
 * Uses only `$match` and `$group` with `$sum`, which FerretDB supports.
 */
export async function countJobsByStatusAndType(
  db: Db,
  options: CountJobsOptions = {},
): Promise<StatusTypeCount[]> {
  const match: Filter<JobDocument> = {};
  if (options.type !== undefined) match.type = options.type;
  if (options.batchId !== undefined) match.batchId = options.batchId;
  const groups = await jobsCollection(db)
    .aggregate<{ _id: { status: JobStatus; type: string }; count: number }>(
      [
        { $match: match },
        { $group: { _id: { status: "$status", type: "$type" }, count: { $sum: 1 } } },
      ],
      readOptions(options),
    )
    .toArray();
  return groups
    .map((g) => ({ status: g._id.status, type: g._id.type, count: g.count }))
    .sort((x, y) => x.type.localeCompare(y.type) || x.status.localeCompare(y.status));
}
