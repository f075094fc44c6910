import type { JobEvent } from "@conveyor/contracts";
import { describe, expect, it } from "vitest";

import { newestOutcome } from "./job-outcome.ts";

const base = { jobId: "j", type: "echo", at: "2026-12-07T10:00:00.000Z" };
const started = (run: number, attempt: number) =>
  ({ ...base, kind: "started", run, attempt, workerId: "w" }) as JobEvent;
const queued = (run: number) =>
  ({ ...base, kind: "queued", run, attempt: 0, maxAttempts: 3 }) as unknown as JobEvent;
const succeeded = (run: number, attempt = 1) =>
  ({
    ...base,
    kind: "succeeded",
    run,
    attempt,
    result: 1,
    durationMs: 1,
    workerId: "w",
  }) as JobEvent;
const dead = (run: number, attempt = 1) =>
  ({ ...base, kind: "dead", run, attempt, error: { message: "x" }, reason: "r" }) as JobEvent;
const cancelled = (run: number, attempt = 0) =>
  ({ ...base, kind: "cancelled", run, attempt, reason: "r" }) as JobEvent;

describe("newestOutcome", () => {
  it("is the end of the newest run, in whatever order the events come", () => {
    expect(newestOutcome([queued(1), succeeded(1)])).toMatchObject({ kind: "succeeded" });
    expect(newestOutcome([succeeded(1), queued(1)])).toMatchObject({ kind: "succeeded" });
  });

  it("is none while the newest run has not ended: a replayed dead job is not finished", () => {
    expect(newestOutcome([queued(1)])).toBeUndefined();
    expect(newestOutcome([dead(1), queued(2)])).toBeUndefined();
    expect(newestOutcome([queued(2), dead(1), succeeded(2)])).toMatchObject({ run: 2 });
  });

  it("keeps a run's success above what a later attempt of it records", () => {
    expect(newestOutcome([succeeded(1, 1), dead(1, 2)])).toMatchObject({ kind: "succeeded" });
    expect(newestOutcome([dead(1, 2), succeeded(1, 1)])).toMatchObject({ kind: "succeeded" });
    expect(newestOutcome([cancelled(1, 0), dead(1, 1)])).toMatchObject({ kind: "dead" });
  });

  it("is none for a cancel of an attempt that a later attempt's start follows, as the read model shows it running", () => {
    expect(newestOutcome([queued(1), started(1, 1), cancelled(1, 0)])).toBeUndefined();
    expect(newestOutcome([cancelled(1, 0), started(1, 1), succeeded(1, 1)])).toMatchObject({
      kind: "succeeded",
    });
  });
});
