import {
  Header,
  JobId,
  StreamName,
  rejectionRawPreviewChars,
  SubmissionSource,
  typeFromSubmitSubject,
  jsonOrUndefined,
} from "@conveyor/contracts";
import {
  claimedId,
  lookUpUnseenTypes,
  parseSubmissionBytes,
  preview,
} from "@conveyor/job-registry";
import { headersOrNone, readHeaders } from "@conveyor/service-kit";
import type { JobTypeSource } from "@conveyor/job-registry";
import type { TraceContext, Tracing } from "@conveyor/telemetry";
import type { JsMsg } from "@nats-io/jetstream";

import { failureMessage } from "./intake-failure.ts";
import { idForIntakeMessage, traceIdForIntakeMessage } from "./job-ids.ts";
import { decideEnvelope, publishJob, refuseMessage } from "./job-decision.ts";
import type { Decision, Refusal } from "./job-decision.ts";
import type { DispatchPublisher } from "./publisher.ts";
import type { ScheduledHolds } from "./scheduled-holds.ts";

/** What became of one intake message. */
export type IntakeOutcome =
  | { kind: "queued"; jobId: string; type: string }
  | { kind: "rejected"; rejectionId: string; reason: string };

export interface IntakeDeps {
  registry: JobTypeSource;
  publisher: DispatchPublisher;
  tracing: Tracing;
  /** Largest submission accepted, in bytes. */
  maxSubmissionBytes: number;
  /** The clock, for event times. */
  now: () => Date;
  /** What is done once a scheduled job's work item is held. */
  holds: ScheduledHolds;
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
  const { headers, problem } = readHeaders(msg);
  return deps.tracing.consume(
    headers,
    { subject: msg.subject, jobType: subjectType },
    (context) =>
      problem === undefined
        ? dispatch(msg, subjectType, context, deps)
        : reject(msg, context, deps, unreadableHeaders(msg, problem)),
    () => traceIdForIntakeMessage(StreamName.Jobs, msg.seq, msg.time),
  );
}

/** Why an intake message is refused when its headers cannot be read. */
export const invalidHeadersReason = "invalid_headers";

/** The refusal of a submission whose headers cannot be read (see `readHeaders`). */
export function unreadableHeaders(msg: JsMsg, problem: string): Refusal {
  return {
    reason: invalidHeadersReason,
    message: `the message's headers could not be read: ${problem}`,
    issues: [{ path: "(headers)", message: problem }],
    jobId: claimedId(jsonOrUndefined(msg.data)),
    rawPreview: rawPreviewOf(msg),
  };
}

async function dispatch(
  msg: JsMsg,
  subjectType: string | undefined,
  context: TraceContext,
  deps: IntakeDeps,
): Promise<IntakeOutcome> {
  await lookUpUnseenTypes(deps.registry, [subjectType]);
  let decision: Decision;
  try {
    decision = decide(msg, subjectType, context, deps);
  } catch (err) {
    // Reading and checking are pure: whatever throws would throw again on every delivery.
    decision = {
      kind: "reject",
      refusal: unprocessableRefusal(
        msg,
        `could not be read: ${failureMessage(err)}`,
        claimedJobId(msg),
      ),
    };
  }
  if (decision.kind === "reject") return reject(msg, context, deps, decision.refusal);
  await publishJob(deps, context, decision);
  return { kind: "queued", jobId: decision.item.id, type: decision.item.type };
}

function decide(
  msg: JsMsg,
  subjectType: string | undefined,
  context: TraceContext,
  deps: IntakeDeps,
): Decision {
  const parsed = parseSubmissionBytes(msg.data, deps.maxSubmissionBytes);
  if (!parsed.ok) return { kind: "reject", refusal: { ...parsed, jobId: undefined } };
  const facts = {
    subjectType,
    source: sourceOf(msg),
    fallbackId: () => fallbackJobId(msg),
    storedAt: msg.time,
    rawPreview: () => preview(parsed.text),
  };
  return decideEnvelope(parsed.value, facts, deps, context);
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
    headersOrNone(msg),
    { subject: msg.subject, jobType: subjectType },
    // The submission was read and checked, so it got a job id (its queued event may be stored).
    (context) =>
      reject(
        msg,
        context,
        deps,
        unprocessableRefusal(msg, why, claimedId(jsonOrUndefined(msg.data)) ?? fallbackJobId(msg)),
      ),
    () => traceIdForIntakeMessage(StreamName.Jobs, msg.seq, msg.time),
  );
}

/** The start of a message that could not be read as a submission, for its rejection. */
export function rawPreviewOf(msg: JsMsg): string {
  return preview(new TextDecoder().decode(msg.data.subarray(0, rejectionRawPreviewChars * 4)));
}

/** Why an intake message is refused when it cannot be dispatched at all. */
export const unprocessableReason = "unprocessable";

/** The `unprocessable` refusal of an intake message that could not be dispatched, and why. */
function unprocessableRefusal(msg: JsMsg, why: string, jobId: string | undefined): Refusal {
  const message = `submission could not be dispatched: ${why}`;
  return {
    reason: unprocessableReason,
    message,
    issues: [{ path: "(root)", message }],
    jobId,
    rawPreview: rawPreviewOf(msg),
  };
}

/** The job id a submission that could not be read names, in its body or its header. */
function claimedJobId(msg: JsMsg): string | undefined {
  return (
    claimedId(jsonOrUndefined(msg.data)) ?? (headersOrNone(msg)?.get(Header.JobId) || undefined)
  );
}

async function reject(
  msg: JsMsg,
  context: TraceContext,
  deps: IntakeDeps,
  refusal: Refusal,
): Promise<IntakeOutcome> {
  const rejectionId = await refuseMessage(deps, context, StreamName.Jobs, msg, refusal);
  return { kind: "rejected", rejectionId, reason: refusal.reason };
}

/** For an envelope without an id: a valid `Conveyor-Job-Id` header, else one derived from the message. */
function fallbackJobId(msg: JsMsg): string {
  const header = headersOrNone(msg)?.get(Header.JobId);
  if (header && JobId.safeParse(header).success) return header;
  return idForIntakeMessage(StreamName.Jobs, msg.seq, msg.time, "job");
}

/** The source a submission's `Conveyor-Source` header names: REST from the gateway, else NATS. */
export function sourceOf(msg: JsMsg): SubmissionSource {
  return headersOrNone(msg)?.get(Header.Source) === SubmissionSource.Rest
    ? SubmissionSource.Rest
    : SubmissionSource.Nats;
}
