export { JobClient } from "./job-client.ts";
export type {
  BulkJobToSubmit,
  JobClientOptions,
  JobToSubmit,
  SubmitResult,
  Submitted,
  WaitForOptions,
} from "./job-client.ts";
export { newestOutcome } from "./job-outcome.ts";
export { followJobEvents, jobEventOf } from "./follow-job-events.ts";
export { newestStoredMessages } from "./newest-stored-messages.ts";
export type { StoredReply } from "./newest-stored-messages.ts";
export type { FollowOptions, JobEventsFollower } from "./follow-job-events.ts";
export type { JobOutcome } from "./job-outcome.ts";
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
