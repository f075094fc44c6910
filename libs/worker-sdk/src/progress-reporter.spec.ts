import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { ProgressReporter, maxPublishing } from "./progress-reporter.ts";
import type { ProgressReport } from "./progress-reporter.ts";
import { createTestContext } from "./test-context.ts";

describe("ProgressReporter", () => {
  let published: ProgressReport[];
  const sink = (report: ProgressReport) => {
    published.push(report);
    return Promise.resolve();
  };

  beforeEach(() => {
    published = [];
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("publishes every report with increasing seq when the interval is 0", async () => {
    const reporter = new ProgressReporter(sink, 0);
    for (let i = 1; i <= 3; i++) await reporter.report(i, 3, `step ${i}`);
    expect(published).toEqual([
      { done: 1, total: 3, message: "step 1", seq: 0 },
      { done: 2, total: 3, message: "step 2", seq: 1 },
      { done: 3, total: 3, message: "step 3", seq: 2 },
    ]);
  });

  it("coalesces reports inside the interval and publishes the newest when it ends", async () => {
    const reporter = new ProgressReporter(sink, 100);
    await reporter.report(1, 10);
    await reporter.report(2, 10);
    await reporter.report(3, 10);
    expect(published.map((r) => r.done)).toEqual([1]);
    await vi.advanceTimersByTimeAsync(100);
    expect(published.map((r) => [r.done, r.seq])).toEqual([
      [1, 0],
      [3, 1],
    ]);
  });

  it("publishes the final report at once", async () => {
    const reporter = new ProgressReporter(sink, 1000);
    await reporter.report(1, 2);
    await reporter.report(2, 2);
    expect(published.map((r) => r.done)).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(published).toHaveLength(2);
  });

  it("holds the newest report while as many as it allows are being stored", async () => {
    // Reports resolve at once: a loop of final reports (each due) would otherwise queue a publish
    // per call, without bound, while the stream is slow.
    const landings: (() => void)[] = [];
    const slowSink = (report: ProgressReport) => {
      published.push(report);
      return new Promise<void>((resolve) => landings.push(resolve));
    };
    const reporter = new ProgressReporter(slowSink, 0);
    for (let i = 1; i <= 1000; i++) await reporter.report(i, i);
    const first = Array.from({ length: maxPublishing }, (_, i) => i + 1);
    expect(published.map((r) => r.done)).toEqual(first);
    landings.shift()?.();
    await vi.advanceTimersByTimeAsync(0);
    expect(published.map((r) => r.done)).toEqual([...first, 1000]);
    expect(published.at(-1)?.seq).toBe(maxPublishing);
    while (landings.length > 0) landings.shift()?.();
    await vi.advanceTimersByTimeAsync(0);
    expect(published).toHaveLength(maxPublishing + 1);
  });

  it("drops held reports when closed", async () => {
    const reporter = new ProgressReporter(sink, 100);
    await reporter.report(1, 10);
    await reporter.report(2, 10);
    reporter.close();
    await reporter.report(3, 10);
    await vi.advanceTimersByTimeAsync(200);
    expect(published.map((r) => r.done)).toEqual([1]);
  });

  it("refuses negative and non-finite counts", () => {
    const reporter = new ProgressReporter(sink, 0);
    expect(() => reporter.report(-1, 3)).toThrow(RangeError);
    expect(() => reporter.report(1, Number.NaN)).toThrow("progress total");
  });

  it("publishes at once after the wall clock stepped back, instead of holding reports for the step", async () => {
    let now = 1_000_000;
    const reporter = new ProgressReporter(sink, 250, () => now);
    await reporter.report(1, 10);
    now -= 60_000;
    await reporter.report(2, 10);
    expect(published.map((r) => r.done)).toEqual([1, 2]);
  });

  it("refuses a message that is not a string, which no read model would store", () => {
    const reporter = new ProgressReporter(sink, 0);
    expect(() => reporter.report(1, 3, 42 as unknown as string)).toThrow(TypeError);
    expect(() => reporter.report(1, 3, null as unknown as string)).toThrow("progress message");
  });

  it("is checked the same in a test context as in a worker", async () => {
    const { ctx, progress } = createTestContext();
    expect(() => ctx.progress(-1, 3)).toThrow(RangeError);
    expect(() => ctx.progress(1, 3, 7 as unknown as string)).toThrow(TypeError);
    await ctx.progress(1, 3, "a third");
    expect(progress).toEqual([{ done: 1, total: 3, message: "a third" }]);
  });
});
