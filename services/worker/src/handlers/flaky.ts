import { JobFailure, defineHandler } from "@conveyor/worker-sdk";
import { z } from "zod";

export const FlakyPayload = z.strictObject({
  /** Attempts that fail before one succeeds. */
  failTimes: z.int().min(0).max(99),
});
export type FlakyPayload = z.infer<typeof FlakyPayload>;

/** `flaky`: fails attempts 1..failTimes with a retryable error, then succeeds. */
export const flaky = defineHandler({
  description: "Fails the first payload.failTimes attempts (retryable), then succeeds.",
  schema: FlakyPayload,
  handler: (job, ctx) => {
    const { failTimes } = job.payload;
    if (ctx.attempt <= failTimes) {
      throw JobFailure.retryable(`planned failure ${ctx.attempt} of ${failTimes}`);
    }
    return { succeededOnAttempt: ctx.attempt };
  },
});
