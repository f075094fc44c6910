import { setTimeout as sleep } from "node:timers/promises";

import { describe, expect, it } from "vitest";

import { JobCancelledError, JobTimeoutError, WorkerStoppedError } from "./errors.ts";
import { runHandler } from "./run-handler.ts";

function guard(timeoutMs: number) {
  return { guard: { controller: new AbortController(), timeoutMs } };
}

describe("runHandler", () => {
  it("returns the handler's result", async () => {
    const { guard: g } = guard(1000);
    expect(await runHandler(() => Promise.resolve(42), g)).toEqual({ ok: true, result: 42 });
  });

  it("returns the handler's error", async () => {
    const { guard: g } = guard(1000);
    const settled = await runHandler(() => Promise.reject(new Error("boom")), g);
    expect(settled).toMatchObject({ ok: false, error: { message: "boom" } });
  });

  it("aborts the signal and fails with a timeout error when the handler runs too long", async () => {
    const { guard: g } = guard(30);
    const settled = await runHandler(
      () => sleep(60_000, undefined, { signal: g.controller.signal }),
      g,
    );
    expect(g.controller.signal.aborted).toBe(true);
    expect(settled.ok).toBe(false);
    if (!settled.ok) expect(settled.error).toBeInstanceOf(JobTimeoutError);
  });

  it("waits out a work item's timeout beyond what Node's timers hold, instead of timing out at once", async () => {
    // Node fires a timer of more than 2^31-1 ms after 1 ms: a work item written before types'
    // timeouts were bounded to a day must not time out every attempt.
    const { guard: g } = guard(2_592_000_000);
    const settled = await runHandler(() => sleep(20).then(() => "done"), g);
    expect(settled).toEqual({ ok: true, result: "done" });
  });

  it("does not wait for a handler that ignores the abort", async () => {
    const { guard: g } = guard(30);
    const settled = await runHandler(() => new Promise(() => undefined), g);
    expect(settled.ok).toBe(false);
  });

  it("reports the stop reason when the worker interrupts", async () => {
    const { guard: g } = guard(60_000);
    setTimeout(() => {
      g.controller.abort(new WorkerStoppedError());
    }, 10);
    const settled = await runHandler(
      () => sleep(60_000, undefined, { signal: g.controller.signal }),
      g,
    );
    expect(settled.ok).toBe(false);
    if (!settled.ok) expect(settled.error).toBeInstanceOf(WorkerStoppedError);
  });

  describe("when the job is cancelled", () => {
    const cancel = (g: { controller: AbortController }, afterMs: number) =>
      setTimeout(() => {
        g.controller.abort(new JobCancelledError("not needed", new Date(0).toISOString()));
      }, afterMs);

    it("waits for the handler to settle, and reports the cancel", async () => {
      const { guard: g } = guard(60_000);
      let settledAt = 0;
      cancel(g, 10);
      const settled = await runHandler(async () => {
        await sleep(60_000, undefined, { signal: g.controller.signal }).catch(() => undefined);
        await sleep(30); // cleaning up after the abort
        settledAt = Date.now();
        throw new Error("stopped");
      }, g);
      expect(settledAt).toBeGreaterThan(0);
      expect(settled.ok).toBe(false);
      if (!settled.ok) expect(settled.error).toBeInstanceOf(JobCancelledError);
    });

    it("abandons a handler that ignores the signal at its timeout", async () => {
      const { guard: g } = guard(60);
      cancel(g, 10);
      const settled = await runHandler(() => new Promise(() => undefined), g);
      expect(settled.ok).toBe(false);
      if (!settled.ok) expect(settled.error).toBeInstanceOf(JobCancelledError);
    });

    it("abandons a handler that ignores the signal when told to (the worker stops)", async () => {
      const { guard: g } = guard(60_000);
      const abandon = new AbortController();
      cancel(g, 10);
      setTimeout(() => {
        abandon.abort();
      }, 30);
      const settled = await runHandler(() => new Promise(() => undefined), {
        ...g,
        abandon: abandon.signal,
      });
      if (!settled.ok) expect(settled.error).toBeInstanceOf(JobCancelledError);
      expect(settled.ok).toBe(false);
    });

    it("keeps the result of a handler that finishes anyway", async () => {
      const { guard: g } = guard(60_000);
      cancel(g, 5);
      expect(await runHandler(() => sleep(30).then(() => "done"), g)).toEqual({
        ok: true,
        result: "done",
      });
    });
  });
});
