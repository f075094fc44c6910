import { JobId, parseWorkItemJson, toValidationIssues } from "@conveyor/contracts";
import type { WorkItem } from "@conveyor/contracts";
import { z } from "zod";

import { InvalidPayloadError, InvalidWorkItemError } from "./errors.ts";

/** What can be told about an unreadable work message, so its dead letter can still name the job. */
export interface WorkItemIdentity {
  jobId?: string;
  run?: number;
}

export type ReadWorkItem =
  | { ok: true; item: WorkItem }
  | { ok: false; error: InvalidWorkItemError; identity: WorkItemIdentity };

const Identity = z.object({
  id: JobId.optional().catch(undefined),
  run: z.int().min(1).optional().catch(undefined),
});

/** Reads a work message body as a {@link WorkItem} of `expectedType`. */
export function readWorkItem(data: Uint8Array, expectedType: string): ReadWorkItem {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(data));
  } catch (err) {
    const error = new InvalidWorkItemError("work item is not valid JSON", [], { cause: err });
    return { ok: false, error, identity: {} };
  }
  let parsed: ReturnType<typeof parseWorkItemJson>;
  try {
    parsed = parseWorkItemJson(json);
  } catch (err) {
    // Nested too deep for the recursive walk (RangeError): only a publish that bypassed intake,
    // which refuses such payloads, gets here. It would throw on every delivery.
    const message = `work item could not be read: ${err instanceof Error ? err.message : String(err)}`;
    const error = new InvalidWorkItemError(message, [], { cause: err });
    return { ok: false, error, identity: identify(json) };
  }
  if (!parsed.success) {
    const issues = toValidationIssues(parsed.error);
    const summary = issues.map((i) => `${i.path}: ${i.message}`).join("; ");
    const error = new InvalidWorkItemError(`invalid work item: ${summary}`, issues);
    return { ok: false, error, identity: identify(json) };
  }
  if (parsed.data.type !== expectedType) {
    const message = `work item of type "${parsed.data.type}" arrived on the consumer of "${expectedType}"`;
    const error = new InvalidWorkItemError(message, [{ path: "type", message }]);
    return { ok: false, error, identity: { jobId: parsed.data.id, run: parsed.data.run } };
  }
  return { ok: true, item: parsed.data };
}

function identify(json: unknown): WorkItemIdentity {
  const parsed = Identity.safeParse(json);
  if (!parsed.success) return {};
  const identity: WorkItemIdentity = {};
  if (parsed.data.id !== undefined) identity.jobId = parsed.data.id;
  if (parsed.data.run !== undefined) identity.run = parsed.data.run;
  return identity;
}

export type ParsedPayload =
  { ok: true; payload: unknown } | { ok: false; error: InvalidPayloadError };

/**
 * Parses a payload with the type's schema; issue paths start at `payload` (`payload.ms`). A schema
 * with async checks (an async `refine`) is run asynchronously, so the answer is then a promise. A
 * schema whose own code throws (a `transform` or `refine` callback) refuses the payload, naming
 * what it threw: it would throw again on every delivery.
 */
export function parsePayload(
  schema: z.ZodType | undefined,
  payload: unknown,
): ParsedPayload | Promise<ParsedPayload> {
  if (schema === undefined) return { ok: true, payload };
  try {
    return fromParse(schema.safeParse(payload));
  } catch (err) {
    if (!(err instanceof z.core.$ZodAsyncError)) return schemaThrew(err);
  }
  return schema.safeParseAsync(payload).then(fromParse, schemaThrew);
}

function fromParse(parsed: z.ZodSafeParseResult<unknown>): ParsedPayload {
  if (parsed.success) return { ok: true, payload: parsed.data };
  return {
    ok: false,
    error: new InvalidPayloadError(toValidationIssues(parsed.error, "payload"), {
      cause: parsed.error,
    }),
  };
}

function schemaThrew(err: unknown): ParsedPayload {
  const message = `the payload schema threw: ${err instanceof Error ? err.message : String(err)}`;
  return {
    ok: false,
    error: new InvalidPayloadError([{ path: "payload", message }], { cause: err }),
  };
}
