import { z } from "zod";

/** The longest retry delay, in milliseconds: a day. */
export const maxRetryDelayMs = 86_400_000;

/** How a job type retries failed attempts. Delays are sent to JetStream as `nak(delayMs)`. */
export const RetryPolicy = z
  .object({
    /** Total attempts including the first. @default 4 */
    maxAttempts: z.int().min(1).max(100).default(4),
    /** Delay after the first failed attempt, in milliseconds. @default 1000 */
    initialDelayMs: z.int().min(0).max(maxRetryDelayMs).default(1000),
    /** Each further delay is the previous one times this factor. @default 2 */
    factor: z.number().min(1).max(10).default(2),
    /** Upper bound of any delay, in milliseconds. @default 300000 */
    maxDelayMs: z.int().min(0).max(maxRetryDelayMs).default(300_000),
    /** `full` draws each delay uniformly from [0, computed delay]. @default "none" */
    jitter: z.enum(["none", "full"]).default("none"),
  })
  .strict();
export type RetryPolicy = z.infer<typeof RetryPolicy>;

export const defaultRetryPolicy: RetryPolicy = RetryPolicy.parse({});

/**
 * Per-job changes to the type's retry policy, as a submission or work item carries them. Fields
 * left out keep the type's value.
 */
export const RetryOverride = z
  .object({
    initialDelayMs: z.int().min(0).max(maxRetryDelayMs),
    factor: z.number().min(1).max(10),
    maxDelayMs: z.int().min(0).max(maxRetryDelayMs),
    jitter: z.enum(["none", "full"]),
  })
  .partial()
  .strict();
export type RetryOverride = z.infer<typeof RetryOverride>;

/** The policy a job runs under: the type's, with the job's overrides applied. */
export function effectivePolicy(
  typePolicy: RetryPolicy,
  override: RetryOverride | undefined,
): RetryPolicy {
  if (override === undefined) return typePolicy;
  const applied = Object.fromEntries(Object.entries(override).filter(([, v]) => v !== undefined));
  return { ...typePolicy, ...applied };
}

/**
 * The delay before the attempt after `failedAttempt` (1-based). With the defaults:
 * 1 s after attempt 1, 2 s after attempt 2, 4 s after attempt 3.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  failedAttempt: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, failedAttempt - 1);
  const computed = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** exponent);
  return Math.round(policy.jitter === "full" ? random() * computed : computed);
}
