import { StreamName, typeFromBulkSubject } from "@conveyor/contracts";
import {
  BytesRejection,
  checkBulkEnvelope,
  claimedId,
  idempotencyKeyInBulk,
  lookUpUnseenTypes,
  parseSubmissionBytes,
  preview,
  refusalInBulk,
  repeatedIdRefusal,
  repeatedIds,
  splitBulkJobTrace,
} from "@conveyor/job-registry";
import type { SplitBulkJob } from "@conveyor/job-registry";
import { isNatsOutage, readHeaders } from "@conveyor/service-kit";
import { FieldsCarrier } from "@conveyor/telemetry";
import type { TraceContext } from "@conveyor/telemetry";
import type { JsMsg } from "@nats-io/jetstream";

import {
  failureMessage,
  givesUpOn,
  isDeterministicFailure,
  QueuedEventMissing,
} from "./intake-failure.ts";
import { sourceOf, unprocessableReason, unreadableHeaders } from "./intake.ts";
import type { IntakeDeps } from "./intake.ts";
import { idForIntakeMessage, traceIdForIntakeMessage } from "./job-ids.ts";
import { decideEnvelope, publishJob, recordRefusal, refuseMessage } from "./job-decision.ts";
import type { Decision, Refusal } from "./job-decision.ts";

/** Which delivery of the bulk this is, to decide when a job that cannot be queued is given up. */
export interface BulkDelivery {
  /** The message's delivery count. */
  deliveries: number;
  /**
   * Whether this is the last delivery the dispatcher retries: a job whose work item cannot be
   * stored now, for a reason other than NATS being unavailable, is recorded as an `unprocessable`
   * rejection of its own instead of being retried.
   */
  lastAttempt: boolean;
}

/** What became of one bulk submission. */
export interface BulkOutcome {
  /** Jobs queued. */
  queued: number;
  /** Refusals recorded: one per refused job, or one for the whole message when it is unreadable. */
  rejected: { rejectionId: string; reason: string }[];
}

/**
 * Turns a bulk submission (`jobs.bulk.<type>`, `{ "jobs": [...] }`) into its jobs: each is checked
 * on its own and becomes a `queued` event plus a work item, or a `rejected` event naming it
 * (`jobs[3].payload.ms`), each in a CONSUMER span of its own that continues the publisher's trace,
 * so the jobs of one bulk share its trace (without a `traceparent`, each starts its own), except
 * a job that carries its own `traceparent` (and `tracestate`) beside its envelope, which continues
 * that one. A body that is not JSON or not such an envelope is one
 * rejection. Ids derived for jobs without one, and for rejections, are fixed by the message's
 * stream position and the job's place, so a redelivered bulk publishes the same records and they
 * collapse. A job with the id of an earlier job of the bulk is refused (it would collapse into it).
 * A job whose work item cannot be stored for a reason that would repeat, or on the last attempt
 * for one that is not an outage of NATS (see `givesUpOn`), is recorded as an `unprocessable` rejection naming its id. Resolves once everything is stored;
 * rejects when any other publish failed (with a {@link QueuedEventMissing} when only `queued`
 * events did), leaving the caller to retry the whole bulk.
 */
export async function processBulkSubmission(
  msg: JsMsg,
  deps: IntakeDeps,
  delivery: BulkDelivery,
): Promise<BulkOutcome> {
  const subjectType = typeFromBulkSubject(msg.subject);
  const attributes = { subject: msg.subject, jobType: subjectType };
  const { headers, problem } = readHeaders(msg);
  // A bulk whose headers cannot be read is refused whole, as one that cannot be parsed.
  const read: ReadBulk =
    problem === undefined ? readBulk(msg) : { ok: false, refusal: unreadableHeaders(msg, problem) };
  // Asked only for a job whose message and envelope carry no trace.
  const rootTraceId = (index?: number) => () =>
    traceIdForIntakeMessage(StreamName.Jobs, msg.seq, msg.time, index);
  if (!read.ok) {
    return deps.tracing.consume(
      headers,
      attributes,
      async (context) => {
        const rejectionId = await refuseMessage(deps, context, StreamName.Jobs, msg, read.refusal);
        return { queued: 0, rejected: [{ rejectionId, reason: read.refusal.reason }] };
      },
      rootTraceId(),
    );
  }
  const lookupFailure = await lookUpType(deps, subjectType, delivery);
  const repeated = repeatedIds(read.jobs);
  const settled = await Promise.allSettled(
    read.jobs.map((entry, index) => {
      const split = splitBulkJobTrace(entry);
      const envelope = split.ok ? split.envelope : entry;
      const job = { envelope, index, earlier: repeated.get(index), split, lookupFailure };
      // A job that carries its own trace context continues that trace, the others the message's.
      const own = split.ok && split.trace?.traceparent !== undefined ? split.trace : undefined;
      const carrier = own === undefined ? headers : new FieldsCarrier(own);
      return deps.tracing.consume(
        carrier,
        attributes,
        (context) => dispatchJob(msg, job, subjectType, context, deps, delivery),
        rootTraceId(index),
      );
    }),
  );
  return outcomeOf(settled);
}

