export { createWorker, JobWorker } from "./worker.ts";
export type { StopOptions } from "./worker.ts";
export type { TypeBacklog } from "./type-consumer.ts";
export type { AttemptReport, WorkerOptions } from "./options.ts";
export { maxWorkerConcurrency, maxWorkerIdLength } from "./options.ts";
export { defineHandler } from "./handler.ts";
export type { HandlerDefinition, HandlerEntry, Job, JobContext, JobHandler } from "./handler.ts";
export type { RateLimit } from "./rate-limiter.ts";
export { newestFailedEventCount } from "./uncounted-deliveries.ts";
export type { UncountedDeliveries } from "./uncounted-deliveries.ts";
export {
  JobFailure,
  JobTimeoutError,
  JobCancelledError,
  WorkerStoppedError,
  InvalidPayloadError,
  InvalidWorkItemError,
  OutdatedDeclarationError,
  InvalidResultError,
  MessageTooLargeError,
  WorkerConfigError,
  CancellationsUnavailableError,
} from "./errors.ts";
export type { JobFailureOptions } from "./errors.ts";
export { DeadReason } from "./outcome.ts";
export type { AppliedOutcome } from "./outcome.ts";
export { createTestContext, testJob } from "./test-context.ts";
export type { RecordedProgress, TestContextOptions } from "./test-context.ts";
