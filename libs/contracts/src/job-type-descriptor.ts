import { z } from "zod";

import { JobTypeName } from "./job-type.ts";
import { RetryPolicy } from "./retry-policy.ts";

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
  timeoutMs: z.int().min(1),
  /**
   * The declaration's version, set by its handler: a registration of a lower version than the
   * stored one (an old replica restarting during a rolling deploy) keeps the stored one.
   */
  version: z.int().min(0).default(0),
  registeredAt: z.iso.datetime(),
});
export type JobTypeDescriptor = z.infer<typeof JobTypeDescriptor>;
