import type { JobEvent } from "@conveyor/contracts";

import type { JobDocument } from "./documents.ts";
import { JobMismatchError } from "./errors.ts";
import { jobFromEvent } from "./job-from-event.ts";
import { mergeJobDocuments } from "./merge-job-documents.ts";

/**
 * Folds one lifecycle event into a job's document. Pure, idempotent and order-insensitive: any
 * permutation of a job's events, with any duplicates, reduces to the same document, so events
 * that arrive late, twice or out of order are harmless, and replaying the stream rebuilds the
 * read model exactly. The rules are in `docs/read-model.md`.
 *
 * @throws {JobMismatchError} when `doc` belongs to another job.
 */
export function applyEvent(doc: JobDocument | undefined, event: JobEvent): JobDocument {
  const single = jobFromEvent(event);
  if (doc === undefined) return single;
  if (doc._id !== event.jobId) throw new JobMismatchError(doc._id, event.jobId);
  return mergeJobDocuments(doc, single);
}
