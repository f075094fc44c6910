import { AttemptOutcome } from "@conveyor/read-model";
import type { JobDocument } from "@conveyor/read-model";

import type { JobView } from "../schemas/jobs.ts";

type AttemptRecord = JobDocument["attempts"][number];
type AttemptView = JobView["attemptHistory"][number];

/**
 * The API view of a job's read-model document: `_id` becomes `id`, fields the projector has not
 * seen yet are null (never missing), and `attempts` counts the attempts of the current run.
 */
export function toJobView(doc: JobDocument): JobView {
  return {
    id: doc._id,
    type: doc.type,
    status: doc.status,
    run: doc.run,
    attempts: attemptsInRun(doc),
    attemptHistory: doc.attempts.filter(wasMade).map(toAttemptView),
    progress: doc.progress
      ? {
          done: doc.progress.done,
          total: doc.progress.total,
          message: doc.progress.message ?? null,
          attempt: doc.progress.attempt,
          at: doc.progress.at,
        }
      : null,
    result: doc.result ?? null,
    error: doc.error ?? null,
    reason: doc.reason ?? null,
    submittedAt: doc.submittedAt ?? null,
    runAt: doc.runAt ?? null,
    startedAt: doc.startedAt ?? null,
    finishedAt: doc.finishedAt ?? null,
    updatedAt: doc.updatedAt,
    traceId: doc.traceId ?? null,
    payload: doc.payload ?? null,
    priority: doc.priority ?? null,
    maxAttempts: doc.maxAttempts ?? null,
    batchId: doc.batchId ?? null,
    source: doc.source ?? null,
  };
}

/**
 * The highest delivery count seen in the current run. The status event's attempt can trail the
 * history when events arrive out of order, so both are consulted.
 */
function attemptsInRun(doc: JobDocument): number {
  return doc.attempts
    .filter((a) => a.run === doc.run)
    .reduce((highest, a) => Math.max(highest, a.attempt), doc.attempt);
}

/**
 * Whether an attempt was made: a delivery a cancel stopped before its handler started (a job
 * cancelled while queued, delivered later and skipped) leaves a `cancelled` end without a start,
 * and is no attempt to show.
 */
function wasMade(record: AttemptRecord): boolean {
  return !(record.outcome === AttemptOutcome.Cancelled && record.startedAt === undefined);
}

function toAttemptView(record: AttemptRecord): AttemptView {
  return {
    run: record.run,
    attempt: record.attempt,
    workerId: record.workerId ?? null,
    startedAt: record.startedAt ?? null,
    finishedAt: record.finishedAt ?? null,
    durationMs: record.durationMs ?? null,
    outcome: record.outcome ?? null,
    error: record.error ?? null,
    retryDelayMs: record.retryDelayMs ?? null,
  };
}
