import { describe, expect, it } from "vitest";

import type { BenchJob, Mark, SystemDriver } from "./systems/system.ts";
import { warmUp } from "./warm-up.ts";

describe("warmUp", () => {
  it("runs the load through each system in turn and waits until each has acknowledged all of it", async () => {
    const calls: string[] = [];
    const system = (name: string): SystemDriver =>
      ({
        name,
        mark: () => Promise.resolve({} as Mark),
        submitMany: (jobs: readonly BenchJob[], batch: number) => {
          calls.push(`${name} submit ${jobs.length} in ${batch}s`);
          return Promise.resolve();
        },
        waitAcked: async (_mark: Mark, n: number) => {
          await Promise.resolve();
          calls.push(`${name} acked ${n}`);
        },
        waitIdle: () => Promise.resolve(),
        waitCaughtUp: () => Promise.resolve(undefined),
      }) as unknown as SystemDriver;
    let id = 0;
    const context = {
      jobs: (n: number) =>
        Array.from({ length: n }, (): BenchJob => ({ id: `j${++id}`, kind: "noop", payload: {} })),
      log: () => {},
      timeoutMs: 1000,
      catchUpMs: 0,
    };

    await warmUp({ conveyor: system("conveyor"), bullmq: system("bullmq") }, context, {
      jobs: 300,
      batch: 100,
    });

    expect(calls).toEqual([
      "conveyor submit 300 in 100s",
      "conveyor acked 300",
      "bullmq submit 300 in 100s",
      "bullmq acked 300",
    ]);
  });
});
