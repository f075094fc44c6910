import { maxReasonChars } from "@conveyor/contracts";
import { z } from "zod";

/** Body of `POST /v1/jobs/:id/cancel` (optional). */
export const CancelRequest = z
  .object({
    /** Why the job is cancelled; shown as the job's `reason`. @default "cancelled on request" */
    reason: z.string().min(1).max(maxReasonChars).optional(),
  })
  .strict();
export type CancelRequest = z.output<typeof CancelRequest>;

/** `202`: the cancel is stored; the job becomes `cancelled` once the dispatcher and workers act. */
export const CancelAccepted = z.object({
  id: z.string(),
  status: z.literal("cancelling"),
});
