import { describe, expect, it } from "vitest";

import { Stats } from "../schemas/stats.ts";
import { summarizeJobCounts } from "./job-counts.ts";

const zeros = { queued: 0, running: 0, failed: 0, succeeded: 0, dead: 0, cancelled: 0 };

describe("summarizeJobCounts", () => {
  it("totals by status and by type with every status present", () => {
    const summary = summarizeJobCounts([
      { status: "queued", type: "echo", count: 2 },
      { status: "succeeded", type: "echo", count: 5 },
      { status: "dead", type: "email.send", count: 1 },
    ]);
    expect(summary).toEqual({
      total: 8,
      byStatus: { ...zeros, queued: 2, succeeded: 5, dead: 1 },
      byType: {
        echo: { total: 7, byStatus: { ...zeros, queued: 2, succeeded: 5 } },
        "email.send": { total: 1, byStatus: { ...zeros, dead: 1 } },
      },
    });
    expect(Stats.shape.jobs.safeParse(summary).success).toBe(true);
  });

  it("is all zeros for an empty read model", () => {
    expect(summarizeJobCounts([])).toEqual({ total: 0, byStatus: zeros, byType: {} });
  });

  it("counts a type named like an Object property (constructor) as any other", () => {
    const summary = summarizeJobCounts([
      { status: "queued", type: "constructor", count: 2 },
      { status: "dead", type: "constructor", count: 1 },
    ]);
    expect(summary.byType).toEqual({
      constructor: { total: 3, byStatus: { ...zeros, queued: 2, dead: 1 } },
    });
    expect(Object.hasOwn(Object, "total")).toBe(false);
  });
});
