import {
  connectService,
  createLogger,
  createTracing,
  exitOnStartupError,
  onShutdown,
  shutdownDeadlineMs,
  parseEnv,
  startMetrics,
} from "@conveyor/service-kit";
import { createWorker } from "@conveyor/worker-sdk";

import { builtinHandlers } from "./builtin-handlers.ts";
import { workerEnv } from "./config.ts";
import { workerMetrics } from "./worker-metrics.ts";

const serviceName = "worker";
const bootLogger = createLogger(serviceName);

async function main(): Promise<void> {
  const env = parseEnv(workerEnv);
  const logger = createLogger(serviceName, env.LOG_LEVEL);
  const tracing = createTracing(serviceName, env, logger);
  const { nc } = await connectService(serviceName, env, logger);
  const metrics = await startMetrics(serviceName, env, logger);
  const observed = workerMetrics(metrics.registry, logger, Object.keys(builtinHandlers));
  const worker = await createWorker({
    connection: nc,
    handlers: builtinHandlers,
    concurrency: env.WORKER_CONCURRENCY,
    workerId: env.WORKER_ID,
    ackWaitMs: env.ACK_WAIT_MS,
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    logger,
    tracing,
    onAttemptEnd: observed.onAttemptEnd,
  });
  observed.watchQueues(() => worker.backlog());

  onShutdown(
    logger,
    [
      ["stop the worker", () => worker.stop()],
      ["drain NATS", () => nc.drain()],
      ["flush traces", () => tracing.shutdown()],
      ["close metrics", () => metrics.close()],
    ],
    { deadlineMs: shutdownDeadlineMs(env.SHUTDOWN_GRACE_MS) },
  );
}

main().catch((err: unknown) => exitOnStartupError(bootLogger, err));
