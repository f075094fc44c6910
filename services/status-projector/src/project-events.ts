import { isDeepStrictEqual } from "node:util";

import { LifecycleKind } from "@conveyor/contracts";
import type { JobEvent, RejectedEvent } from "@conveyor/contracts";
import {
  applyEvent,
  findJobsByIds,
  jobsCollection,
  rejectionFromEvent,
  rejectionsCollection,
  toStoredJob,
} from "@conveyor/read-model";
import type { JobDocument } from "@conveyor/read-model";
import type { Db } from "mongodb";

import { bulkInsert } from "./bulk-insert.ts";
import { bulkReplace } from "./bulk-replace.ts";
import type { JobCache, JobCacheAccess } from "./job-cache.ts";
import type { StoreResult } from "./projection.ts";
import type { RefusedWrite } from "./refused-write.ts";

/**
 * Projects a batch of events into `jobs` (and `rejections`). Each job's events are folded into
 * its document in memory and the document is written once:
 *
 * - a job whose stored document is cached is merged with it and replaced (no read);
 * - a job the batch submits (its first run's `queued` event), or one the database does not hold,
 *   is inserted: an insert needs no lookup, unlike an upsert. When its `_id` exists after all (a
 *   redelivered or reordered `queued` event, or the cache was cold), the stored document is read,
 *   merged and replaced;
 * - any other job is read first (one lookup per job, in parallel).
 *
 * Documents are cached once MongoDB confirmed their write. Safe to repeat: the reducer is
 * idempotent, so a batch retried after a failure yields the same documents.
 *
 * Only one caller may project a given job at a time (FerretDB has no atomic per-document update,
 * and the cache must stay what is stored); the projector guarantees that by handling one batch at
 * a time, and by being the only writer of `jobs` besides the retention sweep, which only deletes
 * the documents of jobs that finished long ago (a later event of such a job writes it again, whole
 * from the cache, or from the event alone).
 *
 * @throws whatever MongoDB throws when it cannot be reached; nothing is partially acknowledged.
 */
export async function projectEvents(
  db: Db,
  jobEvents: readonly JobEvent[],
  rejections: readonly RejectedEvent[],
  cache: JobCache,
  signal: AbortSignal,
): Promise<StoreResult> {
  const jobs = jobsCollection(db);
  const jobsWritten = await projectJobs(db, jobEvents, cache.forAttempt(signal), signal);
  const rejectionsName = rejectionsCollection(db).collectionName;
  const rejectionDocs = rejections.map(rejectionFromEvent);
  let rejectionsWritten = 0;
  const refusedRejections = await bulkReplace(
    rejectionsCollection(db),
    rejectionDocs,
    signal,
    () => {
      rejectionsWritten++;
    },
  );
  return {
    written: { [jobs.collectionName]: jobsWritten.written, [rejectionsName]: rejectionsWritten },
    refused: [...jobsWritten.refused, ...refusedRejections],
  };
}

async function projectJobs(
  db: Db,
  jobEvents: readonly JobEvent[],
  cache: JobCacheAccess,
  signal: AbortSignal,
): Promise<{ written: number; refused: RefusedWrite[] }> {
  const jobs = jobsCollection(db);
  const batch = new JobBatch(
    jobs.collectionName,
    Map.groupBy(jobEvents, (event) => event.jobId),
  );
  const toRead: string[] = [];
  for (const [id, events] of batch.eventsById) {
    const cached = cache.get(id);
    if (cached !== undefined) batch.fold(id, cached, cache);
    else if (events.some(submitsJob)) batch.fold(id, undefined, cache);
    else toRead.push(id);
  }
  await batch.foldStored(db, toRead, cache);

  let written = 0;
  const stored = (doc: JobDocument) => {
    written++;
    batch.stored(doc._id, cache);
  };
  const inserted = await bulkInsert(jobs, batch.inserts.map(toStoredJob), signal, stored);
  batch.refused.push(...inserted.refused);
  // Jobs that existed after all: merged with what is stored, then replaced.
  const duplicates = inserted.duplicates.map((doc) => doc._id);
  await batch.foldStored(db, duplicates, cache, { absent: "replace" });
  batch.refused.push(
    ...(await bulkReplace(jobs, batch.replacements.map(toStoredJob), signal, stored)),
  );
  for (const refused of batch.refused) cache.delete(refused.id);
  return { written, refused: batch.refused };
}

/** Whether an event submits its job: the first run's `queued` event, before which nothing exists. */
function submitsJob(event: JobEvent): boolean {
  return event.kind === LifecycleKind.Queued && event.run === 1;
}

/** The documents of one batch's jobs, folded from what is stored and the batch's events. */
class JobBatch {
  readonly eventsById: ReadonlyMap<string, readonly JobEvent[]>;
  /** Documents of jobs believed new, to insert. */
  readonly inserts: JobDocument[] = [];
  /** Changed documents of jobs that are stored, to replace (upsert). */
  readonly replacements: JobDocument[] = [];
  readonly refused: RefusedWrite[] = [];
  readonly #collection: string;
  /** The document to be written of each job. */
  readonly #after = new Map<string, JobDocument>();

  constructor(collection: string, eventsById: ReadonlyMap<string, readonly JobEvent[]>) {
    this.#collection = collection;
    this.eventsById = eventsById;
  }

  /**
   * Folds a job's events into `before`, its stored document, and queues the result to be written:
   * inserted when `before` is `undefined` (the job is believed absent) unless `absent` says
   * `replace`, replaced otherwise. An unchanged document is not written but cached as it is.
   */
  fold(
    id: string,
    before: JobDocument | undefined,
    cache: JobCacheAccess,
    { absent }: { absent: "insert" | "replace" } = { absent: "insert" },
  ): void {
    let after: JobDocument | undefined;
    try {
      after = (this.eventsById.get(id) ?? []).reduce<JobDocument | undefined>(applyEvent, before);
    } catch (err) {
      // A stored document that is not a JobDocument cannot be merged; rebuilding fixes it.
      const message = err instanceof Error ? err.message : String(err);
      this.refused.push({ collection: this.#collection, id, message });
      return;
    }
    if (after === undefined) return;
    if (before !== undefined && isDeepStrictEqual(before, after)) {
      cache.set(before);
      return;
    }
    this.#after.set(id, after);
    if (before === undefined && absent === "insert") this.inserts.push(after);
    else this.replacements.push(after);
  }

  /** Reads the stored documents of `ids` (one lookup each, in parallel) and folds into them. */
  async foldStored(
    db: Db,
    ids: readonly string[],
    cache: JobCacheAccess,
    options?: { absent: "insert" | "replace" },
  ): Promise<void> {
    if (ids.length === 0) return;
    const stored = new Map((await findJobsByIds(db, ids)).map((doc) => [doc._id, doc] as const));
    for (const id of ids) this.fold(id, stored.get(id), cache, options);
  }

  /** Caches the written document of job `id`, once MongoDB confirmed it. */
  stored(id: string, cache: JobCacheAccess): void {
    const doc = this.#after.get(id);
    if (doc !== undefined) cache.set(doc);
  }
}
