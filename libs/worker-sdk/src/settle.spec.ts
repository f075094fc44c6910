import type { DeadLetter, JobEvent, WorkItem } from "@conveyor/contracts";
import { createLogger } from "@conveyor/service-kit";
import { Tracing } from "@conveyor/telemetry";
import type { JsMsg } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

import { MessageTooLargeError } from "./errors.ts";
import type { LifecyclePublisher } from "./event-publisher.ts";
import { DeadReason } from "./outcome.ts";
import type { Outcome } from "./outcome.ts";
import { settle, unrecordedRetryDelayMs } from "./settle.ts";
import type { DeliveryRecord } from "./settle.ts";

const item: WorkItem = {
  id: "job-1",
  type: "echo",
  payload: { hello: "world" },
  priority: 5,
  maxAttempts: 3,
  timeoutMs: 1000,
  submittedAt: "2026-01-01T00:00:00.000Z",
  run: 1,
};

/** Records, in order, what was published and how the message was acknowledged. */
function harness(
  options: {
    failOn?: "event" | "deadLetter";
    failWith?: Error;
    eventFailures?: number;
    letterFailures?: number;
  } = {},
) {
  let eventFailuresLeft = options.eventFailures ?? 0;
  let letterFailuresLeft = options.letterFailures ?? 0;
  /** Every dead letter publish tried. */
  const letterTries: string[] = [];
  const steps: string[] = [];
  /** Every event publish tried, stored or not. */
  const tries: string[] = [];
  const events: JobEvent[] = [];
  const letters: DeadLetter[] = [];
  const failure = () => Promise.reject(options.failWith ?? new Error("jetstream unavailable"));
  const publisher: LifecyclePublisher = {
    event: (event) => {
      tries.push(event.kind);
      if (options.failOn === "event") return failure();
      if (eventFailuresLeft > 0) {
        eventFailuresLeft--;
        return failure();
      }
      steps.push(`event:${event.kind}`);
      events.push(event);
      return Promise.resolve();
    },
    deadLetter: (letter) => {
      letterTries.push(letter.reason);
      if (options.failOn === "deadLetter") return failure();
      if (letterFailuresLeft > 0) {
        letterFailuresLeft--;
        return failure();
      }
      steps.push("dlq");
      letters.push(letter);
      return Promise.resolve();
    },
    withdrawableEvent: (build, trace) => ({
      stored: publisher.event(build(), trace),
      withdraw: () => false,
    }),
    send: (reply) => {
      reply();
    },
  };
  const msgHeaders = natsHeaders();
  msgHeaders.set("Conveyor-Job-Id", "job-1");
  const msg = {
    subject: "work.echo",
    seq: 17,
    data: new TextEncoder().encode(JSON.stringify(item)),
    headers: msgHeaders,
    info: { deliveryCount: 2 },
    ack: () => steps.push("ack"),
    nak: (delay?: number) => steps.push(`nak:${delay ?? "none"}`),
    term: (reason?: string) => steps.push(`term:${reason ?? ""}`),
    working: () => undefined,
  } as unknown as JsMsg;
  const tracing = Tracing.create({ serviceName: "test" });
  const record: DeliveryRecord = {
    msg,
    type: "echo",
    attempt: 2,
    uncounted: 0,
    unstarted: 0,
    workItem: item,
    jobId: "job-1",
    run: 1,
    trace: tracing.extract(undefined),
    traceId: "0af7651916cd43dd8448eb211c80319c",
    workerId: "w1",
    startedAt: Date.now() - 5,
  };
  const deps = {
    publisher,
    logger: createLogger("test", "silent"),
    outcomeRetryDelaysMs: [1, 1, 1],
  };
  return { steps, tries, letterTries, events, letters, record, deps };
}

const error = { name: "Error", message: "boom" };

