import { LifecycleKind, rejectionJobIdChars } from "@conveyor/contracts";
import type {
  JobSubmission,
  JobTypeDescriptor,
  QueuedEvent,
  RejectedEvent,
  SubmissionSource,
  ValidationIssue,
  WorkItem,
} from "@conveyor/contracts";

/** The run of a job the dispatcher queues: always the first (replays come from the DLQ path). */
export const firstRun = 1;

/** The work item for an accepted submission: per-job overrides win over the type's policy. */
export function workItemFor(
  jobId: string,
  submission: JobSubmission,
  descriptor: JobTypeDescriptor,
  submittedAt: string,
): WorkItem {
  const item: WorkItem = {
    id: jobId,
    type: submission.type,
    payload: submission.payload,
    priority: submission.priority,
    maxAttempts: submission.maxAttempts ?? descriptor.retry.maxAttempts,
    timeoutMs: submission.timeoutMs ?? descriptor.timeoutMs,
    submittedAt,
    run: firstRun,
  };
  if (submission.batchId !== undefined) item.batchId = submission.batchId;
  if (submission.retry !== undefined) item.retry = submission.retry;
  return item;
}

export function queuedEventFor(
  item: WorkItem,
  source: SubmissionSource,
  traceId: string | undefined,
  at: Date,
): QueuedEvent {
  const event: QueuedEvent = {
    kind: LifecycleKind.Queued,
    jobId: item.id,
    type: item.type,
    at: at.toISOString(),
    run: item.run,
    attempt: 0,
    payload: item.payload,
    priority: item.priority,
    maxAttempts: item.maxAttempts,
    submittedAt: item.submittedAt,
    source,
  };
  if (traceId !== undefined) event.traceId = traceId;
  if (item.batchId !== undefined) event.batchId = item.batchId;
  return event;
}

export interface RejectionFacts {
  rejectionId: string;
  subject: string;
  reason: string;
  message: string;
  issues: ValidationIssue[];
  jobId: string | undefined;
  rawPreview: string;
  sizeBytes: number;
  traceId: string | undefined;
  at: Date;
}

/** Most issues a rejection record keeps; the rest are counted in one last issue. */
export const maxRejectionIssues = 50;
/** Longest a rejection's `message` is kept, in characters. */
export const maxRejectionMessageChars = 1024;
/** Longest an issue's path or message, or a rejection's subject, is kept, in characters. */
export const maxRejectionFieldChars = 256;

/**
 * The `rejected` event for a refusal, bounded in size whatever the refusal holds (thousands of
 * issues, a huge subject), so that recording it can never fail for being too large.
 */
export function rejectedEventFor(facts: RejectionFacts): RejectedEvent {
  const event: RejectedEvent = {
    kind: LifecycleKind.Rejected,
    rejectionId: facts.rejectionId,
    at: facts.at.toISOString(),
    subject: truncate(facts.subject, maxRejectionFieldChars),
    reason: truncate(facts.reason, maxRejectionFieldChars),
    message: truncate(facts.message, maxRejectionMessageChars),
    issues: boundedIssues(facts.issues),
    rawPreview: facts.rawPreview,
    sizeBytes: facts.sizeBytes,
  };
  // Bounded here whatever it came from (the body's `id`, a `Conveyor-Job-Id` header).
  if (facts.jobId !== undefined) event.jobId = facts.jobId.slice(0, rejectionJobIdChars);
  if (facts.traceId !== undefined) event.traceId = facts.traceId;
  return event;
}

function boundedIssues(issues: readonly ValidationIssue[]): ValidationIssue[] {
  const kept = issues.slice(0, maxRejectionIssues).map((issue) => ({
    path: truncate(issue.path, maxRejectionFieldChars),
    message: truncate(issue.message, maxRejectionFieldChars),
  }));
  const left = issues.length - kept.length;
  if (left > 0) kept.push({ path: "(root)", message: `${left} more issues left out` });
  return kept;
}

function truncate(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, chars - 1)}…`;
}
