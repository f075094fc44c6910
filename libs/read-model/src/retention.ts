import { JobStatus } from "@conveyor/contracts";
import type { Collection, Db, Filter } from "mongodb";

import { deadLettersCollection, jobsCollection, rejectionsCollection } from "./collections.ts";
import { DeadLetterState } from "./dead-letter-document.ts";
import type { DeadLetterDocument } from "./dead-letter-document.ts";
import type { JobDocument } from "./documents.ts";

/**
 * How long the read model keeps what no longer changes, in milliseconds; 0 keeps it for good.
 * Ages count from the time the document itself records (a job's `finishedAt`, a rejection's `at`,
 * a letter's `deadAt` or `settledAt`), not from when it was written, so a rebuild from the streams
 * expires the same documents.
 */
export interface RetentionPolicy {
  /** Succeeded and cancelled jobs, from `finishedAt`. */
  finishedJobsMs: number;
  /** Dead jobs, from `finishedAt`, and replayed or discarded dead letters, from `settledAt`. */
  deadJobsMs: number;
  /**
   * Dead letters still waiting to be replayed or discarded, from `deadAt`: give the `DLQ`'s
   * max age, after which the letter itself is gone and a replay of it would do nothing.
   */
  openDeadLettersMs: number;
  /** Refused submissions, from `at`. */
  rejectionsMs: number;
}

/** Documents {@link deleteExpired} deleted, per collection. */
export interface ExpiredCounts {
  jobs: number;
  rejections: number;
  deadLetters: number;
}

export interface DeleteExpiredOptions {
  /** The time ages are measured at. @default now */
  now?: Date;
  /**
   * Most documents deleted per command: each step finds that many expired ids and deletes them,
   * so that a large expiry is many short commands. 0 deletes each kind with one command, for a
   * server that would scan the whole collection for every step (FerretDB on SQLite looks up
   * nothing but `_id` equality by index). @default 1000
   */
  batchSize?: number;
  /** Asked between steps; once it answers true, no further step starts. */
  stopping?: () => boolean;
}

/** One kind of expired document: deletes what has expired of it, returning how many. */
interface ExpiryRule {
  key: keyof ExpiredCounts;
  delete(batchSize: number, stopping: () => boolean): Promise<number>;
}

const defaultBatchSize = 1000;

/**
 * Deletes the read-model documents that have outlived `policy`: succeeded, cancelled and dead
 * jobs, rejections and dead letters. A job that is not finished, or was replayed into a new run,
 * is never deleted: each delete checks the document's state again, not only its id.
 *
 * A document deleted while the projector merges an event into it is written again whole by that
 * write (the projector's writes are upserts of the merged document), so a late event for an
 * expired job brings the job back with its history until the next sweep.
 */
export async function deleteExpired(
  db: Db,
  policy: RetentionPolicy,
  options: DeleteExpiredOptions = {},
): Promise<ExpiredCounts> {
  const now = (options.now ?? new Date()).getTime();
  const batchSize = options.batchSize ?? defaultBatchSize;
  const stopping = options.stopping ?? (() => false);
  const counts: ExpiredCounts = { jobs: 0, rejections: 0, deadLetters: 0 };
  for (const rule of expiryRules(db, policy, now)) {
    if (stopping()) break;
    counts[rule.key] += await rule.delete(batchSize, stopping);
  }
  return counts;
}

function expiryRule<T extends { _id: string }>(
  key: keyof ExpiredCounts,
  collection: Collection<T>,
  filter: Filter<T>,
): ExpiryRule {
  return {
    key,
    async delete(batchSize, stopping) {
      if (batchSize === 0) return (await collection.deleteMany(filter)).deletedCount;
      let deleted = 0;
      while (!stopping()) {
        const found = await collection
          .find(filter, { projection: { _id: 1 } })
          .limit(batchSize)
          .toArray();
        if (found.length === 0) break;
        const ids = found.map((doc) => doc._id);
        // The filter again: a document that changed since it was found (a replayed job) stays.
        const foundAndExpired = { $and: [{ _id: { $in: ids } }, filter] } as Filter<T>;
        deleted += (await collection.deleteMany(foundAndExpired)).deletedCount;
        if (found.length < batchSize) break;
      }
      return deleted;
    },
  };
}

/**
 * What has expired at `now`: one rule per collection with an age limit set, its kinds of document
 * joined with `$or`, so that a server that filters by scanning (FerretDB) scans each collection
 * once per sweep.
 */
function expiryRules(db: Db, policy: RetentionPolicy, now: number): ExpiryRule[] {
  const before = (ms: number) => ({ $lt: new Date(now - ms).toISOString() });
  const jobs: Filter<JobDocument>[] = [];
  const letters: Filter<DeadLetterDocument>[] = [];
  const rules: ExpiryRule[] = [];
  if (policy.finishedJobsMs > 0) {
    jobs.push({
      status: { $in: [JobStatus.Succeeded, JobStatus.Cancelled] },
      finishedAt: before(policy.finishedJobsMs),
    });
  }
  if (policy.deadJobsMs > 0) {
    jobs.push({ status: JobStatus.Dead, finishedAt: before(policy.deadJobsMs) });
    letters.push({
      state: { $in: [DeadLetterState.Replayed, DeadLetterState.Discarded] },
      settledAt: before(policy.deadJobsMs),
    });
  }
  if (policy.openDeadLettersMs > 0) {
    letters.push({ state: DeadLetterState.Dead, deadAt: before(policy.openDeadLettersMs) });
  }
  if (jobs.length > 0) rules.push(expiryRule("jobs", jobsCollection(db), anyOf(jobs)));
  if (policy.rejectionsMs > 0) {
    rules.push(
      expiryRule("rejections", rejectionsCollection(db), { at: before(policy.rejectionsMs) }),
    );
  }
  if (letters.length > 0) {
    rules.push(expiryRule("deadLetters", deadLettersCollection(db), anyOf(letters)));
  }
  return rules;
}

function anyOf<T>(filters: Filter<T>[]): Filter<T> {
  const [only, ...more] = filters;
  return only !== undefined && more.length === 0 ? only : ({ $or: filters } as Filter<T>);
}
