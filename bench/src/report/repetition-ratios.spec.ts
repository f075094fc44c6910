import { describe, expect, it } from "vitest";

import type { FigureSpec } from "./figures.ts";
import { compareRepetitionRatios, repetitionRatios } from "./repetition-ratios.ts";
import type { SampledWorkload } from "./repetition-ratios.ts";

const acked: FigureSpec = { key: "acked", label: "all acked", unit: "jobs/s", better: "higher" };
const workerRss: FigureSpec = {
  key: "rss.worker",
  label: "peak RSS worker",
  unit: "MiB",
  better: "lower",
  only: "conveyor",
};

function workload(
  conveyor: (number | null)[],
  bullmq: (number | null)[],
  figures: FigureSpec[] = [acked],
): SampledWorkload {
  return {
    id: "saturated",
    figures,
    samples: {
      conveyor: conveyor.map((v) => (v === null ? {} : { acked: v, "rss.worker": 100 })),
      bullmq: bullmq.map((v) => (v === null ? {} : { acked: v, "rss.worker": 200 })),
    },
  };
}

describe("repetitionRatios", () => {
  it("divides each repetition's values, skipping one a system did not measure", () => {
    expect(repetitionRatios(workload([10, 12, 9], [20, null, 10]), "acked")).toEqual([0.5, 0.9]);
  });

  it("skips a repetition whose BullMQ value is zero or not a number", () => {
    const w = workload([10, 10], [0, 5]);
    w.samples.bullmq[1] = { acked: null };
    expect(repetitionRatios(w, "acked")).toEqual([]);
  });
});

describe("compareRepetitionRatios", () => {
  it("agrees when the ratios overlap although both systems ran faster in the rerun", () => {
    // The machine ran a third faster for both systems: every value is apart, no ratio is.
    const before = [workload([60, 66, 63], [100, 110, 100])];
    const after = [workload([80, 88, 86], [130, 145, 140])];
    const c = compareRepetitionRatios(before, after);
    expect(c.compared).toBe(1);
    expect(c.agreeing).toBe(1);
    expect(c.expectedAgreeing).toBeCloseTo(0.9);
  });

  it("does not agree when the ratios moved apart", () => {
    const before = [workload([60, 66, 63], [100, 110, 100])];
    const after = [workload([90, 95, 99], [100, 110, 100])];
    const c = compareRepetitionRatios(before, after);
    expect(c.agreeing).toBe(0);
    expect(c.figures[0]).toMatchObject({
      workload: "saturated",
      label: "all acked",
      agrees: false,
    });
  });

  it("leaves out one system's own figures, a ratio that never varies, and a changed unit", () => {
    const offered: FigureSpec = {
      key: "acked",
      label: "accepted",
      unit: "jobs/s",
      better: "higher",
    };
    const constant = compareRepetitionRatios(
      [workload([2000, 2000], [2000, 2000], [offered, workerRss])],
      [workload([2000, 2000], [2000, 2000], [offered, workerRss])],
    );
    expect(constant.compared).toBe(0);
    const otherUnit = compareRepetitionRatios(
      [workload([1, 2], [2, 2], [{ ...acked, unit: "s" }])],
      [workload([1, 2], [2, 2])],
    );
    expect(otherUnit.compared).toBe(0);
  });
});
