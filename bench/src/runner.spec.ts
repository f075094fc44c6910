import { describe, expect, it } from "vitest";

import { PartialSampleError } from "./errors.ts";
import type { SystemDriver } from "./systems/system.ts";
import { aggregate, runWorkloads, systemOrder } from "./runner.ts";
import type { WorkloadRun } from "./runner.ts";
import type { Workload } from "./workloads/workload.ts";

describe("systemOrder", () => {
  it("alternates which system goes first from one repetition to the next", () => {
    expect(systemOrder(0, 0)).toEqual(["conveyor", "bullmq"]);
    expect(systemOrder(0, 1)).toEqual(["bullmq", "conveyor"]);
    expect(systemOrder(0, 2)).toEqual(["conveyor", "bullmq"]);
  });

  it("starts the next workload with the other system", () => {
    expect(systemOrder(1, 0)).toEqual(["bullmq", "conveyor"]);
  });
});

describe("aggregate", () => {
  const run: WorkloadRun = {
    id: "w",
    title: "w",
    description: "",
    figures: [
      { key: "rate", label: "rate", unit: "jobs/s", better: "higher" },
      { key: "rss.gateway", label: "rss gateway", unit: "MiB", better: "lower", only: "conveyor" },
    ],
    samples: {
      conveyor: [{ rate: 100, "rss.gateway": 80 }, { rate: 300 }, {}, { rate: 200 }],
      bullmq: [{ rate: 400 }, { rate: 400 }, { rate: 500 }],
    },
    errors: ["conveyor #3: timed out"],
    notes: [],
  };

  it("takes the median, min and max of the repetitions that produced the figure", () => {
    const [rate] = aggregate([run]);
    expect(rate!.conveyor).toEqual({ median: 200, min: 100, max: 300, n: 3 });
    expect(rate!.bullmq).toEqual({ median: 400, min: 400, max: 500, n: 3 });
    expect(rate!.ratio).toBe(0.5);
  });

  it("gives per-process figures no ratio", () => {
    const [, rss] = aggregate([run]);
    expect(rss!.conveyor.median).toBe(80);
    expect(rss!.ratio).toBeUndefined();
  });
  it("summarizes a per-process figure only for its own system, when both name a process alike", () => {
    const cpu = (only: "conveyor" | "bullmq") =>
      ({ key: "cpu.worker", label: "CPU worker", unit: "ms", better: "lower", only }) as const;
    const [ofConveyor, ofBullmq] = aggregate([
      {
        ...run,
        figures: [cpu("conveyor"), cpu("bullmq")],
        samples: { conveyor: [{ "cpu.worker": 2 }], bullmq: [{ "cpu.worker": 7 }] },
      },
    ]);
    expect(ofConveyor!.conveyor.median).toBe(2);
    expect(ofConveyor!.bullmq.n).toBe(0);
    expect(ofBullmq!.bullmq.median).toBe(7);
    expect(ofBullmq!.conveyor.n).toBe(0);
  });
});

