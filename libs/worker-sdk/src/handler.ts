import type { RetryPolicy, WorkItem } from "@conveyor/contracts";
import type { Logger } from "@conveyor/service-kit";
import type { z } from "zod";

import type { RateLimit } from "./rate-limiter.ts";

/** A job as its handler sees it: the work item, with the payload parsed by the type's schema. */
export type Job<P = unknown> = Readonly<Omit<WorkItem, "payload">> & { readonly payload: P };

/** What a handler may do besides computing its result. */
export interface JobContext {
  readonly jobId: string;
  readonly type: string;
  /**
   * 1-based number of this attempt: the JetStream delivery count, which counts deliveries that
   * a stopping worker cut short too (those are not counted against `maxAttempts`, so `attempt`
   * may pass it).
   */
  readonly attempt: number;
  /**
   * Attempts the job may take in total, including this one, deliveries cut short by a stopping
   * worker not counted.
   */
  readonly maxAttempts: number;
  /** W3C trace id of the job's trace, when it has one. */
  readonly traceId: string | undefined;
  readonly workerId: string;
  /**
   * Aborted when the attempt must end early: its timeout expired (`JobTimeoutError`), the worker
   * is stopping (`WorkerStoppedError`) or the job was cancelled (`JobCancelledError`). Long
   * handlers should pass it on (fetch, timers) or check it between steps.
   */
  readonly signal: AbortSignal;
  /** Logger bound to the job (jobId, type, attempt, traceId). */
  readonly log: Logger;
  /**
   * Reports progress: `done` of `total` units, with an optional message. Publishes a progress
   * event (reports closer together than the worker's `progressIntervalMs` are coalesced; the last
   * one is published when the interval ends). Resolves at once, without waiting for the stream to
   * store the event; never rejects for a publish failure (progress is best effort, a failure is
   * logged). Throws a `RangeError` for a negative or non-finite count.
   */
  progress(done: number, total: number, message?: string): Promise<void>;
  /** Extends the lease on the job now. The worker already does so every `heartbeatMs`. */
  heartbeat(): void;
}

/**
 * A job handler: returns the job's result (any JSON value; `undefined` becomes `null`) or throws.
 * Throw `JobFailure.nonRetryable(...)` for failures no retry can fix; anything else is retried
 * while attempts are left.
 */
export type JobHandler<P = unknown> = (job: Job<P>, ctx: JobContext) => unknown;

/**
 * A handler with its settings. Use {@link defineHandler} so that the payload type is inferred
 * from `schema`.
 */
export interface HandlerDefinition<S extends z.ZodType = z.ZodType> {
  // Method syntax on purpose: it lets definitions with specific schemas sit in one handler map.
  handler(job: Job<z.output<S>>, ctx: JobContext): unknown;
  /** Payload schema (zod 4). Registered as JSON Schema; a payload that fails it is not retried. */
  schema?: S;
  /** One line shown by the registry. */
  description?: string;
  /** Retry policy of the type; unset fields take the defaults (4 attempts, 1 s, 2 s, 4 s...). */
  retry?: Partial<RetryPolicy>;
  /** Default handler timeout of the type, in milliseconds; a job may override it. @default registry default */
  timeoutMs?: number;
  /** Handlers of this type running at once in this process. @default the worker's `concurrency` */
  concurrency?: number;
  /**
   * At most `max` jobs of this type start per `perMs` milliseconds, across every worker that
   * runs it (give them all the same). @default none
   */
  rateLimit?: RateLimit;
  /**
   * Version of the type's declaration (schema, retry policy, timeout): raise it with every change,
   * so that an older worker restarting during a rolling deploy does not put its declaration back
   * in the registry. @default 0
   */
  version?: number;
}

/** A handler map entry: a plain handler function or a handler with settings. */
export type HandlerEntry = JobHandler | HandlerDefinition;

/** Identity function that infers a handler's payload type from its schema. */
export function defineHandler<S extends z.ZodType>(
  definition: HandlerDefinition<S>,
): HandlerDefinition<S> {
  return definition;
}
