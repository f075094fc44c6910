import { ConsumerName, StreamName } from "@conveyor/contracts";
import { JobTypeRegistry } from "@conveyor/job-registry";
import {
  checkSubmissionLimit,
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
import type { Logger } from "@conveyor/service-kit";
import { jetstream } from "@nats-io/jetstream";

import { dispatcherEnv } from "./config.ts";
import { createCommandMailbox } from "./command-mailbox.ts";
import { deadLetterMetrics } from "./dead-letter-metrics.ts";
import { createDeadLetterer } from "./dead-letterer.ts";
import { dispatchMetrics } from "./dispatch-metrics.ts";
import { createDispatcher } from "./dispatcher.ts";
import { createRecurringMailbox } from "./recurring-mailbox.ts";
import { createScheduleMailbox } from "./schedule-mailbox.ts";

const serviceName = "dispatcher";
const bootLogger = createLogger(serviceName);

async function main(): Promise<void> {
  const env = parseEnv(dispatcherEnv);
  const logger = createLogger(serviceName, env.LOG_LEVEL);
  const tracing = createTracing(serviceName, env, logger);
  const { nc, jsm } = await connectService(serviceName, env, logger, {
    onConnected: (connection) => {
      checkSubmissionLimit(env.MAX_SUBMISSION_BYTES, connection.info?.max_payload);
    },
  });
  const js = jetstream(nc);
  const metrics = await startMetrics(serviceName, env, logger);
  registerMailboxMetrics(
    metrics.registry,
    jsm,
    [
      { stream: StreamName.Jobs, consumer: ConsumerName.DispatcherIntake },
      { stream: StreamName.Jobs, consumer: ConsumerName.DispatcherBulkIntake },
      { stream: StreamName.Jobs, consumer: ConsumerName.DispatcherCommands },
      { stream: StreamName.Schedules, consumer: ConsumerName.DispatcherSchedules },
      { stream: StreamName.Schedules, consumer: ConsumerName.DispatcherRecurring },
      { stream: StreamName.Advisories, consumer: ConsumerName.DispatcherAdvisories },
    ],
    logger,
  );
  const registry = await JobTypeRegistry.open(nc, { logger });
  // Six mailboxes each keep a pull open: renewed every second, they cost the dispatcher and
  // nats-server about 5 CPU-ms a second at rest (bench/README.md).
  // A stop waits for the open pulls within its grace period: none may outlast it.
  const pullExpiresMs = Math.max(
    1000,
    Math.min(env.DISPATCHER_PULL_EXPIRES_MS, env.SHUTDOWN_GRACE_MS),
  );
  const registeredTypes = () => registry.list().map((descriptor) => descriptor.type);
  const dispatcher = await createDispatcher({
    nc,
    js,
    registry,
    tracing,
    logger,
    observer: dispatchMetrics(metrics.registry, registeredTypes),
    options: {
      maxSubmissionBytes: env.MAX_SUBMISSION_BYTES,
      concurrency: env.DISPATCHER_CONCURRENCY,
      bulkConcurrency: env.DISPATCHER_BULK_CONCURRENCY,
      maxHeldBytes: env.DISPATCHER_MAX_HELD_BYTES,
      pullExpiresMs,
    },
  });
  const deadLetterer = await createDeadLetterer({
    js,
    jsm,
    tracing,
    logger,
    observer: deadLetterMetrics(metrics.registry, registeredTypes),
    options: { scanIntervalMs: env.DEAD_LETTER_SCAN_INTERVAL_MS, pullExpiresMs },
  });
  const commands = await createCommandMailbox({
    js,
    jsm,
    tracing,
    logger,
    options: { pullExpiresMs },
  });
  const schedules = await createScheduleMailbox({
    js,
    tracing,
    logger,
    options: { pullExpiresMs },
  });
  const recurring = await createRecurringMailbox({
    js,
    registry,
    tracing,
    logger,
    maxSubmissionBytes: env.MAX_SUBMISSION_BYTES,
    pullExpiresMs,
  });

  onShutdown(
    logger,
    [
      [
        "stop dispatching",
        () => {
          // Whatever is still in flight after the grace period is redelivered to another replica.
          const stopped = Promise.all([
            dispatcher.stop(),
            deadLetterer.stop(),
            commands.stop(),
            schedules.stop(),
            recurring.stop(),
          ]).then(() => undefined);
          return withinGrace(stopped, env.SHUTDOWN_GRACE_MS, logger);
        },
      ],
      ["close the job type registry", () => registry.close()],
      ["drain NATS", () => nc.drain()],
      ["flush traces", () => tracing.shutdown()],
      ["close metrics", () => metrics.close()],
    ],
    { deadlineMs: shutdownDeadlineMs(env.SHUTDOWN_GRACE_MS) },
  );
}

async function withinGrace(work: Promise<void>, graceMs: number, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      logger.warn({ graceMs }, "drain took longer than the grace period; stopping anyway");
      resolve();
    }, graceMs);
  });
  await Promise.race([work, expired]);
  clearTimeout(timer);
}

main().catch((err: unknown) => exitOnStartupError(bootLogger, err));
