import type { JobDocument } from "@conveyor/read-model";
import { describe, expect, it } from "vitest";

import { JobView } from "../schemas/jobs.ts";
import { toJobView } from "./job-view.ts";

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

describe("toJobView", () => {
  it("lists an attempt a cancel stopped while it ran, and no delivery skipped before it started", () => {
    const doc: JobDocument = {
      _id: "job-2",
      type: "echo",
      status: "cancelled",
      run: 2,
      attempt: 1,
      attempts: [
        { run: 1, attempt: 1, startedAt: at(1), finishedAt: at(2), outcome: "cancelled" },
        { run: 2, attempt: 1, finishedAt: at(4), outcome: "cancelled" },
      ],
      updatedAt: at(4),
    };
    const view = toJobView(doc);
    expect(view.attemptHistory.map((a) => [a.run, a.outcome])).toEqual([[1, "cancelled"]]);
    expect(view.attempts).toBe(1);
  });

  it("shows fields the projector has not seen yet as null, never missing", () => {
    const doc: JobDocument = {
      _id: "job-1",
      type: "echo",
      status: "running",
      run: 1,
      attempt: 1,
      attempts: [{ run: 1, attempt: 1, workerId: "w1", startedAt: at(1) }],
      updatedAt: at(1),
    };
    const view = toJobView(doc);
    expect(view).toMatchObject({
      id: "job-1",
      status: "running",
      attempts: 1,
      payload: null,
      priority: null,
      submittedAt: null,
      finishedAt: null,
      progress: null,
      result: null,
      traceId: null,
    });
    expect(view.attemptHistory).toEqual([
      {
        run: 1,
        attempt: 1,
        workerId: "w1",
        startedAt: at(1),
        finishedAt: null,
        durationMs: null,
        outcome: null,
        error: null,
        retryDelayMs: null,
      },
    ]);
    expect(Object.keys(view)).toEqual(Object.keys(JobView.shape));
    expect(JobView.safeParse(view).success).toBe(true);
  });

  it("maps a finished job's submission, progress, result and timings", () => {
    const doc: JobDocument = {
      _id: "job-2",
      type: "echo",
      status: "succeeded",
      run: 1,
      attempt: 2,
      payload: { msg: "hi" },
      priority: 7,
      maxAttempts: 3,
      source: "rest",
      batchId: "batch-1",
      attempts: [
        { run: 1, attempt: 1, outcome: "failed", error: { message: "boom" }, retryDelayMs: 1000 },
        { run: 1, attempt: 2, outcome: "succeeded", durationMs: 12 },
      ],
      progress: { done: 3, total: 4, run: 1, attempt: 2, seq: 5, at: at(3) },
      result: { ok: true },
      submittedAt: at(0),
      startedAt: at(1),
      finishedAt: at(4),
      updatedAt: at(4),
      traceId: "0af7651916cd43dd8448eb211c80319c",
    };
    const view = toJobView(doc);
    expect(view).toMatchObject({
      id: "job-2",
      attempts: 2,
      payload: { msg: "hi" },
      priority: 7,
      maxAttempts: 3,
      batchId: "batch-1",
      source: "rest",
      result: { ok: true },
      progress: { done: 3, total: 4, message: null, attempt: 2, at: at(3) },
      submittedAt: at(0),
      startedAt: at(1),
      finishedAt: at(4),
      traceId: "0af7651916cd43dd8448eb211c80319c",
    });
    expect(view.attemptHistory.map((a) => a.outcome)).toEqual(["failed", "succeeded"]);
    expect(view.attemptHistory[0]!.error).toEqual({ message: "boom" });
    expect(JobView.safeParse(view).success).toBe(true);
  });

  it("counts the attempts of the current run only, and trusts a history ahead of the status", () => {
    const doc: JobDocument = {
      _id: "job-3",
      type: "echo",
      status: "running",
      run: 2,
      attempt: 1,
      attempts: [
        { run: 1, attempt: 1 },
        { run: 1, attempt: 2 },
        { run: 1, attempt: 3 },
        { run: 2, attempt: 1 },
        { run: 2, attempt: 2 },
      ],
      updatedAt: at(9),
    };
    expect(toJobView(doc).attempts).toBe(2);
    expect(toJobView({ ...doc, attempts: [] }).attempts).toBe(1);
    expect(toJobView({ ...doc, status: "queued", run: 1, attempt: 0, attempts: [] }).attempts).toBe(
      0,
    );
  });
});
