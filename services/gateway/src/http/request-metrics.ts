import type { Middleware } from "koa";
import { Histogram } from "prom-client";
import type { Registry } from "prom-client";

/** Request durations worth telling apart, in seconds: a PubAck's wait to a slow read. */
const durationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

/** The route of a request no router matched: one label value, whatever the path. */
export const unmatchedRoute = "(unmatched)";

/**
 * Times every request into `http_request_duration_seconds{method, route, status}`, where
 * `route` is the matched route's pattern (`/v1/jobs/:id`), never the path itself, so that job
 * ids do not become label values. Mount it outside the error mapping, to see the final status.
 */
export function requestMetrics(registry: Registry): Middleware {
  const durations = new Histogram({
    name: "http_request_duration_seconds",
    help: "How long the gateway took to answer, by method, route pattern and status.",
    labelNames: ["method", "route", "status"],
    buckets: durationBuckets,
    registers: [registry],
  });
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      // Set by @koa/router on the request it routes; a route may name a series of its own.
      const matched: unknown =
        (ctx.state as { metricsRoute?: unknown }).metricsRoute ??
        (ctx as { _matchedRoute?: unknown })._matchedRoute;
      durations.observe(
        {
          method: ctx.method,
          route: typeof matched === "string" ? matched : unmatchedRoute,
          status: String(ctx.status),
        },
        (performance.now() - started) / 1000,
      );
    }
  };
}
