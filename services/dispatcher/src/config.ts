import { defaultMaxSubmissionBytes } from "@conveyor/contracts";
import { commonEnv, envInt, envMs } from "@conveyor/service-kit";
import { z } from "zod";

import { defaultMaxHeldBytes } from "./dispatcher.ts";

/** The dispatcher's environment variables. */
export const dispatcherEnv = z.object({
  ...commonEnv,
  /**
   * Most intake messages held at once (pulled, not yet acknowledged); a busy intake is read in
   * pulls of at least half this many, unless DISPATCHER_MAX_HELD_BYTES allows fewer. Below the
   * intake consumer's `max_ack_pending` (1000).
   * @default 512
   */
  DISPATCHER_CONCURRENCY: envInt(1, 512),
  /**
   * Most bulk submissions (up to 1,000 jobs each) held at once, on their own consumer.
   * @default 4
   */
  DISPATCHER_BULK_CONCURRENCY: envInt(1, 4),
  /**
   * Most bytes of single submissions held at once, counted as they arrive: a pull asks for no more
   * than fit at `MAX_SUBMISSION_BYTES` each, so a burst of large submissions cannot exhaust the
   * heap. @default 33554432 (32 MiB)
   */
  DISPATCHER_MAX_HELD_BYTES: envInt(1, defaultMaxHeldBytes),
  /** Largest submission accepted, in bytes. @default 262144 */
  MAX_SUBMISSION_BYTES: envInt(1, defaultMaxSubmissionBytes),
  /**
   * Time between scans of the work stream for jobs that ran out of deliveries without a captured
   * advisory, in milliseconds; the first scan runs at start, 0 turns scanning off. @default 60000
   */
  DEAD_LETTER_SCAN_INTERVAL_MS: envMs(0, 60_000),
  /**
   * How long each of the dispatcher's pulls waits for messages, in milliseconds. A message is
   * delivered the moment it is stored, whatever this is; each mailbox renews its pull when it runs
   * out, so a longer one costs less at rest, and a stop waits up to this long for the open pulls
   * (at most 30 s, and no longer than `SHUTDOWN_GRACE_MS`, which bounds that wait). @default 5000
   */
  DISPATCHER_PULL_EXPIRES_MS: envMs(1000, 5000, 30_000),
});
export type DispatcherEnv = z.infer<typeof dispatcherEnv>;
