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
export {
  CollectionName,
  jobsCollection,
  rejectionsCollection,
  deadLettersCollection,
} from "./collections.ts";
export { ensureIndexes, serverUsesListIndexes } from "./indexes.ts";
export type { EnsuredIndexes } from "./indexes.ts";
export { findJob, listJobs, countJobsByStatusAndType } from "./job-queries.ts";
export type { ListJobsOptions, StatusTypeCount, CountJobsOptions } from "./job-queries.ts";
export { findRejection, listRejections } from "./rejection-queries.ts";
export type { ListRejectionsOptions } from "./rejection-queries.ts";
export { defaultMaxPageBytes, maxPageLimit } from "./page.ts";
export { decodeCursor, encodeCursor } from "./cursor.ts";
export type { CursorList } from "./cursor.ts";
export type { Page } from "./page.ts";
export {
  InvalidQueryError,
  InvalidCursorError,
  InvalidDocumentError,
  JobMismatchError,
  RetentionSweepError,
} from "./errors.ts";
export { toStoredJob, fromStoredJob, findJobsByIds } from "./stored-job.ts";
export { DeadLetterState, deadLetterStates, isOpenDeadLetter } from "./dead-letter-document.ts";
export type {
  DeadLetterDocument,
  DeadLetterLogRecord,
  OpenDeadLetterDocument,
  SettledDeadLetterDocument,
  StreamPosition,
} from "./dead-letter-document.ts";
export { applyDeadLetterFact, deadLetterIdOf } from "./dead-letter-fact.ts";
export type { DeadLetterFact } from "./dead-letter-fact.ts";
export { mergeDeadLetters } from "./merge-dead-letters.ts";
export {
  toStoredDeadLetter,
  fromStoredDeadLetter,
  findDeadLettersByIds,
} from "./stored-dead-letter.ts";
export {
  findDeadLetter,
  listDeadLetters,
  listReplayableDeadLetters,
} from "./dead-letter-queries.ts";
export type { ListDeadLettersOptions, ReplayableDeadLetter } from "./dead-letter-queries.ts";
export { deleteExpired, deleteIfExpired, expiredIds } from "./retention.ts";
export type {
  DeleteExpiredOptions,
  ExpiredCounts,
  ExpiringKind,
  RetentionPolicy,
} from "./retention.ts";
export type { ReadDeadline } from "./read-deadline.ts";
