import { describe, expect, it } from "vitest";

import { dueCount, epochAnchor, runOpenLoop } from "./open-loop.ts";

describe("dueCount", () => {
  it("has job 0 due at once and one more every 1/rate", () => {
    expect(dueCount(0, 1000, 100)).toBe(1);
    expect(dueCount(9.9, 1000, 100)).toBe(10);
    expect(dueCount(10, 1000, 100)).toBe(11);
  });

  it("never exceeds the total", () => {
    expect(dueCount(60_000, 1000, 100)).toBe(100);
  });
});

describe("runOpenLoop", () => {
  it("sends rate x duration jobs with due times 1/rate apart", async () => {
    const due: number[] = [];
    const result = await runOpenLoop({
      ratePerSec: 2000,
      durationMs: 50,
      send: (index, dueAtMs) => {
        due[index] = dueAtMs;
      },
    });
    expect(result.sent).toBe(100);
    expect(due).toHaveLength(100);
    expect(due[99]! - due[0]!).toBeCloseTo(49.5, 5);
  });
});

/**
 * A clock whose sleeps take exactly what they ask for, but never less than Node's 1 ms timer
 * floor: the loop's own lateness, with no machine noise in it.
 */
function fakeClock(): {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  advance: (ms: number) => void;
  anchor: () => { epochMs: number; perfMs: number };
} {
  let nowMs = 0;
  return {
    now: () => nowMs,
    anchor: () => ({ epochMs: fakeEpochMs, perfMs: nowMs }),
    sleep: (ms) => {
      // Node warns (TimeoutNegativeWarning) about a negative timeout.
      if (ms < 0) throw new RangeError(`asked to sleep ${String(ms)} ms`);
      nowMs += Math.max(1, ms);
      return Promise.resolve();
    },
    advance: (ms) => {
      nowMs += ms;
    },
  };
}

/** The epoch time of {@link fakeClock}'s anchor: the wall clock at its monotonic `now()`. */
const fakeEpochMs = 1_765_000_000_000;

describe("epochAnchor", () => {
  it("reads both clocks at the instant the epoch clock ticks over to a new millisecond", () => {
    const before = Date.now();
    const { epochMs, perfMs } = epochAnchor();
    const after = Date.now();
    expect(Number.isInteger(epochMs)).toBe(true);
    expect(epochMs).toBeGreaterThan(before);
    expect(after).toBeGreaterThanOrEqual(epochMs);
    expect(perfMs).toBeLessThanOrEqual(performance.now());
  });
});

describe("runOpenLoop's schedule", () => {
  it("dates job i exactly i / rate after the anchor, on the clock the systems stamp with", async () => {
    // Date.now() read at an arbitrary moment is up to 1 ms behind the true time, the same for
    // every job of the loop: all of a repetition's latencies would move by up to 1 ms together.
    const clock = fakeClock();
    clock.advance(0.4);
    const due: number[] = [];
    await runOpenLoop({
      ratePerSec: 2000,
      durationMs: 10,
      clock,
      send: (index, dueAtMs) => {
        due[index] = dueAtMs;
      },
    });
    expect(due[0]).toBe(fakeEpochMs);
    expect(due[7]).toBe(fakeEpochMs + 3.5);
  });

  it.each([300, 2000, 10_000])(
    "sends each job within Node's 1 ms timer floor of its due time at %i jobs/s",
    async (ratePerSec) => {
      const clock = fakeClock();
      const lateBy: number[] = [];
      await runOpenLoop({
        ratePerSec,
        durationMs: 200,
        clock,
        send: (index) => {
          lateBy.push(clock.now() - (index * 1000) / ratePerSec);
        },
      });
      expect(Math.max(...lateBy)).toBeLessThanOrEqual(1);
    },
  );

  it("reports how late it sent, so the part of a latency that is the client's shows", async () => {
    const result = await runOpenLoop({
      ratePerSec: 2000,
      durationMs: 200,
      clock: fakeClock(),
      send: () => undefined,
    });
    // Due every 0.5 ms, woken every 1 ms: half the jobs leave on time, half 0.5 ms late.
    expect(result.lagMs.percentileMs(50)).toBeCloseTo(0, 1);
    expect(result.lagMs.percentileMs(99)).toBeCloseTo(0.5, 1);
    expect(result.maxLagMs).toBeCloseTo(0.5, 5);
  });

  it("counts the time spent sending a burst's earlier jobs in the later ones' lateness", async () => {
    const clock = fakeClock();
    const result = await runOpenLoop({
      ratePerSec: 1000,
      durationMs: 3,
      clock,
      // Each send takes 5 ms: job 0 leaves at 0; jobs 1 and 2 are both due at the next wake (6 ms),
      // and job 2 leaves only after job 1's send, at 11 ms, 9 ms after its due time.
      send: () => {
        clock.advance(5);
      },
    });
    // The histogram keeps three significant digits.
    expect(result.maxLagMs).toBeCloseTo(9, 1);
  });

  it("never asks for a negative sleep when sending took past the next job's due time", async () => {
    const clock = fakeClock();
    const result = await runOpenLoop({
      ratePerSec: 10_000,
      durationMs: 50,
      clock,
      // Each send takes a third of the interval between jobs.
      send: () => {
        clock.advance(0.1 / 3);
      },
    });
    expect(result.sent).toBe(500);
  });
});
