import { z } from "zod";

import { maxBulkJobs } from "./limits.ts";

/**
 * What a producer publishes to `jobs.bulk.<type>` to submit many jobs of one type in one message:
 * `{ "jobs": [envelope, ...] }`, each envelope a {@link JobSubmission} whose `type` may be omitted
 * (the subject names it). The envelopes are checked one by one: a bad one is recorded as a
 * rejection of its own and the others are queued. A job's `id` deduplicates it (its work item and
 * events collapse under it); an `idempotencyKey` is refused in a bulk, as the key deduplicates a
 * whole intake message.
 */
export const JobBulkSubmission = z
  .object({
    jobs: z.array(z.unknown()).min(1).max(maxBulkJobs),
  })
  .strict();
export type JobBulkSubmission = z.infer<typeof JobBulkSubmission>;
