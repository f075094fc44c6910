import type { ValidationIssue } from "@conveyor/contracts";

import { SubmissionRejection } from "./submission-check.ts";

/**
 * The W3C Trace Context a job of a bulk submission may carry beside its envelope, named as
 * CloudEvents' distributed tracing extension names them: the job's spans then continue that trace
 * instead of the bulk message's, so that jobs gathered into one message from different requests
 * each keep their own.
 */
export interface BulkJobTrace {
  traceparent?: string;
  tracestate?: string;
}

const traceFields = ["traceparent", "tracestate"] as const;
/** W3C caps `tracestate` at 512 characters; `traceparent` is 55. */
const maxTraceFieldChars = 512;

/** A bulk job's envelope without its trace fields, and those fields; or why they are refused. */
export type SplitBulkJob =
  | { ok: true; envelope: unknown; trace: BulkJobTrace | undefined }
  | { ok: false; reason: SubmissionRejection; message: string; issues: ValidationIssue[] };

/**
 * Takes a bulk job's `traceparent` and `tracestate` out of its envelope (which is then checked as
 * any submission). A value that is no string of 1 to 512 characters without a line break (it
 * travels in a message header) is refused; a malformed one is otherwise ignored, as W3C Trace
 * Context has it, and the job starts a trace of its own.
 */
export function splitBulkJobTrace(entry: unknown): SplitBulkJob {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    return { ok: true, envelope: entry, trace: undefined };
  }
  const fields = entry as Record<string, unknown>;
  if (!traceFields.some((field) => field in fields)) {
    return { ok: true, envelope: entry, trace: undefined };
  }
  const { traceparent, tracestate, ...envelope } = fields;
  const trace: BulkJobTrace = {};
  const issues: ValidationIssue[] = [];
  for (const [field, value] of [
    ["traceparent", traceparent],
    ["tracestate", tracestate],
  ] as const) {
    if (value === undefined) continue;
    if (isTraceValue(value)) trace[field] = value;
    else issues.push({ path: field, message: `must be a W3C ${field} string` });
  }
  if (issues.length > 0) {
    const paths = issues.map((issue) => issue.path).join(", ");
    return {
      ok: false,
      reason: SubmissionRejection.InvalidEnvelope,
      message: `invalid submission: ${paths}: not a W3C trace context string`,
      issues,
    };
  }
  return { ok: true, envelope, trace };
}

function isTraceValue(value: unknown): value is string {
  return (
    typeof value === "string" &&
    value.length > 0 &&
    value.length <= maxTraceFieldChars &&
    !/[\r\n]/.test(value)
  );
}
