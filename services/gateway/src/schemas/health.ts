import { z } from "zod";

export const Health = z.object({ status: z.literal("ok") });

const DependencyCheck = z.object({ ok: z.boolean(), message: z.string().optional() });
const Checks = z.object({ nats: DependencyCheck, mongo: DependencyCheck });

/**
 * Ready to take submissions (NATS connected). `degraded`: MongoDB does not answer, so reads
 * answer 503 while submissions are still accepted; `message` says so.
 */
export const Ready = z.object({
  status: z.enum(["ready", "degraded"]),
  message: z.string().optional(),
  checks: Checks,
});

export const NotReady = z.object({
  error: z.literal("not_ready"),
  message: z.string(),
  checks: Checks,
});
