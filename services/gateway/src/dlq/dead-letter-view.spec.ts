import type { OpenDeadLetterDocument } from "@conveyor/read-model";
import { describe, expect, it } from "vitest";

import { toDeadLetterView } from "./dead-letter-view.ts";

const doc: OpenDeadLetterDocument = {
  _id: "WORK:3",
  type: "echo",
  run: 1,
  state: "dead",
  source: { stream: "DLQ", subject: "dlq.echo", seq: 9 },
  attempts: 2,
  reason: "attempts_exhausted",
  error: { name: "Error", message: "boom" },
  deadAt: "2026-01-01T10:00:00.000Z",
  rawPreview: "not json",
  workSource: { stream: "WORK", subject: "work.echo", seq: 3 },
  log: [],
};

describe("toDeadLetterView", () => {
  it("shows a letter without job id or work item as not replayable, with nulls", () => {
    expect(toDeadLetterView(doc)).toEqual({
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

  it("shows a letter with its job and work item as replayable, at its DLQ sequence", () => {
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
      ...doc,
      _id: "job-1",
      jobId: "job-1",
      run: 2,
      workItem,
      rawPreview: undefined,
    });
    expect(view).toMatchObject({ id: "job-1", run: 2, replayable: true, workItem, dlqSeq: 9 });
  });
});
