import {
  exceedsDepth,
  maxMessageDepth,
  LifecycleKind,
  RejectedEvent,
  parseJobEventJson,
  toValidationIssues,
} from "@conveyor/contracts";
import type { JobEvent } from "@conveyor/contracts";
import type { ValidationIssue } from "@conveyor/contracts";

/** What one message on the events stream turned out to be. */
export type DecodedEvent =
  | { type: "job"; event: JobEvent }
  | { type: "rejection"; event: RejectedEvent }
  | { type: "invalid"; reason: string; issues: ValidationIssue[] };

const decoder = new TextDecoder();

/**
 * Parses and validates an event published to `events.<id>.<kind>`. The subject must agree with the
 * body (same id and kind), so an event can never land on another job's document. Never throws: a
 * body nested deeper than {@link maxMessageDepth} or one that fails validation in any way is
 * `invalid`.
 */
export function decodeEvent(subject: string, data: Uint8Array): DecodedEvent {
  try {
    return decode(subject, data);
  } catch (err) {
    // Validation must never stall the mailbox: whatever it throws makes the event invalid.
    return invalid("undecodable", "(root)", err instanceof Error ? err.message : String(err));
  }
}

function decode(subject: string, data: Uint8Array): DecodedEvent {
  const [prefix, id, kind, ...extra] = subject.split(".");
  if (prefix !== "events" || id === undefined || kind === undefined || extra.length > 0) {
    return invalid("invalid_subject", "(subject)", `expected events.<id>.<kind>, got ${subject}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(data));
  } catch (err) {
    return invalid("invalid_json", "(root)", err instanceof Error ? err.message : String(err));
  }
  if (exceedsDepth(body, maxMessageDepth)) return tooDeep();
  if (kind === LifecycleKind.Rejected) {
    const parsed = RejectedEvent.safeParse(body);
    if (!parsed.success) return invalidSchema(parsed.error);
    if (parsed.data.rejectionId !== id) return mismatch("rejectionId", id);
    return { type: "rejection", event: parsed.data };
  }
  const parsed = parseJobEventJson(body);
  if (!parsed.success) return invalidSchema(parsed.error);
  if (parsed.data.jobId !== id) return mismatch("jobId", id);
  if (parsed.data.kind !== kind) return mismatch("kind", kind);
  return { type: "job", event: parsed.data };
}

function invalid(reason: string, path: string, message: string): DecodedEvent {
  return { type: "invalid", reason, issues: [{ path, message }] };
}

function invalidSchema(error: Parameters<typeof toValidationIssues>[0]): DecodedEvent {
  return { type: "invalid", reason: "invalid_event", issues: toValidationIssues(error) };
}

function tooDeep(): DecodedEvent {
  return invalid("too_deep", "(root)", `nested deeper than ${maxMessageDepth} levels`);
}

function mismatch(field: string, fromSubject: string): DecodedEvent {
  return invalid("subject_mismatch", field, `${field} differs from the subject's ${fromSubject}`);
}
