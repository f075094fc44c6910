import { randomBytes } from "node:crypto";

import { Header, StreamName, Subject, newJobId, workConsumerName } from "@conveyor/contracts";
import type { DeadLetter, JobEvent, WorkItem } from "@conveyor/contracts";
import { createLogger } from "@conveyor/service-kit";
import { startNatsServer, waitFor } from "@conveyor/testing";
import type { NatsServerHandle } from "@conveyor/testing";
import { ensureTopology } from "@conveyor/topology";
import { createWorker } from "@conveyor/worker-sdk";
import type { JobWorker, WorkerOptions } from "@conveyor/worker-sdk";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import { connect, headers as natsHeaders } from "@nats-io/transport-node";
import type { ConnectionOptions, NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll } from "vitest";

/** A job type name no other test uses, e.g. `flaky.k3f9a1c2`. */
export function uniqueType(prefix: string): string {
  return `${prefix}.t${randomBytes(4).toString("hex")}`;
}

/** Options every test worker shares: quiet, quick to stop. */
export const testWorkerOptions = {
  logger: createLogger("worker-test", "silent"),
  pullExpiresMs: 1000,
  shutdownGraceMs: 2000,
  progressIntervalMs: 0,
} satisfies Partial<WorkerOptions>;

/** A W3C trace context the test controls, so events can be checked to continue it. */
export const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
const traceparent = `00-${traceId}-00f067aa0ba902b7-01`;

/**
 * Call inside a `describe`: before its tests, starts a nats-server with the topology and connects a
 * {@link WorkFixture} to it (with `options`); after them, stops the workers still running and the
 * server.
 */
export function useWorkFixture(options: Omit<ConnectionOptions, "servers"> = {}): WorkFixture {
  const fx = new WorkFixture();

  beforeAll(async () => {
    fx.server = await startNatsServer();
    fx.nc = await connect({ ...options, servers: fx.server.url });
    fx.js = jetstream(fx.nc);
    fx.jsm = await jetstreamManager(fx.nc);
    await ensureTopology(fx.jsm);
  });

  afterAll(async () => {
    await fx.stopWorkers();
    await fx.nc.close();
    await fx.server[Symbol.asyncDispose]();
  });

  return fx;
}

/** Access to the streams a worker writes, for assertions. */
export class WorkFixture {
  // Assigned by the hooks of {@link useWorkFixture}: read them in tests and hooks, which run after.
  /** The nats-server, e.g. for a test to `restart()`. */
  server!: NatsServerHandle;
  nc!: NatsConnection;
  js!: JetStreamClient;
  jsm!: JetStreamManager;
  readonly #workers: JobWorker[] = [];

  /** Starts a worker on the fixture's connection; stopped by {@link stopWorkers}. */
  async worker(options: Omit<WorkerOptions, "connection" | "natsUrl">): Promise<JobWorker> {
    const worker = await createWorker({ ...testWorkerOptions, ...options, connection: this.nc });
    this.#workers.push(worker);
    return worker;
  }

  async stopWorkers(): Promise<void> {
    await Promise.all(this.#workers.splice(0).map((w) => w.stop()));
  }

  /**
   * Puts a work item on `work.<type>` (its priority's lane) as the dispatcher would, with a trace
   * context.
   */
  async enqueue(
    type: string,
    payload: unknown,
    overrides: Partial<WorkItem> = {},
  ): Promise<WorkItem> {
    const item: WorkItem = {
      id: newJobId(),
      type,
      payload: payload as WorkItem["payload"],
      priority: 5,
      maxAttempts: 3,
      timeoutMs: 30_000,
      submittedAt: new Date().toISOString(),
      run: 1,
      ...overrides,
    };
    await this.enqueueRaw(type, JSON.stringify(item), item.id, [], item.priority);
    return item;
  }

  /**
   * Publishes `body` as a work message of `type` (in the lane of `priority`), with `extraHeaders`
   * (name, value) besides ours.
   */
  async enqueueRaw(
    type: string,
    body: string,
    jobId?: string,
    extraHeaders: readonly (readonly [string, string])[] = [],
    priority?: number,
  ): Promise<void> {
    const headers = natsHeaders();
    if (jobId !== undefined) headers.set(Header.JobId, jobId);
    headers.set(Header.JobType, type);
    headers.set(Header.TraceParent, traceparent);
    for (const [name, value] of extraHeaders) headers.append(name, value);
    await this.js.publish(Subject.work(type, priority), body, { headers });
  }

  /** Every event of a job stored so far, in stream order. */
  async events(jobId: string): Promise<JobEvent[]> {
    const messages = await this.#all(StreamName.Events, `events.${jobId}.>`);
    return messages.map((m) => m.json<JobEvent>());
  }

  /** Waits until the job has an event of `kind` (and `count` of them), then returns all its events. */
  async eventsUntil(jobId: string, kind: JobEvent["kind"], count = 1): Promise<JobEvent[]> {
    return waitFor(
      async () => {
        const events = await this.events(jobId);
        return events.filter((e) => e.kind === kind).length >= count ? events : undefined;
      },
      { timeoutMs: 15_000, message: `${count} ${kind} event(s) of ${jobId}` },
    );
  }

  /** Dead letters of a type. */
  async deadLetters(type: string): Promise<{ letter: DeadLetter; msg: StoredMessage }[]> {
    const messages = await this.#all(StreamName.Dlq, Subject.dlq(type));
    return messages.map((msg) => ({ letter: msg.json<DeadLetter>(), msg }));
  }

  /** Work messages of a type still in the work stream. */
  async workLeft(type: string): Promise<number> {
    const info = await this.jsm.streams.info(StreamName.Work, {
      subjects_filter: Subject.work(type),
    });
    return info.state.subjects?.[Subject.work(type)] ?? 0;
  }

  /** Deliveries of a type's consumer not yet acknowledged. */
  async ackPending(type: string): Promise<number> {
    return (await this.jsm.consumers.info(StreamName.Work, workConsumerName(type))).num_ack_pending;
  }

  async #all(stream: string, subject: string): Promise<StoredMessage[]> {
    const info = await this.jsm.streams.info(stream, { subjects_filter: subject });
    const total = Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
    if (total === 0) return [];
    // An ordered consumer reads the subject's messages in order and goes away by itself.
    const consumer = await this.js.consumers.get(stream, { filter_subjects: [subject] });
    const found: StoredMessage[] = [];
    for await (const msg of await consumer.fetch({ max_messages: total, expires: 2000 })) {
      found.push(msg);
    }
    return found;
  }
}

/** A message read back from a stream. */
export type StoredMessage = JsMsg;
