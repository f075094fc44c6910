import { defaultRetryPolicy } from "@conveyor/contracts";
import type { WorkItem } from "@conveyor/contracts";
import { createLogger } from "@conveyor/service-kit";
import { Tracing } from "@conveyor/telemetry";
import type { JsMsg } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";

import { Delivery } from "./delivery.ts";
import { JobCancelledError, WorkerStoppedError } from "./errors.ts";
import type { LifecyclePublisher } from "./event-publisher.ts";
import type { JobContext } from "./handler.ts";
import type { AttemptReport } from "./options.ts";

const item: WorkItem = {
  id: "job-1",
  type: "echo",
  payload: {},
  priority: 5,
  maxAttempts: 3,
  timeoutMs: 10_000,
  submittedAt: "2026-01-01T00:00:00.000Z",
  run: 1,
};

interface DeliveryOptions {
  handle: (job: unknown, ctx: JobContext) => Promise<unknown>;
  /** The work item's timeout, in milliseconds. */
  timeoutMs?: number;
  schema?: z.ZodType;
  event?: LifecyclePublisher["event"];
  heartbeatMs?: number;
  onAttemptEnd?: (report: AttemptReport) => void;
  tracing?: Tracing;
  /** What renewing the lease does besides being recorded (e.g. throw, as on a closed connection). */
  onWorking?: () => void;
  /** What acknowledging does besides being recorded. */
  onAck?: () => void;
  /** What handing the job back does besides being recorded. */
  onNak?: () => void;
  /** The message's body instead of the work item's JSON. */
  body?: string;
  /** The message's `Conveyor-Job-Id` header instead of the work item's id. */
  headerJobId?: string;
  deadLetter?: LifecyclePublisher["deadLetter"];
  /** The `version` of this worker's declaration of the type. */
  version?: number;
  /** The `version` of the type's declaration in force. */
  versionInForce?: number;
  /** The message's delivery count. @default 1 */
  deliveryCount?: number;
  uncountedDeliveries?: (
    jobId: string,
    run: number,
  ) => Promise<{ uncounted: number; unstarted: number }>;
  rateLimiter?: { take: (signal: AbortSignal) => Promise<void> };
}

/** A delivery of `item` whose message and publisher record what is done to them in `steps`. */
function deliver(options: DeliveryOptions): {
  delivery: Delivery;
  steps: string[];
  renewedAt: number[];
} {
  const steps: string[] = [];
  /** When each lease renewal (`working()`) was sent, by `Date.now()`. */
  const renewedAt: number[] = [];
  const msgHeaders = natsHeaders();
  msgHeaders.set("Conveyor-Job-Id", options.headerJobId ?? item.id);
  const msg = {
    subject: "work.echo",
    seq: 1,
    data: new TextEncoder().encode(
      options.body ?? JSON.stringify({ ...item, timeoutMs: options.timeoutMs ?? item.timeoutMs }),
    ),
    headers: msgHeaders,
    info: { deliveryCount: options.deliveryCount ?? 1 },
    ack: () => {
      steps.push("ack");
      options.onAck?.();
    },
    nak: () => {
      steps.push("nak");
      options.onNak?.();
    },
    term: () => steps.push("term"),
    working: () => {
      steps.push("working");
      renewedAt.push(Date.now());
      options.onWorking?.();
    },
  } as unknown as JsMsg;
  const publisher: LifecyclePublisher = {
    event: options.event ?? (() => Promise.resolve()),
    deadLetter: options.deadLetter ?? (() => Promise.resolve()),
    withdrawableEvent: () => ({ stored: Promise.resolve(), withdraw: () => true }),
    send: (reply) => {
      reply();
    },
  };
  const delivery = new Delivery(msg, {
    settings: {
      type: "echo",
      handle: (job, ctx) => {
        steps.push("handled");
        return options.handle(job, ctx);
      },
      schema: options.schema,
      payloadSchema: undefined,
      retryOverrides: undefined,
      retry: defaultRetryPolicy,
      timeoutMs: undefined,
      version: options.version,
      concurrency: 1,
      description: undefined,
      rateLimit: undefined,
    },
    publisher,
    tracing: options.tracing ?? Tracing.create({ serviceName: "test" }),
    logger: createLogger("test", "silent"),
    workerId: "w-1",
    heartbeatMs: options.heartbeatMs ?? 1000,
    progressIntervalMs: 1000,
    cancellations: { find: () => undefined, subscribe: () => () => undefined },
    versionInForce: () => options.versionInForce,
    onAttemptEnd: options.onAttemptEnd,
    outcomeRetryDelaysMs: [1, 1, 1],
    uncountedDeliveries: options.uncountedDeliveries,
    rateLimiter: options.rateLimiter,
  });
  return { delivery, steps, renewedAt };
}

