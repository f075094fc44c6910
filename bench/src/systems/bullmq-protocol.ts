import { z } from "zod";

/** The BullMQ queue every bench job goes to; the job's name is its kind (`echo`, `sleep`). */
export const benchQueueName = "bench";

/** Job options of every bench job, as BullMQ's docs recommend: completed jobs do not pile up. */
export const benchJobOptions = {
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 5000 },
} as const;

/** Environment of the BullMQ bench children (worker and HTTP front). */
export const bullmqChildEnv = z.object({
  REDIS_HOST: z.string().min(1),
  REDIS_PORT: z.coerce.number().int().min(1).max(65_535),
  /** Worker: handlers running at once in this process. */
  CONCURRENCY: z.coerce.number().int().min(1).default(1),
  /** Worker: how many handler starts (and their ends) to report at once (-1 all, 0 none). */
  WATCH_STARTS: z.coerce.number().int().min(-1).default(0),
});

/** From the bench to a worker child: report the next `watch` handler starts and ends (-1 all, 0 none). */
export const ParentMessage = z.object({ watch: z.int().min(-1) });
export type ParentMessage = z.infer<typeof ParentMessage>;

/** From a child to the bench. */
export const ChildMessage = z.union([
  z.object({ ready: z.literal(true) }),
  z.object({ listening: z.int() }),
  /** Handler starts and successful ends: `[jobId, epoch ms]`. */
  z.object({
    starts: z.array(z.tuple([z.string(), z.number()])),
    ends: z.array(z.tuple([z.string(), z.number()])),
  }),
]);
export type ChildMessage = z.infer<typeof ChildMessage>;
