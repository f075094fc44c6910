import type { Refusal } from "./job-decision.ts";

/** Why a submission is refused whose job id a job queued by another submission already has. */
export const duplicateIdReason = "duplicate_id";

/**
 * The refusal of a submission whose work item `WORK` reported as a duplicate on the submission's
 * first delivery: another submission of the same job id (under another idempotency key, so `JOBS`
 * stored both) queued it within `WORK`'s duplicate window. A job id names one job, so this one is
 * not queued again; without the refusal it would have been reported queued and never run.
 */
export function duplicateIdRefusal(jobId: string, rawPreview: string): Refusal {
  const message = `job ${jobId} was already queued by another submission; a job id names one job`;
  return {
    reason: duplicateIdReason,
    message: `duplicate id: ${message}`,
    issues: [{ path: "id", message }],
    jobId,
    rawPreview,
  };
}
