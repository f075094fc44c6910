import { describe, expect, it } from "vitest";

import { retryDelayMs } from "./retry-delay.ts";

describe("retryDelayMs", () => {
  it("waits 1 s after the first failure, doubling up to 30 s", () => {
    expect([1, 2, 3, 5, 6, 40].map(retryDelayMs)).toEqual([
      1000, 2000, 4000, 16_000, 30_000, 30_000,
    ]);
  });
});
