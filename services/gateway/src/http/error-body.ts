import type { ValidationIssue } from "@conveyor/contracts";
import type { Context } from "koa";

import { ApiError, ErrorCode } from "../errors.ts";

/** The body of every error response. */
export interface ErrorBody {
  error: string;
  message: string;
  issues?: ValidationIssue[];
  /** For a submission JetStream did not confirm: the id the job was given, to retry with. */
  id?: string;
}

/** The status and body an error is answered with; anything unexpected is a 500. */
export function errorResponse(err: unknown): {
  status: number;
  body: ErrorBody;
  expected: boolean;
} {
  if (err instanceof ApiError) {
    const body: ErrorBody = { error: err.code, message: err.message };
    if (err.issues) body.issues = [...err.issues];
    if (err.jobId !== undefined) body.id = err.jobId;
    return { status: err.status, body, expected: true };
  }
  if (isExposedHttpError(err)) {
    return {
      status: err.status,
      body: { error: codeForStatus(err.status), message: err.message },
      expected: true,
    };
  }
  return {
    status: 500,
    body: { error: ErrorCode.Internal, message: "internal error" },
    expected: false,
  };
}

/** Writes an error body with its status. */
export function sendError(ctx: Context, status: number, body: ErrorBody): void {
  ctx.status = status;
  ctx.body = body;
}

/**
 * Koa's and its middlewares' own errors (`ctx.throw`, http-errors) that are safe to show: client
 * errors, and the router's 501 for a method it does not know.
 */
function isExposedHttpError(err: unknown): err is Error & { status: number } {
  if (!(err instanceof Error)) return false;
  const { status, expose } = err as Error & { status?: unknown; expose?: unknown };
  if (status === 501) return true;
  return typeof status === "number" && status >= 400 && status < 500 && expose === true;
}

function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 404:
      return ErrorCode.NotFound;
    case 405:
      return ErrorCode.MethodNotAllowed;
    case 413:
      return ErrorCode.PayloadTooLarge;
    case 501:
      return ErrorCode.NotImplemented;
    default:
      return ErrorCode.BadRequest;
  }
}
