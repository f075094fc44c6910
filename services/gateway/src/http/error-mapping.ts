import type { Logger } from "@conveyor/service-kit";
import type { Context, Middleware } from "koa";

import { ErrorCode } from "../errors.ts";
import { errorResponse, sendError } from "./error-body.ts";
import type { ErrorBody } from "./error-body.ts";

/**
 * Turns every thrown error into a JSON `{ error, message, issues? }` response, and a request no
 * route answered into a JSON 404. Unexpected errors are logged and answered with a 500; they never
 * reach Koa's default handler.
 */
export function errorMapping(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.body === undefined && ctx.status >= 400) {
        sendError(ctx, ctx.status, bareStatusBody(ctx));
      }
    } catch (err) {
      const { status, body, expected } = errorResponse(err);
      if (!expected) {
        logger.error({ err, method: ctx.method, path: ctx.path }, "request failed");
      } else if (status >= 500) {
        logger.warn({ err, method: ctx.method, path: ctx.path }, body.message);
      }
      sendError(ctx, status, body);
    }
  };
}

/** A body for a status set without one: no route matched, or the router refused the method. */
function bareStatusBody(ctx: Context): ErrorBody {
  const allowed = ctx.response.get("Allow");
  switch (ctx.status) {
    case 404:
      return { error: ErrorCode.NotFound, message: `no route for ${ctx.method} ${ctx.path}` };
    case 405:
      return {
        error: ErrorCode.MethodNotAllowed,
        message: `${ctx.method} is not allowed on ${ctx.path}; allowed: ${allowed}`,
      };
    case 501:
      return { error: ErrorCode.NotImplemented, message: `method ${ctx.method} is not supported` };
    default:
      return { error: ErrorCode.BadRequest, message: ctx.message };
  }
}
