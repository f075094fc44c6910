import { z } from "zod";

import { JobId } from "./job-id.ts";
import { JobTypeName } from "./job-type.ts";
import { RetryOverride } from "./retry-policy.ts";

/** A validated job as the dispatcher puts it on the work stream for workers. */
export const WorkItem = z.object({
  id: JobId,
  type: JobTypeName,
  payload: z.json(),
  priority: z.int(),
  maxAttempts: z.int().min(1),
  timeoutMs: z.int().min(1),
  /** The submission's changes to the type's retry delays, when it made any. */
  retry: RetryOverride.optional(),
  /** ISO-8601 time the intake stream stored the submission. */
  submittedAt: z.iso.datetime(),
  /** 1 for the first run; a replay from the dead-letter queue starts the next run. */
  run: z.int().min(1),
  batchId: JobId.optional(),
});
export type WorkItem = z.infer<typeof WorkItem>;
