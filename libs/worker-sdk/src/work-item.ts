import { JobId, WorkItem, toValidationIssues } from "@conveyor/contracts";
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

/**
 * {@link WorkItem} without the walk of the payload by `z.json()`: a value from `JSON.parse` is JSON
 * except for a number too large to be finite (`1e999`), which {@link isFiniteJson} looks for. Every
 * item it refuses is parsed again by `WorkItem`, so errors read the same.
 */
const WorkItemOfParsedJson = WorkItem.extend({ payload: z.unknown() });

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
  const parsed = parseWorkItem(json);
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

function parseWorkItem(json: unknown): z.ZodSafeParseResult<WorkItem> {
  if (typeof json === "object" && json !== null && "payload" in json) {
    const { payload } = json;
    if (payload !== undefined && isFiniteJson(payload)) {
      const fast = WorkItemOfParsedJson.safeParse(json);
      if (fast.success)
        return { success: true, data: { ...fast.data, payload: payload as WorkItem["payload"] } };
    }
  }
  return WorkItem.safeParse(json);
}

/** Whether a value from `JSON.parse` holds only finite numbers. */
function isFiniteJson(value: unknown): boolean {
  if (typeof value === "number") return Number.isFinite(value);
  if (typeof value !== "object" || value === null) return true;
  if (Array.isArray(value)) return value.every(isFiniteJson);
  for (const key in value) {
    if (!isFiniteJson((value as Record<string, unknown>)[key])) return false;
  }
  return true;
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

/** Parses a payload with the type's schema; issue paths start at `payload` (`payload.ms`). */
export function parsePayload(schema: z.ZodType | undefined, payload: unknown): ParsedPayload {
  if (schema === undefined) return { ok: true, payload };
  const parsed = schema.safeParse(payload);
  if (parsed.success) return { ok: true, payload: parsed.data };
  return {
    ok: false,
    error: new InvalidPayloadError(toValidationIssues(parsed.error, "payload"), {
      cause: parsed.error,
    }),
  };
}
