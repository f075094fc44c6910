export { JobTypeName, workConsumerName } from "./job-type.ts";
export { JobPriority, laneOf, prioritiesHighestFirst } from "./priority.ts";
export { JobId, newJobId } from "./job-id.ts";
export { JobStatus, jobStatuses, terminalStatuses, isTerminal } from "./job-status.ts";
export { compareTuples, statusOrderKey } from "./status-order.ts";
export type { StatusFact } from "./status-order.ts";
export { StreamName, KvBucket, ConsumerName } from "./streams.ts";
export {
  Subject,
  typeFromSubmitSubject,
  typeFromBulkSubject,
  typeFromWorkSubject,
  parseWorkSubject,
  parseCommandSubject,
  typeFromDlqSubject,
  typeFromScheduleDueSubject,
} from "./subjects.ts";
export { Header } from "./headers.ts";
export {
  RetryPolicy,
  RetryOverride,
  defaultRetryPolicy,
  maxRetryDelayMs,
  effectivePolicy,
  retryDelayMs,
} from "./retry-policy.ts";
export {
  defaultMaxSubmissionBytes,
  maxBulkJobs,
  maxMessageDepth,
  maxPayloadDepth,
  maxResultDepth,
  rejectionJobIdChars,
  rejectionRawPreviewChars,
} from "./limits.ts";
export { JobSubmission, SubmissionSource, maxScheduleDelayMs } from "./submission.ts";
export { scheduledRunAt } from "./schedule.ts";
export {
  RecurringJob,
  RecurringSchedule,
  RecurringScheduleInput,
  ScheduleName,
  readRecurringSchedule,
  recurrenceHeader,
  recurringJobId,
} from "./recurring.ts";
export type { ReadRecurringSchedule } from "./recurring.ts";
export { ScheduleRun, readScheduleRun } from "./schedule-run.ts";
export { JobBulkSubmission } from "./bulk-submission.ts";
export type { JobSubmissionInput } from "./submission.ts";
export { WorkItem } from "./work-item.ts";
export { DeadLetter, deadLetterMsgId } from "./dead-letter.ts";
export {
  LifecycleKind,
  ErrorInfo,
  QueuedEvent,
  StartedEvent,
  ProgressEvent,
  SucceededEvent,
  FailedEvent,
  DeadEvent,
  CancelledEvent,
  JobEvent,
  ValidationIssue,
  RejectedEvent,
} from "./events.ts";
export { eventMsgId } from "./events.ts";
export { JobTypeDescriptor, maxJobTimeoutMs } from "./job-type-descriptor.ts";
export { toValidationIssues } from "./validation-issues.ts";
export {
  CommandVerb,
  CancelCommand,
  CancellationRecord,
  cancelsRun,
  supersedesCancellation,
  ReplayCommand,
  DiscardCommand,
  commandMsgId,
  maxReasonChars,
} from "./commands.ts";
export type { CancelCommandInput, CancellableRun } from "./commands.ts";
export { DeadLetterAction, DeadLetterLogEntry, deadLetterLogMsgId } from "./dead-letter-log.ts";
export { jsonOrUndefined } from "./json-or-undefined.ts";
export { MsgIdPrefix, reservedMsgIdPrefixes } from "./msg-id-prefixes.ts";
export {
  isFiniteJson,
  parseJobEventJson,
  parseWorkItemJson,
  workItemOrUndefined,
} from "./parsed-json.ts";
export { exceedsDepth, storedLevels } from "./json-depth.ts";
export { InexactInteger, parseJsonExactly } from "./exact-json.ts";
