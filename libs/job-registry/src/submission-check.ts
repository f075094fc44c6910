import { JobSubmission, maxScheduleDelayMs, toValidationIssues } from "@conveyor/contracts";
import type { JobTypeDescriptor, SubmissionSource, ValidationIssue } from "@conveyor/contracts";
import { z } from "zod";

import { payloadIssues } from "./payload-schema.ts";
import { payloadShapeIssues } from "./payload-shape.ts";

/** Finds the descriptor of a registered job type. {@link JobTypeRegistry} is one. */
export interface JobTypeLookup {
  get(type: string): JobTypeDescriptor | undefined;
}

/** A {@link JobTypeLookup} that can also read a type its memory does not hold (yet). */
export interface JobTypeSource extends JobTypeLookup {
  lookup(type: string): Promise<JobTypeDescriptor | undefined>;
}

/**
 * The envelope without its payload's JSON check: the payload walk checks that (see
 * {@link payloadShapeIssues}), at a fraction of the cost of `z.json()`'s recursive union, which
 * tries every JSON type at every node of the payload.
 */
const Envelope = JobSubmission.extend({ payload: z.unknown().optional() });

/** Why a submission was refused. */
export const SubmissionRejection = {
  /** Not an object, or a field of the envelope is missing, unknown or malformed. */
  InvalidEnvelope: "invalid_envelope",
  /** The body's `type` differs from the type its NATS subject names. */
  TypeMismatch: "type_mismatch",
  /** No worker has registered the type. */
  UnknownType: "unknown_type",
  /** The payload fails the type's JSON Schema. */
  InvalidPayload: "invalid_payload",
} as const;
export type SubmissionRejection = (typeof SubmissionRejection)[keyof typeof SubmissionRejection];

export type SubmissionCheck =
  | { ok: true; submission: JobSubmission; descriptor: JobTypeDescriptor }
  | { ok: false; reason: SubmissionRejection; message: string; issues: ValidationIssue[] };

export interface SubmissionCheckOptions {
  /** The type named by the NATS subject (`jobs.submit.<type>`); the body may then omit `type`. */
  subjectType?: string | undefined;
  source: SubmissionSource;
  /**
   * The time a `runAt` may be at most `maxScheduleDelayMs` after: when the submission is made
   * (a producer, the gateway) or stored (the dispatcher, with a margin for clocks).
   * @default now
   */
  scheduleFrom?: Date | undefined;
}

/**
 * Validates a parsed submission: the envelope, the subject's type, the type's registration and the
 * payload against the type's schema, in that order. Every refusal names the offending fields. A
 * payload that is not JSON, is nested deeper than `maxPayloadDepth` or has a NUL in a key is
 * refused first. The result is what `JobSubmission` would parse.
 */
export function checkSubmission(
  input: unknown,
  registry: JobTypeLookup,
  options: SubmissionCheckOptions,
): SubmissionCheck {
  const envelope = checkEnvelope(input, options);
  if (!envelope.ok) return envelope;
  const { submission } = envelope;

  const descriptor = registry.get(submission.type);
  if (!descriptor) {
    return refuse(
      SubmissionRejection.UnknownType,
      `job type "${submission.type}" is not registered by any worker`,
      [{ path: "type", message: `unknown job type "${submission.type}"` }],
    );
  }

  const issues = payloadIssues(descriptor, submission.payload);
  if (issues.length > 0) {
    // A payload can fail its schema in each of 100,000 items: the refusal names the first.
    const shown = issues.slice(0, maxReportedIssues);
    const more = issues.length - shown.length;
    const what = describe(`invalid payload for "${submission.type}"`, shown);
    return refuse(
      SubmissionRejection.InvalidPayload,
      more > 0 ? `${what}; and ${more} more` : what,
      shown,
    );
  }
  return { ok: true, submission, descriptor };
}

/** Most payload issues a refusal lists. */
export const maxReportedIssues = 100;

