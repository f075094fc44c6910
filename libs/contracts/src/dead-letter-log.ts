import { z } from "zod";

import { JobId } from "./job-id.ts";
import { JobTypeName } from "./job-type.ts";

/** What happened to a dead letter after it was stored. */
export const DeadLetterAction = {
  /** Its work item was queued again as the next run. */
  Replayed: "replayed",
  /** It was dropped; the job stays dead. */
  Discarded: "discarded",
} as const;
export type DeadLetterAction = (typeof DeadLetterAction)[keyof typeof DeadLetterAction];

/**
 * One entry of the dead-letter log, `dlq-log.<jobId>` in the `DLQ` stream: the record of a replay
 * or a discard, written by the dispatcher before it removes the letter from `dlq.<type>`.
 */
export const DeadLetterLogEntry = z.object({
  action: z.enum([DeadLetterAction.Replayed, DeadLetterAction.Discarded]),
  jobId: JobId,
  type: JobTypeName,
  /** The run the letter held. */
  run: z.int().min(1),
  /** The letter's sequence in the `DLQ` stream (gone once the entry is written). */
  seq: z.int().min(1),
  /** ISO-8601 time the dispatcher acted. */
  at: z.iso.datetime(),
  /** ISO-8601 time the action was requested. */
  requestedAt: z.iso.datetime(),
  /** The new run a replay queued. */
  replayRun: z.int().min(2).optional(),
  /** Why a letter was discarded, when the requester said. */
  reason: z.string().optional(),
});
export type DeadLetterLogEntry = z.infer<typeof DeadLetterLogEntry>;

/** `Nats-Msg-Id` of a log entry, `<jobId>:<run>:<action>`: one entry per letter and action. */
export function deadLetterLogMsgId(
  entry: Pick<DeadLetterLogEntry, "jobId" | "run" | "action">,
): string {
  return `${entry.jobId}:${entry.run}:${entry.action}`;
}
