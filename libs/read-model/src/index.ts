export type {
  AttemptRecord,
  JobDocument,
  JsonValue,
  ProgressRecord,
  RejectionDocument,
} from "./documents.ts";
export { AttemptOutcome } from "./documents.ts";
export { applyEvent } from "./apply-event.ts";
export { mergeJobDocuments } from "./merge-job-documents.ts";
export { rejectionFromEvent } from "./rejection-document.ts";
export { CollectionName, jobsCollection, rejectionsCollection } from "./collections.ts";
export { ensureIndexes } from "./indexes.ts";
export { findJob, listJobs, countJobsByStatusAndType } from "./job-queries.ts";
export type { ListJobsOptions, StatusTypeCount, CountJobsOptions } from "./job-queries.ts";
export { findRejection, listRejections } from "./rejection-queries.ts";
export type { ListRejectionsOptions } from "./rejection-queries.ts";
export { maxPageLimit } from "./page.ts";
export type { Page } from "./page.ts";
export { InvalidQueryError, InvalidCursorError, JobMismatchError } from "./errors.ts";
export { toStoredJob, fromStoredJob, findJobsByIds } from "./stored-job.ts";
