import { describe, expect, it } from "vitest";

import { StoreTimeoutError } from "./errors.ts";
import { retryUntilAborted } from "./retry.ts";

const options = (signal = new AbortController().signal) => ({
  initialDelayMs: 1,
  maxDelayMs: 4,
  attemptTimeoutMs: 50,
  isTransient: () => true,
  signal,
});

describe("retryUntilAborted", () => {
  it("retries failures with doubling, capped delays until the operation succeeds", async () => {
    const delays: number[] = [];
    let calls = 0;
    const result = await retryUntilAborted(
      () => (++calls < 5 ? Promise.reject(new Error("down")) : Promise.resolve("stored")),
      { ...options(), onError: (_err, _attempt, delayMs) => delays.push(delayMs) },
    );
    expect(result).toBe("stored");
    expect(delays).toEqual([1, 2, 4, 4]);
  });

  it("gives up on an attempt that never settles and tries again", async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const result = await retryUntilAborted(
      () => (++calls === 1 ? new Promise<string>(() => undefined) : Promise.resolve("second")),
      { ...options(), onError: (err) => errors.push(err) },
    );
    expect(result).toBe("second");
    expect(errors).toEqual([expect.any(StoreTimeoutError)]);
  });

  it("aborts an abandoned attempt and starts the next one only once it has settled", async () => {
    const events: string[] = [];
    let calls = 0;
    const result = await retryUntilAborted(
      async (attemptSignal) => {
        const call = ++calls;
        events.push(`start ${call}`);
        if (call > 1) return "second";
        // A write held up past the deadline: it ends later, and must not write after it.
        await new Promise((resolve) => setTimeout(resolve, 75));
        events.push(`first ends, aborted: ${attemptSignal.aborted}`);
        return "first";
      },
      { ...options(), onError: () => undefined },
    );
    expect(result).toBe("second");
    expect(events).toEqual(["start 1", "first ends, aborted: true", "start 2"]);
  });

  it("starts the next attempt after a second deadline when the abandoned one never settles", async () => {
    let calls = 0;
    const started = performance.now();
    const result = await retryUntilAborted(
      () => (++calls === 1 ? new Promise<string>(() => undefined) : Promise.resolve("second")),
      { ...options(), onError: () => undefined },
    );
    expect(result).toBe("second");
    expect(performance.now() - started).toBeGreaterThanOrEqual(2 * 50 - 5);
  });

  it("gives up at once on an error that is not transient", async () => {
    let calls = 0;
    const permanent = new Error("refused");
    const attempt = retryUntilAborted(
      () => {
        calls++;
        return Promise.reject(permanent);
      },
      { ...options(), isTransient: (err) => err !== permanent, onError: () => undefined },
    );
    await expect(attempt).rejects.toBe(permanent);
    expect(calls).toBe(1);
  });

  it("stops when aborted", async () => {
    const controller = new AbortController();
    const attempt = retryUntilAborted(() => Promise.reject(new Error("down")), {
      ...options(controller.signal),
      maxDelayMs: 60_000,
      initialDelayMs: 60_000,
      onError: () => {
        controller.abort(new Error("stopping"));
      },
    });
    await expect(attempt).rejects.toMatchObject({ name: "AbortError" });
  });

  it("abandons a hanging attempt when aborted, instead of waiting out its deadline", async () => {
    const controller = new AbortController();
    let abandoned: unknown;
    const attempt = retryUntilAborted(
      (attemptSignal) =>
        new Promise((resolve) => {
          // A write on a socket that neither answers nor fails, settling once abandoned.
          attemptSignal.addEventListener("abort", () => {
            abandoned = attemptSignal.reason;
            resolve(undefined);
          });
        }),
      {
        ...options(controller.signal),
        attemptTimeoutMs: 600_000,
        finishOnStopMs: 20,
        onError: () => undefined,
      },
    );
    setTimeout(() => {
      controller.abort(new Error("stopping"));
    }, 10);
    await expect(attempt).rejects.toMatchObject({ name: "AbortError" });
    expect(abandoned).toBeDefined();
  });

  it("stops within finishOnStopMs when aborted while an attempt past its deadline settles", async () => {
    const controller = new AbortController();
    const attemptTimeoutMs = 1000;
    const started = performance.now();
    const attempt = retryUntilAborted(() => new Promise<never>(() => undefined), {
      ...options(controller.signal),
      attemptTimeoutMs,
      finishOnStopMs: 20,
      onError: () => undefined,
    });
    // After the first deadline, while the abandoned attempt is given a second one to settle.
    setTimeout(() => {
      controller.abort(new Error("stopping"));
    }, attemptTimeoutMs + 50);
    await expect(attempt).rejects.toMatchObject({ name: "AbortError" });
    // Not the second deadline's end (2 x attemptTimeoutMs).
    expect(performance.now() - started).toBeLessThan(1.6 * attemptTimeoutMs);
  });

  it("lets an attempt under way when aborted finish, and returns what it stored", async () => {
    const controller = new AbortController();
    let attemptAborted: boolean | undefined;
    const attempt = retryUntilAborted(
      async (attemptSignal) => {
        // A healthy write, a little slower than the stop.
        await new Promise((resolve) => setTimeout(resolve, 40));
        attemptAborted = attemptSignal.aborted;
        return "stored";
      },
      { ...options(controller.signal), attemptTimeoutMs: 600_000, onError: () => undefined },
    );
    setTimeout(() => {
      controller.abort(new Error("stopping"));
    }, 10);
    await expect(attempt).resolves.toBe("stored");
    expect(attemptAborted).toBe(false);
  });
});
