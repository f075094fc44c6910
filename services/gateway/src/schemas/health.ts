import { z } from "zod";

export const Health = z.object({ status: z.literal("ok") });

const DependencyCheck = z.object({ ok: z.boolean(), message: z.string().optional() });
const Checks = z.object({ nats: DependencyCheck, mongo: DependencyCheck });

export const Ready = z.object({ status: z.literal("ready"), checks: Checks });

export const NotReady = z.object({
  error: z.literal("not_ready"),
  message: z.string(),
  checks: Checks,
});
