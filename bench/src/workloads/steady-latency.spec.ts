import { describe, expect, it } from "vitest";

import type { BenchJob, EndListener, StartListener, SystemDriver } from "../systems/system.ts";
import { latencySinceExact, steadyLatency } from "./steady-latency.ts";
import type { WorkloadContext } from "./workload.ts";

/**
 * A system that starts and ends each job as soon as it is submitted, except those `refuses` (the
 * submission fails) and those whose start and end reports `loses` (the job runs, its reports never
 * arrive); it counts every accepted job as acknowledged at once, and its read model records a job
 * `projectsAfterMs` after its end.
 */
function fakeSystem(behaviour: {
  refuses?: (index: number) => boolean;
  loses?: (index: number) => boolean;
  projectsAfterMs?: number | ((index: number) => number);
  /** How long its read model takes to catch up once every job is acknowledged. */
  catchesUpAfterMs?: number;
  /** Told each time the bench reads the system's processes, and whether it had caught up. */
  onProcessesRead?: (caughtUp: boolean) => void;
  /** Told each time the bench reads the read model. */
  onReadModelRead?: () => void;
}): SystemDriver {
  let listener: StartListener | undefined;
  let onEnd: EndListener | undefined;
  const endedAt = new Map<string, number>();
  const indexOf = new Map<string, number>();
  let submitted = 0;
  let caughtUp = false;
  const system: Partial<SystemDriver> = {
    name: "conveyor",
    watchStarts: (onStart, options) => {
      listener = onStart;
      onEnd = options?.onEnd;
      return Promise.resolve(() => {
        listener = undefined;
        onEnd = undefined;
      });
    },
    submitAsync: (job: BenchJob) => {
      const index = submitted++;
      indexOf.set(job.id, index);
      if (behaviour.refuses?.(index) === true) {
        return Promise.reject(new Error("publish timed out"));
      }
      endedAt.set(job.id, Date.now());
      if (behaviour.loses?.(index) !== true) {
        listener?.(job.id, Date.now());
        onEnd?.(job.id, Date.now());
      }
      return Promise.resolve();
    },
    isSucceeded: () => Promise.resolve(true),
    inReadModel: (id) => {
      behaviour.onReadModelRead?.();
      const end = endedAt.get(id);
      const { projectsAfterMs = 0 } = behaviour;
      const after =
        typeof projectsAfterMs === "number" ? projectsAfterMs : projectsAfterMs(indexOf.get(id)!);
      return Promise.resolve(end !== undefined && Date.now() - end >= after);
    },
    mark: () => Promise.resolve({}),
    waitAcked: () => Promise.resolve(),
    waitCaughtUp: async () => {
      await new Promise((resolve) => setTimeout(resolve, behaviour.catchesUpAfterMs ?? 0));
      caughtUp = true;
      return undefined;
    },
    processes: () => {
      behaviour.onProcessesRead?.(caughtUp);
      return [];
    },
  };
  return system as SystemDriver;
}

/**
 * Runs 0.1 s at `ratePerSec`, following every job (polled every `pollMs` at first, 1 ms unless
 * given), with a minute as the workload's timeout.
 */
async function runBriefly(
  ratePerSec: number,
  system: SystemDriver,
  { pollMs = 1, visibleTimeoutMs = 300 }: { pollMs?: number; visibleTimeoutMs?: number } = {},
) {
  let next = 0;
  const context: WorkloadContext = {
    jobs: (n, kind, payload) =>
      Array.from({ length: n }, () => ({ id: `j${next++}`, kind, payload })),
    log: () => undefined,
    timeoutMs: 60_000,
    catchUpMs: 0,
  };
  const workload = steadyLatency({
    ratePerSec,
    durationS: 0.1,
    visibleSamplesPerSec: ratePerSec,
    projectedSamplesPerSec: ratePerSec,
    pollMs,
    visibleTimeoutMs,
  });
  const startedAt = Date.now();
  const sample = await workload.run(system, context);
  return { sample, elapsedMs: Date.now() - startedAt };
}

