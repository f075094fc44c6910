import { describe, expect, it } from "vitest";

import {
  RetryOverride,
  RetryPolicy,
  defaultRetryPolicy,
  effectivePolicy,
  retryDelayMs,
} from "./retry-policy.ts";

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

describe("effectivePolicy", () => {
  it("applies a job's overrides over the type's policy and keeps the rest", () => {
    const typePolicy = RetryPolicy.parse({ initialDelayMs: 1000, maxDelayMs: 60_000 });
    const policy = effectivePolicy(typePolicy, { initialDelayMs: 50, factor: 3 });
    expect(policy).toEqual({ ...typePolicy, initialDelayMs: 50, factor: 3 });
    expect([1, 2].map((n) => retryDelayMs(policy, n))).toEqual([50, 150]);
  });

  it("keeps the type's policy when the job overrides nothing", () => {
    expect(effectivePolicy(defaultRetryPolicy, undefined)).toBe(defaultRetryPolicy);
  });
});

describe("RetryOverride", () => {
  it("names an unknown or out-of-range field", () => {
    const result = RetryOverride.safeParse({ initialDelayMs: -1, backoff: 2 });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join(".") || i.code)).toEqual(
      expect.arrayContaining(["initialDelayMs", "unrecognized_keys"]),
    );
  });
});
