import { runInNewContext } from "node:vm";

import { maxResultDepth, RetryPolicy } from "@conveyor/contracts";
import { describe, expect, it } from "vitest";

import {
  InvalidPayloadError,
  InvalidResultError,
  JobCancelledError,
  JobFailure,
  JobTimeoutError,
  WorkerStoppedError,
} from "./errors.ts";
import {
  DeadReason,
  decideOutcome,
  exceededDeliveries,
  toErrorInfo,
  toJsonResult,
} from "./outcome.ts";

const policy = RetryPolicy.parse({ initialDelayMs: 100, factor: 2 });
const facts = (attempt: number, maxAttempts = 3) => ({ attempt, maxAttempts, policy });

describe("decideOutcome", () => {
  it("succeeds with the handler's result as JSON", () => {
    expect(decideOutcome({ ok: true, result: { n: 1, at: new Date(0) } }, facts(1))).toEqual({
      kind: "succeeded",
      result: { n: 1, at: "1970-01-01T00:00:00.000Z" },
    });
  });

  it("turns an undefined result into null", () => {
    expect(decideOutcome({ ok: true, result: undefined }, facts(1))).toEqual({
      kind: "succeeded",
      result: null,
    });
  });

  it("retries a plain error with the policy's delay for the failed attempt", () => {
    const first = decideOutcome({ ok: false, error: new Error("boom") }, facts(1));
    const second = decideOutcome({ ok: false, error: new Error("boom") }, facts(2));
    expect(first).toMatchObject({
      kind: "retry",
      delayMs: 100,
      error: { name: "Error", message: "boom" },
    });
    expect(second).toMatchObject({ kind: "retry", delayMs: 200 });
  });

  it("lets a retryable JobFailure choose its own delay", () => {
    const error = JobFailure.retryable("rate limited", { delayMs: 5000 });
    expect(decideOutcome({ ok: false, error }, facts(1))).toMatchObject({
      kind: "retry",
      delayMs: 5000,
    });
  });

  it("dead-letters a retryable failure on the last attempt", () => {
    expect(decideOutcome({ ok: false, error: new Error("boom") }, facts(3))).toMatchObject({
      kind: "dead",
      reason: DeadReason.AttemptsExhausted,
    });
  });

  it("dead-letters a non-retryable failure on the first attempt", () => {
    const error = JobFailure.nonRetryable("no such user");
    expect(decideOutcome({ ok: false, error }, facts(1))).toMatchObject({
      kind: "dead",
      reason: DeadReason.NonRetryable,
      error: { name: "JobFailure", message: "no such user" },
    });
  });

  it("dead-letters an invalid payload at once, naming the field", () => {
    const error = new InvalidPayloadError([{ path: "payload.ms", message: "too big" }]);
    expect(decideOutcome({ ok: false, error }, facts(1))).toMatchObject({
      kind: "dead",
      reason: DeadReason.NonRetryable,
      error: { name: "InvalidPayloadError", message: "invalid payload: payload.ms: too big" },
    });
  });

  it("retries a timed-out attempt", () => {
    expect(decideOutcome({ ok: false, error: new JobTimeoutError(50) }, facts(1))).toMatchObject({
      kind: "retry",
      delayMs: 100,
      error: { name: "JobTimeoutError" },
    });
  });

  it("returns an attempt cut short by stop() at once", () => {
    expect(decideOutcome({ ok: false, error: new WorkerStoppedError() }, facts(2))).toMatchObject({
      kind: "retry",
      delayMs: 0,
    });
  });

  it("returns an attempt cut short by stop() at once on the last attempt too, not counting it", () => {
    // The job did not fail: a rolling deploy must not use up its attempts.
    expect(decideOutcome({ ok: false, error: new WorkerStoppedError() }, facts(3))).toEqual({
      kind: "retry",
      delayMs: 0,
      uncounted: true,
      error: expect.objectContaining({ name: "WorkerStoppedError" }) as unknown,
    });
  });

  it("cancels an attempt ended by a cancel, even on the last attempt, never retrying it", () => {
    const cancelled = new JobCancelledError("not needed", "2026-01-01T00:00:00.000Z");
    expect(decideOutcome({ ok: false, error: cancelled }, facts(3))).toEqual({
      kind: "cancelled",
      reason: "not needed",
    });
    expect(decideOutcome({ ok: false, error: cancelled }, facts(1))).toEqual({
      kind: "cancelled",
      reason: "not needed",
    });
  });

  it("dead-letters a result that is not JSON", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(decideOutcome({ ok: true, result: cyclic }, facts(1))).toMatchObject({
      kind: "dead",
      reason: DeadReason.NonRetryable,
      error: { name: "InvalidResultError" },
    });
    expect(decideOutcome({ ok: true, result: 10n }, facts(1))).toMatchObject({ kind: "dead" });
  });

  it("treats a thrown non-Error value as a retryable failure", () => {
    expect(decideOutcome({ ok: false, error: { code: 7 } }, facts(1))).toMatchObject({
      kind: "retry",
      error: { name: "Error", message: '{"code":7}' },
    });
  });
});

