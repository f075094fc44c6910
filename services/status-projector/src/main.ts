import {
  connectService,
  createLogger,
  createTracing,
  exitOnStartupError,
  onShutdown,
  shutdownDeadlineMs,
  parseEnv,
  registerMailboxMetrics,
  startMetrics,
} from "@conveyor/service-kit";
import { ensureIndexes } from "@conveyor/read-model";
import { StreamName } from "@conveyor/contracts";
import { ensureProjectorConsumers } from "@conveyor/topology";
import { jetstream } from "@nats-io/jetstream";
import { millis } from "@nats-io/transport-node";
import { MongoClient } from "mongodb";

import { deadJobsAgeOverride, projectorEnv, retentionPolicy } from "./config.ts";
import { defaultStoreTimeoutMs } from "./options.ts";
import { createProjector } from "./projector.ts";
import { caughtUpWith } from "./caught-up.ts";
import { RetentionSweeper } from "./retention-sweeper.ts";

const service = "status-projector";
const bootLogger = createLogger(service);

try {
  const env = parseEnv(projectorEnv);
  const logger = createLogger(service, env.LOG_LEVEL);
  const tracing = createTracing(service, env, logger);
  const { nc, jsm } = await connectService(service, env, logger);
  const consumers = { events: env.PROJECTOR_CONSUMER, deadLetters: env.PROJECTOR_DLQ_CONSUMER };
  // Consumers of its own name a rebuild: created from the start when missing.
  await ensureProjectorConsumers(jsm, consumers);
  const metrics = await startMetrics(service, env, logger);
  registerMailboxMetrics(
    metrics.registry,
    jsm,
    [
      { stream: StreamName.Events, consumer: consumers.events },
      { stream: StreamName.Dlq, consumer: consumers.deadLetters },
    ],
    logger,
  );
  // A short server selection timeout makes an unavailable MongoDB a quick, retried batch failure.
  const mongo = await MongoClient.connect(env.MONGO_URL, {
    serverSelectionTimeoutMS: 5000,
    // A command silent for as long as a store attempt may take is cut off with its connection: the
    // attempt is retried meanwhile, and the connection is not kept waiting for it.
    socketTimeoutMS: defaultStoreTimeoutMs,
    appName: service,
  });
  const db = mongo.db(env.MONGO_DB);
  const indexes = await ensureIndexes(db);
  if (!indexes.listIndexes) {
    logger.info("list indexes not created: the server cannot use them (FerretDB on SQLite)");
  }
  const projector = await createProjector({
    js: jetstream(nc),
    db,
    logger,
    tracing,
    options: {
      // What ensureIndexes asked the server (createProjector would ask again): as the sweep's
      // recheck below, a filter beside `_id` is served by index only where list indexes are.
      fenceRevisions: indexes.listIndexes,
      batchSize: env.PROJECTOR_BATCH_SIZE,
      batchMaxBytes: env.PROJECTOR_BATCH_MAX_BYTES,
      batchLingerMs: env.PROJECTOR_BATCH_LINGER_MS,
      deferMs: env.PROJECTOR_DEFER_MS,
      newJobDeferMs: env.PROJECTOR_NEW_JOB_DEFER_MS,
      deferLimit: env.PROJECTOR_DEFER_LIMIT,
      deferMaxBytes: env.PROJECTOR_DEFER_MAX_BYTES,
      cacheSize: env.PROJECTOR_CACHE_SIZE,
      consumer: consumers.events,
      deadLetterConsumer: consumers.deadLetters,
    },
  });
  const dlqMaxAgeMs = millis((await jsm.streams.info(StreamName.Dlq)).config.max_age);
  const policy = retentionPolicy(env, dlqMaxAgeMs);
  const override = deadJobsAgeOverride(env, dlqMaxAgeMs);
  if (override !== undefined) {
    logger.warn(
      { DEAD_JOBS_MAX_AGE_HOURS: env.DEAD_JOBS_MAX_AGE_HOURS, deadJobsMs: policy.deadJobsMs },
      override,
    );
  }
  // A client of its own: on FerretDB a sweep's find scans the collection and may take longer than
  // the store attempts' socket timeout above allows.
  const sweeperMongo = await MongoClient.connect(env.MONGO_URL, {
    serverSelectionTimeoutMS: 5000,
    // Only a connection held up far longer than any step takes is cut off.
    socketTimeoutMS: 600_000,
    appName: `${service}-retention`,
  });
  const sweeper = new RetentionSweeper(sweeperMongo.db(env.MONGO_DB), logger, {
    policy,
    intervalMs: env.READ_MODEL_SWEEP_INTERVAL_MS,
    batchSize: 1000,
    // A server that serves list queries from indexes (MongoDB) also finds a delete's `_id`
    // beside other fields by index; FerretDB on SQLite finds only a bare `_id` by index.
    recheck: indexes.listIndexes,
    caughtUp: () => caughtUpWith(jsm, consumers.events, logger),
  });
  sweeper.start();
  onShutdown(
    logger,
    [
      ["stop projecting", () => Promise.all([sweeper.stop(), projector.stop()])],
      ["drain NATS", () => nc.drain()],
      ["close MongoDB", () => Promise.all([mongo.close(), sweeperMongo.close()])],
      ["flush traces", () => tracing.shutdown()],
      ["close metrics", () => metrics.close()],
    ],
    { deadlineMs: shutdownDeadlineMs(env.SHUTDOWN_GRACE_MS) },
  );
  // A deleted consumer would leave the projector idle for good: exit so the supervisor restarts
  // the service, whose topology check then names what is missing.
  projector.closed().then(
    (err) => {
      if (err === undefined) return;
      logger.fatal({ err }, `${err.message}; the projector cannot continue and exits`);
      process.exit(1);
    },
    (err: unknown) => {
      logger.fatal({ err }, "the projector failed and exits");
      process.exit(1);
    },
  );
} catch (err) {
  exitOnStartupError(bootLogger, err);
}
