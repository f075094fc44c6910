import { describe, expect, it } from "vitest";

import { parseVegetaReport } from "./vegeta.ts";

describe("parseVegetaReport", () => {
  it("turns vegeta's JSON report (nanoseconds) into accepted/s, latency percentiles and failures", () => {
    const report = JSON.stringify({
      latencies: { total: 1, mean: 2_100_000, "50th": 1_500_000, "99th": 8_250_000, max: 9e6 },
      duration: 9_999_500_000,
      wait: 800_000,
      requests: 20_000,
      rate: 2000.1,
      throughput: 1999.2,
      success: 0.9995,
      status_codes: { "0": 2, "202": 19_990, "400": 8 },
      errors: ["connection refused"],
    });

    const result = parseVegetaReport(report);
    expect(result.acceptedPerSec).toBeCloseTo(19_990 / 9.9995, 6);
    expect(result.p50Ms).toBe(1.5);
    expect(result.p99Ms).toBe(8.25);
    expect(result.failures).toBe(10);
  });

  it("fails with the output when it is not a report", () => {
    expect(() => parseVegetaReport("2026/12/04 error: connection refused")).toThrow(
      /connection refused/,
    );
  });
});
