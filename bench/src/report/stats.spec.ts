import { describe, expect, it } from "vitest";

import { median, percentile, summarize } from "./stats.ts";

describe("median", () => {
  it("takes the middle value of an odd count, whatever the order", () => {
    expect(median([9, 1, 5])).toBe(5);
  });

  it("averages the middle two of an even count", () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it("ignores values that are not finite and is NaN without any", () => {
    expect(median([Number.NaN, 7, Number.POSITIVE_INFINITY, 3, 5])).toBe(5);
    expect(median([])).toBeNaN();
  });
});

describe("percentile", () => {
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted

  it("uses nearest rank: p50 of 1..100 is 50, p99 is 99, p100 is the max", () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
  });

  it("gives the minimum at p0 and the single value of a one-element list", () => {
    expect(percentile(hundred, 0)).toBe(1);
    expect(percentile([42], 95)).toBe(42);
  });

  it("refuses a percentile outside 0-100", () => {
    expect(() => percentile([1], 101)).toThrow(/0-100/);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });
});

describe("summarize", () => {
  it("gives median, min, max and the count of finite repetitions", () => {
    expect(summarize([30, 10, 20, Number.NaN])).toEqual({ median: 20, min: 10, max: 30, n: 3 });
  });

  it("is all NaN with n 0 when no repetition produced a value", () => {
    const s = summarize([Number.NaN]);
    expect(s.n).toBe(0);
    expect(s.median).toBeNaN();
    expect(s.min).toBeNaN();
    expect(s.max).toBeNaN();
  });
});
