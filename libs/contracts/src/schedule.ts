import type { JobSubmission } from "./submission.ts";

/**
 * When a submission asks its job to run first: its `runAt`, or `delayMs` after `storedAt` (when
 * the intake stream stored it, so that every delivery of the submission gives the same time), or
 * undefined when it asks for neither. A time already past is returned as it is.
 */
export function scheduledRunAt(
  submission: Pick<JobSubmission, "runAt" | "delayMs">,
  storedAt: Date,
): Date | undefined {
  if (submission.runAt !== undefined) return new Date(submission.runAt);
  if (submission.delayMs !== undefined) return new Date(storedAt.getTime() + submission.delayMs);
  return undefined;
}
