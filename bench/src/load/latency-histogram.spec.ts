import { describe, expect, it } from "vitest";

import { createLatencyHistogram } from "./latency-histogram.ts";

describe("createLatencyHistogram", () => {
  it("reads back percentiles of recorded milliseconds within 0.1 %", () => {
    const h = createLatencyHistogram();
    for (let ms = 1; ms <= 1000; ms++) h.record(ms);
    expect(h.count).toBe(1000);
    expect(h.percentileMs(50)).toBeCloseTo(500, -0.5);
    expect(Math.abs(h.percentileMs(99) - 990) / 990).toBeLessThan(0.001);
    expect(Math.abs(h.percentileMs(100) - 1000) / 1000).toBeLessThan(0.001);
  });

  it("keeps sub-millisecond values and counts negative ones as 0", () => {
    const h = createLatencyHistogram();
    h.record(-0.4);
    h.record(0.25);
    expect(h.percentileMs(0)).toBe(0);
    expect(h.percentileMs(100)).toBeCloseTo(0.25, 3);
  });

  it("is NaN before anything was recorded", () => {
    expect(createLatencyHistogram().percentileMs(50)).toBeNaN();
  });
});
