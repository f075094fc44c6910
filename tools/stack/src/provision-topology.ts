// Creates or updates the JetStream topology (streams, core consumers, the job-types bucket) and
// exits: the one-shot `topology` container in docker-compose.yml and the Kubernetes Job
// (k8s/base/topology-job.yaml) run this, with credentials of their own where NATS has
// authentication, so no service needs stream-management permissions. `npm start` calls
// ensureTopology itself.
//
// Environment: NATS_URL (default nats://127.0.0.1:4222), NATS_CREDS, NATS_USER and NATS_PASSWORD,
// or NATS_TOKEN (as the services), STREAM_REPLICAS (1, 3 or 5; default 1), EVENTS_MAX_AGE_HOURS
// and JOBS_MAX_AGE_HOURS (default 168), LOG_LEVEL.
import { jetstreamManager } from "@nats-io/jetstream";
import { z } from "zod";

import {
  commonEnv,
  connectNats,
  createLogger,
  envMs,
  exitOnStartupError,
  natsAuthEnv,
  natsAuthOf,
  parseEnv,
} from "@conveyor/service-kit";
import { ensureTopologyWhenReady } from "@conveyor/topology";

import { retentionEnv, retentionOptions } from "./retention-env.ts";

const topologyEnv = z.object({
  NATS_URL: commonEnv.NATS_URL,
  ...natsAuthEnv,
  LOG_LEVEL: commonEnv.LOG_LEVEL,
  STREAM_REPLICAS: z.coerce
    .number()
    .int()
    .refine((n) => n === 1 || n === 3 || n === 5, "must be 1, 3 or 5")
    .default(1),
  /**
   * How long to wait for NATS to accept the connection and for JetStream to answer, in
   * milliseconds: on a first apply the Job starts beside nats-server. @default 60000
   */
  CONNECT_TIMEOUT_MS: envMs(1, 60_000),
  ...retentionEnv,
});

const logger = createLogger("topology");
try {
  const config = parseEnv(topologyEnv);
  logger.level = config.LOG_LEVEL;
  const nc = await connectNats({
    url: config.NATS_URL,
    name: "conveyor-topology",
    logger,
    firstConnectWaitMs: config.CONNECT_TIMEOUT_MS,
    auth: natsAuthOf(config),
  });
  const retention = retentionOptions(config);
  await ensureTopologyWhenReady(
    // Not asked whether JetStream answers here: ensureTopologyWhenReady waits for that.
    await jetstreamManager(nc, { checkAPI: false }),
    { replicas: config.STREAM_REPLICAS, ...retention },
    { timeoutMs: config.CONNECT_TIMEOUT_MS, logger },
  );
  logger.info({ replicas: config.STREAM_REPLICAS, ...retention }, "topology ensured");
  await nc.close();
} catch (err) {
  exitOnStartupError(logger, err);
}
