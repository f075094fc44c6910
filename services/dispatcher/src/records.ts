import { LifecycleKind } from "@conveyor/contracts";
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

export function rejectedEventFor(facts: RejectionFacts): RejectedEvent {
  const event: RejectedEvent = {
    kind: LifecycleKind.Rejected,
    rejectionId: facts.rejectionId,
    at: facts.at.toISOString(),
    subject: facts.subject,
    reason: facts.reason,
    message: facts.message,
    issues: facts.issues,
    rawPreview: facts.rawPreview,
    sizeBytes: facts.sizeBytes,
  };
  if (facts.jobId !== undefined) event.jobId = facts.jobId;
  if (facts.traceId !== undefined) event.traceId = facts.traceId;
  return event;
}

/** The `id` a rejected body carried, when it is a string (kept so clients can find the rejection). */
export function claimedJobId(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || !("id" in body)) return undefined;
  return typeof body.id === "string" ? body.id.slice(0, 256) : undefined;
}
