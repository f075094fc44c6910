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

function workMessage(n: number, acked: string[], priority = 5, name = `job-${n}`): JsMsg {
  const id = name;
  const item: WorkItem = {
    id,
    type: "echo",
    payload: { n, name },
    priority,
    maxAttempts: 3,
    timeoutMs: 60_000,
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
    info: { deliveryCount: 1, pending: 0 },
    ack: () => acked.push(id),
    nak: () => undefined,
    term: () => undefined,
    working: () => undefined,
  } as unknown as JsMsg;
}

/**
 * One lane's pull consumer over a queue of messages: a pull takes what is queued (up to its size),
 * or waits for the next message pushed, or for its time to run out, as a server's pull does; each
 * message says how many wait behind it.
 */
class FakeLane {
  readonly queue: JsMsg[] = [];
  fetches = 0;
  #arrived: (() => void)[] = [];

  push(...msgs: JsMsg[]): void {
    this.queue.push(...msgs);
    for (const wake of this.#arrived.splice(0)) wake();
  }

  readonly consumer = {
    fetch: ({ max_messages, expires }: { max_messages: number; expires: number }) => {
      this.fetches++;
      const take = () => {
        const batch = this.queue.splice(0, max_messages);
        batch.forEach((msg, i) => {
          msg.info.pending = this.queue.length + batch.length - 1 - i;
        });
        return batch;
      };
      const arrived = this.#arrived;
      const iterable = (async function* () {
        let batch = take();
        if (batch.length === 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, expires);
            arrived.push(() => {
              clearTimeout(timer);
              resolve();
            });
          });
          batch = take();
        }
        yield* batch;
      })();
      return Promise.resolve(Object.assign(iterable, { closed: () => Promise.resolve(null) }));
    },
  } as unknown as Consumer;
}

/**
 * A work queue of `jobs` messages behind a pull consumer, and an event store that confirms no
 * event until `confirmEvents()`: what a worker sees when JetStream is slow to acknowledge its
 * publishes. More lanes (priorities) may be given, each with its own messages.
 */
