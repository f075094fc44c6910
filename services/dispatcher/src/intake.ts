import {
  Header,
  JobId,
  StreamName,
  SubmissionSource,
  typeFromSubmitSubject,
} from "@conveyor/contracts";
import type { JobSubmission } from "@conveyor/contracts";
import { checkSubmission, parseSubmissionBytes, preview } from "@conveyor/job-registry";
import type { JobTypeLookup } from "@conveyor/job-registry";
import type { TraceContext, Tracing } from "@conveyor/telemetry";
import type { JsMsg } from "@nats-io/jetstream";

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
 * Turns one submission into a work item plus a `queued` event, or into a `rejected` event, in a
 * CONSUMER span that continues the publisher's trace. Resolves once everything it published is
 * stored (PubAcks); rejects when publishing failed, leaving the message to be retried.
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
  const parsed = parseSubmissionBytes(msg.data, deps.maxSubmissionBytes);
  if (!parsed.ok) {
    return reject(msg, context, deps, { ...parsed, jobId: undefined });
  }
  const check = checkSubmission(parsed.value, deps.registry, {
    subjectType,
    source: sourceOf(msg),
  });
  if (!check.ok) {
    return reject(msg, context, deps, {
      ...check,
      jobId: claimedJobId(parsed.value),
      rawPreview: preview(parsed.text),
    });
  }

  const jobId = jobIdFor(msg, check.submission);
  const item = workItemFor(jobId, check.submission, check.descriptor, msg.time.toISOString());
  const event = queuedEventFor(item, sourceOf(msg), deps.tracing.traceIdOf(context), deps.now());
  // Both must be stored before the intake message is acknowledged; the order between them does
  // not matter because the read model merges events in any order.
  await Promise.all([
    deps.publisher.work(context, item, sourceOf(msg)),
    deps.publisher.queued(context, event),
  ]);
  return { kind: "queued", jobId, type: item.type };
}

async function reject(
  msg: JsMsg,
  context: TraceContext,
  deps: IntakeDeps,
  refusal: {
    reason: string;
    message: string;
    issues: { path: string; message: string }[];
    jobId: string | undefined;
    rawPreview: string;
  },
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
