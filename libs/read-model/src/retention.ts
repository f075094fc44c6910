import { JobStatus } from "@conveyor/contracts";
import { MongoBulkWriteError } from "mongodb";
import type { AnyBulkWriteOperation, Collection, Db, Filter } from "mongodb";

import { deadLettersCollection, jobsCollection, rejectionsCollection } from "./collections.ts";
import { DeadLetterState } from "./dead-letter-document.ts";
import type { DeadLetterDocument } from "./dead-letter-document.ts";
import type { JobDocument } from "./documents.ts";
import { RetentionSweepError } from "./errors.ts";

/**
 * How long the read model keeps what no longer changes, in milliseconds; 0 keeps it for good.
 * Ages count from the time the document itself records (a job's `finishedAt`, a rejection's `at`,
 * a letter's `deadAt` or `settledAt`: the clock of the service that published the event), not from
 * when it was written, so a rebuild from the streams expires the same documents.
 */
export interface RetentionPolicy {
  /** Succeeded and cancelled jobs, from `finishedAt`. */
  finishedJobsMs: number;
  /**
   * Dead jobs, from `finishedAt`, and replayed or discarded dead letters, from `settledAt`. Keep
   * it at least `openDeadLettersMs` (or 0 when that is 0): a dead job's letter can be replayed
   * while it waits, and the replay continues the job's document, attempts and errors included.
   */
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

/** A kind of read-model document that expires: the key of its collection in {@link ExpiredCounts}. */
export type ExpiringKind = keyof ExpiredCounts;

export interface DeleteExpiredOptions {
  /** The time ages are measured at. @default now */
  now?: Date;
  /**
   * Most documents deleted per step. Each step finds that many expired ids and deletes each by
   * its `_id` with the filter checked again, in one unordered bulk write: commands stay short and
   * name few values (FerretDB on SQLite binds one variable per document a command deletes, and
   * SQLite takes at most 32,766), and `_id` is the one field FerretDB looks up by index.
   * @default 1000
   */
  batchSize?: number;
  /**
   * Whether each delete names the expiry filter beside the `_id`, so that a document changed
   * since it was found (a dead job replayed into a new run) stays. Give false for a server that
   * looks a document up by index only when its filter is `_id` alone (FerretDB on SQLite, see
   * `serverUsesListIndexes`): there a delete that names more scans the collection up to
   * the document, and each step's deletes would cost as much as the documents before them.
   * @default true
   */
  recheck?: boolean;
  /** Asked before each collection and each step; once it answers true, no further step starts. */
  stopping?: () => boolean;
}

const defaultBatchSize = 1000;

/**
 * Deletes the read-model documents that have outlived `policy`: succeeded, cancelled and dead
 * jobs, rejections and dead letters, in steps of `batchSize`. A job that is not finished is never
 * deleted, and with `recheck` neither is one replayed into a new run since its step found it.
 *
 * A collection whose deletes fail does not keep the others from being swept: once every
 * collection was tried, a {@link RetentionSweepError} carries what was deleted and each failure.
 */
export async function deleteExpired(
  db: Db,
  policy: RetentionPolicy,
  options: DeleteExpiredOptions = {},
): Promise<ExpiredCounts> {
  const now = options.now ?? new Date();
  const limit = options.batchSize ?? defaultBatchSize;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`batchSize must be a positive integer, not ${limit}`);
  }
  const stopping = options.stopping ?? (() => false);
  const deleted: ExpiredCounts = { jobs: 0, rejections: 0, deadLetters: 0 };
  const failures: { kind: ExpiringKind; error: unknown }[] = [];
  const recheck = options.recheck ?? true;
  for (const kind of expiringKinds) {
    if (stopping()) break;
    const rule = expiryRule(db, policy, kind, now.getTime());
    if (rule === undefined) continue;
    try {
      while (!stopping()) {
        const ids = await rule.ids(limit);
        if (ids.length === 0) break;
        deleted[kind] += await rule.delete(ids, recheck);
        if (ids.length < limit) break;
      }
    } catch (error) {
      // An unordered bulk write that failed partway has still deleted what it reports.
      if (error instanceof MongoBulkWriteError) deleted[kind] += error.result.deletedCount;
      failures.push({ kind, error });
    }
  }
  if (failures.length > 0) throw new RetentionSweepError(deleted, failures);
  return deleted;
}

