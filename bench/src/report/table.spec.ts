import { describe, expect, it } from "vitest";

import type { FigureResult } from "./figures.ts";
import { summarize } from "./stats.ts";
import {
  comparisonTable,
  detailTable,
  formatNumber,
  formatRatio,
  formatSummary,
  renderTable,
} from "./table.ts";

describe("formatNumber", () => {
  it("keeps about three significant digits, with thousands separators", () => {
    expect(formatNumber(12_345.6)).toBe("12,346");
    expect(formatNumber(123.4)).toBe("123");
    expect(formatNumber(12.34)).toBe("12.3");
    expect(formatNumber(1.234)).toBe("1.23");
    expect(formatNumber(0.01234)).toBe("0.012");
    expect(formatNumber(0)).toBe("0");
  });

  it("shows a missing value as -", () => {
    expect(formatNumber(Number.NaN)).toBe("-");
  });
});

describe("formatSummary and formatRatio", () => {
  it("shows the median with the range of the repetitions", () => {
    expect(formatSummary(summarize([1200, 1000, 1500]))).toBe("1,200 (1,000–1,500)");
  });

  it("drops the range when every repetition agreed, and shows - without any", () => {
    expect(formatSummary(summarize([7, 7, 7]))).toBe("7.00");
    expect(formatSummary(summarize([]))).toBe("-");
  });

  it("formats ratios near 1 with two decimals and missing ones as -", () => {
    expect(formatRatio(0.4567)).toBe("0.46");
    expect(formatRatio(12.34)).toBe("12.3");
    expect(formatRatio(0.01234)).toBe("0.012");
    expect(formatRatio(undefined)).toBe("-");
  });
});

describe("renderTable", () => {
  it("pads every column to its widest cell and right-aligns numeric columns", () => {
    const table = renderTable(
      ["name", "n"],
      [
        ["a", "1"],
        ["long", "1,000"],
      ],
      ["left", "right"],
    );
    expect(table.split("\n")).toEqual([
      "| name |     n |",
      "|------|------:|",
      "| a    |     1 |",
      "| long | 1,000 |",
    ]);
  });
});

const throughput: FigureResult = {
  workload: "saturated",
  figure: { key: "acked", label: "all acked", unit: "jobs/s", better: "higher" },
  conveyor: summarize([900, 1000, 1100]),
  bullmq: summarize([3900, 4000, 4100]),
  ratio: 0.25,
};
const workerRss: FigureResult = {
  workload: "growth",
  figure: {
    key: "rss.worker",
    label: "peak RSS worker",
    unit: "MiB",
    better: "lower",
    only: "conveyor",
  },
  conveyor: summarize([80, 82, 90]),
  bullmq: summarize([]),
  ratio: undefined,
};

describe("comparisonTable", () => {
  it("has one row per shared figure with both summaries, the ratio and who is ahead", () => {
    const table = comparisonTable([throughput, workerRss], { saturated: "end-to-end, 2k jobs" });
    const lines = table.split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[2]).toContain("end-to-end, 2k jobs");
    expect(lines[2]).toContain("all acked (jobs/s)");
    expect(lines[2]).toContain("1,000 (900–1,100)");
    expect(lines[2]).toContain("4,000 (3,900–4,100)");
    expect(lines[2]).toMatch(/\| +0\.25 \| BullMQ 4\.0x +\|$/);
  });
});

describe("detailTable", () => {
  it("lists per-process figures under their system, without a ratio", () => {
    const lines = detailTable([throughput, workerRss], {}).split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(
      /^\| Conveyor \| growth +\| peak RSS worker \(MiB\) \| +82\.0 \(80\.0–90\.0\) \|$/,
    );
  });
});
