import { describe, expect, it } from "vitest";

import type { FigureResult, FigureSpec } from "./figures.ts";
import { compareRuns, renderComparison } from "./run-comparison.ts";
import type { Summary } from "./stats.ts";

const rate: FigureSpec = { key: "rate", label: "accepted", unit: "jobs/s", better: "higher" };
const summary = (median: number, min = median, max = median): Summary => ({
  median,
  min,
  max,
  n: 3,
});
const none: Summary = { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };

function result(
  workload: string,
  figure: FigureSpec,
  conveyor: Summary,
  bullmq: Summary,
): FigureResult {
  const ratio = Number.isFinite(conveyor.median) && bullmq.median > 0;
  return {
    workload,
    figure,
    conveyor,
    bullmq,
    ratio: ratio ? conveyor.median / bullmq.median : undefined,
  };
}

describe("compareRuns", () => {
  it("counts a figure as agreeing when the two runs' ranges overlap, and not when apart", () => {
    const before = [result("saturated", rate, summary(100, 90, 110), summary(200, 190, 210))];
    const after = [result("saturated", rate, summary(105, 100, 120), summary(260, 250, 270))];
    const c = compareRuns(before, after);
    expect(c.compared).toBe(2);
    expect(c.agreeing).toBe(1);
    const bullmq = c.figures.find((f) => f.system === "bullmq");
    expect(bullmq?.agrees).toBe(false);
    expect(bullmq?.change).toBeCloseTo(0.3);
  });

  it("leaves out a figure whose unit changed between the runs", () => {
    const inSeconds: FigureSpec = { ...rate, unit: "s" };
    const before = [result("saturated", inSeconds, summary(2), summary(1))];
    const after = [result("saturated", rate, summary(5000), summary(10000))];
    const c = compareRuns(before, after);
    expect(c.compared).toBe(0);
    expect(c.ratios).toEqual([]);
  });

  it("compares ratios, and gives the median of their absolute changes", () => {
    const before = [
      result("a", rate, summary(50), summary(100)),
      result("b", rate, summary(50), summary(100)),
      result("c", rate, summary(50), summary(100)),
    ];
    const after = [
      result("a", rate, summary(55), summary(100)),
      result("b", rate, summary(40), summary(100)),
      result("c", rate, summary(50), summary(100)),
    ];
    const c = compareRuns(before, after);
    expect(c.ratios.map((r) => r.change)).toEqual([
      expect.closeTo(0.1),
      expect.closeTo(-0.2),
      expect.closeTo(0),
    ]);
    expect(c.medianRatioChange).toBeCloseTo(0.1);
  });

  it("keeps the two systems' processes of the same name apart", () => {
    const cpu = (only: "conveyor" | "bullmq"): FigureSpec => ({
      key: "cpu.worker",
      label: "CPU worker",
      unit: "CPU s / 1k jobs",
      better: "lower",
      only,
    });
    const before = [
      result("steady-2k", cpu("conveyor"), summary(0.1), none),
      result("steady-2k", cpu("bullmq"), none, summary(0.2)),
    ];
    const after = [
      result("steady-2k", cpu("conveyor"), summary(0.1), none),
      result("steady-2k", cpu("bullmq"), none, summary(0.2)),
    ];
    const c = compareRuns(before, after);
    expect(c.figures.map((f) => [f.system, f.change])).toEqual([
      ["conveyor", 0],
      ["bullmq", 0],
    ]);
  });

  it("leaves out figures only one run has, and those not measured", () => {
    const before = [result("growth-10k", rate, summary(10), none)];
    const after = [
      result("growth-10k", rate, summary(12), summary(20)),
      result("idle-first", rate, summary(1), summary(1)),
    ];
    const c = compareRuns(before, after);
    expect(c.figures.map((f) => `${f.workload} ${f.system}`)).toEqual(["growth-10k conveyor"]);
    expect(c.ratios).toEqual([]);
    expect(c.medianRatioChange).toBeNaN();
  });
});

describe("renderComparison", () => {
  it("lists only the figures whose ranges do not overlap, with the change", () => {
    const before = [result("saturated", rate, summary(100, 90, 110), summary(200, 190, 210))];
    const after = [result("saturated", rate, summary(105, 100, 120), summary(260, 250, 270))];
    const text = renderComparison(compareRuns(before, after), { before: "A", after: "B" });
    expect(text).toContain("B against A: 1 of 2 figures agree");
    expect(text).toContain("about 2 would by chance alone");
    expect(text).toContain(
      "| saturated | accepted (jobs/s) | BullMQ | 200 (190–210) | 260 (250–270) | +30 % |",
    );
    expect(text).not.toContain("| saturated | accepted (jobs/s) | Conveyor |");
  });
});
