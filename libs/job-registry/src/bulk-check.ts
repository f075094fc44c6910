import { JobBulkSubmission, toValidationIssues } from "@conveyor/contracts";
import type { ValidationIssue } from "@conveyor/contracts";

import { claimedId } from "./claimed-id.ts";
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
  if (
    typeof envelope !== "object" ||
    envelope === null ||
    (envelope as { idempotencyKey?: unknown }).idempotencyKey === undefined
  ) {
    return undefined;
  }
  const message = "not accepted in a bulk submission: give the job an id, which deduplicates it";
  return {
    reason: SubmissionRejection.InvalidEnvelope,
    message: `invalid submission: idempotencyKey: ${message}`,
    issues: [{ path: "idempotencyKey", message }],
  };
}

/**
 * The jobs of a bulk whose `id` an earlier job of the same bulk has: place -> the earlier place.
 * The later job would collapse into the first (its work item has the same `Nats-Msg-Id`) and never
 * run, so it is refused instead (see {@link repeatedIdRefusal}).
 */
export function repeatedIds(envelopes: readonly unknown[]): Map<number, number> {
  const first = new Map<string, number>();
  const repeated = new Map<number, number>();
  envelopes.forEach((envelope, index) => {
    const id = claimedId(envelope);
    if (id === undefined) return;
    const earlier = first.get(id);
    if (earlier === undefined) first.set(id, index);
    else repeated.set(index, earlier);
  });
  return repeated;
}

/** The refusal of a job whose id the job at `earlier` in the same bulk has. */
export function repeatedIdRefusal(earlier: number): {
  reason: SubmissionRejection;
  message: string;
  issues: ValidationIssue[];
} {
  const message = `the same id as jobs[${earlier}]`;
  return {
    reason: SubmissionRejection.InvalidEnvelope,
    message: `invalid submission: id: ${message}`,
    issues: [{ path: "id", message }],
  };
}
