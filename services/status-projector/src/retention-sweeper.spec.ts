import { describe, expect, it } from "vitest";

import { nextSweepDelayMs } from "./retention-sweeper.ts";

describe("nextSweepDelayMs", () => {
  it("waits the interval after a quick sweep", () => {
    expect(nextSweepDelayMs(60_000, 0)).toBe(60_000);
    expect(nextSweepDelayMs(60_000, 250)).toBe(60_000);
  });

  it("waits 99 times as long as a slow sweep took, so that sweeping takes at most 1 % of the time", () => {
    expect(nextSweepDelayMs(60_000, 12_000)).toBe(1_188_000);
    // Half the time: it waits as long as the sweep took.
    expect(nextSweepDelayMs(10, 300, 0.5)).toBe(300);
    const sweepMs = 3_000;
    const delayMs = nextSweepDelayMs(60_000, sweepMs);
    expect(sweepMs / (sweepMs + delayMs)).toBeCloseTo(0.01, 5);
  });

  it("never asks for a wait longer than a timer can keep", () => {
    expect(nextSweepDelayMs(60_000, 30 * 86_400_000)).toBe(2 ** 31 - 1);
  });
});
