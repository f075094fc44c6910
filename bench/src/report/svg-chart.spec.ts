import { describe, expect, it } from "vitest";

import type { FigureResult } from "./figures.ts";
import { summarize } from "./stats.ts";
import { escapeXml, renderChart, whyNoRatio, xOf } from "./svg-chart.ts";

function result(key: string, better: "higher" | "lower", ratio: number | undefined): FigureResult {
  const values = ratio === undefined ? [] : [1];
  return {
    workload: "w<1>",
    figure: { key, label: key, unit: "x", better },
    conveyor: summarize(values),
    bullmq: summarize(values),
    ratio,
  };
}

describe("xOf", () => {
  it("puts parity in the middle and equal factors either way at equal distances", () => {
    const mid = xOf(1);
    expect(xOf(4) - mid).toBeCloseTo(mid - xOf(1 / 4));
    expect(xOf(1000)).toBe(xOf(100));
  });
});

describe("renderChart", () => {
  const svg = renderChart(
    [
      result("tput", "higher", 0.25),
      result("p99", "lower", 0.5),
      result("none", "higher", undefined),
    ],
    { title: "Conveyor vs BullMQ", subtitle: "quick & dirty", workloadTitles: {} },
  );

  it("is one well-formed SVG document with escaped text", () => {
    expect(svg.startsWith("<svg ")).toBe(true);
    expect(svg.trim().endsWith("</svg>")).toBe(true);
    expect(svg).toContain("quick &amp; dirty");
    expect(svg).toContain(">w&lt;1&gt;</text>");
    expect(svg).not.toContain("w<1>");
  });

  it("draws a bar to BullMQ's side for a 0.25 throughput ratio and to Conveyor's for half the latency", () => {
    expect(svg).toContain("BullMQ 4.0x");
    expect(svg).toContain("Conveyor 2.0x");
    expect(svg).toContain("no values");
  });

  it("heads each workload's figures once", () => {
    expect(svg.match(/font-weight="bold">w&lt;1&gt;</g)).toHaveLength(1);
  });

  it("writes the label of a bar that reaches the edge inside it", () => {
    const edge = renderChart([result("p50", "lower", 500)], {
      title: "t",
      subtitle: "s",
      workloadTitles: {},
    });
    expect(edge).toMatch(/fill="#ffffff">BullMQ 500x</);
  });
});

describe("whyNoRatio", () => {
  const base = result("x", "lower", undefined);
  it("names the side without a value, or both zero", () => {
    expect(whyNoRatio({ ...base, conveyor: summarize([]), bullmq: summarize([3]) })).toBe(
      "no Conveyor value",
    );
    expect(whyNoRatio({ ...base, conveyor: summarize([0]), bullmq: summarize([0]) })).toBe(
      "both 0",
    );
    expect(whyNoRatio({ ...base, conveyor: summarize([2]), bullmq: summarize([0]) })).toBe(
      "no ratio (BullMQ 0)",
    );
  });
});

describe("escapeXml", () => {
  it("escapes markup characters", () => {
    expect(escapeXml(`a<b & "c">`)).toBe("a&lt;b &amp; &quot;c&quot;&gt;");
  });
});
