import type { JobEvent } from "@conveyor/contracts";
import { applyEvent } from "@conveyor/read-model";
import { describe, expect, it } from "vitest";

const base = { jobId: "job-1", type: "echo", run: 1, traceId: "a".repeat(32) };

const queued: JobEvent = {
  ...base,
  kind: "queued",
  at: "2026-01-01T10:00:00.000Z",
  attempt: 0,
  payload: null,
  priority: 5,
  maxAttempts: 3,
  submittedAt: "2026-01-01T10:00:00.000Z",
  source: "rest",
};
const cancelledAt = (attempt: number, at: string): JobEvent => ({
  jobId: "job-1",
  type: "echo",
  run: 1,
  kind: "cancelled",
  at,
  attempt,
  reason: "not needed",
});
const started: JobEvent = {
  ...base,
  kind: "started",
  at: "2026-01-01T10:00:01.000Z",
  attempt: 1,
  workerId: "w-1",
};
const failed: JobEvent = {
  ...base,
  kind: "failed",
  at: "2026-01-01T10:00:02.000Z",
  attempt: 1,
  workerId: "w-1",
  error: { message: "boom" },
  durationMs: 5,
  retryDelayMs: 60_000,
};

/** Folds the events in every order and checks they all agree; returns the document. */
function reduceAnyOrder(events: JobEvent[]) {
  const orders = permutations(events);
  const docs = orders.map((order) => order.reduce(applyEvent, undefined as never));
  for (const doc of docs) expect(doc).toEqual(docs[0]);
  return docs[0]!;
}

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

describe("how the read model ranks cancels", () => {
  it("shows a queued job cancelled by the dispatcher's attempt-0 event, keeping its trace", () => {
    const doc = reduceAnyOrder([queued, cancelledAt(0, "2026-01-01T10:00:00.500Z")]);
    expect(doc).toMatchObject({
      status: "cancelled",
      reason: "not needed",
      finishedAt: "2026-01-01T10:00:00.500Z",
      traceId: base.traceId,
    });
  });

  it("lets a worker's started at attempt 1 win over an attempt-0 cancel (the cancel lost the race)", () => {
    const doc = reduceAnyOrder([queued, cancelledAt(0, "2026-01-01T10:00:00.500Z"), started]);
    expect(doc.status).toBe("running");
    expect(doc.finishedAt).toBeUndefined();
  });

  it("ends a running attempt cancelled when its worker records the cancel at that attempt", () => {
    const doc = reduceAnyOrder([
      queued,
      cancelledAt(0, "2026-01-01T10:00:00.500Z"),
      started,
      cancelledAt(1, "2026-01-01T10:00:03.000Z"),
    ]);
    expect(doc).toMatchObject({ status: "cancelled", attempt: 1, reason: "not needed" });
  });

  it("shows a failed job waiting for its retry cancelled by a cancel at the failed attempt", () => {
    const doc = reduceAnyOrder([
      queued,
      started,
      failed,
      cancelledAt(1, "2026-01-01T10:00:04.000Z"),
    ]);
    expect(doc).toMatchObject({ status: "cancelled", attempt: 1 });
    expect(doc.attempts).toHaveLength(1);
  });
});
