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
import { bulkReplace, nextRevision, replaceRevisionsRefolding } from "./bulk-replace.ts";
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
 * With `fenceRevisions`, each replacement is fenced by the document's revision (see
 * `bulkReplaceRevisions`): it replaces only the revision it was folded from, so a write that
 * reaches the server late (one of an attempt abandoned at its deadline, run after a later batch's)
 * cannot overwrite a newer document. A job whose stored revision is another is read and folded
 * again. Without it (FerretDB), documents are replaced by `_id`, still counting revisions.
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
  { fenceRevisions }: { fenceRevisions: boolean },
): Promise<StoreResult> {
  const jobs = jobsCollection(db);
  const jobsWritten = await projectJobs(
    db,
    jobEvents,
    cache.forAttempt(signal),
    signal,
    fenceRevisions,
  );
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
  fence: boolean,
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
  await batch.foldStored(
    db,
    inserted.duplicates.map((doc) => doc._id),
    cache,
    { absent: "replace" },
  );
  const replacedRefused = await replaceRevisionsRefolding(
    jobs,
    () => batch.takeReplacements().map(toStoredJob),
    (ids) => batch.foldStored(db, ids, cache, { absent: "replace" }),
    signal,
    { fence, onStored: stored, replaces: (doc) => batch.storedRevision(doc._id) },
  );
  batch.refused.push(...replacedRefused);
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
  /** Changed documents of jobs that are stored, to replace (upsert); see {@link takeReplacements}. */
  #replacements: JobDocument[] = [];
  readonly refused: RefusedWrite[] = [];
  readonly #collection: string;
  /** The document to be written of each job. */
  readonly #after = new Map<string, JobDocument>();
  /** The `revision` of each job's document as it was read (`undefined`: none, or no document). */
  readonly #storedRevision = new Map<string, unknown>();

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
    // The revision is the write's, not the events': it is left out of the fold and the comparison.
    const { revision, ...base } = before ?? {};
    const from = before === undefined ? undefined : (base as JobDocument);
    let after: JobDocument | undefined;
    try {
      after = (this.eventsById.get(id) ?? []).reduce<JobDocument | undefined>(applyEvent, from);
    } catch (err) {
      // A stored document that is not a JobDocument cannot be merged; rebuilding fixes it.
      const message = err instanceof Error ? err.message : String(err);
      this.refused.push({ collection: this.#collection, id, message });
      return;
    }
    if (after === undefined) return;
    if (before !== undefined && isDeepStrictEqual(from, after)) {
      cache.set(before);
      return;
    }
    // Whatever a document holds (one edited by hand, say), the fence names exactly that.
    const revisionRead: unknown = revision;
    this.#storedRevision.set(id, revisionRead);
    const written = { ...after, revision: nextRevision(revisionRead) };
    this.#after.set(id, written);
    if (before === undefined && absent === "insert") this.inserts.push(written);
    else this.#replacements.push(written);
  }

  /** The `revision` the document of job `id` to be written replaces, as it was read. */
  storedRevision(id: string): unknown {
    return this.#storedRevision.get(id);
  }

  /** The documents to replace folded since the last call. */
  takeReplacements(): JobDocument[] {
    const taken = this.#replacements;
    this.#replacements = [];
    return taken;
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
