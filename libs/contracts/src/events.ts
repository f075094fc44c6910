import { z } from "zod";

import { JobId } from "./job-id.ts";
import { JobTypeName } from "./job-type.ts";

/** Kinds of lifecycle event, each published to `events.<jobId>.<kind>`. */
export const LifecycleKind = {
  Queued: "queued",
  Started: "started",
  Progress: "progress",
  Succeeded: "succeeded",
  Failed: "failed",
  Dead: "dead",
  Cancelled: "cancelled",
  Rejected: "rejected",
} as const;
export type LifecycleKind = (typeof LifecycleKind)[keyof typeof LifecycleKind];

export const ErrorInfo = z.object({
  name: z.string().optional(),
  message: z.string(),
  stack: z.string().optional(),
});
export type ErrorInfo = z.infer<typeof ErrorInfo>;

const eventBase = {
  jobId: JobId,
  type: JobTypeName,
  /** ISO-8601 time the publisher observed the fact. */
  at: z.iso.datetime(),
  /** Run number (replays start a new run) and 1-based delivery attempt within it; 0 before any. */
  run: z.int().min(1),
  attempt: z.int().min(0),
  /** W3C trace id of the job's trace. */
  traceId: z.string().optional(),
};

export const QueuedEvent = z.object({
  ...eventBase,
  kind: z.literal(LifecycleKind.Queued),
  payload: z.json(),
  priority: z.int(),
  maxAttempts: z.int(),
  submittedAt: z.iso.datetime(),
  source: z.enum(["rest", "nats"]),
  batchId: JobId.optional(),
  /** When a scheduled job may run first (UTC ISO 8601); absent for a job queued to run at once. */
  runAt: z.iso.datetime().optional(),
});

export const StartedEvent = z.object({
  ...eventBase,
  kind: z.literal(LifecycleKind.Started),
  workerId: z.string(),
});

export const ProgressEvent = z.object({
  ...eventBase,
  kind: z.literal(LifecycleKind.Progress),
  done: z.number().min(0),
  total: z.number().min(0),
  message: z.string().optional(),
  /** Increases with every progress report of one attempt; orders reports that arrive out of order. */
  seq: z.int().min(0),
});

/**
 * When the attempt's handler started (ISO-8601). An attempt whose handler finished in the turn it
 * started in has no `started` event: its outcome event is its only record, and carries this.
 */
const attemptStartedAt = z.iso.datetime().optional();

export const SucceededEvent = z.object({
  ...eventBase,
  kind: z.literal(LifecycleKind.Succeeded),
  result: z.json(),
  durationMs: z.number().min(0),
  workerId: z.string(),
  startedAt: attemptStartedAt,
});

export const FailedEvent = z.object({
  ...eventBase,
  kind: z.literal(LifecycleKind.Failed),
  error: ErrorInfo,
  durationMs: z.number().min(0),
  workerId: z.string(),
  /** Delay before the next attempt, in milliseconds. */
  retryDelayMs: z.int().min(0),
  startedAt: attemptStartedAt,
  /**
   * Deliveries of this run, this one included, that were cut short by a stopping worker and so are
   * not counted against the job's `maxAttempts`; absent when none were.
   */
  uncounted: z.int().min(1).optional(),
  /** Of `uncounted`, the deliveries stopped before their handler started (waiting for a rate limit). */
  unstarted: z.int().min(1).optional(),
});

/**
 * What a worker knows of the attempt it ended itself (its handler ran): a `dead` or `cancelled`
 * event published by the dispatcher, which never ran the handler, has none of it.
 */
const endedAttempt = {
  durationMs: z.number().min(0).optional(),
  workerId: z.string().optional(),
  startedAt: attemptStartedAt,
};

export const DeadEvent = z.object({
  ...eventBase,
  kind: z.literal(LifecycleKind.Dead),
  error: ErrorInfo,
  reason: z.string(),
  ...endedAttempt,
});

export const CancelledEvent = z.object({
  ...eventBase,
  kind: z.literal(LifecycleKind.Cancelled),
  reason: z.string(),
  ...endedAttempt,
});

export const JobEvent = z.discriminatedUnion("kind", [
  QueuedEvent,
  StartedEvent,
  ProgressEvent,
  SucceededEvent,
  FailedEvent,
  DeadEvent,
  CancelledEvent,
]);
export type JobEvent = z.infer<typeof JobEvent>;
export type QueuedEvent = z.infer<typeof QueuedEvent>;
export type StartedEvent = z.infer<typeof StartedEvent>;
export type ProgressEvent = z.infer<typeof ProgressEvent>;
export type SucceededEvent = z.infer<typeof SucceededEvent>;
export type FailedEvent = z.infer<typeof FailedEvent>;
export type DeadEvent = z.infer<typeof DeadEvent>;
export type CancelledEvent = z.infer<typeof CancelledEvent>;

/**
 * `Nats-Msg-Id` of a lifecycle event: `<jobId>:<run>:<attempt>:<kind>[:<seq>]`, so a re-publish of
 * the same fact collapses in the events stream; also what tells one stored event from another.
 */
export function eventMsgId(event: JobEvent): string {
  const base = `${event.jobId}:${String(event.run)}:${String(event.attempt)}:${event.kind}`;
  return event.kind === "progress" ? `${base}:${String(event.seq)}` : base;
}

/** One problem found in a rejected submission. `path` names the field, e.g. `payload.ms`. */
export const ValidationIssue = z.object({ path: z.string(), message: z.string() });
export type ValidationIssue = z.infer<typeof ValidationIssue>;

/**
 * A submission the dispatcher refused, published to `events.<rejectionId>.rejected` so that it is
 * recorded in the read model instead of being silently dropped.
 */
export const RejectedEvent = z.object({
  kind: z.literal(LifecycleKind.Rejected),
  rejectionId: JobId,
  at: z.iso.datetime(),
  subject: z.string(),
  /** Short machine-readable reason: `invalid_json`, `invalid_envelope`, `unknown_type`, ... */
  reason: z.string(),
  message: z.string(),
  issues: z.array(ValidationIssue),
  /** The job id the message carried, when one could be read. */
  jobId: z.string().optional(),
  /** The start of the raw message text. */
  rawPreview: z.string(),
  sizeBytes: z.int().min(0),
  traceId: z.string().optional(),
});
export type RejectedEvent = z.infer<typeof RejectedEvent>;
