import { z } from "zod";

import { JobId } from "./job-id.ts";
import { JobTypeName } from "./job-type.ts";
import { maxJobTimeoutMs } from "./job-type-descriptor.ts";
import { reservedMsgIdPrefixes } from "./msg-id-prefixes.ts";
import { JobPriority } from "./priority.ts";
import { RetryOverride } from "./retry-policy.ts";

/** Longest `delayMs` a submission may ask for: 365 days (a later time can be given as `runAt`). */
export const maxScheduleDelayMs = 365 * 24 * 60 * 60 * 1000;

/**
 * What a client sends to submit a job: the body of `POST /v1/jobs`, or the message published to
 * `jobs.submit.<type>` (where `type` may be omitted because the subject names it).
 */
export const JobSubmission = z
  .object({
    /** Client-chosen job id; generated (UUIDv7) when absent. Also the default idempotency key. */
    id: JobId.optional(),
    type: JobTypeName,
    /** Handler input. Validated against the type's payload schema when it declares one. */
    payload: z.json().default(null),
    /** 0 (lowest) to 9 (highest): a worker takes the waiting jobs of the highest first. @default 5 */
    priority: z.int().min(JobPriority.lowest).max(JobPriority.highest).default(JobPriority.default),
    /** Overrides the type's retry policy attempt count for this job. */
    maxAttempts: z.int().min(1).max(100).optional(),
    /** Overrides the type's retry delays for this job (`maxAttempts` is the field above). */
    retry: RetryOverride.optional(),
    /** Overrides the type's handler timeout for this job, in milliseconds. */
    timeoutMs: z.int().min(1).max(maxJobTimeoutMs).optional(),
    /**
     * When the job may run first (ISO 8601 with `Z` or an offset): it is held until then, and a
     * time already past queues it at once. Not with `delayMs`.
     */
    runAt: z.iso.datetime({ offset: true }).optional(),
    /**
     * How long after its submission is stored the job may run first, in milliseconds (at most a
     * year; {@link maxScheduleDelayMs}). Not with `runAt`.
     */
    delayMs: z.int().min(0).max(maxScheduleDelayMs).optional(),
    /** Deduplicates submissions within the intake stream's duplicate window. */
    idempotencyKey: z
      .string()
      .min(1)
      .max(256)
      // It travels as the Nats-Msg-Id header: no line break can, and NATS trims the ends, so a
      // padded key would collide with the bare one and a blank one would deduplicate nothing.
      .regex(/^\S(?:[^\r\n]*\S)?$/, "must not start or end with whitespace or contain a line break")
      // Encoded as UTF-8 for the header, every lone surrogate becomes U+FFFD: distinct keys would
      // share one message id, and a new job would be answered as a duplicate.
      .refine((key) => key.isWellFormed(), "must be well-formed Unicode (no lone surrogate)")
      .refine((key) => !reservedMsgIdPrefixes.some((prefix) => key.startsWith(prefix)), {
        message: `must not start with ${reservedMsgIdPrefixes.join(" or ")} (the message ids of commands and bulks)`,
      })
      .optional(),
    /** Groups jobs so their progress can be read together. */
    batchId: JobId.optional(),
  })
  .strict();
export type JobSubmission = z.infer<typeof JobSubmission>;
export type JobSubmissionInput = z.input<typeof JobSubmission>;

export const SubmissionSource = { Rest: "rest", Nats: "nats" } as const;
export type SubmissionSource = (typeof SubmissionSource)[keyof typeof SubmissionSource];
