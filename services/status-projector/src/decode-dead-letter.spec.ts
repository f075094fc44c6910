import { describe, expect, it } from "vitest";
import { maxMessageDepth } from "@conveyor/contracts";

import { decodeDeadLetterMessage } from "./decode-dead-letter.ts";

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const letter = {
  type: "email.send",
  jobId: "job-1",
  run: 1,
  error: { message: "boom" },
  reason: "attempts_exhausted",
  attempts: 2,
  deadAt: "2026-01-01T10:00:00.000Z",
  source: { stream: "WORK", subject: "work.email.send", seq: 3 },
};
const entry = {
  action: "discarded",
  jobId: "job-1",
  type: "email.send",
  run: 1,
  seq: 7,
  at: "2026-01-01T10:05:00.000Z",
  requestedAt: "2026-01-01T10:04:59.000Z",
};

/** A letter whose work item's payload is JSON text nested `depth` arrays deep. */
function letterWithPayloadDepth(depth: number): Uint8Array {
  const workItem = {
    id: "job-1",
    type: "email.send",
    payload: 0,
    priority: 5,
    maxAttempts: 2,
    timeoutMs: 1000,
    submittedAt: "2026-01-01T09:00:00.000Z",
    run: 1,
  };
  // Arrays and objects in turn, each one level as stored.
  let payload = "1";
  for (let i = 0; i < depth; i++) payload = i % 2 === 0 ? `[${payload}]` : `{"a":${payload}}`;
  const text = JSON.stringify({ ...letter, workItem }).replace(
    '"payload":0',
    `"payload":${payload}`,
  );
  return new TextEncoder().encode(text);
}

describe("decodeDeadLetterMessage", () => {
  it("accepts a letter on its type's subject, with its DLQ sequence", () => {
    expect(decodeDeadLetterMessage("dlq.email.send", 7, encode(letter))).toEqual({
      type: "fact",
      fact: {
        kind: "letter",
        letter,
        position: { stream: "DLQ", subject: "dlq.email.send", seq: 7 },
      },
    });
  });

  it("accepts a log entry on its job's subject", () => {
    expect(decodeDeadLetterMessage("dlq-log.job-1", 8, encode(entry))).toEqual({
      type: "fact",
      fact: { kind: "log", entry },
    });
  });

  it("refuses a payload nested deeper than a document may be, without overflowing the stack", () => {
    for (const depth of [maxMessageDepth, 3_000, 200_000]) {
      expect(
        decodeDeadLetterMessage("dlq.email.send", 7, letterWithPayloadDepth(depth)),
      ).toMatchObject({ type: "invalid", reason: "too_deep", issues: [{ path: "(root)" }] });
    }
    expect(
      decodeDeadLetterMessage("dlq.email.send", 7, letterWithPayloadDepth(maxMessageDepth - 2)),
    ).toMatchObject({ type: "fact" });
  });

  it("names the invalid field", () => {
    const decoded = decodeDeadLetterMessage(
      "dlq.email.send",
      7,
      encode({ ...letter, attempts: -1 }),
    );
    expect(decoded).toMatchObject({ type: "invalid", reason: "invalid_message" });
    expect(decoded.type === "invalid" && decoded.issues.map((i) => i.path)).toEqual(["attempts"]);
  });

  it("refuses a body that is not JSON", () => {
    expect(
      decodeDeadLetterMessage("dlq-log.job-1", 8, new TextEncoder().encode("{")),
    ).toMatchObject({
      type: "invalid",
      reason: "invalid_json",
    });
  });

  it("refuses a message whose subject names another type or job", () => {
    expect(decodeDeadLetterMessage("dlq.echo", 7, encode(letter))).toMatchObject({
      reason: "subject_mismatch",
      issues: [{ path: "type" }],
    });
    expect(decodeDeadLetterMessage("dlq-log.job-2", 8, encode(entry))).toMatchObject({
      reason: "subject_mismatch",
      issues: [{ path: "jobId" }],
    });
  });

  it("refuses a subject of neither kind", () => {
    expect(decodeDeadLetterMessage("events.job-1.dead", 1, encode(letter))).toMatchObject({
      reason: "invalid_subject",
    });
  });
});
