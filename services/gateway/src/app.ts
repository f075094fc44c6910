import { JetStreamPublisher } from "@conveyor/service-kit";
import Koa from "koa";

import type { GatewayDeps } from "./deps.ts";
import { bearerAuth } from "./http/bearer-auth.ts";
import { errorMapping } from "./http/error-mapping.ts";
import { requestLogging } from "./http/request-logging.ts";
import { requestMetrics } from "./http/request-metrics.ts";
import { NatsLink } from "./jobs/nats-link.ts";
import { cancelJobRouter } from "./routes/cancel-job.ts";
import { dlqRouter } from "./routes/dlq.ts";
import { healthRouter } from "./routes/health.ts";
import { jobTypesRouter } from "./routes/job-types.ts";
import { jobsRouter } from "./routes/jobs.ts";
import { openApiRouter } from "./routes/openapi.ts";
import { rejectionsRouter } from "./routes/rejections.ts";
import { schedulesRouter } from "./routes/schedules.ts";
import { statsRouter } from "./routes/stats.ts";
import { submitBulkRouter } from "./routes/submit-bulk.ts";
import { submitJobRouter } from "./routes/submit-job.ts";

/**
 * The gateway's Koa application: the REST API over the intake stream, the read model and the
 * registered job types. Serve it with `app.listen(port)` or `http.createServer(app.callback())`.
 */
export function createGatewayApp(deps: GatewayDeps): Koa {
  const app = new Koa();
  // Errors are answered and logged by errorMapping; this only sees what escapes a response (a
  // client that hung up mid-stream), which Koa's default listener would print to stderr. Leaving
  // an event stream is how a client ends it: no warning.
  app.on("error", (err: unknown, ctx?: Koa.Context) => {
    const leftStream = ctx?.response.type === "text/event-stream" && isClientGone(err);
    if (leftStream) deps.logger.debug({ err }, "client left an event stream");
    else deps.logger.warn({ err }, "response error");
  });

  const link = NatsLink.watch(deps.nc);
  // One pipelined publisher for the whole app: concurrent requests' publishes share socket
  // writes, and none costs a request of its own. Its subscription ends with the connection.
  const publisher = new JetStreamPublisher(deps.nc, { timeoutMs: deps.options.publishTimeoutMs });
  const out = { link, publisher };
  app.use(requestLogging(deps.logger));
  if (deps.metrics !== undefined) app.use(requestMetrics(deps.metrics));
  app.use(errorMapping(deps.logger));
  const tokens = deps.options.apiTokens ?? [];
  if (tokens.length > 0) app.use(bearerAuth(tokens));
  for (const router of [
    submitJobRouter(deps, out),
    submitBulkRouter(deps, out),
    jobsRouter(deps, link),
    cancelJobRouter(deps, out),
    dlqRouter(deps, out),
    schedulesRouter(deps, out),
    statsRouter(deps, link),
    rejectionsRouter(deps),
    jobTypesRouter(deps, link),
    healthRouter(deps),
    openApiRouter(deps),
  ]) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}

/** The errors of a response whose client went away: closed, reset, or its pipe broken. */
const clientGoneCodes = new Set(["ERR_STREAM_PREMATURE_CLOSE", "ECONNRESET", "EPIPE"]);

function isClientGone(err: unknown): boolean {
  return clientGoneCodes.has(String((err as { code?: unknown } | null)?.code));
}
