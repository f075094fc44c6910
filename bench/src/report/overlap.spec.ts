import { describe, expect, it } from "vitest";

import { chanceOfOverlap } from "./overlap.ts";

describe("chanceOfOverlap", () => {
  it("is 9 in 10 for three repetitions a side, and 0 for one each", () => {
    expect(chanceOfOverlap(3, 3)).toBeCloseTo(0.9);
    expect(chanceOfOverlap(1, 1)).toBeCloseTo(0);
    expect(chanceOfOverlap(2, 3)).toBeCloseTo(0.8);
  });

  it("matches a simulation of two runs of the same distribution", () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let overlapping = 0;
    const trials = 20_000;
    for (let t = 0; t < trials; t++) {
      const a = [random(), random(), random()];
      const b = [random(), random()];
      if (Math.min(...a) <= Math.max(...b) && Math.min(...b) <= Math.max(...a)) overlapping++;
    }
    expect(overlapping / trials).toBeCloseTo(chanceOfOverlap(3, 2), 1);
  });
});
