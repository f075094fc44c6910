import { isMessageTooLarge } from "@conveyor/service-kit";
import type { ValidationIssue } from "@conveyor/contracts";

/** Machine-readable error codes of the REST API: the `error` field of every error body. */
export const ErrorCode = {
  BadRequest: "bad_request",
  InvalidJson: "invalid_json",
  InvalidEnvelope: "invalid_envelope",
  InvalidPayload: "invalid_payload",
  InvalidParameter: "invalid_parameter",
  InvalidBody: "invalid_body",
  UnknownType: "unknown_type",
  PayloadTooLarge: "payload_too_large",
  UnsupportedMediaType: "unsupported_media_type",
  Unauthorized: "unauthorized",
  NotFound: "not_found",
  Conflict: "conflict",
  MethodNotAllowed: "method_not_allowed",
  Unavailable: "unavailable",
  NotReady: "not_ready",
  NotImplemented: "not_implemented",
  Internal: "internal",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * An error the API answers with a specific status and `{ error, message, issues? }` body. Thrown
 * by handlers; the error-mapping middleware turns it into the response.
 */
export class ApiError extends Error {
  override readonly name = "ApiError";
  /** HTTP status code of the response. */
  readonly status: number;
  readonly code: ErrorCode;
  /** Fields at fault, each named by its path (`payload.ms`, `limit`). */
  readonly issues: readonly ValidationIssue[] | undefined;
  /** The id of the job a failed submission was given, answered as `id`. */
  readonly jobId: string | undefined;

  constructor(
    status: number,
    code: ErrorCode,
    message: string,
    options?: { issues?: readonly ValidationIssue[]; cause?: unknown; jobId?: string },
  ) {
    super(message, { cause: options?.cause });
    this.status = status;
    this.code = code;
    this.issues = options?.issues;
    this.jobId = options?.jobId;
  }
}

/** 400 naming each bad query or path parameter. */
export function invalidParameters(issues: readonly ValidationIssue[]): ApiError {
  const names = [...new Set(issues.map((i) => i.path))].join(", ");
  return new ApiError(400, ErrorCode.InvalidParameter, `invalid parameter: ${names}`, { issues });
}

export function notFound(message: string): ApiError {
  return new ApiError(404, ErrorCode.NotFound, message);
}

/** 409: the request does not fit the resource's current state (a finished job cannot be cancelled). */
export function conflict(message: string): ApiError {
  return new ApiError(409, ErrorCode.Conflict, message);
}

/** 503: a dependency (NATS, MongoDB) did not answer in time. The client may retry. */
export function unavailable(message: string, cause?: unknown): ApiError {
  return new ApiError(503, ErrorCode.Unavailable, message, { cause });
}

/** 503: NATS is disconnected, so nothing was sent; `what` says what was not done. */
export function natsNotConnected(what: string): ApiError {
  return unavailable(`NATS is not connected; ${what}`);
}

/**
 * 503 for a submission JetStream did not confirm, naming the id the job was given: it may be
 * stored all the same, and a retry with that id is stored once (the duplicate window). A job the
 * stream refused for its size (over a `max_msg_size` set below the gateway's limit) is a 413: it
 * is not stored, and sent again as it is it would be refused again.
 */
export function submissionNotStored(jobId: string, reason: unknown): ApiError {
  const text = reason instanceof Error ? reason.message : String(reason);
  if (isMessageTooLarge(reason)) return tooLargeForJobsStream("the job", reason);
  return new ApiError(503, ErrorCode.Unavailable, `JetStream did not store the job: ${text}`, {
    cause: reason,
    jobId,
  });
}

/**
 * 413 for what the `JOBS` stream refused for its size (over a `max_msg_size` an operator set below
 * the gateway's limit): nothing of it is stored, and sent again as it is it would be refused
 * again, so never a 503 that says to retry. `advice` says what to send instead.
 */
export function tooLargeForJobsStream(what: string, reason: Error, advice = ""): ApiError {
  return new ApiError(
    413,
    ErrorCode.PayloadTooLarge,
    `${what} is larger than the JOBS stream's max_msg_size and was not stored (${reason.message})${advice}`,
    { cause: reason },
  );
}

/** A dependency did not answer within its deadline. */
export class DeadlineError extends Error {
  override readonly name = "DeadlineError";
  /** The deadline that passed, in milliseconds. */
  readonly timeoutMs: number;

  constructor(what: string, timeoutMs: number) {
    super(`${what} did not answer within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/** An error's message, or the thrown value as text. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
