import { describe, expect, it } from "vitest";

import { dueCount, runOpenLoop } from "./open-loop.ts";

describe("dueCount", () => {
  it("has job 0 due at once and one more every 1/rate", () => {
    expect(dueCount(0, 1000, 100)).toBe(1);
    expect(dueCount(9.9, 1000, 100)).toBe(10);
    expect(dueCount(10, 1000, 100)).toBe(11);
  });

  it("never exceeds the total", () => {
    expect(dueCount(60_000, 1000, 100)).toBe(100);
  });
});

describe("runOpenLoop", () => {
  it("sends rate x duration jobs with due times 1/rate apart", async () => {
    const due: number[] = [];
    const result = await runOpenLoop({
      ratePerSec: 2000,
      durationMs: 50,
      send: (index, dueAtMs) => {
        due[index] = dueAtMs;
      },
    });
    expect(result.sent).toBe(100);
    expect(due).toHaveLength(100);
    expect(due[99]! - due[0]!).toBeCloseTo(49.5, 5);
  });
});
