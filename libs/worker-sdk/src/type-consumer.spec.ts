import { RetryPolicy } from "@conveyor/contracts";
import type { WorkItem } from "@conveyor/contracts";
import { createLogger } from "@conveyor/service-kit";
import { Tracing } from "@conveyor/telemetry";
import type { Consumer, JsMsg } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { describe, expect, it, vi } from "vitest";

import type { CancellationLookup } from "./cancellation-view.ts";
import type { LifecyclePublisher } from "./event-publisher.ts";
import { TypeConsumer } from "./type-consumer.ts";
import type { PullSettings } from "./type-consumer.ts";

const encoder = new TextEncoder();

function workMessage(n: number, acked: string[]): JsMsg {
  const id = `job-${n}`;
  const item: WorkItem = {
    id,
    type: "echo",
    payload: { n },
    priority: 5,
    maxAttempts: 3,
    timeoutMs: 1000,
    submittedAt: "2026-01-01T00:00:00.000Z",
    run: 1,
  };
  const headers = natsHeaders();
  headers.set("Conveyor-Job-Id", id);
  return {
    subject: "work.echo",
    seq: n,
    data: encoder.encode(JSON.stringify(item)),
    headers,
    info: { deliveryCount: 1 },
    ack: () => acked.push(id),
    nak: () => undefined,
    term: () => undefined,
    working: () => undefined,
  } as unknown as JsMsg;
}

/**
 * A work queue of `jobs` messages behind a pull consumer, and an event store that confirms no
 * event until `confirmEvents()`: what a worker sees when JetStream is slow to acknowledge its
 * publishes.
 */
function slowEventStore(
  jobs: number,
  handle: (payload: unknown) => Promise<unknown> = (payload) => Promise.resolve(payload),
) {
  const acked: string[] = [];
  let started = 0;
  let fetches = 0;
  const queue = Array.from({ length: jobs }, (_, i) => workMessage(i + 1, acked));
  const pendingEvents: (() => void)[] = [];
  const consumer = {
    fetch: ({ max_messages, expires }: { max_messages: number; expires: number }) => {
      fetches++;
      const batch = queue.splice(0, max_messages);
      const iterable = (async function* () {
        yield* batch;
        // An empty pull waits for work, as a real one does, but not for the test's whole run.
        if (batch.length === 0) await new Promise((resolve) => setTimeout(resolve, expires));
      })();
      return Promise.resolve(Object.assign(iterable, { closed: () => Promise.resolve(null) }));
    },
  } as unknown as Consumer;
  const publisher: LifecyclePublisher = {
    event: () =>
      new Promise<void>((resolve) => {
        pendingEvents.push(resolve);
      }),
    withdrawableEvent: () => ({ stored: Promise.resolve(), withdraw: () => true }),
    deadLetter: () => Promise.resolve(),
    send: (reply) => {
      reply();
    },
  };
  const cancellations: CancellationLookup = {
    find: () => undefined,
    subscribe: () => () => undefined,
  };
  const deps = {
    settings: {
      type: "echo",
      handle: (job: { payload: unknown }) => {
        started++;
        return handle(job.payload);
      },
      schema: undefined,
      payloadSchema: undefined,
      retryOverrides: undefined,
      retry: RetryPolicy.parse({}),
      timeoutMs: undefined,
      concurrency: 2,
      description: undefined,
      rateLimit: undefined,
    },
    publisher,
    tracing: Tracing.create({ serviceName: "test" }),
    logger: createLogger("test", "silent"),
    workerId: "w1",
    heartbeatMs: 10_000,
    progressIntervalMs: 1000,
    cancellations,
  } as unknown as ConstructorParameters<typeof TypeConsumer>[1];
  return {
    consumerFor: (settings: PullSettings) => new TypeConsumer(consumer, deps, settings),
    started: () => started,
    fetches: () => fetches,
    acked,
    confirmEvents: () => {
      for (const confirm of pendingEvents.splice(0)) confirm();
    },
  };
}

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("TypeConsumer", () => {
  it("starts the next jobs while finished ones wait for their outcome to be stored", async () => {
    const store = slowEventStore(10);
    const consumer = store.consumerFor({ concurrency: 2, pullExpiresMs: 20, settlingLimit: 100 });
    consumer.start();

    // Every handler returned at once; their `succeeded` events are not confirmed yet.
    await until(() => store.started() === 10);
    expect(store.acked).toEqual([]);

    store.confirmEvents();
    await until(() => store.acked.length === 10);
    consumer.stopPulling();
    await consumer.finished();
  });

  it("holds at most `concurrency` + `settlingLimit` jobs while outcomes wait to be stored", async () => {
    const store = slowEventStore(10);
    const consumer = store.consumerFor({ concurrency: 2, pullExpiresMs: 20, settlingLimit: 3 });
    consumer.start();

    await until(() => store.started() === 5);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(store.started()).toBe(5);
    expect(consumer.inFlight).toBe(5);

    // Confirmed outcomes free room; the rest of the queue follows.
    for (let round = 0; round < 10 && store.acked.length < 10; round++) {
      store.confirmEvents();
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    expect(store.acked).toHaveLength(10);
    consumer.stopPulling();
    await consumer.finished();
  });

  it("opens no pull once stopped, even when stopped while gathering free slots", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const releases: (() => void)[] = [];
      const store = slowEventStore(
        20,
        (payload) =>
          new Promise((resolve) => {
            releases.push(() => {
              resolve(payload);
            });
          }),
      );
      const consumer = store.consumerFor({ concurrency: 4, pullExpiresMs: 20 });
      consumer.start();
      await vi.advanceTimersByTimeAsync(0);
      expect(store.started()).toBe(4);

      // One job ends: with work waiting, the loop waits a moment for more slots to free.
      releases.shift()?.();
      store.confirmEvents();
      await vi.advanceTimersByTimeAsync(0);
      const fetchesBeforeStop = store.fetches();
      consumer.stopPulling();
      await vi.advanceTimersByTimeAsync(50);
      expect(store.fetches()).toBe(fetchesBeforeStop);

      for (const release of releases.splice(0)) release();
      store.confirmEvents();
      await vi.advanceTimersByTimeAsync(50);
      store.confirmEvents();
      await vi.advanceTimersByTimeAsync(50);
      await consumer.finished();
    } finally {
      vi.useRealTimers();
    }
  });
});
