import { TimeoutError } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

import { FailureCounts } from "./failure-counts.ts";

describe("FailureCounts", () => {
  it("counts a message's failures other than outages", () => {
    const counts = new FailureCounts();
    expect(counts.failed(7, new TypeError("a defect"))).toBe(1);
    expect(counts.failed(7, new TimeoutError())).toBe(1);
    expect(counts.failed(7, new TimeoutError())).toBe(1);
    expect(counts.failed(7, new TypeError("a defect"))).toBe(2);
    expect(counts.of(7)).toBe(2);
    expect(counts.of(8)).toBe(0);
  });

  it("forgets a settled message", () => {
    const counts = new FailureCounts();
    counts.failed(7, new TypeError("a defect"));
    counts.forget(7);
    expect(counts.of(7)).toBe(0);
  });

  it("forgets the message whose latest failure is oldest once it remembers too many", () => {
    const counts = new FailureCounts(2);
    counts.failed(1, new TypeError("a defect"));
    counts.failed(2, new TypeError("a defect"));
    counts.failed(1, new TypeError("a defect"));
    counts.failed(3, new TypeError("a defect"));
    expect([counts.of(1), counts.of(2), counts.of(3)]).toEqual([2, 0, 1]);
  });
});
