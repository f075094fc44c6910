import { StreamName, prioritiesHighestFirst, workConsumerName } from "@conveyor/contracts";
import { JobTypeRegistry } from "@conveyor/job-registry";
import { JetStreamPublisher, connectNats, createLogger } from "@conveyor/service-kit";
import type { Logger } from "@conveyor/service-kit";
import { Tracing } from "@conveyor/telemetry";
import { ensureWorkConsumer } from "@conveyor/topology";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

import { abortableDelay } from "./abortable-delay.ts";
import { CancellationWatch } from "./cancellation-watch.ts";
import { WorkerConfigError } from "./errors.ts";
import { EventPublisher } from "./event-publisher.ts";
import { compileWorkerOptions } from "./options.ts";
import type { ResolvedWorkerOptions, WorkerOptions } from "./options.ts";
import { RateLimiter } from "./rate-limiter.ts";
import { newestFailedEventCount } from "./uncounted-deliveries.ts";
import { TypeConsumer } from "./type-consumer.ts";
import type { TypeBacklog } from "./type-consumer.ts";

/** Options of {@link JobWorker.stop}. */
export interface StopOptions {
  /**
   * How long running handlers may take to finish, in milliseconds; `Infinity` waits for them all.
   * @default the worker's `shutdownGraceMs`
   */
  graceMs?: number;
}

/** Resources the worker owns and must release when it stops. */
interface Owned {
  connection: boolean;
  tracing: boolean;
}

/**
 * A running worker replica: it consumes the work of every type it has a handler for. Create it
 * with {@link createWorker}.
 */
export class JobWorker {
  readonly workerId: string;
  /** The job types this worker handles. */
  readonly types: readonly string[];
  readonly #nc: NatsConnection;
  readonly #tracing: Tracing;
  readonly #owned: Owned;
  readonly #consumers: TypeConsumer[];
  readonly #cancellations: CancellationWatch;
  readonly #registry: JobTypeRegistry;
  readonly #publisher: JetStreamPublisher;
  readonly #logger: Logger;
  readonly #shutdownGraceMs: number;
  #stopped: Promise<void> | undefined;

  private constructor(parts: {
    options: ResolvedWorkerOptions;
    nc: NatsConnection;
    tracing: Tracing;
    owned: Owned;
    consumers: TypeConsumer[];
    cancellations: CancellationWatch;
    registry: JobTypeRegistry;
    publisher: JetStreamPublisher;
    logger: Logger;
  }) {
    this.workerId = parts.options.workerId;
    this.types = parts.options.types.map((t) => t.type);
    this.#nc = parts.nc;
    this.#tracing = parts.tracing;
    this.#owned = parts.owned;
    this.#consumers = parts.consumers;
    this.#cancellations = parts.cancellations;
    this.#registry = parts.registry;
    this.#publisher = parts.publisher;
    this.#logger = parts.logger;
    this.#shutdownGraceMs = parts.options.shutdownGraceMs;
  }

  /**
   * Registers every type, ensures its work consumer and starts consuming. Throws a
   * {@link WorkerConfigError} for bad options and the registry's or server's error when the
   * topology is missing.
   */
  static async create(options: WorkerOptions): Promise<JobWorker> {
    const resolved = compileWorkerOptions(options);
    if ((options.natsUrl === undefined) === (options.connection === undefined)) {
      throw new WorkerConfigError("natsUrl", "give either natsUrl or connection");
    }
    const logger = (options.logger ?? createLogger("conveyor-worker")).child({
      workerId: resolved.workerId,
    });
    const owned: Owned = {
      connection: options.connection === undefined,
      tracing: options.tracing === undefined,
    };
    const nc =
      options.connection ??
      (await connectNats({
        url: options.natsUrl ?? "",
        name: `conveyor-worker ${resolved.workerId}`,
        logger,
      }));
    const tracing = options.tracing ?? Tracing.create({ serviceName: "conveyor-worker" });
    try {
      const parts = await JobWorker.#setUp(nc, tracing, resolved, logger);
      const worker = new JobWorker({ ...parts, options: resolved, nc, tracing, owned, logger });
      for (const consumer of parts.consumers) consumer.start();
      logger.info({ types: worker.types }, "worker started");
      return worker;
    } catch (err) {
      if (owned.connection) await nc.close();
      if (owned.tracing) await tracing.shutdown();
      throw err;
    }
  }

