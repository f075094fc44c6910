import { commonEnv, envInt, mongoEnv } from "@conveyor/service-kit";
import { z } from "zod";

/**
 * Longest hold either setting may ask for. A held event stays unacknowledged and is not kept
 * leased while it waits, so a hold must end well inside the projector consumers' 30 s ack wait,
 * or the server delivers the event again meanwhile.
 */
const maxHoldMs = 20_000;

/** Environment of the status projector. */
export const projectorEnv = z.object({
  ...commonEnv,
  ...mongoEnv,
  /** Most events projected with one `find` and one `bulkWrite`. */
  PROJECTOR_BATCH_SIZE: envInt(1, 500),
  /** How long to wait for more events to fill a batch once one has arrived, in milliseconds. */
  PROJECTOR_BATCH_LINGER_MS: envInt(0, 20),
  /** Longest the events of an unfinished job are held back to be written with its end, in milliseconds. */
  PROJECTOR_DEFER_MS: envInt(0, 1000, maxHoldMs),
  /** Longest the events of a job not in the read model yet are held back, in milliseconds. */
  PROJECTOR_NEW_JOB_DEFER_MS: envInt(0, 5000, maxHoldMs),
  /** Most events held back at once; past it the newest are written at once. */
  PROJECTOR_DEFER_LIMIT: envInt(0, 8000),
  /** Most bytes of events held back at once; one that does not fit is written at once. */
  PROJECTOR_DEFER_MAX_BYTES: envInt(0, 64 * 1024 * 1024),
  /** Most job documents kept in memory after writing them; 0 reads every one back. */
  PROJECTOR_CACHE_SIZE: envInt(0, 10_000),
});
export type ProjectorEnv = z.infer<typeof projectorEnv>;
