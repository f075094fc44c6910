import { bodyParser } from "@koa/bodyparser";
import type { Middleware } from "koa";

import { ApiError, ErrorCode } from "../errors.ts";

/**
 * Parses the request body as JSON whatever its content type (so `curl -d` works without a header),
 * refusing bodies over `maxBytes` with a 413, a `Content-Encoding` it cannot decode or a charset
 * other than UTF-8 with a 415, and bodies it cannot read or parse with a 400.
 */
export function jsonBody(maxBytes: number): Middleware {
  const parse = parser(maxBytes);
  return async (ctx, next) => {
    // JSON is UTF-8 (RFC 8259): a body in another charset would be stored with its text changed.
    const { charset } = ctx.request;
    if (charset !== "" && !/^utf-?8$/i.test(charset)) {
      throw new ApiError(
        415,
        ErrorCode.UnsupportedMediaType,
        `request body must be UTF-8 JSON, not charset=${charset}`,
      );
    }
    await parse(ctx, next);
  };
}

function parser(maxBytes: number): Middleware {
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
      if (status === 415) {
        const message = `${err.message}; the gateway decodes gzip, deflate, br and identity`;
        throw new ApiError(415, ErrorCode.UnsupportedMediaType, message, { cause: err });
      }
      // Whatever else fails while reading the body is the body's doing (gzip that is not gzip).
      throw new ApiError(
        400,
        ErrorCode.BadRequest,
        `request body could not be read: ${err.message}`,
        {
          cause: err,
        },
      );
    },
  }) as Middleware;
}
