import type { AttemptRecord, JobDocument, ProgressRecord } from "./documents.ts";

/**
 * Builds a document with its fields in one fixed order and without `undefined` values, so that
 * documents reduced from the same events are identical down to their BSON bytes.
 */
export function canonicalJob(doc: JobDocument): JobDocument {
  return defined({
    _id: doc._id,
    type: doc.type,
    status: doc.status,
    run: doc.run,
    attempt: doc.attempt,
    payload: doc.payload,
    priority: doc.priority,
    maxAttempts: doc.maxAttempts,
    source: doc.source,
    batchId: doc.batchId,
    runAt: doc.runAt,
    queuedRun: doc.queuedRun,
    attempts: doc.attempts.map(canonicalAttempt),
    progress: doc.progress === undefined ? undefined : canonicalProgress(doc.progress),
    result: doc.result,
    error: doc.error,
    reason: doc.reason,
    submittedAt: doc.submittedAt,
    startedAt: doc.startedAt,
    finishedAt: doc.finishedAt,
    updatedAt: doc.updatedAt,
    traceId: doc.traceId,
  });
}

export function canonicalAttempt(record: AttemptRecord): AttemptRecord {
  return defined({
    run: record.run,
    attempt: record.attempt,
    workerId: record.workerId,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    durationMs: record.durationMs,
    outcome: record.outcome,
    error: record.error,
    retryDelayMs: record.retryDelayMs,
  });
}

function canonicalProgress(progress: ProgressRecord): ProgressRecord {
  return defined({
    done: progress.done,
    total: progress.total,
    message: progress.message,
    run: progress.run,
    attempt: progress.attempt,
    seq: progress.seq,
    at: progress.at,
  });
}

/**
 * The object without its `undefined` properties (absent rather than undefined, as stored), its
 * other properties in their order. A `for...in` loop: it runs for every document the projector
 * writes, and `Object.fromEntries` over filtered entries was 6x slower and cost the projector more
 * than encoding its documents as BSON.
 */
export function defined<T extends object>(value: T): T {
  const out: Partial<T> = {};
  // The values are object literals: every enumerable key is their own.
  for (const key in value) {
    const field = value[key];
    if (field !== undefined) out[key] = field;
  }
  return out as T;
}
