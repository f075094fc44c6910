import { scheduledRunAt } from "@conveyor/contracts";
import type {
  JobSubmission,
  QueuedEvent,
  StreamName,
  SubmissionSource,
  ValidationIssue,
  WorkItem,
} from "@conveyor/contracts";
import { checkSubmission, claimedId } from "@conveyor/job-registry";
import type { JobTypeLookup } from "@conveyor/job-registry";
import type { TraceContext, Tracing } from "@conveyor/telemetry";
import type { JsMsg } from "@nats-io/jetstream";

import { QueuedEventMissing } from "./intake-failure.ts";
import { idForIntakeMessage } from "./job-ids.ts";
import type { DispatchPublisher } from "./publisher.ts";
import type { ScheduledHolds } from "./scheduled-holds.ts";
import { queuedEventFor, rejectedEventFor, workItemFor } from "./records.ts";

/** Why a submission (or one job of a bulk submission) is refused, as its rejection records it. */
export interface Refusal {
  reason: string;
  message: string;
  issues: ValidationIssue[];
  jobId: string | undefined;
  rawPreview: string;
}

/**
 * A checked submission: the job's work item and `queued` event (and, for a job scheduled later
 * than when its submission was stored, when it may run), or its refusal.
 */
export type Decision =
  | {
      kind: "dispatch";
      item: WorkItem;
      event: QueuedEvent;
      source: SubmissionSource;
      runAt?: Date | undefined;
    }
  | { kind: "reject"; refusal: Refusal };

/** What deciding one envelope needs besides the envelope. */
export interface EnvelopeFacts {
  /** The type its subject names, which the envelope may omit. */
  subjectType: string | undefined;
  source: SubmissionSource;
  /** The job's id when the envelope names none. */
  fallbackId: () => string;
  /** When JetStream stored the submission (the job's `submittedAt`). */
  storedAt: Date;
  /** The start of the envelope's text, for a rejection record. */
  rawPreview: () => string;
}

/** Checks one parsed envelope against the registry and builds the job's records, or its refusal. */
export function decideEnvelope(
  value: unknown,
  facts: EnvelopeFacts,
  deps: { registry: JobTypeLookup; tracing: Tracing; now: () => Date },
  context: TraceContext,
): Decision {
  const check = checkSubmission(value, deps.registry, {
    subjectType: facts.subjectType,
    source: facts.source,
    // A producer checked `runAt` against its own clock; the server's may lag it a little.
    scheduleFrom: new Date(facts.storedAt.getTime() + scheduleClockMarginMs),
  });
  if (!check.ok) {
    const refusal = {
      reason: check.reason,
      message: check.message,
      issues: check.issues,
      jobId: claimedId(value),
      rawPreview: facts.rawPreview(),
    };
    return { kind: "reject", refusal };
  }
  const jobId = idOf(check.submission, facts.fallbackId);
  const item = workItemFor(jobId, check.submission, check.descriptor, facts.storedAt.toISOString());
  const event = queuedEventFor(item, facts.source, deps.tracing.traceIdOf(context), deps.now());
  // Decided against when the submission was stored, not the dispatcher's clock, so that every
  // delivery of it decides alike. A time that has passed meanwhile (a backlog) is still held:
  // the server's scheduler hands it back within a quarter of a second.
  const runAt = laterThan(scheduledRunAt(check.submission, facts.storedAt), facts.storedAt);
  if (runAt === undefined) return { kind: "dispatch", item, event, source: facts.source };
  event.runAt = runAt.toISOString();
  return { kind: "dispatch", item, event, source: facts.source, runAt };
}

/**
 * How much later than `storedAt` and a year a `runAt` may be: a producer's clock (which checked
 * it first) may run ahead of the server's.
 */
const scheduleClockMarginMs = 60 * 60 * 1000;

function laterThan(runAt: Date | undefined, storedAt: Date): Date | undefined {
  return runAt !== undefined && runAt.getTime() > storedAt.getTime() ? runAt : undefined;
}

function idOf(submission: JobSubmission, fallbackId: () => string): string {
  return submission.id ?? fallbackId();
}

/**
 * Publishes a job's `queued` event and its work item, on `WORK`, or held in `SCHEDULES` until its
 * time when it is scheduled. Both leave in one socket write, so the worker is not kept waiting
 * for the event's PubAck. The work item is the one record whose repetition does
 * harm (the job runs again); a retry publishes it again under the same Nats-Msg-Id, and retries
 * while NATS answers end (giveUpAfterDeliveries, about 25 minutes) well within WORK's duplicate
 * window, so it collapses (an outage is retried until it ends, which can outlast the window).
 * Once the work item is stored the job is queued for good: a missing queued event rejects with a
 * {@link QueuedEventMissing}, to be retried on its own terms, never turned into a rejection.
 */
export async function publishJob(
  deps: { publisher: DispatchPublisher; holds: ScheduledHolds },
  context: TraceContext,
  decision: Extract<Decision, { kind: "dispatch" }>,
): Promise<void> {
  const { publisher } = deps;
  const { item, event, source, runAt } = decision;
  const [queued, work] = await Promise.allSettled([
    publisher.queued(context, event),
    runAt === undefined
      ? publisher.work(context, item, source)
      : publisher.scheduled(context, item, source, runAt),
  ]);
  if (work.status === "rejected") throw work.reason;
  if (runAt !== undefined) {
    await deps.holds.dropIfCancelled(item).catch((err: unknown) => {
      throw new QueuedEventMissing(item.id, err, "whether a cancel came first could not be read");
    });
  }
  if (queued.status === "rejected") throw new QueuedEventMissing(item.id, queued.reason);
}

/** What a rejection record says of the message it refuses (or of the message a refused job was in). */
export interface RefusedMessage {
  rejectionId: string;
  subject: string;
  sizeBytes: number;
}

/**
 * Records the refusal of a whole message of `stream` (a submission, a bulk, a schedule's tick) as
 * a `rejected` event whose id comes from the message's place in the stream, so that a redelivery
 * records the same rejection; resolves with that id once it is stored.
 */
export async function refuseMessage(
  deps: { publisher: DispatchPublisher; tracing: Tracing; now: () => Date },
  context: TraceContext,
  stream: StreamName,
  msg: JsMsg,
  refusal: Refusal,
): Promise<string> {
  const rejectionId = idForIntakeMessage(stream, msg.seq, msg.time, "rejection");
  const refused = { rejectionId, subject: msg.subject, sizeBytes: msg.data.byteLength };
  await recordRefusal(deps, context, refused, refusal);
  return rejectionId;
}

/** Records a refusal as a `rejected` event; resolves once it is stored. */
export async function recordRefusal(
  deps: { publisher: DispatchPublisher; tracing: Tracing; now: () => Date },
  context: TraceContext,
  message: RefusedMessage,
  refusal: Refusal,
): Promise<void> {
  const event = rejectedEventFor({
    ...message,
    reason: refusal.reason,
    message: refusal.message,
    issues: refusal.issues,
    jobId: refusal.jobId,
    rawPreview: refusal.rawPreview,
    traceId: deps.tracing.traceIdOf(context),
    at: deps.now(),
  });
  await deps.publisher.rejected(context, event);
}
