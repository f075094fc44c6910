import { isDeepStrictEqual } from "node:util";

import { statusOrderKey } from "@conveyor/contracts";
import type { JobStatus } from "@conveyor/contracts";

import { canonicalJob } from "./canonical.ts";
import type { AttemptRecord, JobDocument, ProgressRecord } from "./documents.ts";
import { compareTuples, maxDefined, minDefined } from "./order.ts";

/**
 * Orders what is known about how an attempt ended. A failure the worker reported (its `failed` or
 * `dead` event, which carry the handler's duration) says more than the failure the dispatcher's
 * `dead` event implies for its attempt, and a success wins over both. Of a cancel's two records
 * (the dispatcher's and the worker's), the worker's, with the duration, says more.
 */
function finishRank(record: AttemptRecord): number {
  if (record.outcome === undefined) return 0;
  const measured = record.durationMs === undefined ? 0 : 1;
  if (record.outcome === "cancelled") return 1 + measured;
  if (record.outcome === "succeeded") return 5;
  return 3 + measured;
}

/**
 * Merges two documents of the same job. The merge is commutative, associative and idempotent
 * (a join), so folding a job's events in any order, with any duplicates, yields one document.
 *
 * Equal keys keep `a`: two events with the same identity `(jobId, run, attempt, kind[, seq])` are
 * the same fact (the publishers' `Nats-Msg-Id`), so their contributions are equal.
 */
export function mergeJobDocuments(a: JobDocument, b: JobDocument): JobDocument {
  const status = laterStatus(a, b);
  const submission = newerSubmission(a, b);
  return canonicalJob({
    _id: a._id,
    type: submission.type,
    status: status.status,
    run: status.run,
    attempt: status.attempt,
    payload: submission.payload,
    priority: submission.priority,
    maxAttempts: submission.maxAttempts,
    source: submission.source,
    batchId: submission.batchId,
    runAt: submission.runAt,
    queuedRun: submission.queuedRun,
    attempts: mergeAttempts(a.attempts, b.attempts),
    progress: progressOfRun(newerProgress(a.progress, b.progress), status.run),
    result: status.result,
    error: status.error,
    reason: status.reason,
    submittedAt: minDefined(a.submittedAt, b.submittedAt),
    startedAt: minDefined(a.startedAt, b.startedAt),
    finishedAt: status.finishedAt,
    updatedAt: maxDefined(a.updatedAt, b.updatedAt) ?? a.updatedAt,
    traceId: latestRunTrace(a, b),
  });
}

/**
 * The side whose status is the later one. Of two equal keys (one fact recorded twice: a death or
 * a cancel by the dispatcher and by the worker, stored apart once `EVENTS`' duplicate window
 * passed), the one whose record of the attempt says more, then the one that ended earlier, as
 * {@link mergeAttempt} chooses: the job's `error` and `finishedAt` agree with its last attempt's,
 * and the merge does not depend on order.
 */
function laterStatus(a: JobDocument, b: JobDocument): JobDocument {
  const order = compareTuples(statusOrderKey(b), statusOrderKey(a));
  if (order !== 0) return order > 0 ? b : a;
  const [rankA, rankB] = [statusEndRank(a), statusEndRank(b)];
  if (endsBetter(rankB, b.finishedAt, rankA, a.finishedAt)) return b;
  if (endsBetter(rankA, a.finishedAt, rankB, b.finishedAt)) return a;
  // Two records of one end at one time that still differ: any fixed choice keeps the merge a join.
  return statusContent(b) < statusContent(a) ? b : a;
}

/** The outcome an attempt's record has when the job's status ended it. */
const outcomeOfStatus: Readonly<Partial<Record<JobStatus, AttemptRecord["outcome"]>>> = {
  succeeded: "succeeded",
  failed: "failed",
  dead: "failed",
  cancelled: "cancelled",
};

/**
 * How much the event that gave a document its status says of its attempt's end: the rank of the
 * document's record of that attempt when the record is that event's own (its outcome, end and
 * error), otherwise the least an event of that status says. A record merged from another event of
 * the attempt (its `failed`, which a dispatcher's `dead` or `cancelled` follows) says nothing of
 * the status event, and ranking by it would make the choice depend on which events met first.
 */
function statusEndRank(doc: JobDocument): number {
  const outcome = outcomeOfStatus[doc.status];
  if (outcome === undefined) return 0;
  const record = doc.attempts.find((r) => r.run === doc.run && r.attempt === doc.attempt);
  const own =
    record?.outcome === outcome &&
    record.finishedAt === doc.finishedAt &&
    isDeepStrictEqual(record.error, doc.error);
  return own ? finishRank(record) : finishRank({ run: doc.run, attempt: doc.attempt, outcome });
}

/**
 * What a document's status event says, as text to compare: its error first, as
 * {@link mergeAttempt} compares records, so that the job and its attempt pick the same one.
 */
