import type { TraceContext } from "@conveyor/telemetry";
import type { Context } from "koa";

import type { GatewayDeps } from "../deps.ts";
import { errorResponse } from "./error-body.ts";

/**
 * Runs a route's work in the request's SERVER span: continuing the caller's `traceparent` unless
 * the gateway is set not to (`GATEWAY_CONTINUE_TRACES=false`), and recording the status answered,
 * or the one the gateway's error mapping gives what the work threw.
 */
export function inRequestSpan<T>(
  deps: Pick<GatewayDeps, "tracing" | "options">,
  ctx: Context,
  method: string,
  route: string,
  work: (trace: TraceContext) => Promise<T>,
): Promise<T> {
  return deps.tracing.server(
    `${method} ${route}`,
    { "http.request.method": method, "http.route": route },
    work,
    deps.options.continueTraces === false ? undefined : ctx.req.headers,
    (thrown) => (thrown === undefined ? ctx.status : errorResponse(thrown.error).status),
  );
}