describe("steadyLatency", () => {
  it("counts refused submissions as unfinished without waiting for them to start", async () => {
    const { sample, elapsedMs } = await runBriefly(
      200,
      fakeSystem({ refuses: (i) => i % 2 === 1 }),
    );

    expect(elapsedMs).toBeLessThan(10_000);
    expect(sample.unfinished).toBe(10);
    expect(sample["visible.missing"]).toBe(0);
  });

  it("stops waiting for start reports soon after the system acknowledged every job", async () => {
    const { sample, elapsedMs } = await runBriefly(300, fakeSystem({ loses: (i) => i % 3 === 2 }));

    expect(elapsedMs).toBeLessThan(10_000);
    expect(sample.unfinished).toBe(10);
    expect(sample["pickup.p50"]).toBeGreaterThanOrEqual(0);
    // Acknowledged, those jobs ran: their reports were lost, which says nothing of their pickup.
    expect(sample["pickup.p99"]).toBeLessThan(100);
    // Their ends were not reported either, so they cannot be followed into the read model.
    expect(sample["projected.missing"]).toBe(10);
  });

  it("times handler end -> read model from each followed job's end report", async () => {
    const { sample } = await runBriefly(100, fakeSystem({ projectsAfterMs: 30 }));

    expect(sample["projected.missing"]).toBe(0);
    // Never earlier than the store recorded it, and within the polling steps after it. The median:
    // of 10 samples the p99 is the slowest, which one stall of a loaded machine can delay by
    // seconds (CI saw 5,775 ms while other projects' tests ran beside it).
    expect(sample["projected.p50"]).toBeGreaterThanOrEqual(30);
    expect(sample["projected.p50"]).toBeLessThan(90);
  });

  it("reads the read model every poll step while a job is within the target's range of its end", async () => {
    // With steps growing from the first, a job recorded 180 ms after its end was seen at 212 ms.
    const { sample } = await runBriefly(100, fakeSystem({ projectsAfterMs: 180 }), {
      pollMs: 5,
    });

    expect(sample["projected.missing"]).toBe(0);
    expect(sample["projected.p50"]).toBeGreaterThanOrEqual(180);
    expect(sample["projected.p50"]).toBeLessThan(200);
  });

  it("counts followed jobs the read model never records as missing", async () => {
    const { sample } = await runBriefly(100, fakeSystem({ projectsAfterMs: 60_000 }));

    expect(sample["projected.missing"]).toBe(10);
  });

  it("times a followed job that is never seen as at least as slow as it was followed for", async () => {
    // Left out, the slowest jobs would make the percentiles of those seen look like the system's:
    // with 2 of 10 never recorded, the p99 was the slowest job recorded in time.
    const { sample } = await runBriefly(
      100,
      fakeSystem({ projectsAfterMs: (index) => (index >= 8 ? 60_000 : 30) }),
    );

    expect(sample["projected.missing"]).toBe(2);
    expect(sample["projected.p50"]).toBeLessThan(90);
    // The deadline is 300 ms after the last submission, the jobs ended within the 0.1 s before it.
    expect(sample["projected.p99"]).toBeGreaterThanOrEqual(300);
  });

  it("reads a job that is long in coming less and less often: the reads load the store measured", async () => {
    // At 10,000 jobs/s half of Conveyor's followed jobs took over 30 s; read every 50 ms, the
    // bench's own reads were a share of the read model's CPU.
    let reads = 0;
    await runBriefly(10, fakeSystem({ projectsAfterMs: 60_000, onReadModelRead: () => reads++ }), {
      pollMs: 5,
      visibleTimeoutMs: 4000,
    });
    // One job followed for about 4 s: every 5 ms for 200 ms, then steps of at most a twentieth of
    // the time since its end (50 ms at first) instead of every 50 ms (about 115 reads).
    expect(reads).toBeLessThan(95);
  });

  it("counts the CPU of every process until the system has caught up, not only until the acks", async () => {
    // Conveyor's read model projects after the workers acknowledged; BullMQ has nothing left.
    const reads: boolean[] = [];
    await runBriefly(
      100,
      fakeSystem({ catchesUpAfterMs: 50, onProcessesRead: (caughtUp) => reads.push(caughtUp) }),
    );

    expect(reads.at(-1)).toBe(true);
  });

  it("reports how late the client sent the jobs, the share of each pickup that is its own", async () => {
    // This system starts a job the moment it is sent: its whole pickup is the client's lateness.
    const { sample } = await runBriefly(300, fakeSystem({}));

    expect(sample["sendLag.p50"]).toBeGreaterThanOrEqual(0);
    expect(sample["sendLag.p99"]).toBeGreaterThanOrEqual(sample["sendLag.p50"]!);
    // Date.now() counts whole milliseconds, the loop's clock fractions of them.
    expect(Math.abs(sample["pickup.p50"]! - sample["sendLag.p50"]!)).toBeLessThan(1.5);
  });
});

describe("latencySinceExact", () => {
  it("times whole-millisecond stamps against an exact instant without a bias", () => {
    // A stamp (Date.now(), an ISO time) is the millisecond its instant fell in: on average half a
    // millisecond before it. Compared with an exact due time, every latency would read 0.5 ms low.
    const due = 1_765_000_000_000.25;
    const trueLatencies = Array.from({ length: 100 }, (_, i) => i * 0.037);
    const measured = trueLatencies.map((t) => latencySinceExact(Math.floor(due + t), due));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(measured)).toBeCloseTo(mean(trueLatencies), 1);
  });
});
