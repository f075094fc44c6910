import { CancellationRecord, LifecycleKind } from "@conveyor/contracts";
import type { CancelCommand, CancelledEvent } from "@conveyor/contracts";
import type { TraceContext } from "@conveyor/telemetry";
import type { KV } from "@nats-io/kv";

import type { DispatchPublisher } from "./publisher.ts";

export interface CancelDeps {
  /** The `conveyor-cancellations` bucket. */
  cancellations: KV;
  publisher: DispatchPublisher;
  /** The clock, for the event's time. */
  now: () => Date;
}

/** What a cancel command did. */
export type CancelOutcome =
  | { kind: "cancelled"; jobId: string; run: number }
  /** The bucket already cancels a later run; this older command changes nothing. */
  | { kind: "superseded"; jobId: string; run: number; recordedRun: number };

/**
 * Cancels a job: stores the cancellation in the bucket every worker watches (a queued delivery is
 * then skipped, a running one aborted), then publishes a `cancelled` event at the command's run
 * and attempt so that a job nobody runs shows `cancelled` at once. Both steps are idempotent, so a
 * redelivered command repeats them harmlessly; either failing rejects, and the command is retried.
 */
export async function cancelJob(
  command: CancelCommand,
  context: TraceContext,
  deps: CancelDeps,
): Promise<CancelOutcome> {
  const { jobId, run } = command;
  const recordedRun = await recordedCancelRun(deps.cancellations, jobId);
  if (recordedRun !== undefined && recordedRun > run) {
    return { kind: "superseded", jobId, run, recordedRun };
  }
  const record: CancellationRecord = {
    run,
    reason: command.reason,
    requestedAt: command.requestedAt,
  };
  await deps.cancellations.put(jobId, JSON.stringify(record));
  const event: CancelledEvent = {
    kind: LifecycleKind.Cancelled,
    jobId,
    type: command.type,
    at: deps.now().toISOString(),
    run,
    attempt: command.attempt,
    reason: command.reason,
    // No traceId: the command has its own trace, and the job's document keeps the job's.
  };
  await deps.publisher.cancelled(context, event);
  return { kind: "cancelled", jobId, run };
}

/** The run the bucket cancels for the job, if any (an unreadable entry counts as none). */
async function recordedCancelRun(kv: KV, jobId: string): Promise<number | undefined> {
  const entry = await kv.get(jobId);
  if (entry === null || entry.operation !== "PUT") return undefined;
  const parsed = CancellationRecord.safeParse(safeJson(entry.string()));
  return parsed.success ? parsed.data.run : undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
