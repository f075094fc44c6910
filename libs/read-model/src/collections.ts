import type { Collection, Db } from "mongodb";

import type { JobDocument, RejectionDocument } from "./documents.ts";

/** Names of the read-model collections. */
export const CollectionName = {
  Jobs: "jobs",
  Rejections: "rejections",
} as const;

export function jobsCollection(db: Db): Collection<JobDocument> {
  return db.collection<JobDocument>(CollectionName.Jobs);
}

export function rejectionsCollection(db: Db): Collection<RejectionDocument> {
  return db.collection<RejectionDocument>(CollectionName.Rejections);
}