describe("settle", () => {
  it.each([
    ["succeeded", { kind: "succeeded", result: 1 }, {}],
    ["retry", { kind: "retry", error, delayMs: 10 }, {}],
    ["dead", { kind: "dead", error, reason: DeadReason.NonRetryable }, {}],
    ["cancelled", { kind: "cancelled", reason: "by request" }, {}],
    ["unrecorded", { kind: "succeeded", result: 1 }, { failOn: "event" }],
    [
      "unrecorded",
      { kind: "dead", error, reason: DeadReason.NonRetryable },
      { failOn: "deadLetter" },
    ],
    ["unrecorded", { kind: "cancelled", reason: "by request" }, { failOn: "event" }],
    // A result too large to store kills the job instead.
    [
      "dead",
      { kind: "succeeded", result: 1 },
      { failOn: "event", failWith: new MessageTooLargeError("events.x", 2e6, 1e6) },
    ],
  ] as const)("returns %s for what it applied", async (applied, outcome, options) => {
    const h = harness(options);
    expect(await settle(outcome, h.record, h.deps)).toBe(applied);
  });

  it("publishes succeeded, then acknowledges", async () => {
    const h = harness();
    await settle({ kind: "succeeded", result: { ok: true } }, h.record, h.deps);
    expect(h.steps).toEqual(["event:succeeded", "ack"]);
    expect(h.events[0]).toMatchObject({
      kind: "succeeded",
      jobId: "job-1",
      run: 1,
      attempt: 2,
      result: { ok: true },
      workerId: "w1",
      traceId: "0af7651916cd43dd8448eb211c80319c",
    });
  });

  it("publishes failed with the delay, then naks with that delay", async () => {
    const h = harness();
    await settle({ kind: "retry", error, delayMs: 250 }, h.record, h.deps);
    expect(h.steps).toEqual(["event:failed", "nak:250"]);
    expect(h.events[0]).toMatchObject({ kind: "failed", retryDelayMs: 250, error });
  });

  it("carries on the run's deliveries a stop cut short in the failed event, counting a stop's own", async () => {
    const h = harness();
    await settle({ kind: "retry", error, delayMs: 250 }, h.record, h.deps);
    expect(h.events[0]).not.toHaveProperty("uncounted");

    const before = harness();
    await settle(
      { kind: "retry", error, delayMs: 250 },
      { ...before.record, uncounted: 2 },
      before.deps,
    );
    expect(before.events[0]).toMatchObject({ kind: "failed", uncounted: 2 });

    const stopped = harness();
    const outcome = { kind: "retry", error, delayMs: 0, uncounted: true } as const;
    await settle(outcome, { ...stopped.record, uncounted: 1 }, stopped.deps);
    expect(stopped.steps).toEqual(["event:failed", "nak:0"]);
    expect(stopped.events[0]).toMatchObject({ kind: "failed", retryDelayMs: 0, uncounted: 2 });
    expect(stopped.events[0]).not.toHaveProperty("unstarted");

    // Stopped before its handler started (waiting for its rate limit): counted apart as well.
    const waiting = harness();
    const stoppedWaiting = { ...waiting.record, startedAt: undefined, stoppedWaiting: true };
    await settle(outcome, stoppedWaiting, waiting.deps);
    expect(waiting.events[0]).toMatchObject({ kind: "failed", uncounted: 1, unstarted: 1 });

    // Stopped in a payload's async check, user code as a handler is: not apart.
    const checking = harness();
    await settle(outcome, { ...checking.record, startedAt: undefined }, checking.deps);
    expect(checking.events[0]).toMatchObject({ kind: "failed", uncounted: 1 });
    expect(checking.events[0]).not.toHaveProperty("unstarted");
  });

  it("stores the dead letter and the dead event before terminating", async () => {
    const h = harness();
    await settle({ kind: "dead", error, reason: DeadReason.AttemptsExhausted }, h.record, h.deps);
    expect(h.steps).toEqual(["dlq", "event:dead", "term:attempts_exhausted: boom"]);
    expect(h.letters[0]).toMatchObject({
      type: "echo",
      jobId: "job-1",
      run: 1,
      workItem: item,
      error,
      reason: "attempts_exhausted",
      attempts: 2,
      source: { stream: "WORK", subject: "work.echo", seq: 17 },
      workerId: "w1",
    });
  });

  it("returns the job instead of terminating when the dead letter cannot be stored", async () => {
    const h = harness({ failOn: "deadLetter" });
    await settle({ kind: "dead", error, reason: DeadReason.NonRetryable }, h.record, h.deps);
    expect(h.steps).toEqual([`nak:${unrecordedRetryDelayMs}`]);
    // Tried in place first: handing the job back runs its handler again.
    expect(h.letterTries).toEqual([
      "non_retryable",
      "non_retryable",
      "non_retryable",
      "non_retryable",
    ]);
  });

  it("retries the dead letter in place, so a failure that may not retry does not run again", async () => {
    const h = harness({ letterFailures: 2 });
    const applied = await settle(
      { kind: "dead", error, reason: DeadReason.NonRetryable },
      h.record,
      h.deps,
    );
    expect(applied).toBe("dead");
    expect(h.steps).toEqual(["dlq", "event:dead", "term:non_retryable: boom"]);
    expect(h.letterTries).toHaveLength(3);
  });

  it("returns the job instead of acknowledging when success cannot be recorded", async () => {
    const h = harness({ failOn: "event" });
    await settle({ kind: "succeeded", result: null }, h.record, h.deps);
    expect(h.steps).toEqual([`nak:${unrecordedRetryDelayMs}`]);
    // Tried in place first: handed back, the job runs again, and on its last attempt its next
    // delivery is dead-lettered as delivered too often, the work done and its result lost.
    expect(h.tries).toEqual(["succeeded", "succeeded", "succeeded", "succeeded"]);
  });

  it("retries the succeeded event in place, so a success is acknowledged once it is stored", async () => {
    const h = harness({ eventFailures: 2 });
    const applied = await settle({ kind: "succeeded", result: 7 }, h.record, h.deps);
    expect(applied).toBe("succeeded");
    expect(h.steps).toEqual(["event:succeeded", "ack"]);
    expect(h.tries).toEqual(["succeeded", "succeeded", "succeeded"]);
  });

  it("stops retrying an outcome's record once the worker stops, so that it exits within its grace", async () => {
    const h = harness({ failOn: "event" });
    const stopping = new AbortController();
    const slowRetries = {
      ...h.deps,
      outcomeRetryDelaysMs: [60_000, 60_000, 60_000],
      stopping: stopping.signal,
    };
    const settled = settle({ kind: "succeeded", result: 1 }, h.record, slowRetries);
    await new Promise((resolve) => setTimeout(resolve, 20));
    stopping.abort();
    expect(await settled).toBe("unrecorded");
    expect(h.steps).toEqual([`nak:${unrecordedRetryDelayMs}`]);
    // The pause in progress is cut short and no try follows it.
    expect(h.tries).toEqual(["succeeded"]);
  });

  it("does not retry a result too large to store, which would be as large every time", async () => {
    const h = harness({
      failOn: "event",
      failWith: new MessageTooLargeError("events.x", 2e6, 1e6),
    });
    await settle({ kind: "succeeded", result: "x" }, h.record, h.deps);
    expect(h.tries.filter((kind) => kind === "succeeded")).toHaveLength(1);
  });

  it("stores a dead letter too large for its error with the error cut short, and terminates", async () => {
    // A work item near the submission limit leaves no room for a long error and stack.
    const h = harness();
    const tooLargeWithLongErrors: LifecyclePublisher = {
      ...h.deps.publisher,
      deadLetter: (letter, original, trace) =>
        JSON.stringify(letter.error).length > 2000
          ? Promise.reject(new MessageTooLargeError("dlq.echo", 1_050_000, 1_048_576))
          : h.deps.publisher.deadLetter(letter, original, trace),
    };
    const long = { name: "Error", message: "m".repeat(4000), stack: "s".repeat(8000) };
    const applied = await settle(
      { kind: "dead", error: long, reason: DeadReason.NonRetryable },
      h.record,
      { ...h.deps, publisher: tooLargeWithLongErrors },
    );
    expect(applied).toBe("dead");
    expect(h.steps).toEqual([
      "dlq",
      "event:dead",
      expect.stringMatching(/^term:non_retryable: m+/),
    ]);
    const stored = h.letters[0];
    expect(stored?.workItem).toEqual(item);
    expect(stored?.error.stack).toBeUndefined();
    expect(stored?.error.message).toMatch(/^m{500}\.\.\. \(3500 more\)$/);
  });

  it("publishes cancelled with the reason, then acknowledges", async () => {
    const h = harness();
    await settle({ kind: "cancelled", reason: "not needed" }, h.record, h.deps);
    expect(h.steps).toEqual(["event:cancelled", "ack"]);
    expect(h.events[0]).toMatchObject({
      kind: "cancelled",
      jobId: "job-1",
      run: 1,
      attempt: 2,
      reason: "not needed",
    });
  });

  it("records the attempt's duration, worker and start in the dead and cancelled events", async () => {
    for (const outcome of [
      { kind: "dead", error, reason: DeadReason.AttemptsExhausted },
      { kind: "cancelled", reason: "not needed" },
    ] as const) {
      const h = harness();
      const startedAt = h.record.startedAt ?? 0;
      await settle(outcome, h.record, h.deps);
      const event = h.events[0];
      expect(event).toMatchObject({
        kind: outcome.kind,
        workerId: "w1",
        startedAt: new Date(startedAt).toISOString(),
      });
      const durationMs = event !== undefined && "durationMs" in event ? event.durationMs : -1;
      expect(durationMs).toBeGreaterThanOrEqual(5);
      expect(durationMs).toBeLessThanOrEqual(Date.now() - startedAt);
    }
  });

  it("measures the handler's run to its end, not to when the outcome is recorded", async () => {
    for (const outcome of [
      { kind: "succeeded", result: null },
      { kind: "retry", error, delayMs: 100 },
      { kind: "dead", error, reason: DeadReason.AttemptsExhausted },
      { kind: "cancelled", reason: "not needed" },
    ] as const) {
      const h = harness();
      const startedAt = Date.now() - 500;
      await settle(outcome, { ...h.record, startedAt, handlerEndedAt: startedAt + 7 }, h.deps);
      expect(h.events[0]).toMatchObject({ durationMs: 7 });
    }
  });

  it("leaves the attempt's facts out of a dead or cancelled event when no handler ran", async () => {
    const h = harness();
    await settle(
      { kind: "cancelled", reason: "not needed" },
      { ...h.record, startedAt: undefined },
      h.deps,
    );
    expect(h.events[0]).not.toHaveProperty("durationMs");
    expect(h.events[0]).not.toHaveProperty("workerId");
    expect(h.events[0]).not.toHaveProperty("startedAt");
  });

  it("returns a cancelled job instead of acknowledging when the cancel cannot be recorded", async () => {
    const h = harness({ failOn: "event" });
    await settle({ kind: "cancelled", reason: "not needed" }, h.record, h.deps);
    expect(h.steps).toEqual([`nak:${unrecordedRetryDelayMs}`]);
  });

  it("still retries when the failed event cannot be recorded", async () => {
    const h = harness({ failOn: "event" });
    await settle({ kind: "retry", error, delayMs: 100 }, h.record, h.deps);
    expect(h.steps).toEqual(["nak:100"]);
  });

  it("dead-letters a success whose result is too large to publish", async () => {
    const h = harness();
    const tooLarge: LifecyclePublisher = {
      event: (event) => {
        if (event.kind === "succeeded")
          return Promise.reject(new MessageTooLargeError("events.x", 2e6, 1e6));
        return h.deps.publisher.event(event, h.record.trace);
      },
      withdrawableEvent: (build, trace) => h.deps.publisher.withdrawableEvent(build, trace),
      deadLetter: (letter, original, trace) => h.deps.publisher.deadLetter(letter, original, trace),
      send: (reply) => {
        h.deps.publisher.send(reply);
      },
    };
    await settle({ kind: "succeeded", result: "x" }, h.record, { ...h.deps, publisher: tooLarge });
    expect(h.steps).toEqual([
      "dlq",
      "event:dead",
      expect.stringMatching(/^term:non_retryable: result too large/),
    ]);
  });

  it("terminates once the dead letter is stored, even when the dead event cannot be", async () => {
    const h = harness({ failOn: "event" });
    await settle({ kind: "dead", error, reason: DeadReason.NonRetryable }, h.record, h.deps);
    // The letter is the record of the death: the job must never run again.
    expect(h.steps).toEqual(["dlq", "term:non_retryable: boom"]);
    expect(h.tries).toEqual(["dead", "dead", "dead", "dead"]);
  });

  it("retries the dead event in place after the letter is stored", async () => {
    const h = harness({ eventFailures: 2 });
    await settle({ kind: "dead", error, reason: DeadReason.AttemptsExhausted }, h.record, h.deps);
    expect(h.steps).toEqual(["dlq", "event:dead", "term:attempts_exhausted: boom"]);
    expect(h.tries).toEqual(["dead", "dead", "dead"]);
  });

  it("dead-letters an unreadable message without events, keeping its raw text", async () => {
    const h = harness();
    const record = { ...h.record, workItem: undefined, jobId: undefined };
    const outcome: Outcome = { kind: "dead", error, reason: DeadReason.NonRetryable };
    await settle(outcome, record, h.deps);
    expect(h.steps).toEqual(["dlq", "term:non_retryable: boom"]);
    expect(h.letters[0]?.rawPreview).toContain('"id":"job-1"');
  });
});