  static async #setUp(
    nc: NatsConnection,
    tracing: Tracing,
    options: ResolvedWorkerOptions,
    logger: Logger,
  ): Promise<{
    consumers: TypeConsumer[];
    cancellations: CancellationWatch;
    registry: JobTypeRegistry;
    publisher: JetStreamPublisher;
  }> {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    // Kept open: a replica learns from it that a newer declaration of its types came into force.
    const registry = await JobTypeRegistry.open(nc, { logger });
    let cancellations: CancellationWatch;
    try {
      for (const type of options.types) {
        await registry.register({
          type: type.type,
          description: type.description,
          payloadSchema: type.payloadSchema,
          retry: type.retryOverrides,
          timeoutMs: type.timeoutMs,
          version: type.version,
        });
      }
      // Loaded before any work is pulled, so a job cancelled while queued is never started.
      cancellations = await CancellationWatch.open(nc, logger);
    } catch (err) {
      await registry.close();
      throw err;
    }
    const publisher = new JetStreamPublisher(nc, {
      // JetStream delivers an unacknowledged job again once its lease runs out.
      onDeferredError: (err) => {
        logger.warn({ err }, "could not acknowledge a job; it will be delivered again");
      },
    });
    try {
      const consumers = await JobWorker.#typeConsumers(jsm, js, options, {
        publisher: new EventPublisher(nc, publisher, tracing),
        tracing,
        logger,
        cancellations,
        registry,
      });
      return { consumers, cancellations, registry, publisher };
    } catch (err) {
      await publisher.close();
      await cancellations.close();
      await registry.close();
      throw err;
    }
  }

  static async #typeConsumers(
    jsm: JetStreamManager,
    js: JetStreamClient,
    options: ResolvedWorkerOptions,
    shared: {
      publisher: EventPublisher;
      tracing: Tracing;
      logger: Logger;
      cancellations: CancellationWatch;
      registry: JobTypeRegistry;
    },
  ): Promise<TypeConsumer[]> {
    const consumers: TypeConsumer[] = [];
    for (const settings of options.types) {
      const ensureLanes = async () => {
        // Every replica renews its jobs' leases by its own ackWaitMs: shortening the lease in
        // force would hand jobs that replicas renewing less often still run to another replica.
        const lease = await ensureWorkConsumer(jsm, settings.type, {
          ackWaitMs: options.ackWaitMs,
          keepLongerAckWait: true,
        });
        if (lease.ackWaitMs > options.ackWaitMs) {
          shared.logger.info(
            { type: settings.type, ackWaitMs: lease.ackWaitMs, ownAckWaitMs: options.ackWaitMs },
            "the type's work consumers keep their longer lease: other replicas may rely on it",
          );
        }
      };
      const lane = (priority: number) =>
        js.consumers.get(StreamName.Work, workConsumerName(settings.type, priority));
      // Every lane's pull fails at once while the server is away: one reconcile serves them all.
      let reconciling: Promise<void> | undefined;
      const reopen = async (priority: number) => {
        reconciling ??= ensureLanes().finally(() => {
          reconciling = undefined;
        });
        await reconciling;
        return lane(priority);
      };
      await ensureLanes();
      const lanes = await Promise.all(
        prioritiesHighestFirst.map(async (priority) => {
          const consumer = await lane(priority);
          // Read as the consumer was got: what waits decides which lanes are pulled first.
          const { num_pending: waiting } = await consumer.info(true);
          return { priority, consumer, waiting };
        }),
      );
      const deps = {
        settings,
        publisher: shared.publisher,
        tracing: shared.tracing,
        logger: shared.logger,
        workerId: options.workerId,
        heartbeatMs: options.heartbeatMs,
        progressIntervalMs: options.progressIntervalMs,
        cancellations: shared.cancellations.view,
        versionInForce: () => shared.registry.versionInForce(settings.type),
        onAttemptEnd: options.onAttemptEnd,
        uncountedDeliveries: newestFailedEventCount(jsm),
        rateLimiter:
          settings.rateLimit === undefined
            ? undefined
            : await RateLimiter.open(jsm, js, settings.type, settings.rateLimit, shared.logger),
      };
      consumers.push(
        new TypeConsumer(
          lanes,
          deps,
          { concurrency: settings.concurrency, pullExpiresMs: options.pullExpiresMs },
          reopen,
        ),
      );
    }
    return consumers;
  }

  /** Handlers running now, across all types. */
  get inFlight(): number {
    return this.#consumers.reduce((sum, c) => sum + c.inFlight, 0);
  }

  /**
   * The queue of each type this worker runs, as its work consumer counts it across every worker
   * (one request to the server per type).
   */
  backlog(): Promise<TypeBacklog[]> {
    return Promise.all(this.#consumers.map((c) => c.backlog()));
  }

  /**
   * Drains: stops pulling (an open pull runs out first, at most `pullExpiresMs`), lets running
   * handlers finish within the grace period, then aborts the rest and returns their jobs to the
   * queue at once (`nak`), and closes what the worker opened. No job is lost; an interrupted
   * attempt is not counted against the job's `maxAttempts`. Calling it again returns the same promise.
   */
  stop(options: StopOptions = {}): Promise<void> {
    const graceMs = options.graceMs ?? this.#shutdownGraceMs;
    if (typeof graceMs !== "number" || !(graceMs >= 0)) {
      const problem = "must be 0 or more milliseconds, or Infinity";
      return Promise.reject(new WorkerConfigError("graceMs", problem));
    }
    this.#stopped ??= this.#drain(graceMs);
    return this.#stopped;
  }

  async #drain(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    this.#logger.info({ inFlight: this.inFlight, graceMs }, "worker stopping");
    for (const consumer of this.#consumers) consumer.stopPulling();
    // Jobs are returned only once no pull of this worker is open, or they would come straight back.
    await Promise.all(this.#consumers.map((c) => c.pullingStopped()));
    // A job still waiting for its rate limit would start late in the grace period, or not at all.
    for (const consumer of this.#consumers) consumer.startNoMore();
    const finished = Promise.all(this.#consumers.map((c) => c.finished()));
    const grace = new AbortController();
    const inTime = await Promise.race([
      finished.then(() => true),
      abortableDelay(Math.max(0, deadline - Date.now()), grace.signal).then(() => false),
    ]);
    grace.abort();
    if (!inTime) {
      this.#logger.warn(
        { inFlight: this.inFlight },
        "grace period over; returning unfinished jobs",
      );
      for (const consumer of this.#consumers) consumer.interrupt();
      await finished;
    }
    await this.#cancellations.close();
    await this.#registry.close();
    // Every job is settled, so nothing waits for an acknowledgement any more.
    await this.#publisher.close();
    // Acknowledgements are written asynchronously: flush them before the connection goes.
    if (!this.#nc.isClosed()) {
      if (this.#owned.connection) await this.#nc.drain();
      else await this.#nc.flush();
    }
    if (this.#owned.tracing) await this.#tracing.shutdown();
    this.#logger.info("worker stopped");
  }
}

/** Starts a worker replica; see {@link WorkerOptions}. Stop it with `worker.stop()`. */
export function createWorker(options: WorkerOptions): Promise<JobWorker> {
  return JobWorker.create(options);
}
