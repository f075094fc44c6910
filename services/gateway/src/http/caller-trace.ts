import type { IncomingMessage } from "node:http";

import type { HttpTraceHeaders } from "@conveyor/telemetry";

import type { GatewayDeps } from "../deps.ts";

/**
 * The request headers a request's span continues a trace from, or none when the gateway is set
 * not to continue its callers' traces (`GATEWAY_CONTINUE_TRACES=false`).
 */
export function callerTrace(
  deps: Pick<GatewayDeps, "options">,
  req: IncomingMessage,
): HttpTraceHeaders | undefined {
  return deps.options.continueTraces === false ? undefined : req.headers;
}
