import { rejectionJobIdChars } from "@conveyor/contracts";
import { buildDescriptor } from "@conveyor/job-registry";
import { describe, expect, it } from "vitest";

import { queuedEventFor, rejectedEventFor, workItemFor } from "./records.ts";

const descriptor = buildDescriptor({ type: "sleep", retry: { maxAttempts: 3 }, timeoutMs: 5_000 });
const submittedAt = "2026-01-01T00:00:00.000Z";

describe("workItemFor", () => {
  it("takes attempts and timeout from the type's policy by default", () => {
    const item = workItemFor(
      "job-1",
      { type: "sleep", payload: { ms: 1 }, priority: 5 },
      descriptor,
      submittedAt,
    );
    expect(item).toEqual({
      id: "job-1",
      type: "sleep",
      payload: { ms: 1 },
      priority: 5,
      maxAttempts: 3,
      timeoutMs: 5_000,
      submittedAt,
      run: 1,
    });
  });

  it("lets the submission override attempts and timeout, and keeps its batch", () => {
    const item = workItemFor(
      "job-2",
      { type: "sleep", payload: null, priority: 9, maxAttempts: 1, timeoutMs: 100, batchId: "b-1" },
      descriptor,
      submittedAt,
    );
    expect(item).toMatchObject({ maxAttempts: 1, timeoutMs: 100, priority: 9, batchId: "b-1" });
  });

  it("carries the submission's retry overrides to the worker", () => {
    const item = workItemFor(
      "job-3",
      { type: "sleep", payload: null, priority: 5, retry: { initialDelayMs: 50, jitter: "full" } },
      descriptor,
      submittedAt,
    );
    expect(item.retry).toEqual({ initialDelayMs: 50, jitter: "full" });
  });
});

describe("queuedEventFor", () => {
  it("records attempt 0 of run 1 with the trace id and source", () => {
    const item = workItemFor(
      "job-3",
      { type: "sleep", payload: 1, priority: 5 },
      descriptor,
      submittedAt,
    );
    const event = queuedEventFor(item, "nats", "a".repeat(32), new Date(submittedAt));
    expect(event).toMatchObject({
      kind: "queued",
      jobId: "job-3",
      run: 1,
      attempt: 0,
      traceId: "a".repeat(32),
      source: "nats",
      submittedAt,
      maxAttempts: 3,
    });
  });
});

describe("rejectedEventFor on a refusal too large to publish", () => {
  it("keeps a bounded number of issues and a bounded message, saying how many were left out", () => {
    const issues = Array.from({ length: 22_000 }, (_, i) => ({
      path: `payload.k${i}`,
      message: "unknown field",
    }));
    const event = rejectedEventFor({
      rejectionId: "r-1",
      subject: `jobs.submit.${"s".repeat(5000)}`,
      reason: "invalid_payload",
      message: issues.map((i) => `${i.path}: ${i.message}`).join("; "),
      issues,
      jobId: undefined,
      rawPreview: "{}",
      sizeBytes: 230_000,
      traceId: undefined,
      at: new Date("2026-01-01T00:00:00.000Z"),
    });
    expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThan(32 * 1024);
    expect(event.issues).toHaveLength(51);
    expect(event.issues[0]).toEqual({ path: "payload.k0", message: "unknown field" });
    expect(event.issues[50]).toEqual({ path: "(root)", message: "21950 more issues left out" });
    expect(event.message.length).toBeLessThanOrEqual(1024);
    expect(event.message.endsWith("…")).toBe(true);
    expect(event.subject.length).toBeLessThanOrEqual(256);
  });

  it("keeps the claimed job id to the length GET /v1/rejections?jobId= accepts, wherever it came from", () => {
    const event = rejectedEventFor({
      rejectionId: "r-2",
      subject: "jobs.submit.echo",
      reason: "unprocessable",
      message: "could not be dispatched",
      issues: [],
      // As read from a Conveyor-Job-Id header, which nothing else bounds.
      jobId: "j".repeat(5000),
      rawPreview: "{}",
      sizeBytes: 2,
      traceId: undefined,
      at: new Date("2026-01-01T00:00:00.000Z"),
    });
    expect(event.jobId).toBe("j".repeat(rejectionJobIdChars));
  });
});
