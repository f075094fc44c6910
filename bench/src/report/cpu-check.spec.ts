import { describe, expect, it } from "vitest";

import { cpuCheck } from "./cpu-check.ts";

describe("cpuCheck", () => {
  it("reports the bytes hashed over the time taken, in MB/s", () => {
    // Every read of the clock advances it by 2 ms: 50 chunks of 64 KiB fill 100 ms.
    let t = 0;
    const speed = cpuCheck({ durationMs: 100, now: () => (t += 2) - 2 });
    expect(speed).toBeCloseTo((50 * 65536) / 1e6 / 0.1, 6);
  });

  it("hashes at least once, however short the duration", () => {
    let t = 0;
    expect(cpuCheck({ durationMs: 0, now: () => (t += 5) - 5 })).toBeCloseTo(65536 / 1e6 / 0.005);
  });
});
