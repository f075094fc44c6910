import { describe, expect, it } from "vitest";
import { maxMessageDepth } from "@conveyor/contracts";

import { decodeEvent } from "./decode-event.ts";

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const started = {
  kind: "started",
  jobId: "job-1",
  type: "email.send",
  at: "2025-01-01T00:00:00.000Z",
  run: 1,
  attempt: 1,
  workerId: "w1",
};
const rejected = {
  kind: "rejected",
  rejectionId: "rej-1",
  at: "2025-01-01T00:00:00.000Z",
  subject: "jobs.submit.echo",
  reason: "invalid_json",
  message: "not JSON",
  issues: [],
  rawPreview: "{",
  sizeBytes: 1,
};

/** JSON text nested `depth` arrays deep, built without recursion. */
/** JSON `depth` levels deep, arrays and objects in turn (each one level as stored). */
const nestedText = (depth: number): string => {
  let text = "1";
  for (let i = 0; i < depth; i++) text = i % 2 === 0 ? `[${text}]` : `{"a":${text}}`;
  return text;
};
const succeededWith = (resultText: string) =>
  new TextEncoder().encode(
    `{"kind":"succeeded","jobId":"job-1","type":"email.send","at":"2025-01-01T00:00:00.000Z",` +
      `"run":1,"attempt":1,"durationMs":1,"workerId":"w1","result":${resultText}}`,
  );

describe("decodeEvent", () => {
  it("accepts a lifecycle event on its own subject", () => {
    expect(decodeEvent("events.job-1.started", encode(started))).toEqual({
      type: "job",
      event: started,
    });
  });

  it("accepts a rejection", () => {
    expect(decodeEvent("events.rej-1.rejected", encode(rejected))).toMatchObject({
      type: "rejection",
      event: { rejectionId: "rej-1" },
    });
  });

  it("names the invalid field", () => {
    const decoded = decodeEvent("events.job-1.started", encode({ ...started, attempt: -1 }));
    expect(decoded).toMatchObject({ type: "invalid", reason: "invalid_event" });
    expect(decoded.type === "invalid" && decoded.issues.map((i) => i.path)).toEqual(["attempt"]);
  });

  it("refuses a body that is not JSON", () => {
    const decoded = decodeEvent("events.job-1.started", new TextEncoder().encode("{nope"));
    expect(decoded).toMatchObject({ type: "invalid", reason: "invalid_json" });
  });

  it("refuses a result nested deeper than a document may be, without overflowing the stack", () => {
    for (const depth of [maxMessageDepth, 3_000, 200_000]) {
      expect(decodeEvent("events.job-1.succeeded", succeededWith(nestedText(depth)))).toMatchObject(
        {
          type: "invalid",
          reason: "too_deep",
          issues: [{ path: "(root)" }],
        },
      );
    }
  });

  it("accepts a result nested as deep as a document may be", () => {
    const decoded = decodeEvent(
      "events.job-1.succeeded",
      succeededWith(nestedText(maxMessageDepth - 1)),
    );
    expect(decoded.type).toBe("job");
  });

  it("refuses an event whose subject names another job or kind", () => {
    expect(decodeEvent("events.job-2.started", encode(started))).toMatchObject({
      type: "invalid",
      reason: "subject_mismatch",
      issues: [{ path: "jobId" }],
    });
    expect(decodeEvent("events.job-1.failed", encode(started))).toMatchObject({
      reason: "subject_mismatch",
      issues: [{ path: "kind" }],
    });
  });

  it("refuses a subject that is not events.<id>.<kind>", () => {
    expect(decodeEvent("events.job-1.started.extra", encode(started))).toMatchObject({
      reason: "invalid_subject",
    });
  });
});