describe("exceededDeliveries", () => {
  it("lets deliveries up to maxAttempts run", () => {
    expect(exceededDeliveries(3, 3)).toBeUndefined();
  });

  it("dead-letters a delivery beyond maxAttempts without running it", () => {
    expect(exceededDeliveries(4, 3)).toMatchObject({
      kind: "dead",
      reason: DeadReason.DeliveriesExceeded,
      error: { message: expect.stringMatching(/^delivered 4 times but/) as unknown },
    });
  });

  it("names the deliveries and the attempts counted of them when they differ", () => {
    expect(exceededDeliveries(4, 3, 6)).toMatchObject({
      error: {
        message: expect.stringMatching(
          /^delivered 6 times \(4 of them counted as attempts\)/,
        ) as unknown,
      },
    });
  });
});

describe("decideOutcome on JetStream's last delivery of the message", () => {
  it("dead-letters what would be retried, a stop's return included, with its own error", () => {
    const last = { ...facts(2, 5), finalDelivery: true };
    expect(decideOutcome({ ok: false, error: new Error("flaky") }, last)).toMatchObject({
      kind: "dead",
      reason: "attempts_exhausted",
      error: { message: "flaky" },
    });
    expect(decideOutcome({ ok: false, error: new WorkerStoppedError() }, last)).toMatchObject({
      kind: "dead",
      error: { name: "WorkerStoppedError" },
    });
    expect(decideOutcome({ ok: true, result: 1 }, last)).toMatchObject({ kind: "succeeded" });
  });
});

describe("toErrorInfo", () => {
  it("appends the cause's stack", () => {
    const info = toErrorInfo(
      JobFailure.retryable("upstream failed", { cause: new TypeError("bad socket") }),
    );
    expect(info.stack).toContain("Caused by: TypeError: bad socket");
  });

  it("truncates very long messages", () => {
    expect(toErrorInfo(new Error("x".repeat(10_000))).message.length).toBeLessThan(4100);
  });
});

describe("decideOutcome's retry delay", () => {
  it("keeps a failure's own delay within a day, the longest any retry policy allows", () => {
    const far = decideOutcome(
      { ok: false, error: JobFailure.retryable("later", { delayMs: 1e20 }) },
      facts(1),
    );
    expect(far).toMatchObject({ kind: "retry", delayMs: 86_400_000 });
    const negative = decideOutcome(
      { ok: false, error: JobFailure.retryable("now", { delayMs: -5 }) },
      facts(1),
    );
    expect(negative).toMatchObject({ kind: "retry", delayMs: 0 });
    // "As late as allowed", or a computed Retry-After that overflowed.
    const endless = decideOutcome(
      { ok: false, error: JobFailure.retryable("much later", { delayMs: Infinity }) },
      facts(1),
    );
    expect(endless).toMatchObject({ kind: "retry", delayMs: 86_400_000 });
    // From JavaScript, a value that is no number (an HTTP Retry-After date passed on as is, null)
    // takes the policy's delay, as NaN does: never an immediate retry.
    for (const delayMs of ["Wed, 21 Oct 2026 07:28:00 GMT", null, "120", Number.NaN]) {
      const odd = decideOutcome(
        {
          ok: false,
          error: JobFailure.retryable("odd", { delayMs: delayMs as unknown as number }),
        },
        facts(1),
      );
      expect(odd, String(delayMs)).toMatchObject({ kind: "retry", delayMs: 100 });
    }
  });
});

describe("toErrorInfo of thrown values that are not errors", () => {
  it("keeps what a BigInt, a symbol or a circular object says", () => {
    expect(toErrorInfo(10n).message).toBe("10");
    expect(toErrorInfo(Symbol("gone")).message).toBe("Symbol(gone)");
    const circular: Record<string, unknown> = { code: "E_LOOP" };
    circular["self"] = circular;
    expect(toErrorInfo(circular).message).toContain("E_LOOP");
  });
});

