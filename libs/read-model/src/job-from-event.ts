import type { JobEvent } from "@conveyor/contracts";
import { JobStatus } from "@conveyor/contracts";

import { canonicalJob } from "./canonical.ts";
import { AttemptOutcome } from "./documents.ts";
import type { AttemptRecord, JobDocument } from "./documents.ts";
import { canonicalTime } from "./order.ts";

/** The document that a job with this one event would have. The reducer merges these. */
export function jobFromEvent(event: JobEvent): JobDocument {
  const at = canonicalTime(event.at);
  const common = {
    _id: event.jobId,
    type: event.type,
    run: event.run,
    attempt: event.attempt,
    attempts: [],
    updatedAt: at,
    traceId: event.traceId,
  };
  const attemptKey = { run: event.run, attempt: event.attempt };
  switch (event.kind) {
    case "queued":
      return canonicalJob({
        ...common,
        status: JobStatus.Queued,
        payload: event.payload,
        priority: event.priority,
        maxAttempts: event.maxAttempts,
        source: event.source,
        batchId: event.batchId,
        runAt: event.runAt === undefined ? undefined : canonicalTime(event.runAt),
        queuedRun: event.run,
        submittedAt: canonicalTime(event.submittedAt),
      });
    case "started":
      return canonicalJob({
        ...common,
        status: JobStatus.Running,
        attempts: [{ ...attemptKey, workerId: event.workerId, startedAt: at }],
        startedAt: at,
      });
    case "progress":
      return canonicalJob({
        ...common,
        status: JobStatus.Running,
        progress: {
          done: event.done,
          total: event.total,
          message: event.message,
          ...attemptKey,
          seq: event.seq,
          at,
        },
      });
    case "succeeded":
      return canonicalJob({
        ...common,
        status: JobStatus.Succeeded,
        attempts: [{ ...attemptEnd(event, at), outcome: AttemptOutcome.Succeeded }],
        result: event.result,
        startedAt: optionalTime(event.startedAt),
        finishedAt: at,
      });
    case "failed":
      return canonicalJob({
        ...common,
        status: JobStatus.Failed,
        attempts: [
          {
            ...attemptEnd(event, at),
            outcome: AttemptOutcome.Failed,
            error: event.error,
            retryDelayMs: event.retryDelayMs,
          },
        ],
        error: event.error,
        startedAt: optionalTime(event.startedAt),
      });
    case "dead":
      return canonicalJob({
        ...common,
        status: JobStatus.Dead,
        // The attempt that ended in the dead letter failed; a worker publishes no `failed` event
        // for it. Attempt 0 means no delivery was made, so there is no attempt to record.
        attempts:
          event.attempt > 0
            ? [{ ...attemptEnd(event, at), outcome: AttemptOutcome.Failed, error: event.error }]
            : [],
        error: event.error,
        reason: event.reason,
        startedAt: optionalTime(event.startedAt),
        finishedAt: at,
      });
    case "cancelled":
      return canonicalJob({
        ...common,
        status: JobStatus.Cancelled,
        // A cancel at attempt 0 came before any delivery; otherwise it ends that attempt, unless
        // the attempt ended otherwise (a failure waiting for its retry), which outranks it.
        attempts:
          event.attempt > 0
            ? [{ ...attemptEnd(event, at), outcome: AttemptOutcome.Cancelled }]
            : [],
        reason: event.reason,
        startedAt: optionalTime(event.startedAt),
        finishedAt: at,
      });
  }
}

/**
 * What an event that ends an attempt says of it. A `dead` or `cancelled` event carries the worker,
 * start and duration only when a worker published it.
 */
function attemptEnd(
  event: Extract<JobEvent, { kind: "succeeded" | "failed" | "dead" | "cancelled" }>,
  finishedAt: string,
): AttemptRecord {
  return {
    run: event.run,
    attempt: event.attempt,
    workerId: event.workerId,
    startedAt: optionalTime(event.startedAt),
    finishedAt,
    durationMs: event.durationMs,
  };
}

function optionalTime(at: string | undefined): string | undefined {
  return at === undefined ? undefined : canonicalTime(at);
}