type ReadBulk = { ok: true; jobs: unknown[] } | { ok: false; refusal: Refusal };

function readBulk(msg: JsMsg): ReadBulk {
  // The server's max_payload bounds the message; each job is bounded on its own below.
  const parsed = parseSubmissionBytes(msg.data, Number.POSITIVE_INFINITY);
  if (!parsed.ok) return { ok: false, refusal: { ...parsed, jobId: undefined } };
  const check = checkBulkEnvelope(parsed.value);
  if (check.ok) return check;
  const { reason, message, issues } = check;
  return {
    ok: false,
    refusal: { reason, message, issues, jobId: undefined, rawPreview: preview(parsed.text) },
  };
}

/** A job's rejection, as recorded. */
interface RecordedRefusal {
  kind: "rejected";
  rejectionId: string;
  reason: string;
}

type JobResult =
  | { kind: "queued" }
  | RecordedRefusal
  /** Given up on its last attempt: recorded once no job of the bulk failed for an outage. */
  | { kind: "given-up"; record: () => Promise<RecordedRefusal> };

/**
 * One job of a bulk: its envelope (without its trace fields), its place, the place of an earlier
 * job with its id, and how its trace fields were read.
 */
interface BulkJob {
  envelope: unknown;
  index: number;
  earlier: number | undefined;
  split: SplitBulkJob;
  /**
   * Why the bulk's type could not be looked up, on its last attempt, for a reason other than an
   * outage: the job is unprocessable.
   */
  lookupFailure: unknown;
}

async function dispatchJob(
  msg: JsMsg,
  job: BulkJob,
  subjectType: string | undefined,
  context: TraceContext,
  deps: IntakeDeps,
  delivery: BulkDelivery,
): Promise<JobResult> {
  const { envelope, index } = job;
  let decision: Decision;
  let text = "";
  try {
    text = JSON.stringify(envelope);
    decision =
      job.lookupFailure === undefined
        ? decideJob(msg, job, text, subjectType, context, deps)
        : unprocessableJob(
            index,
            `${failureMessage(job.lookupFailure)} (after ${delivery.deliveries} deliveries)`,
            claimedId(envelope),
            text,
          );
  } catch (err) {
    // Checking is pure: whatever throws would throw again on every delivery.
    const why = `could not be read: ${failureMessage(err)}`;
    decision = unprocessableJob(index, why, claimedId(envelope), text);
  }
  if (decision.kind === "dispatch") {
    try {
      await publishJob(deps, context, decision);
      return { kind: "queued" };
    } catch (err) {
      // The job is queued for good once its work item is stored; a missing event is retried.
      if (err instanceof QueuedEventMissing) throw err;
      if (!givesUpOn(err, delivery.lastAttempt)) throw err;
      const why = `${failureMessage(err)} (after ${delivery.deliveries} deliveries)`;
      const { refusal } = unprocessableJob(index, why, decision.item.id, text);
      // Should another job of the bulk have failed for an outage, the bulk is retried, this job
      // with it, and it may yet be queued: recorded now, it would read both rejected and queued.
      return {
        kind: "given-up",
        record: () => recordJob(msg, index, text, refusal, context, deps),
      };
    }
  }
  return recordJob(msg, index, text, decision.refusal, context, deps);
}

/** Records the refusal of the job at `index` as a `rejected` event in its trace. */
async function recordJob(
  msg: JsMsg,
  index: number,
  text: string,
  refusal: Refusal,
  context: TraceContext,
  deps: IntakeDeps,
): Promise<RecordedRefusal> {
  const rejectionId = idForIntakeMessage(StreamName.Jobs, msg.seq, msg.time, "rejection", index);
  const refused = { rejectionId, subject: msg.subject, sizeBytes: Buffer.byteLength(text) };
  await recordRefusal(deps, context, refused, refusal);
  return { kind: "rejected", rejectionId, reason: refusal.reason };
}

/**
 * Looks a type its registry has not seen up in the bucket. A read that fails says nothing of the
 * type, so the bulk is retried, for as long as NATS is unavailable; a failure of another kind is
 * returned on its last delivery, and each of its jobs is recorded as unprocessable.
 */
async function lookUpType(
  deps: IntakeDeps,
  subjectType: string | undefined,
  delivery: BulkDelivery,
): Promise<unknown> {
  try {
    await lookUpUnseenTypes(deps.registry, [subjectType]);
    return undefined;
  } catch (err) {
    if (givesUpOn(err, delivery.lastAttempt)) return err;
    throw err;
  }
}

