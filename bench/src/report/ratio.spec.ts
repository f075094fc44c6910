import { describe, expect, it } from "vitest";

import { advantage, ratio, verdict } from "./ratio.ts";

describe("ratio", () => {
  it("divides Conveyor's value by BullMQ's", () => {
    expect(ratio(500, 2000)).toBe(0.25);
  });

  it("is undefined when BullMQ's value is 0 or either is missing", () => {
    expect(ratio(5, 0)).toBeUndefined();
    expect(ratio(Number.NaN, 3)).toBeUndefined();
    expect(ratio(3, Number.POSITIVE_INFINITY)).toBeUndefined();
  });
});

describe("advantage and verdict", () => {
  it("reads a throughput ratio as is: 0.25 means BullMQ does 4x better", () => {
    expect(advantage(0.25, "higher")).toBe(4 ** -1);
    expect(verdict(0.25, "higher")).toBe("BullMQ 4.0x");
  });

  it("inverts a latency ratio: Conveyor at half BullMQ's latency is 2x better", () => {
    expect(advantage(0.5, "lower")).toBe(2);
    expect(verdict(0.5, "lower")).toBe("Conveyor 2.0x");
    expect(verdict(30, "lower")).toBe("BullMQ 30x");
  });

  it("calls results within 5 % even, and has no verdict without a ratio", () => {
    expect(verdict(1.04, "higher")).toBe("even");
    expect(verdict(0.96, "lower")).toBe("even");
    expect(verdict(undefined, "higher")).toBe("-");
  });

  it("names the side ahead without a factor when a value is 0", () => {
    expect(verdict(0, "lower")).toBe("Conveyor");
    expect(verdict(0, "higher")).toBe("BullMQ");
  });
});
