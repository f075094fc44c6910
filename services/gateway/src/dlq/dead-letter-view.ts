import type { OpenDeadLetterDocument } from "@conveyor/read-model";

import type { DeadLetterView } from "../schemas/dlq.ts";

/** The API view of a job's open dead letter; absent fields are null. */
export function toDeadLetterView(doc: OpenDeadLetterDocument): DeadLetterView {
  return {
    id: doc.jobId ?? null,
    type: doc.type,
    run: doc.run,
    reason: doc.reason,
    error: doc.error,
    attempts: doc.attempts,
    deadAt: doc.deadAt,
    workerId: doc.workerId ?? null,
    traceId: doc.traceId ?? null,
    workItem: doc.workItem ?? null,
    rawPreview: doc.rawPreview ?? null,
    dlqSeq: doc.source.seq,
    replayable: isReplayable(doc),
  };
}

/** A letter can run again when it names its job and holds a readable work item. */
export function isReplayable(
  doc: OpenDeadLetterDocument,
): doc is OpenDeadLetterDocument & Required<Pick<OpenDeadLetterDocument, "jobId" | "workItem">> {
  return doc.jobId !== undefined && doc.workItem !== undefined;
}
