import type { Logger } from "@conveyor/service-kit";
import type { Middleware } from "koa";

/** Logs one JSON line per request when its response is decided: method, path, status, ms. */
export function requestLogging(logger: Logger): Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const ms = Math.round((performance.now() - started) * 100) / 100;
      logger.info({ method: ctx.method, path: ctx.path, status: ctx.status, ms }, "request");
    }
  };
}
