import { describe, expect, it } from "vitest";

import { parseAutocannonJson } from "./autocannon.ts";

describe("parseAutocannonJson", () => {
  it("turns autocannon's result into accepted/s, latency percentiles and failures", () => {
    const json = JSON.stringify({
      duration: 2.5,
      "2xx": 5000,
      non2xx: 3,
      errors: 1,
      timeouts: 0,
      latency: { p50: 4, p99: 21, average: 5.1 },
    });
    expect(parseAutocannonJson(`some warning\n${json}\n`)).toEqual({
      acceptedPerSec: 2000,
      p50Ms: 4,
      p99Ms: 21,
      failures: 4,
    });
  });

  it("counts a timed-out request once: autocannon counts it in both errors and timeouts", () => {
    // autocannon's run.js, onTimeout: `errors++; timeouts++`.
    const json = JSON.stringify({ duration: 1, "2xx": 10, non2xx: 0, errors: 2, timeouts: 2 });
    expect(parseAutocannonJson(json).failures).toBe(2);
  });

  it("fails with the output when there is no JSON line", () => {
    expect(() => parseAutocannonJson("Error: connect ECONNREFUSED")).toThrow(/ECONNREFUSED/);
  });
});
