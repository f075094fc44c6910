import { z } from "zod";

import { ErrorInfo } from "./events.ts";
import { JobId } from "./job-id.ts";
import { JobTypeName } from "./job-type.ts";
import { WorkItem } from "./work-item.ts";

/**
 * A job that will not run again, as published to `dlq.<type>` (with the work message's headers
 * copied). Whoever dead-letters publishes it before removing the work message, so it is never lost.
 */
export const DeadLetter = z.object({
  type: JobTypeName,
  /** The job's id, when it could be read. */
  jobId: JobId.optional(),
  /** The job's run, when it could be read. */
  run: z.int().min(1).optional(),
  /** The work item as queued; absent when the message was not a readable work item. */
  workItem: WorkItem.optional(),
  /** The start of the message body, when it was not a readable work item. */
  rawPreview: z.string().optional(),
  /** The last attempt's error. */
  error: ErrorInfo,
  /** Short machine-readable reason: `non_retryable`, `attempts_exhausted`, `deliveries_exceeded`, ... */
  reason: z.string(),
  /** Deliveries of the work message, the last one included. */
  attempts: z.int().min(0),
  /** ISO-8601 time the job was dead-lettered. */
  deadAt: z.iso.datetime(),
  /** Where the work message was. */
  source: z.object({ stream: z.string(), subject: z.string(), seq: z.int().min(0) }),
  /** The worker that dead-lettered it, when a worker did. */
  workerId: z.string().optional(),
  traceId: z.string().optional(),
});
export type DeadLetter = z.infer<typeof DeadLetter>;

/**
 * `Nats-Msg-Id` of a dead letter, shared by everyone who dead-letters (workers and the dispatcher):
 * `<jobId>:<run>:dead`, so one run of a job yields one dead letter whoever publishes it (within the
 * DLQ stream's duplicate window); `<stream>:<seq>` of the work message when the job id is unknown.
 */
export function deadLetterMsgId(letter: Pick<DeadLetter, "jobId" | "run" | "source">): string {
  return letter.jobId !== undefined
    ? `${letter.jobId}:${letter.run ?? 1}:dead`
    : `${letter.source.stream}:${letter.source.seq}`;
}
