import { JobBulkSubmission, toValidationIssues } from "@conveyor/contracts";
import type { ValidationIssue } from "@conveyor/contracts";

import { describe, SubmissionRejection } from "./submission-check.ts";

/** A bulk submission whose envelope holds 1 to `maxBulkJobs` jobs, or why it does not. */
export type BulkCheck =
  | { ok: true; jobs: unknown[] }
  | { ok: false; reason: SubmissionRejection; message: string; issues: ValidationIssue[] };

/**
 * Checks the envelope of a bulk submission, `{ "jobs": [...] }`, not the jobs in it: each of those
 * is checked on its own (see {@link refusalInBulk}), so that one bad job does not refuse the rest.
 */
export function checkBulkEnvelope(input: unknown): BulkCheck {
  const parsed = JobBulkSubmission.safeParse(input);
  if (parsed.success) return { ok: true, jobs: parsed.data.jobs };
  const issues = toValidationIssues(parsed.error);
  return {
    ok: false,
    reason: SubmissionRejection.InvalidEnvelope,
    message: describe("invalid bulk submission", issues),
    issues,
  };
}

/** A refused job of a bulk submission, named by its place: `jobs[3].payload.ms`. */
export function refusalInBulk<R extends { message: string; issues: ValidationIssue[] }>(
  index: number,
  refusal: R,
): R {
  const place = `jobs[${index}]`;
  return {
    ...refusal,
    message: `${place}: ${refusal.message}`,
    issues: refusal.issues.map((issue) => ({
      path: issue.path === "(root)" ? place : `${place}.${issue.path}`,
      message: issue.message,
    })),
  };
}

/**
 * An `idempotencyKey` deduplicates a whole intake message (it is the message's `Nats-Msg-Id`), so a
 * job of a bulk submission cannot have one: its `id` deduplicates it instead.
 */
export function idempotencyKeyInBulk(
  envelope: unknown,
): { reason: SubmissionRejection; message: string; issues: ValidationIssue[] } | undefined {
  if (typeof envelope !== "object" || envelope === null || !("idempotencyKey" in envelope)) {
    return undefined;
  }
  const message = "not accepted in a bulk submission: give the job an id, which deduplicates it";
  return {
    reason: SubmissionRejection.InvalidEnvelope,
    message: `invalid submission: idempotencyKey: ${message}`,
    issues: [{ path: "idempotencyKey", message }],
  };
}
