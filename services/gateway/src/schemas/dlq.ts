import { ErrorInfo, JobId, JobTypeName, WorkItem, maxReasonChars } from "@conveyor/contracts";
import { z } from "zod";

import { Cursor, Limit } from "./common.ts";

/** A dead letter: a job that will not run again unless it is replayed. */
export const DeadLetterView = z.object({
  /** The job id; null when the dead-lettered message named none (it cannot be replayed by id). */
  id: z.string().nullable(),
  type: z.string(),
  /** The run that died (a replay queues run + 1). */
  run: z.int(),
  /** `non_retryable`, `attempts_exhausted`, `deliveries_exceeded`, ... */
  reason: z.string(),
  /** The last attempt's error. */
  error: ErrorInfo,
  /** Deliveries of the work message, the last one included. */
  attempts: z.int(),
  deadAt: z.iso.datetime(),
  /** The worker that dead-lettered it; null when the dispatcher did. */
  workerId: z.string().nullable(),
  traceId: z.string().nullable(),
  /** The work item as queued; null when the message was not a readable work item. */
  workItem: WorkItem.nullable(),
  /** The start of the message body, when it was not a readable work item. */
  rawPreview: z.string().nullable(),
  /** The letter's sequence in the `DLQ` stream (replay and discard commands name it). */
  dlqSeq: z.int(),
  /** Whether `POST /v1/dlq/:id/replay` can run it again (it has a job id and a work item). */
  replayable: z.boolean(),
});
export type DeadLetterView = z.output<typeof DeadLetterView>;

export const DeadLetterList = z.object({
  items: z.array(DeadLetterView),
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: z.string().nullable(),
});

/** Query of `GET /v1/dlq`; strict, so that a misspelt filter is refused rather than ignored. */
export const ListDeadLettersQuery = z.strictObject({
  type: JobTypeName.optional(),
  limit: Limit,
  cursor: Cursor.optional(),
});

/** Path parameters of `/v1/dlq/:id`: the job id. */
export const DeadLetterIdParams = z.object({ id: JobId });

/** Body of `DELETE /v1/dlq/:id` (optional). */
export const DiscardRequest = z
  .object({
    /** Why the letter is dropped; kept in the dead-letter log. */
    reason: z.string().min(1).max(maxReasonChars).optional(),
  })
  .strict();

/** Most letters one `POST /v1/dlq/replay` sends replay commands for. */
export const maxBulkReplay = 1000;

/** Body of `POST /v1/dlq/replay`. */
export const BulkReplayRequest = z.object({ type: JobTypeName }).strict();

/** `202` of a replay: the job will be queued again as `run`. */
export const ReplayAccepted = z.object({
  id: z.string(),
  status: z.literal("replaying"),
  /** The new run the job is queued as. */
  run: z.int(),
});

/** `202` of a discard. */
export const DiscardAccepted = z.object({ id: z.string(), status: z.literal("discarding") });

/** `202` of a bulk replay. */
export const BulkReplayAccepted = z.object({
  type: z.string(),
  /** Letters a replay command was sent for. */
  replaying: z.int(),
  /** The type's open letters that cannot be replayed (no job id or no readable work item). */
  skipped: z.int(),
  /** True when more replayable letters of the type remain: call again once these are replayed. */
  more: z.boolean(),
});
