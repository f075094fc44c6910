import type { Db, Filter } from "mongodb";

import { deadLettersCollection } from "./collections.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import { DeadLetterState, deadLetterStates } from "./dead-letter-document.ts";
import type { DeadLetterDocument } from "./dead-letter-document.ts";
import { InvalidQueryError } from "./errors.ts";
import { checkLimit, defaultMaxPageBytes, readPage } from "./page.ts";
import type { Page } from "./page.ts";
import { readOptions } from "./read-deadline.ts";
import type { ReadDeadline } from "./read-deadline.ts";
import { fromStoredDeadLetter } from "./stored-dead-letter.ts";

export interface ListDeadLettersOptions extends ReadDeadline {
  /** Only letters of this job type. */
  type?: string | undefined;
  /** Only letters in this state. @default "dead" (the letters still to be dealt with) */
  state?: DeadLetterState | undefined;
  /** Page size, 1 to 500. */
  limit: number;
  /** `nextCursor` of the previous page; absent for the first page. */
  cursor?: string | undefined;
  /** Most bytes of letters (as stored) the page holds. @default {@link defaultMaxPageBytes} */
  maxBytes?: number | undefined;
  /**
   * Of open letters, only those at or after this `DLQ` sequence: the stream no longer holds those
   * before it (its max age removes the oldest first), though the read model keeps them a while.
   */
  firstSeq?: number | undefined;
}

/** The dead-letter document of a job, or `null` when none of its letters was projected. */
export async function findDeadLetter(
  db: Db,
  jobId: string,
  deadline: ReadDeadline = {},
): Promise<DeadLetterDocument | null> {
  const doc = await deadLettersCollection(db).findOne({ _id: jobId }, readOptions(deadline));
  return doc === null ? null : fromStoredDeadLetter(doc);
}

/**
 * Dead-letter documents ordered by job id, oldest first (generated ids are UUIDv7, so this is
 * submission order), with cursor pagination that is stable while letters are added.
 *
 * @throws {InvalidQueryError} naming `limit` or `state`; {@link InvalidCursorError} for a bad cursor.
 */
export async function listDeadLetters(
  db: Db,
  options: ListDeadLettersOptions,
): Promise<Page<DeadLetterDocument>> {
  checkLimit(options.limit);
  const state = options.state ?? DeadLetterState.Dead;
  if (!deadLetterStates.includes(state)) {
    throw new InvalidQueryError("state", `state must be one of ${deadLetterStates.join(", ")}`);
  }
  const filter: Filter<DeadLetterDocument> = { state };
  if (options.type !== undefined) filter.type = options.type;
  if (options.firstSeq !== undefined && state === DeadLetterState.Dead) {
    filter["source.seq"] = { $gte: options.firstSeq };
  }
  if (options.cursor !== undefined) {
    const [lastId] = decodeCursor(options.cursor, "dead_letters", 1);
    filter._id = { $gt: lastId ?? "" };
  }
  const found = deadLettersCollection(db)
    .find(filter, readOptions(options))
    .sort({ _id: 1 })
    .limit(options.limit + 1);
  const { docs, more } = await readPage(
    found,
    options.limit,
    options.maxBytes ?? defaultMaxPageBytes,
  );
  const items = docs.map(fromStoredDeadLetter);
  const last = items.at(-1);
  const nextCursor = more && last ? encodeCursor("dead_letters", [last._id]) : null;
  return { items, nextCursor };
}

/** What a replay of an open dead letter needs of it. */
export interface ReplayableDeadLetter {
  jobId: string;
  /** The run that died; its replay queues run + 1. */
  run: number;
  type: string;
  /** The letter's `DLQ` sequence. */
  seq: number;
}

/**
 * The open letters of a type that can be replayed (they name their job and hold its work item),
 * oldest job first, at most `limit`, read without their payloads, errors and logs: a replay of a
 * thousand letters of 256 KiB payloads would otherwise hold a quarter of a gigabyte. `more` says
 * that others follow; `unreplayable` counts the type's open letters that cannot be replayed (to be
 * discarded), which would otherwise fill every call's window.
 */
export async function listReplayableDeadLetters(
  db: Db,
  options: {
    type: string;
    limit: number;
    /**
     * The `DLQ`'s first sequence: letters below it are gone from the stream (its max age removed
     * them, the oldest first) though the read model keeps them a while, and are left out, or every
     * call would send them again and never reach the others.
     */
    firstSeq?: number;
  } & ReadDeadline,
): Promise<{ letters: ReplayableDeadLetter[]; more: boolean; unreplayable: number }> {
  const open = {
    state: DeadLetterState.Dead,
    type: options.type,
    ...(options.firstSeq === undefined ? {} : { "source.seq": { $gte: options.firstSeq } }),
  };
  const collection = deadLettersCollection(db);
  const docs = await collection
    .find(
      { ...open, jobId: { $exists: true }, workItem: { $exists: true } },
      { projection: { _id: 1, jobId: 1, run: 1, type: 1, source: 1 }, ...readOptions(options) },
    )
    .sort({ _id: 1 })
    .limit(options.limit + 1)
    .toArray();
  const unreplayable = await collection.countDocuments(
    { ...open, $or: [{ jobId: { $exists: false } }, { workItem: { $exists: false } }] },
    readOptions(options),
  );
  const letters = docs.slice(0, options.limit).map((doc) => ({
    jobId: doc.jobId ?? doc._id,
    run: doc.run,
    type: doc.type,
    seq: doc.source.seq,
  }));
  return { letters, more: docs.length > options.limit, unreplayable };
}
