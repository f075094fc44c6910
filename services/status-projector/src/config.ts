import { commonEnv, envInt, mongoEnv } from "@conveyor/service-kit";
import { z } from "zod";

/** Environment of the status projector. */
export const projectorEnv = z.object({
  ...commonEnv,
  ...mongoEnv,
  /** Most events projected with one `find` and one `bulkWrite`. */
  PROJECTOR_BATCH_SIZE: envInt(1, 500),
});
export type ProjectorEnv = z.infer<typeof projectorEnv>;
