import { once } from "node:events";
import type { Server } from "node:http";

import { JobTypeRegistry } from "@conveyor/job-registry";
import {
  checkSubmissionLimit,
  connectService,
  createLogger,
  createTracing,
  exitOnStartupError,
  onShutdown,
  shutdownDeadlineMs,
  startMetrics,
} from "@conveyor/service-kit";
import { MongoClient } from "mongodb";

import { createGatewayApp } from "./app.ts";
import { loadConfig } from "./config.ts";
import { closeGracefully } from "./http/graceful-close.ts";
import { keepConnecting } from "./mongo-connection.ts";

/** Addresses only this machine reaches: an open API there needs no warning. */
const loopbackHosts = new Set(["127.0.0.1", "::1", "localhost"]);

const bootLogger = createLogger("gateway");

try {
  const config = loadConfig();
  const logger = createLogger("gateway", config.LOG_LEVEL);
  const tracing = createTracing("gateway", config, logger);
  // Waits for NATS, JetStream and the topology (the gateway's startup probe allows for it).
  const { nc, jsm } = await connectService("gateway", config, logger, {
    // A job that could not be stored would be answered 503 "retry" for good.
    onConnected: (connection) => {
      checkSubmissionLimit(config.MAX_SUBMISSION_BYTES, connection.info?.max_payload);
    },
  });
  const metrics = await startMetrics("gateway", config, logger);
  // Connected in the background: a gateway started during a MongoDB outage (a scale-up, a
  // rollout) takes submissions, which need only NATS, and answers reads 503 until MongoDB is back.
  const mongo = new MongoClient(config.MONGO_URL);
  const stopConnecting = keepConnecting(mongo, logger);
  const registry = await JobTypeRegistry.open(nc, { logger });

  const stopping = new AbortController();
  const app = createGatewayApp({
    nc,
    stopping: stopping.signal,
    jsm,
    db: mongo.db(config.MONGO_DB),
    registry,
    tracing,
    logger,
    metrics: metrics.registry,
    options: {
      maxBodyBytes: config.MAX_SUBMISSION_BYTES,
      maxBulkBodyBytes: config.MAX_BULK_BODY_BYTES,
      publishTimeoutMs: config.PUBLISH_TIMEOUT_MS,
      gatherSubmissions: config.GATEWAY_GATHER_SUBMISSIONS,
      continueTraces: config.GATEWAY_CONTINUE_TRACES,
      apiTokens: config.GATEWAY_API_TOKENS,
    },
  });
  const tokens = config.GATEWAY_API_TOKENS.length;
  if (tokens > 0) logger.info({ tokens }, "the REST API requires a bearer token");
  else if (!loopbackHosts.has(config.GATEWAY_HOST)) {
    logger.warn(
      { host: config.GATEWAY_HOST },
      "the REST API is open to every client that reaches it; GATEWAY_API_TOKENS requires a token",
    );
  }
  const server: Server = app.listen(config.GATEWAY_PORT, config.GATEWAY_HOST);
  const graceful = closeGracefully(server);
  await once(server, "listening");
  logger.info({ address: server.address() }, "gateway listening");

  // Stop accepting, let in-flight requests finish (their PubAcks need NATS), then disconnect.
  onShutdown(
    logger,
    [
      [
        "finish in-flight requests",
        () => {
          // Requests waiting for a job are answered now, with the job as it is.
          stopping.abort();
          return graceful.close(config.SHUTDOWN_GRACE_MS);
        },
      ],
      ["close the job type registry", () => registry.close()],
      ["drain NATS", () => nc.drain()],
      [
        "close MongoDB",
        () => {
          stopConnecting();
          return mongo.close();
        },
      ],
      ["flush traces", () => tracing.shutdown()],
      ["close metrics", () => metrics.close()],
    ],
    { deadlineMs: shutdownDeadlineMs(config.SHUTDOWN_GRACE_MS) },
  );
} catch (err) {
  exitOnStartupError(bootLogger, err);
}
