import { describe, expect, it } from "vitest";

import type { Sample } from "../report/figures.ts";
import { processFigures, recordProcessUsage } from "./process-figures.ts";

const usage = [
  { name: "gateway", peakRssMib: 100, cpuSeconds: 0.03 },
  { name: "nats-server", peakRssMib: 50, cpuSeconds: 0.09 },
];

describe("processFigures", () => {
  it("words figures under load as peaks and CPU per 1,000 jobs", () => {
    const figures = processFigures({ over: "load", rss: true });
    const total = figures.find((f) => f.key === "cpu.total");
    expect(figures.find((f) => f.key === "rss.total")?.label).toBe("sum of peak RSS");
    expect(total?.unit).toBe("CPU s / 1k jobs");
    expect(figures.find((f) => f.key === "rss.gateway")).toMatchObject({
      label: "peak RSS gateway",
      only: "conveyor",
    });
  });

  it("words figures at rest as held RSS and CPU per second", () => {
    const figures = processFigures({ over: "rest", rss: true });
    expect(figures.find((f) => f.key === "rss.total")?.label).toBe("sum of RSS at rest");
    expect(figures.find((f) => f.key === "cpu.total")).toMatchObject({
      label: "CPU at rest, all processes",
      unit: "CPU ms / s",
    });
    expect(figures.find((f) => f.key === "cpu.redis-server")).toMatchObject({
      label: "CPU at rest redis-server",
      only: "bullmq",
    });
  });

  it("leaves RSS out when asked to", () => {
    const keys = processFigures({ over: "load", rss: false }).map((f) => f.key);
    expect(keys).toContain("cpu.worker");
    expect(keys.filter((k) => k.startsWith("rss."))).toEqual([]);
  });
});

describe("recordProcessUsage", () => {
  it("gives CPU seconds per 1,000 jobs when divided by the jobs", () => {
    const sample: Sample = {};
    recordProcessUsage(sample, usage, 2000, { rss: true, cpu: true });
    expect(sample["cpu.total"]).toBeCloseTo(0.06);
    expect(sample["cpu.nats-server"]).toBeCloseTo(0.045);
    expect(sample["rss.total"]).toBe(150);
  });

  it("gives CPU milliseconds per second when divided by the seconds watched", () => {
    const sample: Sample = {};
    recordProcessUsage(sample, usage, 3, { rss: true, cpu: true });
    expect(sample["cpu.gateway"]).toBeCloseTo(10);
    expect(sample["cpu.total"]).toBeCloseTo(40);
    expect(sample["rss.nats-server"]).toBe(50);
  });

  it("records no CPU when the workload did not finish its jobs", () => {
    const sample: Sample = {};
    recordProcessUsage(sample, usage, 2000, { rss: true, cpu: false });
    expect(Object.keys(sample).filter((k) => k.startsWith("cpu."))).toEqual([]);
  });
});
