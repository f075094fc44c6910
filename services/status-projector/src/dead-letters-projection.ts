import { StreamName } from "@conveyor/contracts";
import type { DeadLetterFact } from "@conveyor/read-model";

import { decodeDeadLetterMessage } from "./decode-dead-letter.ts";
import { projectDeadLetters } from "./project-dead-letters.ts";
import type { Projection } from "./projection.ts";

/**
 * Dead letters and their log (`dlq.>`, `dlq-log.>` on `DLQ`) into the `dead_letters` collection;
 * `fenceRevisions` as for jobs (see `projectDeadLetters`).
 */
export const deadLettersProjection = (fenceRevisions: boolean): Projection => ({
  stream: StreamName.Dlq,
  label: "dead letters",
  prepare(batch, logger) {
    const facts: DeadLetterFact[] = [];
    for (const msg of batch) {
      const decoded = decodeDeadLetterMessage(msg.subject, msg.seq, msg.data);
      if (decoded.type === "fact") facts.push(decoded.fact);
      else {
        const { reason, issues } = decoded;
        logger.warn(
          { subject: msg.subject, streamSeq: msg.seq, reason, issues },
          "invalid DLQ message skipped",
        );
      }
    }
    const first = facts[0];
    return {
      span: {
        subject: batch[0]?.subject ?? "dlq",
        jobId: first?.kind === "log" ? first.entry.jobId : first?.letter.jobId,
        jobType: first?.kind === "log" ? first.entry.type : first?.letter.type,
      },
      store: (db, signal) => projectDeadLetters(db, facts, signal, { fenceRevisions }),
      deferred: [],
    };
  },
});