/** A submission whose envelope is valid, or why it is not. */
export type EnvelopeCheck =
  { ok: true; submission: JobSubmission } | Extract<SubmissionCheck, { ok: false }>;

/**
 * The checks of a submission that need no job type registry: an object, the subject's type, the
 * payload's shape (JSON, depth, keys) and the envelope's fields, in that order. Every refusal names
 * the offending fields. A producer can run it before publishing; {@link checkSubmission} runs it
 * first.
 */
export function checkEnvelope(
  input: unknown,
  options: Pick<SubmissionCheckOptions, "subjectType" | "scheduleFrom"> = {},
): EnvelopeCheck {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return refuse(SubmissionRejection.InvalidEnvelope, "a submission must be a JSON object", [
      { path: "(root)", message: "expected an object" },
    ]);
  }
  const envelope = withSubjectType(input as Record<string, unknown>, options.subjectType);
  if (!envelope.ok) return envelope;

  // Before zod and ajv, whose recursion a deeply nested payload would overflow.
  const payload = envelope.value.payload ?? null;
  const shape = payloadShapeIssues(payload);
  if (shape.length > 0) {
    return refuse(SubmissionRejection.InvalidPayload, describe("invalid payload", shape), shape);
  }
  const parsed = Envelope.safeParse(envelope.value);
  if (!parsed.success) {
    const issues = toValidationIssues(parsed.error);
    return refuse(
      SubmissionRejection.InvalidEnvelope,
      describe("invalid submission", issues),
      issues,
    );
  }
  const scheduleIssue = scheduleIssueOf(parsed.data, options.scheduleFrom ?? new Date());
  if (scheduleIssue !== undefined) {
    const issues = [scheduleIssue];
    return refuse(
      SubmissionRejection.InvalidEnvelope,
      describe("invalid submission", issues),
      issues,
    );
  }
  // The walk above found only JSON values; absent, the payload is null as `JobSubmission` says.
  return {
    ok: true,
    submission: { ...parsed.data, payload: payload as JobSubmission["payload"] },
  };
}

/**
 * Why a submission's schedule is refused: both `runAt` and `delayMs`, or a `runAt` further ahead
 * than `delayMs` may be (nats-server's scheduler also holds times only up to the year 2262).
 */
function scheduleIssueOf(
  submission: Pick<JobSubmission, "runAt" | "delayMs">,
  from: Date,
): ValidationIssue | undefined {
  if (submission.runAt !== undefined && submission.delayMs !== undefined) {
    return { path: "delayMs", message: "give runAt or delayMs, not both" };
  }
  if (submission.runAt === undefined) return undefined;
  const latest = from.getTime() + maxScheduleDelayMs;
  if (Date.parse(submission.runAt) <= latest) return undefined;
  return {
    path: "runAt",
    message: `more than 365 days ahead: at most ${new Date(latest).toISOString()}`,
  };
}

function withSubjectType(
  body: Record<string, unknown>,
  subjectType: string | undefined,
): { ok: true; value: Record<string, unknown> } | Extract<SubmissionCheck, { ok: false }> {
  if (subjectType === undefined) return { ok: true, value: body };
  if (body.type === undefined) return { ok: true, value: { ...body, type: subjectType } };
  if (body.type !== subjectType) {
    const message = `type ${JSON.stringify(body.type)} does not match the subject's type "${subjectType}"`;
    return refuse(SubmissionRejection.TypeMismatch, message, [{ path: "type", message }]);
  }
  return { ok: true, value: body };
}

function refuse(
  reason: SubmissionRejection,
  message: string,
  issues: ValidationIssue[],
): Extract<SubmissionCheck, { ok: false }> {
  return { ok: false, reason, message, issues };
}

/** A refusal's message: what was refused, then each issue with its path. */
export function describe(what: string, issues: readonly ValidationIssue[]): string {
  return `${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`;
}