function slowEventStore(
  jobs: number,
  handle: (payload: unknown) => Promise<unknown> = (payload) => Promise.resolve(payload),
  lanes: Record<number, FakeLane> = {},
) {
  const acked: string[] = [];
  let started = 0;
  const main = new FakeLane();
  main.push(...Array.from({ length: jobs }, (_, i) => workMessage(i + 1, acked)));
  const all: Record<number, FakeLane> = { 5: main, ...lanes };
  const pendingEvents: (() => void)[] = [];
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
    consumerFor: (settings: PullSettings, options: { seeded?: boolean } = {}) =>
      new TypeConsumer(
        Object.entries(all).map(([priority, lane]) => ({
          priority: Number(priority),
          consumer: lane.consumer,
          waiting: options.seeded === true ? lane.queue.length : undefined,
        })),
        deps,
        settings,
      ),
    started: () => started,
    fetches: () => Object.values(all).reduce((sum, lane) => sum + lane.fetches, 0),
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

/** A lane of `count` jobs named `p<priority>-<i>`. */
function laneOf(priority: number, count: number, acked: string[]): FakeLane {
  const lane = new FakeLane();
  for (let i = 1; i <= count; i++) {
    lane.push(workMessage(priority * 100 + i, acked, priority, `p${priority}-${i}`));
  }
  return lane;
}

/** Confirms outcomes as they come until every job the consumer holds is settled. */
async function settleAll(consumer: TypeConsumer, confirmEvents: () => void): Promise<void> {
  let done = false;
  const finished = consumer.finished().then(() => {
    done = true;
  });
  while (!done) {
    confirmEvents();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await finished;
}

const nameOf = (payload: unknown) => (payload as { name: string }).name;

/**
 * A handler that records the name of each job it starts and returns only when released (the
 * oldest first), with what the tests read of it.
 */
function heldHandler() {
  const ran: string[] = [];
  const releases: (() => void)[] = [];
  const handle = (payload: unknown) => {
    ran.push(nameOf(payload));
    return new Promise((resolve) => {
      releases.push(() => {
        resolve(payload);
      });
    });
  };
  return { ran, handle, releaseOne: () => releases.shift()?.(), releases };
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
      // The first jobs of a burst wait for those of the other lanes for a moment.
      await vi.advanceTimersByTimeAsync(10);
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

  for (const seeded of [true, false]) {
    it(`runs every waiting job of a higher priority before any of a lower one (${seeded ? "counts read at start" : "counts learnt from the first pulls"})`, async () => {
      const ran: string[] = [];
      const acked: string[] = [];
      const store = slowEventStore(
        0,
        (payload) => {
          ran.push(nameOf(payload));
          return Promise.resolve(payload);
        },
        { 9: laneOf(9, 3, acked), 1: laneOf(1, 3, acked), 5: laneOf(5, 3, acked) },
      );
      const consumer = store.consumerFor({ concurrency: 1, pullExpiresMs: 30 }, { seeded });
      consumer.start();
      await until(() => ran.length === 9, 5000);
      expect(ran).toEqual(["p9-1", "p9-2", "p9-3", "p5-1", "p5-2", "p5-3", "p1-1", "p1-2", "p1-3"]);
      consumer.stopPulling();
      await settleAll(consumer, store.confirmEvents);
    });
  }

  it("runs a job of a higher priority that comes while every slot is taken before the backlog", async () => {
    const { ran, handle, releaseOne } = heldHandler();
    const acked: string[] = [];
    const urgent = new FakeLane();
    const store = slowEventStore(0, handle, { 5: laneOf(5, 4, acked), 9: urgent });
    const consumer = store.consumerFor({ concurrency: 1, pullExpiresMs: 1000 }, { seeded: true });
    consumer.start();
    await until(() => ran.length === 1);
    urgent.push(workMessage(901, acked, 9, "urgent"));
    // Held by the open pull of priority 9 until the running job ends; then it goes first.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ran).toEqual(["p5-1"]);
    for (let round = 0; round < 50 && ran.length < 5; round++) {
      releaseOne();
      store.confirmEvents();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(ran).toEqual(["p5-1", "urgent", "p5-2", "p5-3", "p5-4"]);
    releaseOne();
    consumer.stopPulling();
    await settleAll(consumer, store.confirmEvents);
  });

  it("leaves jobs of the priority it runs, or a lower one, in the queue while its slots are taken", async () => {
    const { handle, releaseOne } = heldHandler();
    const acked: string[] = [];
    const normal = laneOf(5, 1, acked);
    const low = new FakeLane();
    const store = slowEventStore(0, handle, { 5: normal, 1: low, 9: new FakeLane() });
    const consumer = store.consumerFor({ concurrency: 1, pullExpiresMs: 1000 }, { seeded: true });
    consumer.start();
    await until(() => store.started() === 1);
    // Past the pulls opened before the worker held a job.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    normal.push(workMessage(502, acked, 5, "p5-2"));
    low.push(workMessage(102, acked, 1, "p1-2"));
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Another worker with a free slot may take them: this one would make them wait.
    expect(normal.queue).toHaveLength(1);
    expect(low.queue).toHaveLength(1);
    expect(consumer.inFlight).toBe(1);
    for (let round = 0; round < 50 && store.started() < 3; round++) {
      releaseOne();
      store.confirmEvents();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(store.started()).toBe(3);
    releaseOne();
    consumer.stopPulling();
    await settleAll(consumer, store.confirmEvents);
  });

  it("fills every free slot at once with jobs that come one by one, and takes no more", async () => {
    const { handle, releaseOne, releases } = heldHandler();
    const acked: string[] = [];
    const normal = new FakeLane();
    const store = slowEventStore(0, handle, {
      5: normal,
      9: new FakeLane(),
      8: new FakeLane(),
      1: new FakeLane(),
    });
    const consumer = store.consumerFor({ concurrency: 2, pullExpiresMs: 5000 });
    consumer.start();
    for (let n = 1; n <= 5; n++) {
      normal.push(workMessage(500 + n, acked, 5, `p5-${n}`));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Listens on the empty lanes above keep no free slot from the jobs that come.
    await until(() => store.started() === 2, 500);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(store.started()).toBe(2);
    expect(normal.queue).toHaveLength(3);
    for (let round = 0; round < 100 && store.started() < 5; round++) {
      releaseOne();
      store.confirmEvents();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(store.started()).toBe(5);
    for (const release of releases.splice(0)) release();
    consumer.stopPulling();
    await settleAll(consumer, store.confirmEvents);
  });

  it("returns a job waiting for a slot when the worker stops, without starting it", async () => {
    const { ran, handle, releaseOne } = heldHandler();
    const acked: string[] = [];
    const naked: string[] = [];
    const urgent = new FakeLane();
    const store = slowEventStore(0, handle, { 5: laneOf(5, 1, acked), 9: urgent });
    const consumer = store.consumerFor({ concurrency: 1, pullExpiresMs: 1000 }, { seeded: true });
    consumer.start();
    await until(() => ran.length === 1);
    const held = workMessage(901, acked, 9, "urgent");
    held.nak = () => {
      naked.push("urgent");
    };
    urgent.push(held);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(consumer.inFlight).toBe(2);

    consumer.stopPulling();
    await consumer.pullingStopped();
    consumer.startNoMore();
    // Its `failed` event (not counted, not started) stored, it goes back.
    await until(() => {
      store.confirmEvents();
      return naked.length === 1;
    });
    expect(consumer.inFlight).toBe(1);
    releaseOne();
    await settleAll(consumer, store.confirmEvents);
    expect(ran).toEqual(["p5-1"]);
    expect(acked).toEqual(["p5-1"]);
  });

  it("lets a burst that reaches an idle worker on several lanes start highest priority first", async () => {
    const ran: string[] = [];
    const acked: string[] = [];
    const low = new FakeLane();
    const high = new FakeLane();
    const store = slowEventStore(
      0,
      (payload) => {
        ran.push(nameOf(payload));
        return Promise.resolve(payload);
      },
      { 1: low, 9: high },
    );
    const consumer = store.consumerFor({ concurrency: 1, pullExpiresMs: 1000 });
    consumer.start();
    await new Promise((resolve) => setTimeout(resolve, 20));
    // A type resumed after a pause: its lanes hand out their jobs a moment apart, lowest first.
    low.push(...[1, 2, 3].map((i) => workMessage(100 + i, acked, 1, `p1-${String(i)}`)));
    await new Promise((resolve) => setTimeout(resolve, 3));
    high.push(...[1, 2, 3].map((i) => workMessage(900 + i, acked, 9, `p9-${String(i)}`)));
    await until(() => ran.length === 6, 5000);
    expect(ran).toEqual(["p9-1", "p9-2", "p9-3", "p1-1", "p1-2", "p1-3"]);
    consumer.stopPulling();
    await settleAll(consumer, store.confirmEvents);
  });

  it("takes no job that comes one by one while finished ones fill the settling limit", async () => {
    const acked: string[] = [];
    const normal = new FakeLane();
    const store = slowEventStore(0, (payload) => Promise.resolve(payload), {
      5: normal,
      9: new FakeLane(),
    });
    const consumer = store.consumerFor({ concurrency: 1, pullExpiresMs: 1000, settlingLimit: 2 });
    consumer.start();
    for (let n = 1; n <= 8; n++) {
      normal.push(workMessage(500 + n, acked, 5, `p5-${String(n)}`));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Every handler returned; no outcome is stored yet: three held, the rest left in the queue.
    expect(consumer.inFlight).toBe(3);
    expect(normal.queue).toHaveLength(5);
    consumer.stopPulling();
    await settleAll(consumer, store.confirmEvents);
    expect(acked).toHaveLength(3);
  });
});
