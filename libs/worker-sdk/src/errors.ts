import type { ValidationIssue } from "@conveyor/contracts";

/** Options every {@link JobFailure} accepts. */
export interface JobFailureOptions {
  /** The error that made the attempt fail. */
  cause?: unknown;
  /**
   * Delay before the next attempt, in milliseconds; overrides the type's retry policy for this
   * failure. Ignored for non-retryable failures.
   */
  delayMs?: number;
}

/**
 * How a handler says that an attempt failed. `JobFailure.retryable(...)` asks for another attempt
 * (while attempts are left), `JobFailure.nonRetryable(...)` dead-letters the job at once. Any other
 * thrown error counts as retryable.
 */
export class JobFailure extends Error {
  override readonly name: string = "JobFailure";
  readonly retryable: boolean;
  /** Delay before the next attempt, in milliseconds; undefined means the retry policy decides. */
  readonly delayMs: number | undefined;

  constructor(message: string, retryable: boolean, options: JobFailureOptions = {}) {
    super(message, { cause: options.cause });
    this.retryable = retryable;
    this.delayMs = options.delayMs;
  }

  /** A failure worth another attempt, optionally after `delayMs`. */
  static retryable(message: string, options: JobFailureOptions = {}): JobFailure {
    return new JobFailure(message, true, options);
  }

  /** A failure no further attempt can fix: the job is dead-lettered now. */
  static nonRetryable(
    message: string,
    options: Omit<JobFailureOptions, "delayMs"> = {},
  ): JobFailure {
    return new JobFailure(message, false, options);
  }
}

/** The handler ran longer than the job's timeout; retryable. */
export class JobTimeoutError extends JobFailure {
  override readonly name: string = "JobTimeoutError";
  /** The timeout that expired, in milliseconds. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(`handler did not finish within ${timeoutMs} ms`, true);
    this.timeoutMs = timeoutMs;
  }
}

/** The worker stopped before the handler finished; the job goes back to the queue at once. */
export class WorkerStoppedError extends JobFailure {
  override readonly name: string = "WorkerStoppedError";

  constructor() {
    super("the worker stopped before the handler finished", true, { delayMs: 0 });
  }
}

/**
 * The job was cancelled (`POST /v1/jobs/:id/cancel`): the reason `ctx.signal` is aborted with. The
 * attempt ends `cancelled` once the handler settles (or is abandoned at its timeout), never retried.
 */
export class JobCancelledError extends Error {
  override readonly name = "JobCancelledError";
  /** Why the job was cancelled, as the requester said. */
  readonly reason: string;
  /** ISO-8601 time the cancel was requested. */
  readonly requestedAt: string;

  constructor(reason: string, requestedAt: string) {
    super(`the job was cancelled: ${reason}`);
    this.reason = reason;
    this.requestedAt = requestedAt;
  }
}

/** The payload does not match the type's schema; not retryable. `issues` name each bad field. */
export class InvalidPayloadError extends JobFailure {
  override readonly name: string = "InvalidPayloadError";
  readonly issues: readonly ValidationIssue[];

  constructor(issues: readonly ValidationIssue[], options: { cause?: unknown } = {}) {
    super(
      `invalid payload: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
      false,
      options,
    );
    this.issues = issues;
  }
}

/**
 * A payload this worker's declaration of its type refuses while a newer declaration is in force:
 * retryable, so that a replica with the newer declaration may take the job.
 */
export class OutdatedDeclarationError extends JobFailure {
  override readonly name: string = "OutdatedDeclarationError";
  /** This worker's declaration's `version`. */
  readonly version: number;
  /** The `version` of the declaration in force. */
  readonly versionInForce: number;

  constructor(version: number, versionInForce: number, refusal: InvalidPayloadError) {
    super(
      `this worker's declaration of the type (version ${version}) is older than the one in force ` +
        `(version ${versionInForce}) and refuses the payload: ${refusal.message}`,
      true,
      { cause: refusal },
    );
    this.version = version;
    this.versionInForce = versionInForce;
  }
}

/** The work message is not a readable work item (broken JSON or a bad envelope); not retryable. */
export class InvalidWorkItemError extends JobFailure {
  override readonly name: string = "InvalidWorkItemError";
  readonly issues: readonly ValidationIssue[];

  constructor(
    message: string,
    issues: readonly ValidationIssue[],
    options: { cause?: unknown } = {},
  ) {
    super(message, false, options);
    this.issues = issues;
  }
}

/** The handler returned something that cannot be stored as a JSON result; not retryable. */
export class InvalidResultError extends JobFailure {
  override readonly name: string = "InvalidResultError";

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, false, options);
  }
}

/** `createWorker` options are invalid; the message names the option. */
export class WorkerConfigError extends Error {
  override readonly name = "WorkerConfigError";
  /** The offending option, e.g. `handlers.email.send.concurrency`. */
  readonly option: string;

  constructor(option: string, message: string, options: { cause?: unknown } = {}) {
    super(`${option}: ${message}`, options);
    this.option = option;
  }
}

/** A message is larger than the server accepts (`max_payload`); publishing it cannot succeed. */
export class MessageTooLargeError extends Error {
  override readonly name = "MessageTooLargeError";
  /** Encoded size, in bytes. */
  readonly bytes: number;
  /** The server's limit, in bytes. */
  readonly maxBytes: number;

  constructor(subject: string, bytes: number, maxBytes: number) {
    super(`message to ${subject} is ${bytes} bytes; the server accepts at most ${maxBytes}`);
    this.bytes = bytes;
    this.maxBytes = maxBytes;
  }
}

/** The cancellations KV bucket does not exist: the topology was not provisioned (`ensureTopology`). */
export class CancellationsUnavailableError extends Error {
  override readonly name = "CancellationsUnavailableError";
  readonly bucket: string;

  constructor(bucket: string, options: { cause?: unknown } = {}) {
    super(`KV bucket ${bucket} does not exist; provision the topology first`, options);
    this.bucket = bucket;
  }
}
