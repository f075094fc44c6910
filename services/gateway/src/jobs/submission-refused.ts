import type { ValidationIssue } from "@conveyor/contracts";

import { ApiError, ErrorCode } from "../errors.ts";

/**
 * The answer to a refused submission, by the refusal's reason: 422 for a type no worker
 * registered, 413 for a job over the size limit, 400 naming the bad fields otherwise.
 */
export function submissionRefused(
  reason: string,
  message: string,
  issues: readonly ValidationIssue[],
): ApiError {
  const options = { issues };
  switch (reason) {
    case "unknown_type":
      return new ApiError(422, ErrorCode.UnknownType, message, options);
    case "too_large":
      return new ApiError(413, ErrorCode.PayloadTooLarge, message, options);
    case "invalid_payload":
      return new ApiError(400, ErrorCode.InvalidPayload, message, options);
    default:
      return new ApiError(400, ErrorCode.InvalidEnvelope, message, options);
  }
}
