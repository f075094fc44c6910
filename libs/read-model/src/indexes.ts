import type { Db, IndexDescription } from "mongodb";

import { deadLettersCollection, jobsCollection, rejectionsCollection } from "./collections.ts";

const jobIndexes: IndexDescription[] = [
  { key: { status: 1, _id: -1 }, name: "status_id" },
  { key: { type: 1, _id: -1 }, name: "type_id" },
  { key: { type: 1, status: 1, _id: -1 }, name: "type_status_id" },
  { key: { batchId: 1 }, name: "batch" },
];
const rejectionIndexes: IndexDescription[] = [{ key: { at: -1, _id: -1 }, name: "at_id" }];
const deadLetterIndexes: IndexDescription[] = [
  { key: { state: 1, _id: -1 }, name: "state_id" },
  { key: { type: 1, _id: -1 }, name: "type_id" },
  { key: { state: 1, type: 1, _id: -1 }, name: "state_type_id" },
];

/**
 * Creates the indexes the list queries use (idempotent). Plain single-field and compound indexes
 * only: FerretDB 1.24 has no TTL or partial indexes.
 */
export async function ensureIndexes(db: Db): Promise<void> {
  // One index per command: FerretDB 1.24 (SQLite) drops the connection when a createIndexes
  // command with several indexes names ones that already exist, i.e. on every restart.
  for (const index of jobIndexes) await jobsCollection(db).createIndexes([index]);
  for (const index of rejectionIndexes) await rejectionsCollection(db).createIndexes([index]);
  for (const index of deadLetterIndexes) await deadLettersCollection(db).createIndexes([index]);
}
