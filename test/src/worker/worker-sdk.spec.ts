import { setTimeout as sleep } from "node:timers/promises";

import {
  Header,
  JobTypeDescriptor,
  KvBucket,
  newJobId,
  workConsumerName,
  StreamName,
  Subject,
} from "@conveyor/contracts";
import type { JobEvent } from "@conveyor/contracts";
import { JobTypeRegistry } from "@conveyor/job-registry";
import { waitFor } from "@conveyor/testing";
import { ensureWorkConsumer } from "@conveyor/topology";
import {
  DeadReason,
  JobFailure,
  WorkerConfigError,
  defineHandler,
  newestFailedEventCount,
} from "@conveyor/worker-sdk";
import { Kvm } from "@nats-io/kv";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";

import { publishRawHeaders } from "../support/raw-publish.ts";

import { traceId, uniqueType, useWorkFixture } from "./work-fixture.ts";

const kinds = (events: JobEvent[]) => events.map((e) => `${e.kind}@${e.attempt}`);

describe("worker SDK against a real nats-server", () => {
  const fx = useWorkFixture();

  afterEach(async () => {
    await fx.stopWorkers();
  });

  it("registers its types with the payload's JSON Schema and creates their consumers", async () => {
    const type = uniqueType("sleep");
    await fx.worker({
      handlers: {
        [type]: defineHandler({
          schema: z.object({ ms: z.int().min(0).max(600_000) }),
          handler: () => null,
          retry: { maxAttempts: 5 },
          timeoutMs: 5000,
          description: "waits",
        }),
      },
    });
    const kv = await new Kvm(fx.nc).open(KvBucket.JobTypes);
    const descriptor = JobTypeDescriptor.parse((await kv.get(type))!.json());
    expect(descriptor).toMatchObject({
      type,
      description: "waits",
      timeoutMs: 5000,
      retry: { maxAttempts: 5, initialDelayMs: 1000 },
      payloadSchema: { type: "object", properties: { ms: { type: "integer", maximum: 600_000 } } },
    });
    const consumer = await fx.jsm.consumers.info(StreamName.Work, workConsumerName(type));
    expect(consumer.config.ack_wait).toBe(30_000 * 1_000_000);
  });

  it("runs the handler in the job's trace as the active context, so the app's own spans and submissions join it", async () => {
    // An app with an OpenTelemetry SDK has a context manager; its instrumentations and
    // JobClient read the active context.
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    try {
      const type = uniqueType("traced");
      const seen: { active?: string; given?: string } = {};
      await fx.worker({
        handlers: {
          [type]: async (_job, ctx) => {
            await sleep(1);
            seen.active = trace.getSpanContext(context.active())?.traceId;
            seen.given = ctx.traceId;
            return null;
          },
        },
      });
      const item = await fx.enqueue(type, {});
      await fx.eventsUntil(item.id, "succeeded");
      expect(seen.given).toBe(traceId);
      expect(seen.active).toBe(traceId);
    } finally {
      context.disable();
    }
  });

  it("runs a job, publishes succeeded with its start time in the job's trace, and acknowledges it", async () => {
    const type = uniqueType("echo");
    await fx.worker({
      handlers: { [type]: (job) => ({ echoed: job.payload }) },
      workerId: "w-echo",
    });
    const item = await fx.enqueue(type, { hello: "world" });

    const events = await fx.eventsUntil(item.id, "succeeded");
    // Done within the turn it started in: the outcome event is the attempt's only record.
    expect(kinds(events)).toEqual(["succeeded@1"]);
    const [succeeded] = events;
    expect(succeeded).toMatchObject({
      jobId: item.id,
      type,
      run: 1,
      result: { echoed: { hello: "world" } },
      workerId: "w-echo",
      startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
    });
    const startedAt = succeeded?.kind === "succeeded" ? succeeded.startedAt : undefined;
    expect(Date.parse(startedAt!)).toBeLessThanOrEqual(Date.parse(succeeded!.at));
    expect(events.every((e) => e.traceId === traceId)).toBe(true);
    await waitFor(async () => (await fx.workLeft(type)) === 0, { message: "work acknowledged" });
    expect(await fx.ackPending(type)).toBe(0);
  });

  it("runs a job whose work message's headers cannot be read, and the next one", async () => {
    const type = uniqueType("echo");
    await fx.worker({ handlers: { [type]: (job) => ({ echoed: job.payload }) } });
    const item = { id: newJobId(), type, payload: 1, priority: 5, maxAttempts: 3 };
    const workItem = { ...item, timeoutMs: 30_000, submittedAt: new Date().toISOString(), run: 1 };
    // A header name with a space: other clients send it, nats.js throws on reading it.
    await publishRawHeaders(
      fx.server.url,
      `work.${type}`,
      ["bad key: x"],
      JSON.stringify(workItem),
    );
    const next = await fx.enqueue(type, 2);

    expect(kinds(await fx.eventsUntil(item.id, "succeeded"))).toEqual(["succeeded@1"]);
    expect(kinds(await fx.eventsUntil(next.id, "succeeded"))).toEqual(["succeeded@1"]);
    await waitFor(async () => (await fx.workLeft(type)) === 0, { message: "work acknowledged" });
  });

  it("retries a flaky job with the policy's nak delays, then succeeds", async () => {
    const type = uniqueType("flaky");
    const attemptsSeen: number[] = [];
    await fx.worker({
      handlers: {
        [type]: {
          handler: (_job, ctx) => {
            attemptsSeen.push(ctx.attempt);
            if (ctx.attempt < 3) throw new Error(`fail ${ctx.attempt}`);
            return "ok";
          },
          retry: { initialDelayMs: 50, factor: 2 },
        },
      },
    });
    const item = await fx.enqueue(type, null, { maxAttempts: 4 });

    const events = await fx.eventsUntil(item.id, "succeeded");
    expect(attemptsSeen).toEqual([1, 2, 3]);
    expect(kinds(events)).toEqual(["failed@1", "failed@2", "succeeded@3"]);
    const failed = events.filter((e) => e.kind === "failed");
    expect(failed.map((e) => e.retryDelayMs)).toEqual([50, 100]);
    expect(failed[0]!.error.message).toBe("fail 1");
    // The retry waited at least the nak delay.
    const startedAt = failed.map((e) => Date.parse(e.startedAt!));
    expect(startedAt[1]! - startedAt[0]!).toBeGreaterThanOrEqual(50);
    await waitFor(async () => (await fx.workLeft(type)) === 0, { message: "work acknowledged" });
  });

  it("uses a job's own retry delays over its type's policy", async () => {
    const type = uniqueType("flaky");
    await fx.worker({
      handlers: {
        [type]: {
          handler: (_job, ctx) => {
            if (ctx.attempt < 3) throw new Error(`fail ${ctx.attempt}`);
            return "ok";
          },
          retry: { initialDelayMs: 60_000, factor: 2 },
        },
      },
    });
    const item = await fx.enqueue(type, null, {
      maxAttempts: 4,
      retry: { initialDelayMs: 40, factor: 3 },
    });

    const events = await fx.eventsUntil(item.id, "succeeded");
    const failed = events.filter((e) => e.kind === "failed");
    expect(failed.map((e) => e.retryDelayMs)).toEqual([40, 120]);
  });

  it("dead-letters a job whose result is larger than the server takes, instead of retrying it", async () => {
    const type = uniqueType("huge");
    let runs = 0;
    const maxPayload = fx.nc.info?.max_payload ?? 1024 * 1024;
    await fx.worker({
      handlers: {
        [type]: () => {
          runs++;
          return { blob: "x".repeat(maxPayload) };
        },
      },
    });
    const item = await fx.enqueue(type, { n: 1 });

    const events = await fx.eventsUntil(item.id, "dead");
    expect(kinds(events)).toEqual(["dead@1"]);
    expect(events[0]).toMatchObject({
      reason: DeadReason.NonRetryable,
      error: { message: expect.stringContaining("result too large") as unknown },
    });
    const [dead] = await fx.deadLetters(type);
    expect(dead!.letter).toMatchObject({ jobId: item.id, reason: "non_retryable", attempts: 1 });
    expect(await fx.workLeft(type)).toBe(0);
    expect(runs).toBe(1);
  });

  it("dead-letters a non-retryable failure: DLQ first, then the dead event, and the work is gone", async () => {
    const type = uniqueType("fatal");
    let runs = 0;
    await fx.worker({
      handlers: {
        [type]: () => {
          runs++;
          throw JobFailure.nonRetryable("account closed", { cause: new Error("404 from billing") });
        },
      },
    });
    const item = await fx.enqueue(type, { account: 7 });

    const events = await fx.eventsUntil(item.id, "dead");
    expect(kinds(events)).toEqual(["started@1", "dead@1"]);
    expect(events[1]).toMatchObject({
      reason: DeadReason.NonRetryable,
      error: { message: "account closed" },
    });
    const [dead] = await fx.deadLetters(type);
    expect(dead!.letter).toMatchObject({
      jobId: item.id,
      run: 1,
      workItem: item,
      reason: "non_retryable",
      attempts: 1,
      error: { name: "JobFailure", message: "account closed" },
      source: { stream: "WORK", subject: `work.${type}` },
    });
    expect(dead!.letter.error.stack).toContain("404 from billing");
    expect(dead!.msg.headers?.get(Header.JobId)).toBe(item.id);
    expect(dead!.msg.headers?.get(Header.MsgId)).toBe(`${item.id}:1:dead`);
    expect(dead!.msg.headers?.get(Header.TraceParent)).toContain(traceId);
    expect(await fx.workLeft(type)).toBe(0);
    expect(runs).toBe(1);
  });

  it("dead-letters after the last allowed attempt", async () => {
    const type = uniqueType("always-fails");
    await fx.worker({
      handlers: {
        [type]: {
          handler: () => Promise.reject(new Error("still broken")),
          retry: { initialDelayMs: 20 },
        },
      },
    });
    const item = await fx.enqueue(type, null, { maxAttempts: 2 });

    const events = await fx.eventsUntil(item.id, "dead");
    // The dead event carries no start time, so the last attempt's start is published.
    expect(kinds(events)).toEqual(["failed@1", "started@2", "dead@2"]);
    const [dead] = await fx.deadLetters(type);
    expect(dead!.letter).toMatchObject({ reason: "attempts_exhausted", attempts: 2 });
    expect(await fx.workLeft(type)).toBe(0);
  });

  it("dead-letters a payload that fails the schema without running the handler, naming the field", async () => {
    const type = uniqueType("typed");
    let runs = 0;
    await fx.worker({
      handlers: {
        [type]: defineHandler({
          schema: z.object({ ms: z.int().max(1000) }),
          handler: () => {
            runs++;
          },
        }),
      },
    });
    const item = await fx.enqueue(type, { ms: 5000 });

    const events = await fx.eventsUntil(item.id, "dead");
    expect(kinds(events)).toEqual(["dead@1"]);
    expect(events[0]).toMatchObject({ error: { name: "InvalidPayloadError" } });
    expect((events[0] as Extract<JobEvent, { kind: "dead" }>).error.message).toContain(
      "payload.ms",
    );
    expect(runs).toBe(0);
    expect(await fx.workLeft(type)).toBe(0);
  });

  it("retries, instead of dead-lettering, a payload its older declaration refuses while a newer one is in force", async () => {
    // A rolling deploy: version 2 (with `pages`) is registered; this replica still runs version 1.
    const type = uniqueType("versioned");
    const registry = await JobTypeRegistry.open(fx.nc);
    try {
      await registry.register({
        type,
        version: 2,
        payloadSchema: z.toJSONSchema(z.strictObject({ invoiceId: z.string(), pages: z.int() })),
      });
    } finally {
      await registry.close();
    }
    await fx.worker({
      handlers: {
        [type]: defineHandler({
          version: 1,
          schema: z.strictObject({ invoiceId: z.string() }),
          retry: { initialDelayMs: 60_000 },
          handler: () => undefined,
        }),
      },
    });
    const item = await fx.enqueue(type, { invoiceId: "inv-1", pages: 3 });

    const events = await fx.eventsUntil(item.id, "failed");
    expect(kinds(events)).toEqual(["failed@1"]);
    expect(events[0]).toMatchObject({ error: { name: "OutdatedDeclarationError" } });
    // Handed back for a replica with the newer declaration, not dead-lettered.
    expect(await fx.deadLetters(type)).toEqual([]);
    expect(await fx.workLeft(type)).toBe(1);
  });

  it("dead-letters a work message that is not JSON, keeping its text", async () => {
    const type = uniqueType("garbage");
    await fx.worker({ handlers: { [type]: () => null } });
    await fx.enqueueRaw(type, "{not json", "job-garbage");

    const [dead] = await waitFor(async () => {
      const letters = await fx.deadLetters(type);
      return letters.length > 0 ? letters : undefined;
    });
    expect(dead!.letter).toMatchObject({
      jobId: "job-garbage",
      reason: "non_retryable",
      rawPreview: "{not json",
    });
    expect(dead!.letter.workItem).toBeUndefined();
    await waitFor(async () => (await fx.workLeft(type)) === 0, { message: "work terminated" });
  });

  it("dead-letters a work message carrying any header nats.js reads, an empty name included", async () => {
    // A client may publish to WORK directly; the letter keeps its headers for a faithful replay.
    const type = uniqueType("odd-headers");
    await fx.worker({ handlers: { [type]: () => null } });
    const odd = [
      ["", "no name"],
      ["X-Custom", "kept"],
    ] as const;
    await fx.enqueueRaw(type, "{not json", "job-odd-headers", odd);

    const [dead] = await waitFor(async () => {
      const letters = await fx.deadLetters(type);
      return letters.length > 0 ? letters : undefined;
    });
    expect(dead!.letter).toMatchObject({ jobId: "job-odd-headers", reason: "non_retryable" });
    expect(dead!.msg.headers?.get("X-Custom")).toBe("kept");
    expect(dead!.msg.headers?.get("")).toBe("no name");
    await waitFor(async () => (await fx.workLeft(type)) === 0, { message: "work terminated" });
  });

  it("publishes progress events in order", async () => {
    const type = uniqueType("steps");
    await fx.worker({
      handlers: {
        [type]: async (_job, ctx) => {
          for (let i = 1; i <= 5; i++) await ctx.progress(i, 5, `step ${i}`);
          return "done";
        },
      },
    });
    const item = await fx.enqueue(type, null);

    const events = await fx.eventsUntil(item.id, "succeeded");
    const progress = events.filter((e) => e.kind === "progress");
    expect(progress.map((e) => [e.seq, e.done, e.total, e.message])).toEqual([
      [0, 1, 5, "step 1"],
      [1, 2, 5, "step 2"],
      [2, 3, 5, "step 3"],
      [3, 4, 5, "step 4"],
      [4, 5, 5, "step 5"],
    ]);
  });

  it("never runs more handlers of a type at once than its concurrency", async () => {
    const type = uniqueType("bounded");
    let running = 0;
    let maxRunning = 0;
    await fx.worker({
      handlers: {
        [type]: {
          concurrency: 2,
          handler: async () => {
            running++;
            maxRunning = Math.max(maxRunning, running);
            await sleep(100);
            running--;
          },
        },
      },
    });
    const items = await Promise.all(Array.from({ length: 7 }, () => fx.enqueue(type, null)));

    await waitFor(async () => (await fx.workLeft(type)) === 0, {
      timeoutMs: 15_000,
      message: "all done",
    });
    expect(maxRunning).toBe(2);
    for (const item of items)
      expect(kinds(await fx.events(item.id))).toEqual(["started@1", "succeeded@1"]);
  });

  it("refills a slot freed next to long-running handlers without waiting for more to free", async () => {
    const type = uniqueType("mixed");
    const release = Promise.withResolvers<undefined>();
    await fx.worker({
      handlers: {
        [type]: {
          concurrency: 8,
          handler: async (job) => {
            if ((job.payload as { long: boolean }).long) await release.promise;
            return null;
          },
        },
      },
    });
    try {
      await Promise.all(Array.from({ length: 7 }, () => fx.enqueue(type, { long: true })));
      const short = await fx.enqueue(type, { long: false });
      await fx.eventsUntil(short.id, "succeeded");

      // Seven of eight slots stay busy until the release: the one free slot is pulled for alone.
      const next = await fx.enqueue(type, { long: false });
      expect(kinds(await fx.eventsUntil(next.id, "succeeded"))).toEqual(["succeeded@1"]);
    } finally {
      release.resolve(undefined);
    }
  });

  it("aborts a handler that exceeds the job's timeout and retries it", async () => {
    const type = uniqueType("slow");
    const aborted: string[] = [];
    await fx.worker({
      handlers: {
        [type]: {
          retry: { initialDelayMs: 20 },
          handler: async (_job, ctx) => {
            if (ctx.attempt > 1) return "fast enough";
            try {
              await sleep(60_000, undefined, { signal: ctx.signal });
            } catch (err) {
              aborted.push((ctx.signal.reason as Error).name);
              throw err;
            }
            return "never";
          },
        },
      },
    });
    const item = await fx.enqueue(type, null, { timeoutMs: 100 });

    const events = await fx.eventsUntil(item.id, "succeeded");
    // The first attempt ran past its turn, so its start was published; the second did not.
    expect(kinds(events)).toEqual(["started@1", "failed@1", "succeeded@2"]);
    expect(events[1]).toMatchObject({ error: { name: "JobTimeoutError" } });
    expect(aborted).toEqual(["JobTimeoutError"]);
  });

  it("keeps the lease of a handler that runs longer than ack_wait", async () => {
    const type = uniqueType("long");
    let runs = 0;
    await fx.worker({
      ackWaitMs: 1000,
      handlers: {
        [type]: async () => {
          runs++;
          await sleep(2500);
          return "done";
        },
      },
    });
    const item = await fx.enqueue(type, null);

    const events = await fx.eventsUntil(item.id, "succeeded");
    expect(kinds(events)).toEqual(["started@1", "succeeded@1"]);
    expect(runs).toBe(1);
  });

  it("never shortens the lease in force, which replicas renewing less often rely on", async () => {
    // A rolling deploy: replicas renewing every 20 s (a 60 s lease) still run jobs of the type
    // when one with a 15 s lease starts; shortening the shared consumer's ack_wait would hand
    // their running jobs to another replica.
    const type = uniqueType("lease");
    await ensureWorkConsumer(fx.jsm, type, { ackWaitMs: 60_000 });
    const handlers = { [type]: () => null };
    await fx.worker({ ackWaitMs: 15_000, handlers });
    const ackWait = async () =>
      (await fx.jsm.consumers.info(StreamName.Work, workConsumerName(type))).config.ack_wait;
    expect(await ackWait()).toBe(60_000 * 1_000_000);

    // A longer one is safe for the replicas renewing more often, and is taken.
    await fx.worker({ ackWaitMs: 90_000, handlers });
    expect(await ackWait()).toBe(90_000 * 1_000_000);
  });

  it("dead-letters without running a delivery beyond maxAttempts (a crash loop)", async () => {
    const type = uniqueType("crashy");
    await ensureWorkConsumer(fx.jsm, type);
    const item = await fx.enqueue(type, null, { maxAttempts: 1 });
    // A worker that took the job and died: the delivery is spent without an outcome.
    const consumer = await fx.js.consumers.get(StreamName.Work, workConsumerName(type));
    const taken = await consumer.next({ expires: 2000 });
    expect(taken?.info.deliveryCount).toBe(1);
    taken!.nak();

    let runs = 0;
    await fx.worker({
      handlers: {
        [type]: () => {
          runs++;
        },
      },
    });
    const events = await fx.eventsUntil(item.id, "dead");
    expect(kinds(events)).toEqual(["dead@2"]);
    const [dead] = await fx.deadLetters(type);
    expect(dead!.letter).toMatchObject({ reason: DeadReason.DeliveriesExceeded, attempts: 2 });
    expect(runs).toBe(0);
    expect(await fx.workLeft(type)).toBe(0);
  });

  it("on stop returns an unfinished job to the queue, and another worker completes it", async () => {
    const type = uniqueType("drain");
    const first = await fx.worker({
      handlers: {
        [type]: async (_job, ctx) => {
          await sleep(60_000, undefined, { signal: ctx.signal });
        },
      },
    });
    const item = await fx.enqueue(type, null, { maxAttempts: 3 });
    await fx.eventsUntil(item.id, "started");

    await first.stop({ graceMs: 100 });
    const afterStop = await fx.eventsUntil(item.id, "failed");
    expect(afterStop.find((e) => e.kind === "failed")).toMatchObject({
      attempt: 1,
      retryDelayMs: 0,
      error: { name: "WorkerStoppedError" },
    });
    expect(await fx.workLeft(type)).toBe(1);

    await fx.worker({ handlers: { [type]: () => "finished by the second worker" } });
    const events = await fx.eventsUntil(item.id, "succeeded");
    expect(events.find((e) => e.kind === "succeeded")).toMatchObject({
      attempt: 2,
      result: "finished by the second worker",
    });
    await waitFor(async () => (await fx.workLeft(type)) === 0, { message: "work acknowledged" });
  });

  it("on stop returns a job on its last attempt without counting it, and it runs again", async () => {
    const type = uniqueType("deploy");
    const first = await fx.worker({
      handlers: {
        [type]: async (_job, ctx) => {
          await sleep(60_000, undefined, { signal: ctx.signal });
        },
      },
    });
    // Two attempts: the first cut short by the stop, then two failures use them up.
    const item = await fx.enqueue(type, null, { maxAttempts: 2 });
    await fx.eventsUntil(item.id, "started");
    await first.stop({ graceMs: 100 });
    const stopped = (await fx.eventsUntil(item.id, "failed")).find((e) => e.kind === "failed");
    expect(stopped).toMatchObject({ attempt: 1, retryDelayMs: 0, uncounted: 1 });
    expect(await fx.deadLetters(type)).toEqual([]);

    let runs = 0;
    await fx.worker({
      handlers: {
        [type]: () => {
          runs++;
          throw JobFailure.retryable("downstream refused", { delayMs: 10 });
        },
      },
    });
    const events = await fx.eventsUntil(item.id, "dead");
    expect(kinds(events.filter((e) => e.kind !== "started"))).toEqual([
      "failed@1",
      "failed@2",
      "dead@3",
    ]);
    expect(events.find((e) => e.kind === "failed" && e.attempt === 2)).toMatchObject({
      uncounted: 1,
    });
    expect(runs).toBe(2);
    const [dead] = await fx.deadLetters(type);
    expect(dead!.letter).toMatchObject({ reason: DeadReason.AttemptsExhausted });
  });

  it("reads the deliveries cut short from the newest failed event of the same run only", async () => {
    const read = newestFailedEventCount(fx.jsm);
    const jobId = newJobId();
    const none = { uncounted: 0, unstarted: 0 };
    expect(await read(jobId, 1)).toEqual(none);
    const failed = (run: number, uncounted?: number, unstarted?: number) => ({
      kind: "failed",
      jobId,
      type: "echo",
      run,
      attempt: 1,
      at: new Date().toISOString(),
      error: { message: "stopped" },
      durationMs: 1,
      workerId: "w-1",
      retryDelayMs: 0,
      ...(uncounted === undefined ? {} : { uncounted }),
      ...(unstarted === undefined ? {} : { unstarted }),
    });
    const store = (body: string) => fx.js.publish(Subject.event(jobId, "failed"), body);
    await store(JSON.stringify(failed(1, 2, 1)));
    expect(await read(jobId, 1)).toEqual({ uncounted: 2, unstarted: 1 });
    // A replay's run starts counting anew.
    expect(await read(jobId, 2)).toEqual(none);
    await store(JSON.stringify(failed(2)));
    expect(await read(jobId, 2)).toEqual(none);
    await store("not an event");
    expect(await read(jobId, 2)).toEqual(none);
  });

  it("on stop lets a handler finish within the grace period", async () => {
    const type = uniqueType("graceful");
    const worker = await fx.worker({
      handlers: {
        [type]: async () => {
          await sleep(300);
          return "finished";
        },
      },
    });
    const item = await fx.enqueue(type, null);
    await fx.eventsUntil(item.id, "started");

    // A grace period that is no number of milliseconds is refused, and stops nothing.
    const notMs = "5000" as unknown as number;
    await expect(worker.stop({ graceMs: notMs })).rejects.toThrow(WorkerConfigError);
    await expect(worker.stop({ graceMs: Number.NaN })).rejects.toThrow(/graceMs/);
    await worker.stop({ graceMs: 5000 });
    expect(kinds(await fx.events(item.id))).toEqual(["started@1", "succeeded@1"]);
    expect(await fx.workLeft(type)).toBe(0);
  });
});
