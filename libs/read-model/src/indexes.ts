import { MongoServerError } from "mongodb";
import type { Db, IndexDescription } from "mongodb";

import { deadLettersCollection, jobsCollection, rejectionsCollection } from "./collections.ts";

const jobIndexes: IndexDescription[] = [
  { key: { status: 1, _id: -1 }, name: "status_id" },
  { key: { type: 1, _id: -1 }, name: "type_id" },
  { key: { type: 1, status: 1, _id: -1 }, name: "type_status_id" },
  // With `_id` after it, a batch's page is read in the list's order from the index, not sorted
  // from all of the batch's jobs on every page.
  { key: { batchId: 1, _id: -1 }, name: "batchId_id" },
  { key: { status: 1, finishedAt: 1 }, name: "status_finishedAt" },
];
const rejectionIndexes: IndexDescription[] = [
  { key: { at: -1, _id: -1 }, name: "at_id" },
  { key: { jobId: 1, at: -1, _id: -1 }, name: "jobId_at_id" },
];
const deadLetterIndexes: IndexDescription[] = [
  { key: { state: 1, _id: -1 }, name: "state_id" },
  { key: { type: 1, _id: -1 }, name: "type_id" },
  { key: { state: 1, type: 1, _id: -1 }, name: "state_type_id" },
  { key: { state: 1, deadAt: 1 }, name: "state_deadAt" },
  { key: { state: 1, settledAt: 1 }, name: "state_settledAt" },
];

/** What {@link ensureIndexes} did. */
export interface EnsuredIndexes {
  /**
   * Whether the list indexes exist: false on a server that cannot use them for a query (see
   * {@link serverUsesListIndexes}), where only `_id` is indexed.
   */
  listIndexes: boolean;
}

/**
 * Creates the indexes the list queries and the retention sweep use (idempotent), where the server
 * can use them. Plain
 * single-field and compound indexes only: FerretDB 1.24 has no TTL or partial indexes.
 */
export async function ensureIndexes(db: Db): Promise<EnsuredIndexes> {
  await ensureCollections(db);
  if (!(await serverUsesListIndexes(db))) return { listIndexes: false };
  // One index per command: FerretDB 1.24 (SQLite) drops the connection when a createIndexes
  // command with several indexes names ones that already exist, i.e. on every restart.
  for (const index of jobIndexes) await jobsCollection(db).createIndexes([index]);
  for (const index of rejectionIndexes) await rejectionsCollection(db).createIndexes([index]);
  for (const index of deadLetterIndexes) await deadLettersCollection(db).createIndexes([index]);
  return { listIndexes: true };
}

/**
 * Creates the read-model collections that do not exist yet, so that they (and their `_id` index)
 * are there from the start, whichever server and whatever it indexes.
 */
async function ensureCollections(db: Db): Promise<void> {
  const names = [jobsCollection, rejectionsCollection, deadLettersCollection].map(
    (collection) => collection(db).collectionName,
  );
  const existing = new Set(
    (await db.listCollections({}, { nameOnly: true }).toArray()).map((info) => info.name),
  );
  for (const name of names) {
    if (existing.has(name)) continue;
    try {
      await db.createCollection(name);
    } catch (err) {
      // Another process created it meanwhile.
      if (!(err instanceof MongoServerError && err.code === namespaceExistsCode)) throw err;
    }
  }
}

/** MongoDB's (and FerretDB's) code for creating a collection that exists. */
const namespaceExistsCode = 48;

/**
 * Whether the server can serve a query on a field other than `_id` from an index. MongoDB can.
 * FerretDB 1.x on SQLite cannot: it hands only an `_id` equality to SQLite and filters and sorts
 * everything else itself, as its `explain` says (`filterPushdown: false`). There the list indexes
 * would serve no query, while every insert and update maintains them (about a third of the cost of
 * writing a job document), so {@link ensureIndexes} leaves them out.
 */
export async function serverUsesListIndexes(db: Db): Promise<boolean> {
  const plan = await jobsCollection(db).find({ status: "queued" }).explain("queryPlanner");
  return plan.filterPushdown !== false;
}