function statusContent(doc: JobDocument): string {
  return JSON.stringify([doc.error, doc.reason, doc.result]);
}

/**
 * The submission fields of the newest run's `queued` event; before any, the type events carry. Of
 * two `queued` events of one run that differ (a second submission of the id under another
 * idempotency key, whose work item `WORK` collapsed into the first's but whose event was stored
 * once `EVENTS`' duplicate window had passed), the one whose document holds the earlier
 * `submittedAt`: the id names the job first submitted under it. (A document's `submittedAt` is
 * its earliest of any run, so across replays of such a job the choice can still depend on order.)
 */
function newerSubmission(a: JobDocument, b: JobDocument): JobDocument {
  if (a.queuedRun === undefined && b.queuedRun === undefined) return a.type <= b.type ? a : b;
  if (b.queuedRun === undefined) return a;
  if (a.queuedRun === undefined) return b;
  if (b.queuedRun !== a.queuedRun) return b.queuedRun > a.queuedRun ? b : a;
  return (b.submittedAt ?? "") < (a.submittedAt ?? "") ? b : a;
}

/** `run` is the highest run either side has seen; a newer run may carry a new trace. */
function latestRunTrace(a: JobDocument, b: JobDocument): string | undefined {
  if (a.run !== b.run) return a.run > b.run ? a.traceId : b.traceId;
  return minDefined(a.traceId, b.traceId);
}

/**
 * The progress report if it is of the job's current run: a replayed job has made none until its
 * new run reports. (Its run is never above the status's, which is the highest run seen.)
 */
function progressOfRun(
  progress: ProgressRecord | undefined,
  run: number,
): ProgressRecord | undefined {
  return progress?.run === run ? progress : undefined;
}

function newerProgress(
  a: ProgressRecord | undefined,
  b: ProgressRecord | undefined,
): ProgressRecord | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareTuples([b.run, b.attempt, b.seq], [a.run, a.attempt, a.seq]) > 0 ? b : a;
}

/**
 * Most attempt records a document keeps: the newest by `(run, attempt)`. Each may hold an error
 * of 12,000 characters, and every replay adds its run's attempts, so without a bound a job
 * replayed a few hundred times passed MongoDB's 16 MiB and its document stopped changing. Keeping
 * the newest N of the union is still a join (any order and grouping of merges keeps the same N).
 */
export const maxAttemptRecords = 200;

function mergeAttempts(a: readonly AttemptRecord[], b: readonly AttemptRecord[]): AttemptRecord[] {
  const byKey = new Map<string, AttemptRecord>();
  for (const record of [...a, ...b]) {
    const key = `${record.run}:${record.attempt}`;
    const seen = byKey.get(key);
    byKey.set(key, seen === undefined ? record : mergeAttempt(seen, record));
  }
  const ordered = [...byKey.values()].sort((x, y) =>
    compareTuples([x.run, x.attempt], [y.run, y.attempt]),
  );
  return ordered.length > maxAttemptRecords ? ordered.slice(-maxAttemptRecords) : ordered;
}

function mergeAttempt(a: AttemptRecord, b: AttemptRecord): AttemptRecord {
  const finish = betterEnd(a, b);
  return {
    run: a.run,
    attempt: a.attempt,
    workerId: minDefined(a.workerId, b.workerId),
    startedAt: minDefined(a.startedAt, b.startedAt),
    finishedAt: finish.finishedAt,
    durationMs: finish.durationMs,
    outcome: finish.outcome,
    error: finish.error,
    retryDelayMs: finish.retryDelayMs,
  };
}

/**
 * Of two records of one attempt, the one whose end says more ({@link endsBetter}); of two that
 * still tie (one rank, one time), the one whose error sorts first, as the job's status chooses.
 */
function betterEnd(a: AttemptRecord, b: AttemptRecord): AttemptRecord {
  if (endsBetter(finishRank(b), b.finishedAt, finishRank(a), a.finishedAt)) return b;
  if (endsBetter(finishRank(a), a.finishedAt, finishRank(b), b.finishedAt)) return a;
  return JSON.stringify(b.error) < JSON.stringify(a.error) ? b : a;
}

/**
 * Whether an end of rank `rankX` at `endX` says more than one of rank `rankY` at `endY`: the higher
 * rank, and of one rank (a fact recorded twice, by the dispatcher and by the worker, stored apart
 * once the events' duplicate window passed) the earlier end, so that the merge does not depend on
 * order. The job's status and its attempts both choose by it, so they agree.
 */
function endsBetter(
  rankX: number,
  endX: string | undefined,
  rankY: number,
  endY: string | undefined,
): boolean {
  return rankX > rankY || (rankX === rankY && earlierEnd(endX, endY));
}

/** Whether `x` is an end time before `y` (canonical ISO-8601 times compare as text). */
function earlierEnd(x: string | undefined, y: string | undefined): boolean {
  return x !== undefined && y !== undefined && x < y;
}
