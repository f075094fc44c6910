import {
  CancellationRecord,
  LifecycleKind,
  jsonOrUndefined,
  supersedesCancellation,
} from "@conveyor/contracts";
import type { CancelCommand, CancelledEvent } from "@conveyor/contracts";
import type { TraceContext, Tracing } from "@conveyor/telemetry";
import type { KV } from "@nats-io/kv";

import type { JobTraceLookup } from "./job-trace.ts";
import type { DispatchPublisher } from "./publisher.ts";
import { putUnlessSuperseded } from "./put-unless.ts";

export interface CancelDeps {
  /** The `conveyor-cancellations` bucket. */
  cancellations: KV;
  /**
   * Removes a job's work item held in `SCHEDULES` until its time, if it has one: the bucket keeps
   * a cancel a week, and a job may be scheduled later than that.
   */
  dropSchedule: (jobId: string) => Promise<void>;
  publisher: DispatchPublisher;
  /** The job's own trace, which the `cancelled` event joins. */
  jobTrace: JobTraceLookup;
  tracing: Pick<Tracing, "isSampled">;
  /** The clock, for the event's time. */
  now: () => Date;
}

/** What a cancel command did. */
export type CancelOutcome =
  | { kind: "cancelled"; jobId: string; run: number }
  /** The bucket already cancels a later run, or this run from a later command: nothing changes. */
  | { kind: "superseded"; jobId: string; run: number; recordedRun: number };

/**
 * Cancels a job: stores the cancellation in the bucket every worker watches (a queued delivery is
 * then skipped, a running one aborted), publishes a `cancelled` event at the command's run and
 * attempt so that a job nobody runs shows `cancelled` at once, then removes its work item if it is
 * held for a later time (scheduled). Each step is idempotent, so a redelivered command repeats
 * them harmlessly; any failing rejects, and the command is retried. A scheduled job whose time
 * came just before the cancel is skipped by its worker, as any queued one.
 *
 * The event is published in the job's own trace (its `queued` event's), linked to `context`, the
 * trace of the request that asked for the cancel: a tracing dashboard shows the cancel with the
 * job, and leads from there to who asked (when that trace was sampled too). It stays in
 * `context`'s trace, as the command's own work, when the job's cannot be found, and when the
 * job's trace was not sampled but the request's was: there it is recorded.
 */
export async function cancelJob(
  command: CancelCommand,
  storedAt: Date,
  context: TraceContext,
  deps: CancelDeps,
): Promise<CancelOutcome> {
  const { jobId, run } = command;
  const record: CancellationRecord = {
    run,
    reason: command.reason,
    requestedAt: command.requestedAt,
    storedAt: storedAt.toISOString(),
  };
  // Looked up meanwhile, so that the round trip costs the event no time; it never rejects.
  const jobTrace = deps.jobTrace(jobId, run);
  const recordedRun = await recordCancellation(deps.cancellations, jobId, record);
  if (recordedRun !== undefined) return { kind: "superseded", jobId, run, recordedRun };
  const event: CancelledEvent = {
    kind: LifecycleKind.Cancelled,
    jobId,
    type: command.type,
    at: deps.now().toISOString(),
    run,
    attempt: command.attempt,
    reason: command.reason,
    // No traceId: the job's document keeps the one its runs were queued with.
  };
  const job = await jobTrace;
  const { tracing } = deps;
  if (job === undefined || (!tracing.isSampled(job) && tracing.isSampled(context))) {
    await deps.publisher.cancelled(context, event);
  } else {
    await deps.publisher.cancelled(job, event, [context]);
  }
  // Only once the event is stored: a hold dropped first, with the event then never stored (the
  // command given up on), would leave the job `queued` for good, where a hold kept comes due and
  // its worker, finding the cancel, records it.
  await deps.dropSchedule(jobId);
  return { kind: "cancelled", jobId, run };
}

/**
 * Stores the record unless the bucket's already covers it (a later run, or the same run cancelled
 * by a later command), and returns the run recorded there when it does; two cancels of one job
 * handled at once, or one redelivered late, can never leave the narrower record stored.
 */
async function recordCancellation(
  kv: KV,
  jobId: string,
  record: CancellationRecord,
): Promise<number | undefined> {
  const value = JSON.stringify(record);
  const stored = await putUnlessSuperseded(kv, jobId, value, readCancellation, (current) =>
    supersedesCancellation(current, record),
  );
  return stored?.run;
}

/** A stored cancellation record (an unreadable entry counts as none). */
export function readCancellation(text: string): CancellationRecord | undefined {
  const parsed = CancellationRecord.safeParse(jsonOrUndefined(text));
  return parsed.success ? parsed.data : undefined;
}