describe("runWorkloads", () => {
  function fakeSystem(
    name: "conveyor" | "bullmq",
    calls: string[],
    idle: () => Promise<void> = () => Promise.resolve(),
    caughtUp: (timeoutMs: number) => Promise<string | undefined> = () => Promise.resolve(undefined),
  ): SystemDriver {
    return {
      name,
      waitCaughtUp: caughtUp,
      setWorkers: (n: number) => {
        calls.push(`${name} workers=${n}`);
        return Promise.resolve();
      },
      waitIdle: idle,
      lag: () => Promise.resolve(name === "conveyor" ? "read model 5 events behind" : undefined),
    } as unknown as SystemDriver;
  }
  const context = { jobs: () => [], log: () => {}, timeoutMs: 1000, catchUpMs: 500 };
  const figures = [{ key: "rate", label: "rate", unit: "jobs/s", better: "higher" as const }];
  /** A workload whose every repetition is noted in `calls`. */
  const recording = (calls: string[], workers?: number): Workload => ({
    id: "w",
    title: "w",
    description: "",
    figures,
    workers,
    run: (system) => {
      calls.push(`run ${system.name}`);
      return Promise.resolve({ rate: 1 });
    },
  });

  it("runs every repetition on both systems in turns, with the workload's worker count", async () => {
    const calls: string[] = [];
    const workload = recording(calls, 2);
    const [run] = await runWorkloads({
      workloads: [workload],
      repetitions: 3,
      systems: { conveyor: fakeSystem("conveyor", calls), bullmq: fakeSystem("bullmq", calls) },
      context,
      log: () => {},
    });
    expect(calls).toEqual([
      "conveyor workers=2",
      "bullmq workers=2",
      "run conveyor",
      "run bullmq",
      "run bullmq",
      "run conveyor",
      "run conveyor",
      "run bullmq",
    ]);
    expect(run!.samples.bullmq).toEqual([{ rate: 1 }, { rate: 1 }, { rate: 1 }]);
    expect(run!.errors).toEqual([]);
    expect(run!.notes).toEqual(["conveyor: read model 5 events behind"]);
  });

  it("lets every system catch up before each repetition, whichever system runs it", async () => {
    const calls: string[] = [];
    const lines: string[] = [];
    const catchingUp = (name: "conveyor" | "bullmq") =>
      fakeSystem(name, calls, undefined, (timeoutMs) => {
        calls.push(`${name} caught up within ${timeoutMs}`);
        return Promise.resolve(name === "conveyor" ? "read model 7 events behind" : undefined);
      });
    const workload = recording(calls);
    await runWorkloads({
      workloads: [workload],
      repetitions: 1,
      systems: { conveyor: catchingUp("conveyor"), bullmq: catchingUp("bullmq") },
      context,
      log: (line) => lines.push(line),
    });
    expect(calls.filter((c) => !c.includes("workers="))).toEqual([
      "conveyor caught up within 500",
      "bullmq caught up within 500",
      "run conveyor",
      "conveyor caught up within 500",
      "bullmq caught up within 500",
      "run bullmq",
    ]);
    expect(lines).toContain("  conveyor still catching up: read model 7 events behind");
  });

  it("waits for every system to be idle before each repetition, not only the one about to run", async () => {
    // A REST workload returns with the jobs it submitted still queued; the other system's
    // repetition must not start while they run.
    const calls: string[] = [];
    const idleNoting = (name: "conveyor" | "bullmq") =>
      fakeSystem(name, calls, () => {
        calls.push(`${name} idle`);
        return Promise.resolve();
      });
    await runWorkloads({
      workloads: [recording(calls)],
      repetitions: 1,
      systems: { conveyor: idleNoting("conveyor"), bullmq: idleNoting("bullmq") },
      context,
      log: () => {},
    });
    expect(calls.filter((c) => !c.includes("workers="))).toEqual([
      "conveyor idle",
      "bullmq idle",
      "run conveyor",
      "conveyor idle",
      "bullmq idle",
      "run bullmq",
    ]);
  });

  it("leaves out a system whose catch-up fails (a process died) instead of ending the run", async () => {
    const ran: string[] = [];
    const dead = () => Promise.reject(new Error("status-projector exited"));
    const [run] = await runWorkloads({
      workloads: [recording(ran)],
      repetitions: 1,
      systems: {
        conveyor: fakeSystem("conveyor", [], undefined, dead),
        bullmq: fakeSystem("bullmq", []),
      },
      context,
      log: () => {},
    });
    expect(ran).toEqual(["run bullmq"]);
    expect(run!.errors).toEqual(["conveyor #1: it could not catch up (status-projector exited)"]);
  });

  it("keeps a failed repetition's partial figures and skips that system's remaining repetitions", async () => {
    let conveyorRuns = 0;
    const workload: Workload = {
      id: "w",
      title: "w",
      description: "",
      figures,
      run: (system) => {
        if (system.name === "conveyor" && ++conveyorRuns === 2) {
          return Promise.reject(
            new PartialSampleError({ rate: 5 }, { cause: new Error("timed out") }),
          );
        }
        return Promise.resolve({ rate: 1 });
      },
    };
    const [run] = await runWorkloads({
      workloads: [workload],
      repetitions: 3,
      systems: { conveyor: fakeSystem("conveyor", []), bullmq: fakeSystem("bullmq", []) },
      context,
      log: () => {},
    });
    expect(conveyorRuns).toBe(2);
    expect(run!.samples.conveyor).toEqual([{ rate: 1 }, { rate: 5 }, {}]);
    expect(run!.samples.bullmq).toHaveLength(3);
    expect(run!.errors).toEqual([
      "conveyor #2: timed out",
      "conveyor #3: skipped, an earlier repetition failed",
    ]);
  });

  it("leaves a system that does not become idle out of every later workload", async () => {
    const ran: string[] = [];
    const workload = (id: string): Workload => ({
      id,
      title: id,
      description: "",
      figures,
      run: (system) => {
        ran.push(`${id} ${system.name}`);
        return Promise.resolve({ rate: 1 });
      },
    });
    const stuck = () => Promise.reject(new Error("still busy"));
    const runs = await runWorkloads({
      workloads: [workload("a"), workload("b")],
      repetitions: 1,
      systems: { conveyor: fakeSystem("conveyor", [], stuck), bullmq: fakeSystem("bullmq", []) },
      context,
      log: () => {},
    });
    expect(ran).toEqual(["a bullmq", "b bullmq"]);
    expect(runs[0]!.errors).toEqual(["conveyor #1: it did not become idle (still busy)"]);
    expect(runs[1]!.errors).toEqual(["conveyor #1: skipped, it did not become idle (still busy)"]);
  });
});
