import { StreamName, Subject } from "@conveyor/contracts";

import { defined } from "./canonical.ts";
import { isOpenDeadLetter } from "./dead-letter-document.ts";
import type {
  DeadLetterDocument,
  DeadLetterLogRecord,
  OpenDeadLetterDocument,
  StreamPosition,
} from "./dead-letter-document.ts";
import { InvalidDocumentError } from "./errors.ts";
import { canonicalTime, compareTuples } from "./order.ts";

/**
 * Merges two dead-letter documents of one job. Like {@link mergeJobDocuments} it is commutative,
 * associative and idempotent, so any permutation of the job's `DLQ` messages, with duplicates,
 * yields one document:
 *
 * - the **letter** is the one of the highest `(run, DLQ sequence)`;
 * - the **log** is the union of the replay and discard entries, one per `(run, action)`;
 * - the letter is **settled** (`replayed` or `discarded`) when the log has an entry for its run or
 *   a later one; its fields are then dropped, because the dispatcher deletes a settled letter from
 *   the `DLQ` and a rebuild from the stream sees only the log entry. A letter of a later run (a
 *   replayed job that died again) is open again.
 *
 * @throws {InvalidDocumentError} when neither document holds a letter or a log entry.
 */
export function mergeDeadLetters(a: DeadLetterDocument, b: DeadLetterDocument): DeadLetterDocument {
  const letter = newerLetter(
    isOpenDeadLetter(a) ? a : undefined,
    isOpenDeadLetter(b) ? b : undefined,
  );
  const log = mergeLog(a.log, b.log);
  const settlement = latestSettlement(log);
  if (letter !== undefined && (settlement === undefined || letter.run > settlement.run)) {
    return canonicalDeadLetter({ ...letter, log });
  }
  if (settlement === undefined) {
    throw new InvalidDocumentError(a._id, "it holds neither a dead letter nor a log entry");
  }
  return canonicalDeadLetter({
    _id: a._id,
    jobId: a._id,
    type: settlement.type,
    run: settlement.run,
    state: settlement.action,
    source: { stream: StreamName.Dlq, subject: Subject.dlq(settlement.type), seq: settlement.seq },
    settledAt: settlement.at,
    log,
  });
}

/**
 * Builds a document with its fields in one fixed order and without `undefined` values, so that
 * documents reduced from the same messages are identical down to their BSON bytes.
 */
export function canonicalDeadLetter(doc: DeadLetterDocument): DeadLetterDocument {
  const common = {
    _id: doc._id,
    jobId: doc.jobId,
    type: doc.type,
    run: doc.run,
    state: doc.state,
    source: canonicalPosition(doc.source),
  };
  const log = doc.log.map(canonicalLogRecord);
  if (!isOpenDeadLetter(doc)) {
    return defined({
      ...common,
      jobId: doc.jobId,
      state: doc.state,
      settledAt: doc.settledAt,
      log,
    });
  }
  return defined({
    ...common,
    state: doc.state,
    attempts: doc.attempts,
    reason: doc.reason,
    error: defined({ name: doc.error.name, message: doc.error.message, stack: doc.error.stack }),
    deadAt: doc.deadAt,
    workerId: doc.workerId,
    traceId: doc.traceId,
    workItem: doc.workItem,
    rawPreview: doc.rawPreview,
    workSource: canonicalPosition(doc.workSource),
    log,
  });
}

export function canonicalLogRecord(record: DeadLetterLogRecord): DeadLetterLogRecord {
  return defined({
    action: record.action,
    type: record.type,
    run: record.run,
    seq: record.seq,
    at: canonicalTime(record.at),
    requestedAt: canonicalTime(record.requestedAt),
    replayRun: record.replayRun,
    reason: record.reason,
  });
}

function canonicalPosition(position: StreamPosition): StreamPosition {
  return { stream: position.stream, subject: position.subject, seq: position.seq };
}

function newerLetter(
  a: OpenDeadLetterDocument | undefined,
  b: OpenDeadLetterDocument | undefined,
): OpenDeadLetterDocument | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareTuples([b.run, b.source.seq], [a.run, a.source.seq]) > 0 ? b : a;
}

/**
 * One entry per `(run, action)`. Entries with one key are one fact (their `Nats-Msg-Id` is
 * `<jobId>:<run>:<action>`); should two differ (published again after the duplicate window), the
 * earlier one is kept, by a comparison that does not depend on arrival order.
 */
function mergeLog(
  a: readonly DeadLetterLogRecord[],
  b: readonly DeadLetterLogRecord[],
): DeadLetterLogRecord[] {
  const byKey = new Map<string, DeadLetterLogRecord>();
  for (const record of [...a, ...b]) {
    const key = `${record.run}:${record.action}`;
    const seen = byKey.get(key);
    byKey.set(key, seen === undefined || compareRecords(record, seen) < 0 ? record : seen);
  }
  return [...byKey.values()].sort(
    (x, y) => x.run - y.run || (x.action < y.action ? -1 : x.action > y.action ? 1 : 0),
  );
}

/**
 * What happened to the letter of the latest run the log names: the earliest entry of that run
 * (the first replay or discard removed the letter; a later one found it gone).
 */
function latestSettlement(log: readonly DeadLetterLogRecord[]): DeadLetterLogRecord | undefined {
  let latest: DeadLetterLogRecord | undefined;
  for (const record of log) {
    if (
      latest === undefined ||
      record.run > latest.run ||
      (record.run === latest.run && compareRecords(record, latest) < 0)
    ) {
      latest = record;
    }
  }
  return latest;
}

/** Orders entries by time, then by their content, so that every choice is deterministic. */
function compareRecords(x: DeadLetterLogRecord, y: DeadLetterLogRecord): number {
  if (x.at !== y.at) return x.at < y.at ? -1 : 1;
  const [sx, sy] = [JSON.stringify(x), JSON.stringify(y)];
  return sx < sy ? -1 : sx > sy ? 1 : 0;
}
