import {
  Header,
  JobId,
  StreamName,
  rejectionRawPreviewChars,
  SubmissionSource,
  typeFromSubmitSubject,
  jsonOrUndefined,
} from "@conveyor/contracts";
import type { JobSubmission, QueuedEvent, WorkItem } from "@conveyor/contracts";
import { checkSubmission, parseSubmissionBytes, preview } from "@conveyor/job-registry";
import type { JobTypeLookup } from "@conveyor/job-registry";
import type { TraceContext, Tracing } from "@conveyor/telemetry";
import type { JsMsg } from "@nats-io/jetstream";

import { failureMessage, QueuedEventMissing } from "./intake-failure.ts";
import { idForIntakeMessage } from "./job-ids.ts";
import type { DispatchPublisher } from "./publisher.ts";
import { claimedJobId, queuedEventFor, rejectedEventFor, workItemFor } from "./records.ts";

/** What became of one intake message. */
export type IntakeOutcome =
  | { kind: "queued"; jobId: string; type: string }
  | { kind: "rejected"; rejectionId: string; reason: string };

export interface IntakeDeps {
  registry: JobTypeLookup;
  publisher: DispatchPublisher;
  tracing: Tracing;
  /** Largest submission accepted, in bytes. */
  maxSubmissionBytes: number;
  /** The clock, for event times. */
  now: () => Date;
}

/**
 * Turns one submission into a `queued` event plus a work item, or into a `rejected` event, in a
 * CONSUMER span that continues the publisher's trace. A submission that cannot even be read (a
 * validator threw) is rejected as `unprocessable`. Resolves once everything it published is stored
 * (PubAcks); rejects when publishing failed, leaving the caller to retry or give up: with a
 * {@link QueuedEventMissing} when only the `queued` event failed, so the job is already queued.
 */
export function processSubmission(msg: JsMsg, deps: IntakeDeps): Promise<IntakeOutcome> {
  const subjectType = typeFromSubmitSubject(msg.subject);
  return deps.tracing.consume(
    msg.headers,
    { subject: msg.subject, jobType: subjectType },
    (context) => dispatch(msg, subjectType, context, deps),
  );
}

async function dispatch(
  msg: JsMsg,
  subjectType: string | undefined,
  context: TraceContext,
  deps: IntakeDeps,
): Promise<IntakeOutcome> {
  let decision: Decision;
  try {
    decision = decide(msg, subjectType, context, deps);
  } catch (err) {
    // Reading and checking are pure: whatever throws would throw again on every delivery.
    decision = {
      kind: "reject",
      refusal: unprocessable(msg, `could not be read: ${failureMessage(err)}`),
    };
  }
  if (decision.kind === "reject") return reject(msg, context, deps, decision.refusal);

  const { item, event, source } = decision;
  // Both leave in one socket write, so the worker is not kept waiting for the event's PubAck. The
  // work item is the one record whose repetition does harm (the job runs again); a retry publishes
  // it again under the same Nats-Msg-Id, and retries end (giveUpAfterDeliveries, about 25 minutes)
  // well within WORK's duplicate window, so it collapses. Once the work item is stored the job is
  // queued for good: a missing queued event is retried on its own terms, never turned into a
  // rejection (see QueuedEventMissing).
  const [queued, work] = await Promise.allSettled([
    deps.publisher.queued(context, event),
    deps.publisher.work(context, item, source),
  ]);
  if (work.status === "rejected") throw work.reason;
  if (queued.status === "rejected") throw new QueuedEventMissing(item.id, queued.reason);
  return { kind: "queued", jobId: item.id, type: item.type };
}

type Decision =
  | { kind: "dispatch"; item: WorkItem; event: QueuedEvent; source: SubmissionSource }
  | { kind: "reject"; refusal: Refusal };

interface Refusal {
  reason: string;
  message: string;
  issues: { path: string; message: string }[];
  jobId: string | undefined;
  rawPreview: string;
}

function decide(
  msg: JsMsg,
  subjectType: string | undefined,
  context: TraceContext,
  deps: IntakeDeps,
): Decision {
  const parsed = parseSubmissionBytes(msg.data, deps.maxSubmissionBytes);
  if (!parsed.ok) return { kind: "reject", refusal: { ...parsed, jobId: undefined } };
  const source = sourceOf(msg);
  const check = checkSubmission(parsed.value, deps.registry, { subjectType, source });
  if (!check.ok) {
    const refusal = {
      ...check,
      jobId: claimedJobId(parsed.value),
      rawPreview: preview(parsed.text),
    };
    return { kind: "reject", refusal };
  }
  const jobId = jobIdFor(msg, check.submission);
  const item = workItemFor(jobId, check.submission, check.descriptor, msg.time.toISOString());
  const event = queuedEventFor(item, source, deps.tracing.traceIdOf(context), deps.now());
  return { kind: "dispatch", item, event, source };
}

/**
 * Records a submission that could not be dispatched as an `unprocessable` rejection: a failure
 * that would repeat on every delivery, or one that outlasted the retries. Resolves once the
 * rejection is stored; rejects when it could not be.
 */
export function recordUnprocessable(
  msg: JsMsg,
  deps: IntakeDeps,
  why: string,
): Promise<IntakeOutcome> {
  const subjectType = typeFromSubmitSubject(msg.subject);
  return deps.tracing.consume(
    msg.headers,
    { subject: msg.subject, jobType: subjectType },
    (context) => reject(msg, context, deps, unprocessable(msg, why)),
  );
}

/** Why an intake message is refused when it cannot be dispatched at all. */
export const unprocessableReason = "unprocessable";

function unprocessable(msg: JsMsg, why: string): Refusal {
  const text = new TextDecoder().decode(msg.data.subarray(0, rejectionRawPreviewChars * 4));
  const message = `submission could not be dispatched: ${why}`;
  return {
    reason: unprocessableReason,
    message,
    issues: [{ path: "(root)", message }],
    jobId: claimedJobId(jsonOrUndefined(msg.data)) ?? (msg.headers?.get(Header.JobId) || undefined),
    rawPreview: preview(text),
  };
}

async function reject(
  msg: JsMsg,
  context: TraceContext,
  deps: IntakeDeps,
  refusal: Refusal,
): Promise<IntakeOutcome> {
  const rejectionId = idForIntakeMessage(StreamName.Jobs, msg.seq, msg.time, "rejection");
  const event = rejectedEventFor({
    rejectionId,
    subject: msg.subject,
    reason: refusal.reason,
    message: refusal.message,
    issues: refusal.issues,
    jobId: refusal.jobId,
    rawPreview: refusal.rawPreview,
    sizeBytes: msg.data.byteLength,
    traceId: deps.tracing.traceIdOf(context),
    at: deps.now(),
  });
  await deps.publisher.rejected(context, event);
  return { kind: "rejected", rejectionId, reason: refusal.reason };
}

/** The envelope's id, else a valid `Conveyor-Job-Id` header, else one derived from the message. */
function jobIdFor(msg: JsMsg, submission: JobSubmission): string {
  if (submission.id !== undefined) return submission.id;
  const header = msg.headers?.get(Header.JobId);
  if (header && JobId.safeParse(header).success) return header;
  return idForIntakeMessage(StreamName.Jobs, msg.seq, msg.time, "job");
}

function sourceOf(msg: JsMsg): SubmissionSource {
  return msg.headers?.get(Header.Source) === SubmissionSource.Rest
    ? SubmissionSource.Rest
    : SubmissionSource.Nats;
}
