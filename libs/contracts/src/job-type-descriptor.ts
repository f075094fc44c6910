import { z } from "zod";

import { JobTypeName } from "./job-type.ts";
import { RetryPolicy } from "./retry-policy.ts";

/**
 * The longest handler timeout a job type or a job may set, in milliseconds: a day. Node's timers
 * hold at most 2^31-1 ms (about 24.8 days) and fire a longer one at once.
 */
export const maxJobTimeoutMs = 86_400_000;

/**
 * What a worker registers about a job type it handles, in the job-types KV bucket. Gateway and
 * dispatcher read it to validate submissions: an unregistered type is unknown.
 */
export const JobTypeDescriptor = z.object({
  type: JobTypeName,
  description: z.string().optional(),
  /** JSON Schema (draft 2020-12) of the payload; absent when the type accepts any payload. */
  payloadSchema: z.record(z.string(), z.unknown()).optional(),
  retry: RetryPolicy,
  /** Default handler timeout, in milliseconds. */
  timeoutMs: z.int().min(1).max(maxJobTimeoutMs),
  /**
   * The declaration's version, set by its handler: a registration of a lower version than the
   * stored one (an old replica restarting during a rolling deploy) keeps the stored one.
   */
  version: z.int().min(0).default(0),
  registeredAt: z.iso.datetime(),
});
export type JobTypeDescriptor = z.infer<typeof JobTypeDescriptor>;
