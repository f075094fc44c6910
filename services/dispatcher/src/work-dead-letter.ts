import {
  Header,
  JobId,
  LifecycleKind,
  StreamName,
  WorkItem,
  rejectionRawPreviewChars,
  typeFromWorkSubject,
  jsonOrUndefined,
} from "@conveyor/contracts";
import type { DeadEvent, DeadLetter, ErrorInfo } from "@conveyor/contracts";
import type { StoredMsg } from "@nats-io/jetstream";
import { z } from "zod";

/** Why the dispatcher dead-letters a work message: it ran out of deliveries. */
export const exhaustedReason = "attempts_exhausted";

/** The parts of a stored work message a dead letter is made from. */
export type StoredWork = Pick<StoredMsg, "subject" | "seq" | "data" | "header">;

/** What is known besides the message when it is dead-lettered. */
export interface ExhaustionFacts {
  /** Deliveries the message had, the work consumer's `max_deliver`. */
  deliveries: number;
  /** The job's trace id (of the span that dead-letters it). */
  traceId: string | undefined;
  at: Date;
}

/** A dead letter and, when the job id is known, the `dead` event that goes with it. */
export interface DeadRecords {
  letter: DeadLetter;
  event: DeadEvent | undefined;
}

const Identity = z.object({
  id: JobId.optional().catch(undefined),
  run: z.int().min(1).optional().catch(undefined),
});

/** The error recorded for a job whose deliveries ran out without any attempt settling it. */
export function exhaustedError(deliveries: number): ErrorInfo {
  return {
    name: "MaxDeliveriesError",
    message:
      `max deliveries reached (${deliveries}): no attempt was settled, ` +
      "the worker crashed, timed out or gave the job back on every delivery",
  };
}

/**
 * The dead letter for a work message that JetStream stopped delivering, carrying the work item as
 * queued (or the start of the raw body when it is not a readable work item).
 */
export function deadRecordsFor(stored: StoredWork, facts: ExhaustionFacts): DeadRecords {
  const text = new TextDecoder().decode(stored.data);
  const json = jsonOrUndefined(text);
  const parsed = guarded(() => WorkItem.safeParse(json));
  const workItem = parsed?.success ? parsed.data : undefined;
  const identity = guarded(() => Identity.safeParse(json)) ?? { success: false };
  const headerJobId = stored.header.get(Header.JobId);
  const jobId =
    workItem?.id ??
    (identity.success ? identity.data.id : undefined) ??
    (JobId.safeParse(headerJobId).success ? headerJobId : undefined);
  const run = workItem?.run ?? (identity.success ? identity.data.run : undefined) ?? 1;
  const type = typeFromWorkSubject(stored.subject) ?? workItem?.type ?? stored.subject;
  const error = exhaustedError(facts.deliveries);
  const at = facts.at.toISOString();

  const letter: DeadLetter = {
    type,
    run,
    error,
    reason: exhaustedReason,
    attempts: facts.deliveries,
    deadAt: at,
    source: { stream: StreamName.Work, subject: stored.subject, seq: stored.seq },
  };
  if (jobId !== undefined) letter.jobId = jobId;
  if (workItem !== undefined) letter.workItem = workItem;
  else letter.rawPreview = text.slice(0, rejectionRawPreviewChars);
  if (facts.traceId !== undefined) letter.traceId = facts.traceId;

  if (jobId === undefined) return { letter, event: undefined };
  const event: DeadEvent = {
    kind: LifecycleKind.Dead,
    jobId,
    type,
    at,
    run,
    attempt: facts.deliveries,
    error,
    reason: exhaustedReason,
  };
  if (facts.traceId !== undefined) event.traceId = facts.traceId;
  return { letter, event };
}

/** A parse's result, or undefined when it threw: JSON nested deep enough overflows zod's stack. */
function guarded<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch {
    return undefined;
  }
}
