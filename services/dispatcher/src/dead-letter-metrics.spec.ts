import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";

import { deadLetterMetrics } from "./dead-letter-metrics.ts";

describe("deadLetterMetrics", () => {
  it("counts letters by type and by what found them", async () => {
    const registry = new Registry();
    const observer = deadLetterMetrics(registry);

    observer.deadLettered("email.send", "advisory");
    observer.deadLettered("email.send", "advisory");
    observer.deadLettered("email.send", "scan");
    observer.deadLettered("report.build", "advisory");

    const metric = await registry.getSingleMetric("conveyor_jobs_dead_lettered_total")?.get();
    const counts = metric?.values.map(({ labels, value }) => [labels.type, labels.found_by, value]);
    expect(counts).toEqual([
      ["email.send", "advisory", 2],
      ["email.send", "scan", 1],
      ["report.build", "advisory", 1],
    ]);
  });
});
