import type {
  ErrorInfo,
  JobStatus,
  QueuedEvent,
  RejectedEvent,
  SubmissionSource,
} from "@conveyor/contracts";

/** Any JSON value: a job's payload or result. */
export type JsonValue = QueuedEvent["payload"];

/** How one attempt ended. `failed` means the handler failed (another attempt may follow). */
export const AttemptOutcome = {
  Succeeded: "succeeded",
  Failed: "failed",
  /** The attempt was running when the job was cancelled, and stopped for it. */
  Cancelled: "cancelled",
} as const;
export type AttemptOutcome = (typeof AttemptOutcome)[keyof typeof AttemptOutcome];

/**
 * One delivery of a job to a worker, merged from that attempt's `started` and `succeeded`/`failed`
 * events. Fields are absent until the event that carries them has been projected.
 */
export interface AttemptRecord {
  run: number;
  /** JetStream delivery count within the run, 1-based. */
  attempt: number;
  workerId?: string;
  /** ISO-8601 UTC, millisecond precision (as every timestamp in the read model). */
  startedAt?: string;
  finishedAt?: string;
  /** Handler time of the attempt, in milliseconds. */
  durationMs?: number;
  outcome?: AttemptOutcome;
  error?: ErrorInfo;
  /** Delay the worker asked for before the next attempt, in milliseconds. */
  retryDelayMs?: number;
}

/** The newest progress report of a job: the one with the highest `(run, attempt, seq)`. */
export interface ProgressRecord {
  done: number;
  total: number;
  message?: string;
  run: number;
  attempt: number;
  seq: number;
  /** When the worker reported it. */
  at: string;
}

/**
 * The read model of one job (collection `jobs`), a projection of its lifecycle events.
 *
 * `status`, `run`, `attempt`, `result`, `error`, `reason` and `finishedAt` come from the event with
 * the highest `(run, attempt, rank)`. The submission fields (`payload` ... `batchId`) come from the
 * `queued` event and are absent while only later events have been projected.
 */
export interface JobDocument {
  /** The job id. */
  _id: string;
  type: string;
  status: JobStatus;
  /** Run of the status event: 1, or more after replays. */
  run: number;
  /** Attempt of the status event: 0 while queued, then the delivery count. */
  attempt: number;
  payload?: JsonValue;
  priority?: number;
  maxAttempts?: number;
  source?: SubmissionSource;
  batchId?: string;
  /** When a scheduled run may start (UTC ISO 8601); absent for a run queued to start at once. */
  runAt?: string;
  /** Run of the `queued` event the submission fields come from (a replay re-queues). */
  queuedRun?: number;
  /** Every attempt seen, ordered by `(run, attempt)`. */
  attempts: AttemptRecord[];
  progress?: ProgressRecord;
  /** The handler's result, when `status` is `succeeded`. */
  result?: JsonValue;
  /** The error of the status event, when `status` is `failed` or `dead`. */
  error?: ErrorInfo;
  /** Why the job ended without success, when `status` is `dead` or `cancelled`. */
  reason?: string;
  /** The earliest submission time seen. */
  submittedAt?: string;
  /** The first time any attempt started. */
  startedAt?: string;
  /** When the job reached its terminal status; absent while it is not terminal. */
  finishedAt?: string;
  /** The latest event time seen (not the write time, so a rebuild yields the same document). */
  updatedAt: string;
  /** W3C trace id of the job's latest run. */
  traceId?: string;
  /**
   * How many times the projector has written the document (absent in documents written before
   * revisions were kept). A write replaces only the revision it was folded from, so that a write
   * that reaches the server late cannot overwrite a newer one. Not part of what events say: the
   * reducer leaves it out.
   */
  revision?: number;
}

/**
 * A submission the dispatcher refused (collection `rejections`): the {@link RejectedEvent} with its
 * `rejectionId` as `_id` and without the constant `kind`.
 */
export type RejectionDocument = { _id: string } & Omit<RejectedEvent, "kind" | "rejectionId">;
