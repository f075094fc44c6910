import type { DeadLetterView } from "../schemas/dlq.ts";
import type { StoredLetter } from "./dead-letter-reader.ts";

/** The API view of a stored dead letter; absent fields are null. */
export function toDeadLetterView({ seq, letter }: StoredLetter): DeadLetterView {
  return {
    id: letter.jobId ?? null,
    type: letter.type,
    run: letter.run ?? 1,
    reason: letter.reason,
    error: letter.error,
    attempts: letter.attempts,
    deadAt: letter.deadAt,
    workerId: letter.workerId ?? null,
    traceId: letter.traceId ?? null,
    workItem: letter.workItem ?? null,
    rawPreview: letter.rawPreview ?? null,
    dlqSeq: seq,
    replayable: letter.jobId !== undefined && letter.workItem !== undefined,
  };
}
