export { JobClient } from "./job-client.ts";
export type {
  BulkJobToSubmit,
  JobClientOptions,
  JobToSubmit,
  SubmitResult,
  Submitted,
} from "./job-client.ts";
export {
  ClientClosedError,
  InvalidSubmissionError,
  SubmissionNotConfirmedError,
} from "./errors.ts";
export type { SubmissionRefusal } from "./errors.ts";
export { submissionMessage } from "./submission-message.ts";
export type { SubmissionMessage } from "./submission-message.ts";
export { bulkMessages } from "./bulk-messages.ts";
export { sendBulkOrJobByJob } from "./job-by-job.ts";
export { checkBulkJob, maxBulkMessageBytes } from "./bulk-job.ts";
export type { BulkJobRefusal } from "./bulk-job.ts";
export type { BulkJob, BulkMessage } from "./bulk-messages.ts";
export { duplicateJobId, readFirstSubmission } from "./first-submission.ts";
export type { FirstSubmission } from "./first-submission.ts";
