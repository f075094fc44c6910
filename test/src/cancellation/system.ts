import { randomBytes } from "node:crypto";

import { StreamName, Subject, workConsumerName } from "@conveyor/contracts";
import {
  createCommandMailbox,
  createDispatcher,
  createScheduleMailbox,
} from "@conveyor/dispatcher";
import type { CommandMailbox, Dispatcher } from "@conveyor/dispatcher";
import { JobTypeRegistry } from "@conveyor/job-registry";
import type { JobTypeRegistration } from "@conveyor/job-registry";
import { createLogger } from "@conveyor/service-kit";
import { Tracing } from "@conveyor/telemetry";
import { startMongoServer, startNatsServer, waitFor } from "@conveyor/testing";
import type { MongoServerHandle, NatsServerHandle } from "@conveyor/testing";
import { createWorker } from "@conveyor/worker-sdk";
import type { JobWorker, WorkerOptions } from "@conveyor/worker-sdk";
import { jetstream } from "@nats-io/jetstream";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";

import { request, startGateway } from "../gateway/gateway-fixture.ts";
import type { GatewayUnderTest, JsonResponse } from "../gateway/gateway-fixture.ts";
import { startProjector } from "../status-projector/projector-fixture.ts";

/** A job type name no other test uses, e.g. `sleep.k3f9a1c2`. */
export function uniqueType(prefix: string): string {
  return `${prefix}.t${randomBytes(4).toString("hex")}`;
}

/** A job as `GET /v1/jobs/:id` shows it (the fields the tests read). */
export interface JobBody {
  id: string;
  status: string;
  run: number;
  attempts: number;
  reason: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  error: { name?: string; message: string } | null;
  result: unknown;
  attemptHistory: { run: number; attempt: number; outcome: string | null }[];
}

/**
 * Every Conveyor service in this process against real servers: a gateway (REST), the dispatcher's
 * intake, command and schedule mailboxes, the status projector, and workers started per test on their own
 * connections (as separate replicas would be).
 */
export class System implements AsyncDisposable {
  readonly nats: NatsServerHandle;
  readonly gateway: GatewayUnderTest;
  readonly js: JetStreamClient;
  readonly registry: JobTypeRegistry;
  readonly #mongo: MongoServerHandle;
  readonly #nc: NatsConnection;
  readonly #stops: (() => Promise<void>)[];
  readonly #workers: { worker: JobWorker; nc: NatsConnection }[] = [];

  private constructor(parts: {
    nats: NatsServerHandle;
    mongo: MongoServerHandle;
    gateway: GatewayUnderTest;
    nc: NatsConnection;
    registry: JobTypeRegistry;
    stops: (() => Promise<void>)[];
  }) {
    this.nats = parts.nats;
    this.#mongo = parts.mongo;
    this.gateway = parts.gateway;
    this.#nc = parts.nc;
    this.js = jetstream(parts.nc);
    this.registry = parts.registry;
    this.#stops = parts.stops;
  }

