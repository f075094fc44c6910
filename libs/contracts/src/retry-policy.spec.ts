import { describe, expect, it } from "vitest";

import { RetryPolicy, defaultRetryPolicy, retryDelayMs } from "./retry-policy.ts";

describe("retryDelayMs", () => {
  it("reproduces the default schedule 1 s -> 2 s -> 4 s", () => {
    expect([1, 2, 3].map((n) => retryDelayMs(defaultRetryPolicy, n))).toEqual([1000, 2000, 4000]);
  });

  it("caps delays at maxDelayMs", () => {
    const policy = RetryPolicy.parse({ initialDelayMs: 1000, factor: 10, maxDelayMs: 5000 });
    expect(retryDelayMs(policy, 3)).toBe(5000);
  });

  it("draws full jitter from [0, computed]", () => {
    const policy = RetryPolicy.parse({ jitter: "full" });
    expect(retryDelayMs(policy, 2, () => 0.5)).toBe(1000);
    expect(retryDelayMs(policy, 2, () => 0)).toBe(0);
  });
});
