import { describe, expect, it } from "vitest";

import type { BenchJob, StartListener, SystemDriver } from "../systems/system.ts";
import { steadyLatency } from "./steady-latency.ts";
import type { WorkloadContext } from "./workload.ts";

/** A system that refuses every other submission and starts the rest at once. */
function halfRefusingSystem(): SystemDriver {
  let listener: StartListener | undefined;
  let submitted = 0;
  const system: Partial<SystemDriver> = {
    name: "conveyor",
    watchStarts: (onStart) => {
      listener = onStart;
      return Promise.resolve(() => {
        listener = undefined;
      });
    },
    submitAsync: (job: BenchJob) => {
      if (submitted++ % 2 === 1) return Promise.reject(new Error("publish timed out"));
      listener?.(job.id, Date.now());
      return Promise.resolve();
    },
    isSucceeded: () => Promise.resolve(true),
    mark: () => Promise.resolve({}),
    waitAcked: () => Promise.resolve(),
  };
  return system as SystemDriver;
}

function context(timeoutMs: number): WorkloadContext {
  let next = 0;
  return {
    jobs: (n, kind, payload) =>
      Array.from({ length: n }, () => ({ id: `j${next++}`, kind, payload })),
    log: () => undefined,
    timeoutMs,
    catchUpMs: 0,
  };
}

/** A system that runs every job but whose start reports are lost for every third one. */
function lossyReportsSystem(): SystemDriver {
  let listener: StartListener | undefined;
  let submitted = 0;
  const system: Partial<SystemDriver> = {
    name: "conveyor",
    watchStarts: (onStart) => {
      listener = onStart;
      return Promise.resolve(() => {
        listener = undefined;
      });
    },
    submitAsync: (job: BenchJob) => {
      if (submitted++ % 3 !== 2) listener?.(job.id, Date.now());
      return Promise.resolve();
    },
    isSucceeded: () => Promise.resolve(true),
    mark: () => Promise.resolve({}),
    waitAcked: () => Promise.resolve(),
  };
  return system as SystemDriver;
}

describe("steadyLatency", () => {
  it("stops waiting for start reports soon after the system acknowledged every job", async () => {
    const workload = steadyLatency({
      ratePerSec: 300,
      durationS: 0.1,
      visibleSamplesPerSec: 300,
      pollMs: 1,
      visibleTimeoutMs: 100,
    });
    const startedAt = Date.now();

    const sample = await workload.run(lossyReportsSystem(), context(60_000));

    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(sample.unfinished).toBe(10);
    expect(sample["pickup.p50"]).toBeGreaterThanOrEqual(0);
  });

  it("counts refused submissions as unfinished without waiting for them to start", async () => {
    const workload = steadyLatency({
      ratePerSec: 200,
      durationS: 0.1,
      visibleSamplesPerSec: 200,
      pollMs: 1,
      visibleTimeoutMs: 100,
    });
    const startedAt = Date.now();

    const sample = await workload.run(halfRefusingSystem(), context(60_000));

    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(sample.unfinished).toBe(10);
    expect(sample["visible.missing"]).toBe(0);
  });
});
