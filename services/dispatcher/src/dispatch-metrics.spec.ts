import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";

import { dispatchMetrics, rejectionReasons } from "./dispatch-metrics.ts";

async function series(registry: Registry, name: string): Promise<Map<string, number>> {
  const metric = await registry.getSingleMetric(name)?.get();
  return new Map(
    metric?.values.map(({ labels, value }) => [Object.values(labels).join(","), value]),
  );
}

describe("dispatchMetrics", () => {
  it("counts queued jobs by type and refusals by reason", async () => {
    const registry = new Registry();
    const observer = dispatchMetrics(registry, () => []);

    observer.queued("echo", 100);
    observer.queued("echo", 1);
    observer.rejected("invalid_payload", 3);

    expect(await series(registry, "conveyor_jobs_queued_total")).toEqual(new Map([["echo", 101]]));
    expect((await series(registry, "conveyor_jobs_rejected_total")).get("invalid_payload")).toBe(3);
  });

  it("serves every reason, and every type registered at the scrape, from 0", async () => {
    const registry = new Registry();
    const types = ["echo"];
    dispatchMetrics(registry, () => types);
    types.push("sleep");

    expect(await series(registry, "conveyor_jobs_queued_total")).toEqual(
      new Map([
        ["echo", 0],
        ["sleep", 0],
      ]),
    );
    const rejected = await series(registry, "conveyor_jobs_rejected_total");
    expect([...rejected.keys()].sort()).toEqual([...rejectionReasons].sort());
    expect(rejectionReasons).toEqual(
      expect.arrayContaining([
        "too_large",
        "invalid_json",
        "invalid_envelope",
        "type_mismatch",
        "unknown_type",
        "invalid_payload",
        "invalid_headers",
        "unprocessable",
      ]),
    );
    expect([...rejected.values()].every((value) => value === 0)).toBe(true);
  });
});
