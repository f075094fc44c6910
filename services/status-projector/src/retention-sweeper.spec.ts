import { describe, expect, it } from "vitest";

import { nextSweepDelayMs } from "./retention-sweeper.ts";

describe("nextSweepDelayMs", () => {
  it("waits the interval after a quick sweep", () => {
    expect(nextSweepDelayMs(60_000, 0)).toBe(60_000);
    expect(nextSweepDelayMs(60_000, 250)).toBe(60_000);
  });

  it("waits 99 times as long as a slow sweep took, so that sweeping takes at most 1 % of the time", () => {
    expect(nextSweepDelayMs(60_000, 12_000)).toBe(1_188_000);
    expect(nextSweepDelayMs(60_000, 30_000)).toBe(2_970_000);
    // Half the time: it waits as long as the sweep took.
    expect(nextSweepDelayMs(10, 300, 0.5)).toBe(300);
    const sweepMs = 3_000;
    const delayMs = nextSweepDelayMs(60_000, sweepMs);
    expect(sweepMs / (sweepMs + delayMs)).toBeCloseTo(0.01, 5);
  });

  it("waits at most an hour after a sweep however slow, unless the interval is longer", () => {
    expect(nextSweepDelayMs(60_000, 120_000)).toBe(3_600_000);
    expect(nextSweepDelayMs(60_000, 30 * 86_400_000)).toBe(3_600_000);
    expect(nextSweepDelayMs(86_400_000, 120_000)).toBe(86_400_000);
  });
});
