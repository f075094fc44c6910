import { isDeepStrictEqual } from "node:util";

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

import { bulkReplace } from "./bulk-replace.ts";
import type { RefusedWrite } from "./bulk-replace.ts";
import type { StoreResult } from "./projection.ts";

/**
 * Projects a batch of events: loads every affected job document with one `find`, folds the
 * events into them in memory, and stores the changed ones with one `bulkWrite` (then the
 * rejections with another). Safe to repeat: the reducer is idempotent.
 *
 * Only one caller may project a given job at a time (FerretDB has no atomic per-document update);
 * the projector guarantees that by handling one batch at a time.
 *
 * @throws whatever MongoDB throws when it cannot be reached; nothing is partially acknowledged.
 */
export async function projectEvents(
  db: Db,
  jobEvents: readonly JobEvent[],
  rejections: readonly RejectedEvent[],
): Promise<StoreResult> {
  const refused: RefusedWrite[] = [];
  const jobs = jobsCollection(db);
  const eventsByJob = Map.groupBy(jobEvents, (event) => event.jobId);
  const ids = [...eventsByJob.keys()];
  const stored = await findJobsByIds(db, ids);
  const storedById = new Map(stored.map((doc) => [doc._id, doc]));

  const changed: JobDocument[] = [];
  for (const [id, events] of eventsByJob) {
    const before = storedById.get(id);
    try {
      const after = events.reduce<JobDocument | undefined>(applyEvent, before);
      if (after !== undefined && !isDeepStrictEqual(before, after)) changed.push(after);
    } catch (err) {
      // A stored document that is not a JobDocument cannot be merged; rebuilding fixes it.
      const message = err instanceof Error ? err.message : String(err);
      refused.push({ collection: jobs.collectionName, id, message });
    }
  }
  refused.push(...(await bulkReplace(jobs, changed.map(toStoredJob))));

  const rejectionDocs = rejections.map(rejectionFromEvent);
  refused.push(...(await bulkReplace(rejectionsCollection(db), rejectionDocs)));

  const refusedIds = new Set(refused.map((r) => `${r.collection}/${r.id}`));
  const written = (name: string, docs: readonly { _id: string }[]) =>
    docs.filter((doc) => !refusedIds.has(`${name}/${doc._id}`)).length;
  const rejectionsName = rejectionsCollection(db).collectionName;
  return {
    written: {
      [jobs.collectionName]: written(jobs.collectionName, changed),
      [rejectionsName]: written(rejectionsName, rejectionDocs),
    },
    refused,
  };
}