describe("Delivery", () => {
  it("does not count the deliveries of the run that a stop cut short against maxAttempts", async () => {
    const events: { kind: string; attempt: number; uncounted?: number }[] = [];
    const event: LifecyclePublisher["event"] = (e) => {
      events.push(e);
      return Promise.resolve();
    };
    const asked: [string, number][] = [];
    // Delivered a fourth time with three attempts allowed: one delivery before was cut short.
    const resumed = deliver({
      handle: () => Promise.reject(new Error("still failing")),
      deliveryCount: 4,
      event,
      uncountedDeliveries: (jobId, run) => {
        asked.push([jobId, run]);
        return Promise.resolve({ uncounted: 1, unstarted: 0 });
      },
    });
    await resumed.delivery.process();
    expect(asked).toEqual([["job-1", 1]]);
    // It ran, as its third attempt; failing, it died: its attempts are used up.
    expect(resumed.steps).toEqual(["handled", "term"]);
    expect(events.map((e) => e.kind)).toEqual(["dead"]);

    // Without the stop's record every delivery counts: the fourth is one too many.
    const counted = deliver({
      handle: () => Promise.resolve("never"),
      deliveryCount: 4,
      uncountedDeliveries: () => Promise.reject(new Error("EVENTS did not answer")),
    });
    await counted.delivery.process();
    expect(counted.steps).not.toContain("handled");
    expect(counted.steps.at(-1)).toBe("term");

    // A failure carries the count on for the next delivery; a first delivery asks nothing.
    events.length = 0;
    const failing = deliver({
      handle: () => Promise.reject(new Error("boom")),
      deliveryCount: 2,
      event,
      uncountedDeliveries: () => Promise.resolve({ uncounted: 1, unstarted: 0 }),
    });
    await failing.delivery.process();
    expect(events.at(-1)).toMatchObject({ kind: "failed", attempt: 2, uncounted: 1 });
    let reads = 0;
    const first = deliver({
      handle: () => Promise.resolve("done"),
      uncountedDeliveries: () => {
        reads++;
        return Promise.resolve({ uncounted: 0, unstarted: 0 });
      },
    });
    await first.delivery.process();
    expect(first.steps.at(-1)).toBe("ack");
    expect(reads).toBe(0);
  });

  it("forgives at most maxAttempts stops, and never more than the deliveries before", async () => {
    // Seven deliveries, six of them stopped, three attempts: four counted, one too many.
    const stoppedOften = deliver({
      handle: () => Promise.resolve("never"),
      deliveryCount: 7,
      uncountedDeliveries: () => Promise.resolve({ uncounted: 6, unstarted: 0 }),
    });
    await stoppedOften.delivery.process();
    expect(stoppedOften.steps).not.toContain("handled");
    expect(stoppedOften.steps.at(-1)).toBe("term");

    // A count above the deliveries before (an event of a consumer since re-created) is cut to them.
    const events: { kind: string; uncounted?: number }[] = [];
    const overstated = deliver({
      handle: () => Promise.reject(new Error("boom")),
      deliveryCount: 2,
      uncountedDeliveries: () => Promise.resolve({ uncounted: 9, unstarted: 0 }),
      event: (e) => {
        events.push(e);
        return Promise.resolve();
      },
    });
    await overstated.delivery.process();
    expect(events.at(-1)).toMatchObject({ kind: "failed", uncounted: 1 });

    // Stops before the handler started (waiting for a rate limit) are all forgiven.
    const waitedOften = deliver({
      handle: () => Promise.resolve("ran at last"),
      deliveryCount: 7,
      uncountedDeliveries: () => Promise.resolve({ uncounted: 6, unstarted: 6 }),
    });
    await waitedOften.delivery.process();
    expect(waitedOften.steps.filter((step) => step !== "working")).toEqual(["handled", "ack"]);
  });

  it("does not count a rate limit's wait in the attempt's timeout, an async payload check's included", async () => {
    const checked = z.unknown().refine(async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      return true;
    });
    const slowStart = (signal: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, 400);
        signal.addEventListener("abort", () => {
          clearTimeout(timer);
          reject(signal.reason as Error);
        });
      });
    const { delivery, steps } = deliver({
      handle: () =>
        new Promise((resolve) =>
          setTimeout(() => {
            resolve("in time");
          }, 50),
        ),
      schema: checked,
      timeoutMs: 200,
      rateLimiter: { take: slowStart },
    });
    await delivery.process();
    expect(steps.filter((step) => step !== "working")).toEqual(["handled", "ack"]);
  });

  it("returns a job waiting for its rate limit at once when the worker stops, or one coming to it", async () => {
    const never = (signal: AbortSignal) =>
      new Promise<void>((_, reject) => {
        signal.addEventListener("abort", () => {
          reject(signal.reason as Error);
        });
      });
    const events: { kind: string; uncounted?: number; unstarted?: number }[] = [];
    const event: LifecyclePublisher["event"] = (e) => {
      events.push(e);
      return Promise.resolve();
    };
    const waiting = deliver({
      handle: () => Promise.resolve("never"),
      rateLimiter: { take: never },
      event,
    });
    const processing = waiting.delivery.process();
    await new Promise((resolve) => setTimeout(resolve, 20));
    waiting.delivery.startNoMore();
    await processing;
    expect(waiting.steps.filter((step) => step !== "working")).toEqual(["nak"]);
    expect(events).toEqual([
      expect.objectContaining({ kind: "failed", uncounted: 1, unstarted: 1 }),
    ]);

    // Stopped between its start's count and its handler: returned all the same, as not started.
    events.length = 0;
    const counting: { delivery?: Delivery } = {};
    const countedThenStopped = deliver({
      handle: () => Promise.resolve("never"),
      event,
      rateLimiter: {
        take: () =>
          Promise.resolve().then(() => {
            counting.delivery?.startNoMore();
          }),
      },
    });
    counting.delivery = countedThenStopped.delivery;
    await countedThenStopped.delivery.process();
    expect(countedThenStopped.steps.filter((step) => step !== "working")).toEqual(["nak"]);
    expect(events).toEqual([
      expect.objectContaining({ kind: "failed", uncounted: 1, unstarted: 1 }),
    ]);

    const late = deliver({ handle: () => Promise.resolve("never"), rateLimiter: { take: never } });
    late.delivery.startNoMore();
    await late.delivery.process();
    expect(late.steps.filter((step) => step !== "working")).toEqual(["nak"]);
  });

  it("starts a rate-limited job once its start is counted, and ends its wait on a stop or a cancel", async () => {
    let let_go: () => void = () => undefined;
    const waiting = (signal: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        let_go = resolve;
        signal.addEventListener("abort", () => {
          reject(signal.reason as Error);
        });
      });
    const reports: AttemptReport[] = [];
    const counted = deliver({
      handle: () => Promise.resolve("done"),
      rateLimiter: { take: waiting },
      onAttemptEnd: (report) => reports.push(report),
    });
    const processing = counted.delivery.process();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(counted.steps).not.toContain("handled");
    let_go();
    await processing;
    expect(counted.steps.filter((step) => step !== "working")).toEqual(["handled", "ack"]);
    // The wait is told apart from the handler's run.
    expect(reports[0]?.rateLimitedMs).toBeGreaterThanOrEqual(45);
    expect(reports[0]?.durationMs).toBeLessThan(45);

    const events: { kind: string; uncounted?: number }[] = [];
    const stopped = deliver({
      handle: () => Promise.resolve("never"),
      rateLimiter: { take: waiting },
      event: (e) => {
        events.push(e);
        return Promise.resolve();
      },
    });
    const stopping = stopped.delivery.process();
    await new Promise((resolve) => setTimeout(resolve, 20));
    stopped.delivery.interrupt();
    await stopping;
    // Back to the queue at once, the wait not counted as an attempt.
    expect(stopped.steps.filter((step) => step !== "working")).toEqual(["nak"]);
    expect(events).toEqual([expect.objectContaining({ kind: "failed", uncounted: 1 })]);

    const cancelled = deliver({
      handle: () => Promise.resolve("never"),
      rateLimiter: { take: waiting },
    });
    const cancelling = cancelled.delivery.process();
    await new Promise((resolve) => setTimeout(resolve, 20));
    cancelled.delivery.cancel({
      reason: "not needed",
      requestedAt: "2026-01-01T00:00:00.000Z",
    } as never);
    await cancelling;
    expect(cancelled.steps.filter((step) => step !== "working")).toEqual(["ack"]);
  });

  it("keeps the job's lease while its outcome is being stored, until it acknowledges", async () => {
    const heartbeatMs = 20;
    const storingMs = 300;
    // A slow stream: the outcome's event is stored long after the handler returned.
    const { delivery, steps } = deliver({
      handle: () => Promise.resolve("done"),
      event: () => new Promise((resolve) => setTimeout(resolve, storingMs)),
      heartbeatMs,
    });

    await delivery.process();

    const settling = steps.slice(steps.indexOf("handled") + 1, steps.indexOf("ack"));
    // About storingMs / heartbeatMs renewals; a timer may run late, so fewer are allowed.
    expect(settling.filter((step) => step === "working").length).toBeGreaterThanOrEqual(5);
    expect(steps.at(-1)).toBe("ack");
    // None after the acknowledgement: the renewals stop with the delivery.
    const after = steps.length;
    await new Promise((resolve) => setTimeout(resolve, 5 * heartbeatMs));
    expect(steps.length).toBe(after);
  });

  it("renews the lease every heartbeatMs from delivery to acknowledgement, with no gap as the handler ends", async () => {
    vi.useFakeTimers({
      toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"],
    });
    try {
      const heartbeatMs = 20;
      // The handler ends between two renewals; its outcome takes a while to store.
      const { delivery, steps, renewedAt } = deliver({
        handle: () =>
          new Promise((resolve) => {
            setTimeout(() => {
              resolve("done");
            }, 30);
          }),
        event: () => new Promise((resolve) => setTimeout(resolve, 45)),
        heartbeatMs,
      });
      const started = Date.now();
      const processed = delivery.process();
      await vi.advanceTimersByTimeAsync(200);
      await processed;

      expect(steps.at(-1)).toBe("ack");
      const times = [started, ...renewedAt];
      const gaps = renewedAt.map((at, i) => at - (times[i] ?? started));
      expect(gaps.length).toBeGreaterThanOrEqual(3);
      expect(Math.max(...gaps)).toBeLessThanOrEqual(heartbeatMs);
    } finally {
      vi.useRealTimers();
    }
  });

  it("reports a settled attempt with its outcome and how long the handler ran", async () => {
    const reports: AttemptReport[] = [];
    const { delivery } = deliver({
      handle: () =>
        new Promise((resolve) => {
          setTimeout(() => {
            resolve("done");
          }, 30);
        }),
      onAttemptEnd: (report) => reports.push(report),
    });

    await delivery.process();

    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ type: "echo", outcome: "succeeded", rateLimitedMs: 0 });
    expect(reports[0]?.durationMs).toBeGreaterThanOrEqual(25);
  });

  it("gives up a payload's async check that never settles when the worker stops, as it would a handler", async () => {
    const reports: AttemptReport[] = [];
    const { delivery, steps } = deliver({
      handle: () => Promise.resolve("done"),
      schema: z.unknown().refine(() => new Promise<boolean>(() => undefined)),
      onAttemptEnd: (report) => reports.push(report),
    });
    const processed = delivery.process();
    await new Promise((resolve) => setTimeout(resolve, 20));
    delivery.interrupt();
    await processed;

    expect(steps.filter((step) => step !== "working")).toEqual(["nak"]);
    expect(reports.map((report) => report.outcome)).toEqual(["retry"]);
  });

  it("bounds a payload's async check and the handler by one timeout together", async () => {
    const reports: AttemptReport[] = [];
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const { delivery, steps } = deliver({
      timeoutMs: 300,
      schema: z.unknown().refine(async () => {
        await sleep(250);
        return true;
      }),
      handle: () => sleep(250),
      onAttemptEnd: (report) => reports.push(report),
    });
    const started = Date.now();
    await delivery.process();

    // 250 ms of checking and 250 of handling exceed the attempt's 300 ms.
    expect(reports.map((report) => report.outcome)).toEqual(["retry"]);
    expect(steps.filter((step) => step !== "working")).toEqual(["handled", "nak"]);
    expect(Date.now() - started).toBeLessThan(450);
  });

  it("does not hold a handler that awaits its progress until the stream stores it", async () => {
    const reports: AttemptReport[] = [];
    // A slow stream: each event is stored 1.5 s after it is sent.
    const { delivery } = deliver({
      timeoutMs: 1000,
      event: () => new Promise((resolve) => setTimeout(resolve, 1500)),
      handle: async (_job, ctx) => {
        for (let page = 1; page <= 3; page++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          await ctx.progress(page, 3);
        }
        return "done";
      },
      onAttemptEnd: (report) => reports.push(report),
    });
    await delivery.process();

    expect(reports.map((report) => report.outcome)).toEqual(["succeeded"]);
    expect(reports[0]?.durationMs).toBeLessThan(500);
  });

  it("cancels a job cancelled while its payload's async check runs, whatever the check finds", async () => {
    for (const valid of [true, false]) {
      const reports: AttemptReport[] = [];
      const checking = Promise.withResolvers<boolean>();
      const { delivery, steps } = deliver({
        handle: () => Promise.resolve("done"),
        schema: z.unknown().refine(() => checking.promise),
        onAttemptEnd: (report) => reports.push(report),
      });
      const processed = delivery.process();
      await new Promise((resolve) => setTimeout(resolve, 10));
      delivery.cancel({ run: 1, reason: "not needed", requestedAt: new Date().toISOString() });
      checking.resolve(valid);
      await processed;

      // Never dead-lettered as an invalid payload, and no handler started after the cancel.
      expect(
        reports.map((report) => report.outcome),
        `valid: ${String(valid)}`,
      ).toEqual(["cancelled"]);
      expect(steps.filter((step) => step !== "working")).toEqual(["ack"]);
    }
  });

  it("marks the attempt's span failed when the job dies or is retried without its handler throwing", async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = Tracing.create({
      serviceName: "test",
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    // A payload its schema refuses: dead-lettered, no handler run.
    const { delivery } = deliver({
      handle: () => Promise.resolve("done"),
      schema: z.object({ ms: z.number() }),
      tracing,
    });
    await delivery.process();
    const attempt = exporter.getFinishedSpans().find((span) => span.name === "process work.echo");
    expect(attempt?.status.code).toBe(SpanStatusCode.ERROR);
    expect(attempt?.status.message).toMatch(/^dead: /);
  });

  it("reports an outcome that could not be recorded as unrecorded", async () => {
    const reports: AttemptReport[] = [];
    const { delivery, steps } = deliver({
      handle: () => Promise.resolve("done"),
      event: () => Promise.reject(new Error("stream unavailable")),
      onAttemptEnd: (report) => reports.push(report),
    });

    await delivery.process();

    expect(steps.filter((step) => step !== "working")).toEqual(["handled", "nak"]);
    expect(reports.map((r) => r.outcome)).toEqual(["unrecorded"]);
  });

  it("acknowledges the job even when the report throws", async () => {
    const { delivery, steps } = deliver({
      handle: () => Promise.resolve("done"),
      onAttemptEnd: () => {
        throw new Error("metrics broken");
      },
    });

    await delivery.process();

    expect(steps.filter((step) => step !== "working")).toEqual(["handled", "ack"]);
  });

  it("keeps running and settles a job whose lease can no longer be renewed, renewing no more", async () => {
    const heartbeatMs = 10;
    // nats.js throws from working() once the connection is closed or draining.
    const { delivery, steps } = deliver({
      handle: () => new Promise((resolve) => setTimeout(resolve, 100, "done")),
      heartbeatMs,
      onWorking: () => {
        throw Object.assign(new Error("closed connection"), { name: "ClosedConnectionError" });
      },
    });

    await delivery.process();

    expect(steps.filter((step) => step === "working")).toEqual(["working"]);
    expect(steps.at(-1)).toBe("ack");
  });

  it("never rejects, even when handing the job back after an unexpected failure throws", async () => {
    const closed = () => {
      throw Object.assign(new Error("closed connection"), { name: "ClosedConnectionError" });
    };
    const { delivery, steps } = deliver({
      handle: () => Promise.resolve("done"),
      onAck: closed,
      onNak: closed,
    });

    await expect(delivery.process()).resolves.toBeUndefined();
    expect(steps.filter((step) => step !== "working")).toEqual(["handled", "ack", "nak"]);
  });

  it.each([
    ["a cancel", () => new JobCancelledError("job A was cancelled", new Date(0).toISOString())],
    ["a stop", () => new WorkerStoppedError()],
  ])(
    "retries by its policy a job whose handler throws %s that is not this attempt's own",
    async (_what, error) => {
      const events: { kind: string; retryDelayMs?: number; error?: { name: string } }[] = [];
      // Work shared with another job rejects with that job's cancel or stop.
      const { delivery, steps } = deliver({
        handle: () => Promise.reject(error()),
        event: (event) => {
          events.push(event as (typeof events)[number]);
          return Promise.resolve();
        },
      });

      await delivery.process();

      expect(steps.filter((step) => step !== "working")).toEqual(["handled", "nak"]);
      expect(events).toMatchObject([
        {
          kind: "failed",
          retryDelayMs: defaultRetryPolicy.initialDelayMs,
          error: { name: error().name },
        },
      ]);
    },
  );

  it("dead-letters an unreadable work item under its header's job id only when that is a job id", async () => {
    const letters: { jobId?: string }[] = [];
    const events: { jobId: string }[] = [];
    const { delivery, steps } = deliver({
      handle: () => Promise.resolve("done"),
      body: "{not json",
      headerJobId: "other job.with spaces",
      deadLetter: (letter) => {
        letters.push(letter);
        return Promise.resolve();
      },
      event: (event) => {
        events.push(event);
        return Promise.resolve();
      },
    });

    await delivery.process();

    expect(letters).toHaveLength(1);
    expect(letters[0]?.jobId).toBeUndefined();
    // No job to tell about: the dead letter alone records it.
    expect(events).toEqual([]);
    expect(steps.filter((step) => step !== "working")).toEqual(["term"]);
  });

  it.each([
    ["retries", 2, ["nak"], "failed"],
    ["dead-letters", 1, ["term"], "dead"],
  ])(
    "%s a payload its declaration (version 1) refuses when version %i is in force",
    async (_what, versionInForce, settled, kind) => {
      const events: { kind: string; error?: { name: string } }[] = [];
      // The declaration in force accepts `pages`; this worker's older one does not.
      const { delivery, steps } = deliver({
        handle: () => Promise.resolve("done"),
        schema: z.strictObject({}),
        version: 1,
        versionInForce,
        body: JSON.stringify({ ...item, payload: { pages: 3 } }),
        event: (event) => {
          events.push(event as (typeof events)[number]);
          return Promise.resolve();
        },
      });

      await delivery.process();

      expect(steps.filter((step) => step !== "working")).toEqual(settled);
      expect(events.map((event) => event.kind)).toEqual([kind]);
      if (kind === "failed") expect(events[0]?.error?.name).toBe("OutdatedDeclarationError");
    },
  );

  it("lets a handler's own lease renewal fail on a closed connection without failing the job", async () => {
    const { delivery, steps } = deliver({
      handle: (_job, ctx) => {
        ctx.heartbeat();
        return Promise.resolve("done");
      },
      onWorking: () => {
        throw Object.assign(new Error("closed connection"), { name: "ClosedConnectionError" });
      },
    });

    await delivery.process();

    expect(steps.filter((step) => step !== "working")).toEqual(["handled", "ack"]);
  });
});
