import { StreamName, Subject, deadLetterMsgId } from "@conveyor/contracts";
import type { DeadLetter, DeadLetterLogEntry } from "@conveyor/contracts";

import { canonicalDeadLetter, canonicalLogRecord, mergeDeadLetters } from "./merge-dead-letters.ts";
import { DeadLetterState } from "./dead-letter-document.ts";
import type { DeadLetterDocument, StreamPosition } from "./dead-letter-document.ts";
import { JobMismatchError } from "./errors.ts";
import { canonicalTime } from "./order.ts";

/** One message of the `DLQ` stream, as the dead-letter reducer takes it. */
export type DeadLetterFact =
  /** A letter on `dlq.<type>`, with where it is stored (its `DLQ` sequence). */
  | { kind: "letter"; letter: DeadLetter; position: StreamPosition }
  /** A replay or discard on `dlq-log.<jobId>`. */
  | { kind: "log"; entry: DeadLetterLogEntry };

/** The `_id` of the document a fact belongs to: the job id, or the work message's place. */
export function deadLetterIdOf(fact: DeadLetterFact): string {
  if (fact.kind === "log") return fact.entry.jobId;
  return fact.letter.jobId ?? deadLetterMsgId(fact.letter);
}

/**
 * Folds one `DLQ` message into a job's dead-letter document. Pure, idempotent and
 * order-insensitive, like {@link applyEvent}: the newest letter is the one of the highest
 * `(run, DLQ sequence)`, the log is a set of entries, and a letter whose run the log replayed or
 * discarded is settled whichever arrived first. The rules are in `docs/read-model.md`.
 *
 * @throws {JobMismatchError} when `doc` belongs to another job.
 */
export function applyDeadLetterFact(
  doc: DeadLetterDocument | undefined,
  fact: DeadLetterFact,
): DeadLetterDocument {
  const single = deadLetterFromFact(fact);
  if (doc === undefined) return single;
  if (doc._id !== single._id) throw new JobMismatchError(doc._id, single._id);
  return mergeDeadLetters(doc, single);
}

/** The document that a job with only this one `DLQ` message would have. */
export function deadLetterFromFact(fact: DeadLetterFact): DeadLetterDocument {
  if (fact.kind === "log") {
    const { jobId, ...record } = fact.entry;
    const log = [canonicalLogRecord(record)];
    return canonicalDeadLetter({
      _id: jobId,
      jobId,
      type: record.type,
      run: record.run,
      state: record.action,
      source: { stream: StreamName.Dlq, subject: Subject.dlq(record.type), seq: record.seq },
      settledAt: canonicalTime(record.at),
      log,
    });
  }
  const { letter, position } = fact;
  return canonicalDeadLetter({
    _id: deadLetterIdOf(fact),
    jobId: letter.jobId,
    type: letter.type,
    run: letter.run ?? 1,
    state: DeadLetterState.Dead,
    source: position,
    attempts: letter.attempts,
    reason: letter.reason,
    error: letter.error,
    deadAt: canonicalTime(letter.deadAt),
    workerId: letter.workerId,
    traceId: letter.traceId,
    workItem: letter.workItem,
    rawPreview: letter.rawPreview,
    workSource: letter.source,
    log: [],
  });
}