  /**
   * Starts every service against fresh servers. `commandGiveUpAfterDeliveries` is the command
   * mailbox's (50 in production), lowered by tests of a command the dispatcher gave up on.
   */
  static async start(options: { commandGiveUpAfterDeliveries?: number } = {}): Promise<System> {
    const nats = await startNatsServer();
    const mongo = await startMongoServer();
    const gateway = await startGateway({ natsUrl: nats.url, mongoUrl: mongo.url });
    const nc = await connect({
      servers: nats.url,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    const js = jetstream(nc);
    const logger = createLogger("system-test", "silent");
    const tracing = Tracing.create({ serviceName: "system-test" });
    const registry = await JobTypeRegistry.open(nc, { logger });
    const dispatcher: Dispatcher = await createDispatcher({
      nc,
      js,
      registry,
      tracing,
      logger,
      options: { maxSubmissionBytes: 64 * 1024, concurrency: 8 },
    });
    const commands: CommandMailbox = await createCommandMailbox({
      js,
      jsm: gateway.jsm,
      tracing,
      logger,
      options: { giveUpAfterDeliveries: options.commandGiveUpAfterDeliveries },
    });
    // Scheduled jobs come due through it, as in the dispatcher's process.
    const schedules = await createScheduleMailbox({ js, tracing, logger });
    const projector = await startProjector(js, gateway.db, {}, logger);
    const stops = [
      () => projector.stop(),
      () => schedules.stop(),
      () => commands.stop(),
      () => dispatcher.stop(),
      () => registry.close(),
    ];
    return new System({ nats, mongo, gateway, nc, registry, stops });
  }

  get jsm(): JetStreamManager {
    return this.gateway.jsm;
  }

  /** Registers a type as a worker would, so the gateway accepts it before any worker runs. */
  async register(registration: JobTypeRegistration): Promise<void> {
    await this.registry.register(registration);
    await waitFor(() => Promise.resolve(this.gateway.registry.get(registration.type)), {
      message: `gateway knows ${registration.type}`,
    });
  }

  /** Starts a worker replica on a connection of its own; stopped when the system is disposed. */
  async worker(options: Omit<WorkerOptions, "connection" | "natsUrl">): Promise<JobWorker> {
    const nc = await connect({ servers: this.nats.url });
    const worker = await createWorker({
      logger: createLogger("worker-test", "silent"),
      pullExpiresMs: 1000,
      shutdownGraceMs: 2000,
      ...options,
      connection: nc,
    });
    this.#workers.push({ worker, nc });
    return worker;
  }

  /** `POST /v1/jobs`; returns the job id. */
  async submit(
    type: string,
    payload: unknown,
    extra: Record<string, unknown> = {},
  ): Promise<string> {
    const response = await this.post("/v1/jobs", { type, payload, ...extra });
    if (response.status !== 202) {
      throw new Error(`submission refused: ${response.status} ${JSON.stringify(response.body)}`);
    }
    return response.body["id"] as string;
  }

  post(path: string, body?: unknown): Promise<JsonResponse> {
    return request(`${this.gateway.baseUrl}${path}`, {
      method: "POST",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  get(path: string): Promise<JsonResponse> {
    return request(`${this.gateway.baseUrl}${path}`);
  }

  /** Any method, with an optional JSON body. */
  request(method: string, path: string, body?: unknown): Promise<JsonResponse> {
    return request(`${this.gateway.baseUrl}${path}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  /** Waits until `GET /v1/jobs/:id` satisfies `accept`, and returns that job. */
  async waitForJob(
    id: string,
    accept: (job: JobBody) => boolean,
    message: string,
    timeoutMs = 20_000,
  ): Promise<JobBody> {
    return waitFor(
      async () => {
        const response = await this.get(`/v1/jobs/${id}`);
        const job = response.status === 200 ? (response.body as unknown as JobBody) : undefined;
        return job !== undefined && accept(job) ? job : undefined;
      },
      { timeoutMs, intervalMs: 50, message },
    );
  }

  /** Messages of the type still in `WORK`, and its consumer's unacknowledged deliveries. */
  async workLeft(type: string): Promise<{ stored: number; unacknowledged: number }> {
    const info = await this.jsm.streams.info(StreamName.Work, {
      subjects_filter: Subject.work(type),
    });
    const stored = info.state.subjects?.[Subject.work(type)] ?? 0;
    // Before any worker of the type ran there is no consumer, hence nothing delivered.
    const consumer = await this.jsm.consumers
      .info(StreamName.Work, workConsumerName(type))
      .catch(() => undefined);
    return { stored, unacknowledged: consumer?.num_ack_pending ?? 0 };
  }

  async stopWorkers(): Promise<void> {
    const running = this.#workers.splice(0);
    await Promise.all(running.map(({ worker }) => worker.stop()));
    await Promise.all(running.map(({ nc }) => nc.close()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stopWorkers();
    for (const stop of this.#stops) await stop();
    await this.#nc.close();
    await this.gateway[Symbol.asyncDispose]();
    await this.#mongo[Symbol.asyncDispose]();
    await this.nats[Symbol.asyncDispose]();
  }
}