const expiringKinds: readonly ExpiringKind[] = ["jobs", "rejections", "deadLetters"];

/**
 * Ids of up to `limit` documents of `kind` that have expired at `now`, oldest written first where
 * the server keeps that order (FerretDB scans in insertion order, so a sweep's steps find the
 * expired documents at the start of the collection).
 */
export async function expiredIds(
  db: Db,
  policy: RetentionPolicy,
  kind: ExpiringKind,
  options: { now: Date; limit: number },
): Promise<string[]> {
  const rule = expiryRule(db, policy, kind, options.now.getTime());
  if (rule === undefined) return [];
  return rule.ids(options.limit);
}

/**
 * Deletes `ids`, found expired at `now`, each by its `_id`: with `recheck` (the default) only
 * those still expired, so that a document changed since its id was found (a dead job replayed
 * into a new run) stays (see {@link DeleteExpiredOptions.recheck}). Returns how many it deleted.
 */
export async function deleteIfExpired(
  db: Db,
  policy: RetentionPolicy,
  kind: ExpiringKind,
  ids: readonly string[],
  options: { now: Date; recheck?: boolean },
): Promise<number> {
  const rule = expiryRule(db, policy, kind, options.now.getTime());
  if (rule === undefined || ids.length === 0) return 0;
  return rule.delete(ids, options.recheck ?? true);
}

interface ExpiryRule {
  ids(limit: number): Promise<string[]>;
  delete(ids: readonly string[], recheck: boolean): Promise<number>;
}

function ruleOver<T extends { _id: string }>(
  collection: Collection<T>,
  filters: Filter<T>[],
): ExpiryRule | undefined {
  if (filters.length === 0) return undefined;
  const [only, ...more] = filters;
  // One filter per collection, its kinds of document joined: a server that filters by scanning
  // (FerretDB) reads the collection once per step.
  const filter = only !== undefined && more.length === 0 ? only : ({ $or: filters } as Filter<T>);
  return {
    async ids(limit) {
      const found = await collection
        .find(filter, { projection: { _id: 1 } })
        .limit(limit)
        .toArray();
      return found.map((doc) => doc._id);
    },
    async delete(ids, recheck) {
      const deletes = ids.map(
        (id) =>
          ({
            deleteOne: { filter: recheck ? { ...filter, _id: id } : { _id: id } },
          }) as AnyBulkWriteOperation<T>,
      );
      return (await collection.bulkWrite(deletes, { ordered: false })).deletedCount;
    },
  };
}

/** What has expired of `kind` at `now`; undefined when its age limits keep it for good. */
function expiryRule(
  db: Db,
  policy: RetentionPolicy,
  kind: ExpiringKind,
  now: number,
): ExpiryRule | undefined {
  const before = (ms: number) => ({ $lt: new Date(now - ms).toISOString() });
  switch (kind) {
    case "jobs": {
      const filters: Filter<JobDocument>[] = [];
      if (policy.finishedJobsMs > 0) {
        filters.push({
          status: { $in: [JobStatus.Succeeded, JobStatus.Cancelled] },
          finishedAt: before(policy.finishedJobsMs),
        });
      }
      if (policy.deadJobsMs > 0) {
        filters.push({ status: JobStatus.Dead, finishedAt: before(policy.deadJobsMs) });
      }
      return ruleOver(jobsCollection(db), filters);
    }
    case "rejections":
      return ruleOver(
        rejectionsCollection(db),
        policy.rejectionsMs > 0 ? [{ at: before(policy.rejectionsMs) }] : [],
      );
    case "deadLetters": {
      const filters: Filter<DeadLetterDocument>[] = [];
      if (policy.deadJobsMs > 0) {
        filters.push({
          state: { $in: [DeadLetterState.Replayed, DeadLetterState.Discarded] },
          settledAt: before(policy.deadJobsMs),
        });
      }
      if (policy.openDeadLettersMs > 0) {
        filters.push({ state: DeadLetterState.Dead, deadAt: before(policy.openDeadLettersMs) });
      }
      return ruleOver(deadLettersCollection(db), filters);
    }
  }
}
