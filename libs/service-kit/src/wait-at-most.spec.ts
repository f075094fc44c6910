import { afterEach, describe, expect, it, vi } from "vitest";

import { waitAtMost } from "./wait-at-most.ts";

describe("waitAtMost", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("resolves with the promise and never reports a timeout", async () => {
    vi.useFakeTimers();
    const onTimeout = vi.fn();
    await waitAtMost(Promise.resolve("loaded"), 10_000, onTimeout);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(onTimeout).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("rejects with the promise and leaves no timer to report a timeout later", async () => {
    vi.useFakeTimers();
    const onTimeout = vi.fn();
    await expect(
      waitAtMost(Promise.reject(new Error("watch failed")), 10_000, onTimeout),
    ).rejects.toThrow("watch failed");
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(onTimeout).not.toHaveBeenCalled();
  });

  it("reports the timeout and resolves when the promise takes longer", async () => {
    vi.useFakeTimers();
    const onTimeout = vi.fn();
    const waiting = waitAtMost(new Promise(() => undefined), 10_000, onTimeout);
    await vi.advanceTimersByTimeAsync(10_000);
    await waiting;
    expect(onTimeout).toHaveBeenCalledTimes(1);
  });
});
