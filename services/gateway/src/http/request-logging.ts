import type { Logger } from "@conveyor/service-kit";
import type { Middleware } from "koa";

/**
 * Logs one JSON line per request when its response is decided: method, path, status, ms. Answered
 * requests are logged at `debug`, refused and failed ones (status 400 and up) at `info`: at
 * thousands of submissions a second a line for each would cost more than the request itself.
 */
export function requestLogging(logger: Logger): Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const level = ctx.status >= 400 ? "info" : "debug";
      if (logger.isLevelEnabled(level)) {
        const ms = Math.round((performance.now() - started) * 100) / 100;
        logger[level]({ method: ctx.method, path: ctx.path, status: ctx.status, ms }, "request");
      }
    }
  };
}
