import { bodyParser } from "@koa/bodyparser";
import type { Middleware } from "koa";

import { ApiError, ErrorCode } from "../errors.ts";

/**
 * Parses the request body as JSON whatever its content type (so `curl -d` works without a header),
 * refusing bodies over `maxBytes` with a 413 and unparsable ones with a 400.
 */
export function jsonBody(maxBytes: number): Middleware {
  return bodyParser({
    enableTypes: ["json"],
    // DELETE too: `DELETE /v1/dlq/:id` takes an optional reason.
    parsedMethods: ["POST", "PUT", "PATCH", "DELETE"],
    detectJSON: () => true,
    jsonLimit: maxBytes,
    onError: (err) => {
      const status = (err as Error & { status?: unknown }).status;
      if (status === 413) {
        throw new ApiError(
          413,
          ErrorCode.PayloadTooLarge,
          `request body is larger than the limit of ${maxBytes} bytes`,
          { cause: err },
        );
      }
      if (err instanceof SyntaxError || status === 400) {
        throw new ApiError(400, ErrorCode.InvalidJson, `request body is not JSON: ${err.message}`, {
          cause: err,
        });
      }
      throw err;
    },
  }) as Middleware;
}
