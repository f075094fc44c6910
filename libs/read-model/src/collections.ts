import type { Collection, Db } from "mongodb";

import type { DeadLetterDocument } from "./dead-letter-document.ts";
import type { JobDocument, RejectionDocument } from "./documents.ts";

/** Names of the read-model collections. */
export const CollectionName = {
  Jobs: "jobs",
  Rejections: "rejections",
  DeadLetters: "dead_letters",
} as const;

export function jobsCollection(db: Db): Collection<JobDocument> {
  return db.collection<JobDocument>(CollectionName.Jobs);
}

export function rejectionsCollection(db: Db): Collection<RejectionDocument> {
  return db.collection<RejectionDocument>(CollectionName.Rejections);
}

export function deadLettersCollection(db: Db): Collection<DeadLetterDocument> {
  return db.collection<DeadLetterDocument>(CollectionName.DeadLetters);
}
