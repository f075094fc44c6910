import type { DeadLetter } from "@conveyor/contracts";
import { describe, expect, it } from "vitest";

import { toDeadLetterView } from "./dead-letter-view.ts";

const letter: DeadLetter = {
  type: "echo",
  error: { name: "Error", message: "boom" },
  reason: "attempts_exhausted",
  attempts: 2,
  deadAt: "2026-01-01T10:00:00.000Z",
  source: { stream: "WORK", subject: "work.echo", seq: 3 },
  rawPreview: "not json",
};

describe("toDeadLetterView", () => {
  it("shows a letter without job id or work item as not replayable, with nulls", () => {
    expect(toDeadLetterView({ seq: 9, letter })).toEqual({
      id: null,
      type: "echo",
      run: 1,
      reason: "attempts_exhausted",
      error: { name: "Error", message: "boom" },
      attempts: 2,
      deadAt: "2026-01-01T10:00:00.000Z",
      workerId: null,
      traceId: null,
      workItem: null,
      rawPreview: "not json",
      dlqSeq: 9,
      replayable: false,
    });
  });

  it("shows a letter with its job and work item as replayable", () => {
    const workItem = {
      id: "job-1",
      type: "echo",
      payload: null,
      priority: 5,
      maxAttempts: 2,
      timeoutMs: 1000,
      submittedAt: "2026-01-01T09:00:00.000Z",
      run: 2,
    };
    const view = toDeadLetterView({
      seq: 1,
      letter: { ...letter, jobId: "job-1", run: 2, workItem },
    });
    expect(view).toMatchObject({ id: "job-1", run: 2, replayable: true, workItem });
  });
});
