import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";

import { deadLetterMetrics } from "./dead-letter-metrics.ts";

async function counts(registry: Registry): Promise<unknown[][] | undefined> {
  const metric = await registry.getSingleMetric("conveyor_jobs_dead_lettered_total")?.get();
  return metric?.values.map(({ labels, value }) => [labels.type, labels.found_by, value]);
}

describe("deadLetterMetrics", () => {
  it("counts letters by type and by what found them", async () => {
    const registry = new Registry();
    const observer = deadLetterMetrics(registry, () => []);

    observer.deadLettered("email.send", "advisory");
    observer.deadLettered("email.send", "advisory");
    observer.deadLettered("email.send", "scan");
    observer.deadLettered("report.build", "advisory");

    expect(await counts(registry)).toEqual([
      ["email.send", "advisory", 2],
      ["email.send", "scan", 1],
      ["report.build", "advisory", 1],
    ]);
  });

  it("serves every type registered at the scrape from 0, so that a first letter shows in rate()", async () => {
    const registry = new Registry();
    const types = ["email.send"];
    const observer = deadLetterMetrics(registry, () => types);
    observer.deadLettered("email.send", "scan");
    types.push("report.build");

    expect(await counts(registry)).toEqual([
      ["email.send", "scan", 1],
      ["email.send", "advisory", 0],
      ["report.build", "advisory", 0],
      ["report.build", "scan", 0],
    ]);
  });
});
