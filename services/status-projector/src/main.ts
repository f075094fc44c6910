import {
  createLogger,
  connectNats,
  exitOnStartupError,
  onShutdown,
  parseEnv,
} from "@conveyor/service-kit";
import { Tracing } from "@conveyor/telemetry";
import { verifyTopology } from "@conveyor/topology";
import { ensureIndexes } from "@conveyor/read-model";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { MongoClient } from "mongodb";

import { projectorEnv } from "./config.ts";
import { createProjector } from "./projector.ts";

const service = "status-projector";
const bootLogger = createLogger(service);

try {
  const env = parseEnv(projectorEnv);
  const logger = createLogger(service, env.LOG_LEVEL);
  const tracing = Tracing.create({
    serviceName: service,
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
  });
  const nc = await connectNats({ url: env.NATS_URL, name: service, logger });
  await verifyTopology(await jetstreamManager(nc));
  // A short server selection timeout makes an unavailable MongoDB a quick, retried batch failure.
  const mongo = await MongoClient.connect(env.MONGO_URL, {
    serverSelectionTimeoutMS: 5000,
    appName: service,
  });
  const db = mongo.db(env.MONGO_DB);
  await ensureIndexes(db);
  const projector = await createProjector({
    js: jetstream(nc),
    db,
    logger,
    tracing,
    options: { batchSize: env.PROJECTOR_BATCH_SIZE },
  });
  onShutdown(logger, async () => {
    await projector.stop();
    await nc.drain();
    await mongo.close();
    await tracing.shutdown();
  });
} catch (err) {
  exitOnStartupError(bootLogger, err);
}
