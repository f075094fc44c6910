import { Subject } from "@conveyor/contracts";
import type { JobEvent, QueuedEvent, RejectedEvent, SucceededEvent } from "@conveyor/contracts";
import type { JetStreamClient } from "@nats-io/jetstream";

/** How one job's history goes, for {@link jobHistory}. */
export interface HistoryShape {
  type?: string;
  /** Attempts that fail before the last one. @default 0 */
  failures?: number;
  /** Progress reports per attempt. @default 2 */
  reports?: number;
  /** How the last attempt ends. @default "succeeded" */
  end?: "succeeded" | "dead";
  /** Runs: every run but the last ends dead and is replayed. @default 1 */
  runs?: number;
  /** Payload of the queued events. @default { n: 1 } */
  payload?: QueuedEvent["payload"];
  /** Result of the succeeding attempt. @default { ok: <attempt> } */
  result?: SucceededEvent["result"];
  batchId?: string;
}

/** A job's lifecycle events in the order the dispatcher and worker publish them. */
export function jobHistory(
  jobId: string,
  shape: HistoryShape = {},
  startMs = Date.UTC(2025, 0, 1),
): JobEvent[] {
  const type = shape.type ?? "report.build";
  const runs = shape.runs ?? 1;
  const events: JobEvent[] = [];
  let clock = startMs;
  const at = () => new Date((clock += 250)).toISOString();
  for (let run = 1; run <= runs; run++) {
    const end = run === runs ? (shape.end ?? "succeeded") : "dead";
    const common = {
      jobId,
      type,
      run,
      traceId: `trace-${jobId}-${run}`,
    };
    const attempts = (shape.failures ?? 0) + 1;
    events.push({
      ...common,
      kind: "queued",
      attempt: 0,
      at: at(),
      payload: shape.payload ?? { n: 1 },
      priority: 5,
      maxAttempts: attempts,
      submittedAt: at(),
      source: "nats",
      ...(shape.batchId === undefined ? {} : { batchId: shape.batchId }),
    });
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const workerId = `worker-${attempt % 3}`;
      events.push({ ...common, kind: "started", attempt, at: at(), workerId });
      for (let seq = 0; seq < (shape.reports ?? 2); seq++) {
        events.push({
          ...common,
          kind: "progress",
          attempt,
          at: at(),
          seq,
          done: seq + 1,
          total: 10,
        });
      }
      const error = { name: "Error", message: `attempt ${attempt} of run ${run} failed` };
      if (attempt === attempts && end === "succeeded") {
        events.push({
          ...common,
          kind: "succeeded",
          attempt,
          at: at(),
          result: shape.result ?? { ok: attempt },
          durationMs: 12,
          workerId,
        });
      } else {
        events.push({
          ...common,
          kind: "failed",
          attempt,
          at: at(),
          error,
          durationMs: 9,
          workerId,
          retryDelayMs: 1000,
        });
        if (attempt === attempts) {
          events.push({
            ...common,
            kind: "dead",
            attempt,
            at: at(),
            error,
            reason: "max_attempts",
          });
        }
      }
    }
  }
  return events;
}

export function rejection(rejectionId: string, at: string): RejectedEvent {
  return {
    kind: "rejected",
    rejectionId,
    at,
    subject: "jobs.submit.report.build",
    reason: "invalid_envelope",
    message: "payload.n: expected number",
    issues: [{ path: "payload.n", message: "expected number" }],
    rawPreview: '{"payload":{"n":"x"}}',
    sizeBytes: 21,
  };
}

/**
 * Publishes events to the events stream. Without message ids, so that a repeated event is stored
 * twice, as a redelivery or a re-publish after the duplicate window would deliver it.
 */
export async function publishEvents(
  js: JetStreamClient,
  events: readonly (JobEvent | RejectedEvent)[],
): Promise<void> {
  for (const event of events) {
    const id = event.kind === "rejected" ? event.rejectionId : event.jobId;
    await js.publish(Subject.event(id, event.kind), JSON.stringify(event));
  }
}

/** A deterministic shuffle (so a failure can be reproduced), with every third event repeated. */
export function shuffledWithDuplicates<T>(events: readonly T[], seed: number): T[] {
  const copies = [...events, ...events.filter((_, i) => i % 3 === 0)];
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const keyed = copies.map((item) => ({ item, key: random() }));
  return keyed.sort((a, b) => a.key - b.key).map(({ item }) => item);
}