/** The `unprocessable` refusal of the job at `index`: one that could not be dispatched, and why. */
function unprocessableJob(
  index: number,
  why: string,
  jobId: string | undefined,
  text: string,
): Extract<Decision, { kind: "reject" }> {
  const message = `submission could not be dispatched: ${why}`;
  const refusal = {
    reason: unprocessableReason,
    message,
    issues: [{ path: "(root)", message }],
    jobId,
    rawPreview: preview(text),
  };
  return { kind: "reject", refusal: refusalInBulk(index, refusal) };
}

function decideJob(
  msg: JsMsg,
  job: BulkJob,
  text: string,
  subjectType: string | undefined,
  context: TraceContext,
  deps: IntakeDeps,
): Decision {
  const { envelope, index } = job;
  const refuse = (refusal: Omit<Refusal, "jobId" | "rawPreview">): Decision => ({
    kind: "reject",
    refusal: refusalInBulk(index, {
      ...refusal,
      jobId: claimedId(envelope),
      rawPreview: preview(text),
    }),
  });
  const bytes = Buffer.byteLength(text);
  if (bytes > deps.maxSubmissionBytes) {
    const message = `submission is ${bytes} bytes, more than the limit of ${deps.maxSubmissionBytes}`;
    return refuse({
      reason: BytesRejection.TooLarge,
      message,
      issues: [{ path: "(root)", message }],
    });
  }
  if (!job.split.ok) return refuse(job.split);
  const keyed = idempotencyKeyInBulk(envelope);
  if (keyed) return refuse(keyed);
  if (job.earlier !== undefined) return refuse(repeatedIdRefusal(job.earlier));
  const facts = {
    subjectType,
    source: sourceOf(msg),
    fallbackId: () => idForIntakeMessage(StreamName.Jobs, msg.seq, msg.time, "job", index),
    storedAt: msg.time,
    rawPreview: () => preview(text),
  };
  const decision = decideEnvelope(envelope, facts, deps, context);
  return decision.kind === "reject"
    ? { kind: "reject", refusal: refusalInBulk(index, decision.refusal) }
    : decision;
}

/**
 * Some jobs of a bulk are queued (their work items stored) without their `queued` event. It
 * carries the bulk's outcome, those jobs counted as queued, for when the bulk is acknowledged
 * all the same, and whether a retry could store any of the missing events.
 */
export class BulkQueuedEventsMissing extends QueuedEventMissing {
  readonly outcome: BulkOutcome;
  /** Whether every missing event failed in a way that would repeat (refused for its size). */
  readonly allFinal: boolean;

  constructor(first: QueuedEventMissing, outcome: BulkOutcome, allFinal: boolean) {
    super(first.jobId, first.cause);
    this.outcome = outcome;
    this.allFinal = allFinal;
  }
}

/**
 * The bulk's outcome once every job is settled. A failed work item or rejection fails the bulk
 * (it is retried, and what was stored collapses), one that failed for an outage first, and then
 * no job given up on its last attempt is recorded (it is retried with the bulk); only `queued`
 * events missing fails it with a {@link BulkQueuedEventsMissing}, as those jobs are queued for
 * good.
 */
async function outcomeOf(settled: PromiseSettledResult<JobResult>[]): Promise<BulkOutcome> {
  throwFailure(
    settled.flatMap((result) =>
      result.status === "rejected" && !(result.reason instanceof QueuedEventMissing)
        ? [result.reason as unknown]
        : [],
    ),
  );
  // Each job's refusal (given up on this attempt: recorded now), or undefined when it is queued.
  const refusals = await Promise.allSettled(
    settled.map((result) => {
      if (result.status === "rejected" || result.value.kind === "queued") {
        return Promise.resolve(undefined);
      }
      return result.value.kind === "given-up"
        ? result.value.record()
        : Promise.resolve(result.value);
    }),
  );
  throwFailure(refusals.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : [])));
  const outcome: BulkOutcome = { queued: 0, rejected: [] };
  const missing: QueuedEventMissing[] = [];
  settled.forEach((result, index) => {
    const refusal = refusals[index];
    if (result.status === "rejected") missing.push(result.reason as QueuedEventMissing);
    if (refusal?.status === "fulfilled" && refusal.value !== undefined) {
      outcome.rejected.push({
        rejectionId: refusal.value.rejectionId,
        reason: refusal.value.reason,
      });
    } else {
      outcome.queued++;
    }
  });
  const [first] = missing;
  if (first !== undefined) {
    const allFinal = missing.every((err) => isDeterministicFailure(err.cause));
    throw new BulkQueuedEventsMissing(first, outcome, allFinal);
  }
  return outcome;
}

/** Throws the first of `failures` that is an outage of NATS, or else the first. */
function throwFailure(failures: unknown[]): void {
  if (failures.length > 0) throw failures.find((err) => isNatsOutage(err)) ?? failures[0];
}
