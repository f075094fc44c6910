import { z } from "zod";

import { JobEvent, QueuedEvent, SucceededEvent } from "./events.ts";
import { jsonOrUndefined } from "./json-or-undefined.ts";
import { WorkItem } from "./work-item.ts";

/**
 * Whether a value from `JSON.parse` is JSON as `z.json()` sees it. It always is, except for a
 * number too large to be finite (`1e999` parses as `Infinity`), which this looks for. Much cheaper
 * than `z.json()`'s recursive union, which tries every JSON type at every node and allocates as it
 * goes.
 */
export function isFiniteJson(value: unknown): boolean {
  if (typeof value === "number") return Number.isFinite(value);
  if (typeof value !== "object" || value === null) return true;
  if (Array.isArray(value)) return value.every(isFiniteJson);
  for (const key in value) {
    if (!isFiniteJson((value as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/**
 * Parses a value from `JSON.parse` with `full`, skipping the `z.json()` walk of the field `field`
 * when that field is present and finite: `withoutWalk` is `full` with that field as `z.unknown()`.
 * Whatever the quick parse refuses is parsed again by `full`, so errors read the same.
 */
function parseSkippingWalk<T>(
  json: unknown,
  field: string,
  withoutWalk: z.ZodType,
  full: z.ZodType<T>,
): z.ZodSafeParseResult<T> {
  if (typeof json === "object" && json !== null) {
    const value = (json as Record<string, unknown>)[field];
    if (value !== undefined && isFiniteJson(value)) {
      const quick = withoutWalk.safeParse(json);
      // The field is the JSON `full` would have accepted, so the value is a `T`.
      if (quick.success) return { success: true, data: quick.data as T };
    }
  }
  return full.safeParse(json);
}

const WorkItemOfParsedJson = WorkItem.extend({ payload: z.unknown() });

/** {@link WorkItem}`.safeParse` of a value from `JSON.parse`, at a fraction of its cost. */
export function parseWorkItemJson(json: unknown): z.ZodSafeParseResult<WorkItem> {
  return parseSkippingWalk(json, "payload", WorkItemOfParsedJson, WorkItem);
}

/**
 * A work message's body as a {@link WorkItem}, or undefined when it is none: not JSON, invalid, or
 * nested too deep for the validator's walk (which throws, and would on every delivery).
 */
export function workItemOrUndefined(body: Uint8Array | string): WorkItem | undefined {
  try {
    const parsed = parseWorkItemJson(jsonOrUndefined(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const QueuedEventOfParsedJson = QueuedEvent.extend({ payload: z.unknown() });
const SucceededEventOfParsedJson = SucceededEvent.extend({ result: z.unknown() });

/**
 * {@link JobEvent}`.safeParse` of a value from `JSON.parse`, at a fraction of its cost for the
 * events that carry JSON (a `queued` event's payload, a `succeeded` event's result).
 */
export function parseJobEventJson(json: unknown): z.ZodSafeParseResult<JobEvent> {
  const kind =
    typeof json === "object" && json !== null ? (json as { kind?: unknown }).kind : undefined;
  if (kind === QueuedEvent.shape.kind.value) {
    return parseSkippingWalk(json, "payload", QueuedEventOfParsedJson, JobEvent);
  }
  if (kind === SucceededEvent.shape.kind.value) {
    return parseSkippingWalk(json, "result", SucceededEventOfParsedJson, JobEvent);
  }
  return JobEvent.safeParse(json);
}
