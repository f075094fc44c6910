import { setTimeout as sleepFor } from "node:timers/promises";

import { defineHandler } from "@conveyor/worker-sdk";
import { z } from "zod";

/** Longest sleep a job may ask for, in milliseconds. */
export const maxSleepMs = 600_000;

export const SleepPayload = z.strictObject({
  /** How long to wait, in milliseconds. */
  ms: z.int().min(0).max(maxSleepMs),
});
export type SleepPayload = z.infer<typeof SleepPayload>;

/** `sleep`: waits `ms` milliseconds; stops at once when the attempt is aborted. */
export const sleep = defineHandler({
  description: "Waits payload.ms milliseconds (0..600000).",
  schema: SleepPayload,
  // Room for the longest sleep; a job may still set a shorter timeout.
  timeoutMs: maxSleepMs + 60_000,
  handler: async (job, ctx) => {
    await sleepFor(job.payload.ms, undefined, { signal: ctx.signal });
    return { sleptMs: job.payload.ms };
  },
});
