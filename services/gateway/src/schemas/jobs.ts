import {
  ErrorInfo,
  JobId,
  JobStatus,
  JobSubmission,
  JobTypeName,
  maxBulkJobs,
} from "@conveyor/contracts";
import { z } from "zod";

import { Cursor, JsonValue, Limit, Timestamp } from "./common.ts";

const jobStatus = z.enum(Object.values(JobStatus));

/** One delivery of a job to a worker. */
export const AttemptView = z.object({
  /** Run of the attempt: 1, or more after replays. */
  run: z.int(),
  /** Delivery count within the run, 1-based. */
  attempt: z.int(),
  workerId: z.string().nullable(),
  startedAt: Timestamp,
  finishedAt: Timestamp,
  /** Handler time, in milliseconds. */
  durationMs: z.number().nullable(),
  outcome: z.enum(["succeeded", "failed", "cancelled"]).nullable(),
  error: ErrorInfo.nullable(),
  /** Delay before the next attempt, in milliseconds. */
  retryDelayMs: z.int().nullable(),
});

/** The newest progress report of a job. */
export const ProgressView = z.object({
  done: z.number(),
  total: z.number(),
  message: z.string().nullable(),
  attempt: z.int(),
  at: z.iso.datetime(),
});

/** A job as `GET /v1/jobs/:id` shows it. Fields not yet known are null. */
export const JobView = z.object({
  id: z.string(),
  type: z.string(),
  status: jobStatus,
  /** Run: 1, or more after replays. */
  run: z.int(),
  /** Attempts made in the current run (the highest delivery count seen). */
  attempts: z.int(),
  attemptHistory: z.array(AttemptView),
  progress: ProgressView.nullable(),
  result: JsonValue.nullable(),
  error: ErrorInfo.nullable(),
  /** Why the job ended without success (`dead`, `cancelled`). */
  reason: z.string().nullable(),
  submittedAt: Timestamp,
  /** When a scheduled job may start (its run's `runAt`, or `delayMs` after its submission). */
  runAt: Timestamp,
  startedAt: Timestamp,
  finishedAt: Timestamp,
  updatedAt: z.iso.datetime(),
  traceId: z.string().nullable(),
  payload: JsonValue.nullable(),
  priority: z.int().nullable(),
  maxAttempts: z.int().nullable(),
  batchId: z.string().nullable(),
  source: z.enum(["rest", "nats"]).nullable(),
});
export type JobView = z.output<typeof JobView>;

export const JobList = z.object({
  items: z.array(JobView),
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: z.string().nullable(),
});

/** Query of `GET /v1/jobs`; strict, so that a misspelt filter is refused rather than ignored. */
export const ListJobsQuery = z.strictObject({
  status: jobStatus.optional(),
  type: JobTypeName.optional(),
  batchId: JobId.optional(),
  limit: Limit,
  cursor: Cursor.optional(),
});

/** Path parameters of `GET /v1/jobs/:id`. */
export const JobIdParams = z.object({ id: JobId });

/**
 * Longest `GET /v1/jobs/:id?waitMs=` waits for a job to finish, in milliseconds: well under the
 * 60 s after which common proxies (nginx, cloud load balancers) give up on an answer.
 */
export const maxJobWaitMs = 30_000;

/** Query of `GET /v1/jobs/:id`; strict, so that a misspelt `waitMs` is refused, not ignored. */
export const GetJobQuery = z.strictObject({
  /** Wait up to this long for the job to finish (succeeded, dead or cancelled) before answering. */
  waitMs: z
    .string()
    .regex(/^\d{1,6}$/, `a whole number of milliseconds from 0 to ${String(maxJobWaitMs)}`)
    .transform(Number)
    .pipe(z.number().max(maxJobWaitMs))
    .optional()
    .describe("Wait up to this long (ms, at most 30000) for the job to finish before answering"),
});

/** Query of `GET /v1/jobs/:id/events`: none; strict, so that a parameter sent is refused. */
export const JobEventsQuery = z.strictObject({});

/** `202`: the job is stored in the intake stream. */
export const SubmitAccepted = z.object({
  id: z.string(),
  status: z.literal("queued"),
  duplicate: z.literal(false),
  /** W3C trace id of the job's trace. */
  traceId: z.string().optional(),
});

/**
 * `200`: a submission with the same idempotency key (or id) was already stored; `id` is that job's,
 * read back from `JOBS`. When that submission can no longer be read: the request's own id if it
 * sent no key, absent if it did.
 */
export const SubmitDuplicate = z.object({
  id: z.string().optional(),
  status: z.literal("duplicate"),
  duplicate: z.literal(true),
  traceId: z.string().optional(),
});

/**
 * The body of `POST /v1/jobs/bulk`: 1 to 1,000 submission envelopes, each with its `type` and
 * without `idempotencyKey` (a job's `id` deduplicates it in a bulk). A job may carry its own W3C
 * `traceparent` (and `tracestate`), which its spans then continue instead of the request's trace.
 */
export const BulkSubmitRequest = z
  .object({
    jobs: z
      .array(
        JobSubmission.omit({ idempotencyKey: true }).extend({
          traceparent: z.string().min(1).max(512).optional(),
          tracestate: z.string().min(1).max(512).optional(),
        }),
      )
      .min(1)
      .max(maxBulkJobs),
  })
  .strict();

/** `202`: every job of the bulk is stored in the intake stream, in the order given. */
export const BulkSubmitAccepted = z.object({
  jobs: z.array(
    z.object({
      id: z.string(),
      /** True when JOBS already held a bulk of the same jobs (sent again), so nothing new was stored. */
      duplicate: z.boolean(),
    }),
  ),
  /** W3C trace id of the request's trace, which the bulk's jobs share (unless one carries its own). */
  traceId: z.string().optional(),
});

/**
 * `503` for a bulk whose messages JetStream did not all confirm: every job's id, and whether it is
 * stored (and will run). Submit the others again with their ids.
 */
export const BulkSubmitUnavailable = z.object({
  error: z.literal("unavailable"),
  message: z.string(),
  jobs: z.array(z.object({ id: z.string(), stored: z.boolean() })),
});

/**
 * `413` for a bulk some of whose jobs the `JOBS` stream refused for its `max_msg_size`, each on its
 * own: every job's id, and whether it is stored (and will run). The others would be refused again.
 */
export const BulkSubmitTooLarge = z.object({
  error: z.literal("payload_too_large"),
  message: z.string(),
  jobs: z.array(z.object({ id: z.string(), stored: z.boolean() })),
});
