import { commonEnv, envInt, envMs } from "@conveyor/service-kit";
import { maxWorkerConcurrency, maxWorkerIdLength } from "@conveyor/worker-sdk";
import { z } from "zod";

/** Environment of the reference worker. */
export const workerEnv = z.object({
  ...commonEnv,
  /** Handlers of one type running at once in this replica. @default 4 */
  WORKER_CONCURRENCY: envInt(1, 4, maxWorkerConcurrency),
  /** Identifies this replica in events. @default `<hostname>-<pid>` */
  WORKER_ID: z.string().min(1).max(maxWorkerIdLength).optional(),
  /** Lease on a delivered job before JetStream redelivers it, in milliseconds. @default 30000 */
  ACK_WAIT_MS: envMs(1000, 30_000),
});
export type WorkerEnv = z.infer<typeof workerEnv>;