describe("toErrorInfo of errors from other libraries", () => {
  it("describes an Error whose message or name is not a string instead of throwing", () => {
    const objectMessage = Object.assign(new Error("x"), { message: { code: 42 } });
    expect(toErrorInfo(objectMessage)).toMatchObject({ name: "Error", message: '{"code":42}' });
    const numberName = Object.assign(new Error("boom"), { name: 7 });
    expect(toErrorInfo(numberName)).toMatchObject({ name: "7", message: "boom" });
    const settled = { ok: false as const, error: objectMessage };
    expect(decideOutcome(settled, facts(1))).toMatchObject({ kind: "retry" });
  });
});

describe("decideOutcome of errors that cannot be read", () => {
  it("records an error whose message, name or stack getter throws, and applies the policy", () => {
    class Unreadable extends Error {
      override get message(): string {
        throw new Error("message getter broke");
      }
    }
    const withBadStack = new Error("stack broke");
    Object.defineProperty(withBadStack, "stack", {
      get() {
        throw new Error("stack getter broke");
      },
    });
    for (const error of [new Unreadable(), withBadStack]) {
      const outcome = decideOutcome({ ok: false, error }, facts(1));
      expect(outcome).toMatchObject({ kind: "retry", delayMs: 100 });
      const last = decideOutcome({ ok: false, error }, facts(3));
      expect(last).toMatchObject({ kind: "dead", reason: DeadReason.AttemptsExhausted });
    }
    const info = toErrorInfo(new Unreadable());
    expect(info.message).toContain("message getter broke");
  });

  it("records a revoked proxy thrown as an error", () => {
    const { proxy, revoke } = Proxy.revocable(new Error("gone"), {});
    revoke();
    const outcome = decideOutcome({ ok: false, error: proxy }, facts(1));
    expect(outcome).toMatchObject({ kind: "retry", delayMs: 100 });
  });

  it("keeps the message and stack of an error made in another realm (vm, jsdom)", () => {
    const foreign = runInNewContext("new TypeError('db down')") as unknown;
    const info = toErrorInfo(foreign);
    expect(info).toMatchObject({ name: "TypeError", message: "db down" });
    expect(info.stack).toContain("db down");
  });
});

describe("toJsonResult", () => {
  it("refuses a function result", () => {
    expect(toJsonResult(() => 1).ok).toBe(false);
  });

  it("refuses a result nested deeper than the projector can store", () => {
    const nested = (depth: number) => {
      let value: unknown = "leaf";
      for (let i = 0; i < depth; i++) value = { child: value };
      return value;
    };
    expect(toJsonResult(nested(maxResultDepth)).ok).toBe(true);
    const deep = toJsonResult(nested(maxResultDepth + 1));
    expect(deep.ok).toBe(false);
    if (!deep.ok) {
      expect(deep.error).toBeInstanceOf(InvalidResultError);
      expect(deep.error.message).toBe(
        `result nested deeper than ${maxResultDepth} levels of arrays and objects`,
      );
    }
  });

  it("refuses what JSON would silently store as something else, naming where it is", () => {
    const cases: [unknown, RegExp][] = [
      [new Map([["a", 1]]), /^result is not JSON: a Map would be stored as \{\}/],
      [{ tags: new Set(["a"]) }, /a Set at "tags"/],
      [{ bytes: new Uint8Array([1, 2]) }, /a Uint8Array at "bytes"/],
    ];
    for (const [result, message] of cases) {
      const converted = toJsonResult(result);
      expect(converted.ok, message.source).toBe(false);
      if (!converted.ok) {
        expect(converted.error).toBeInstanceOf(InvalidResultError);
        expect(converted.error.message).toMatch(message);
      }
    }
    // What JSON holds, or turns into JSON of its own (a Date, a Buffer, toJSON), is kept; NaN
    // and the infinities are null, as JSON has them.
    const kept = { at: new Date(0), buf: Buffer.from("hi"), n: -0, skipped: undefined, r: NaN };
    expect(toJsonResult(kept)).toEqual({
      ok: true,
      value: {
        at: "1970-01-01T00:00:00.000Z",
        buf: { type: "Buffer", data: [104, 105] },
        n: 0,
        r: null,
      },
    });
  });

  it("writes lone surrogates as U+FFFD, in keys as in strings, as they would be stored", () => {
    const result = { list: ["x\udc00", { "\ud800k": "\ud83d\ude00" }], "a\ud800": 1, "a\udbff": 2 };
    expect(toJsonResult(result)).toEqual({
      ok: true,
      value: { list: ["x\ufffd", { "\ufffdk": "\ud83d\ude00" }], "a\ufffd": 2 },
    });
    const plain = { a: ["b", { c: "\ud83d\ude00" }] };
    expect(toJsonResult(plain)).toEqual({ ok: true, value: plain });
  });
});
