import type { DeadLetter, DeadLetterLogEntry } from "@conveyor/contracts";
import { describe, expect, it } from "vitest";

import { applyDeadLetterFact } from "./dead-letter-fact.ts";
import type { DeadLetterFact } from "./dead-letter-fact.ts";
import type { DeadLetterDocument } from "./dead-letter-document.ts";
import { JobMismatchError } from "./errors.ts";

const jobId = "job-1";
const type = "email.send";

function letter(run: number, dlqSeq: number, extra: Partial<DeadLetter> = {}): DeadLetterFact {
  return {
    kind: "letter",
    position: { stream: "DLQ", subject: `dlq.${type}`, seq: dlqSeq },
    letter: {
      type,
      jobId,
      run,
      workItem: {
        id: jobId,
        type,
        payload: { to: "ada@example.com" },
        priority: 5,
        maxAttempts: 2,
        timeoutMs: 1000,
        submittedAt: "2026-01-01T10:00:00.000Z",
        run,
      },
      error: { name: "Error", message: `run ${run} failed` },
      reason: "attempts_exhausted",
      attempts: 2,
      deadAt: `2026-01-01T10:0${run}:00Z`,
      source: { stream: "WORK", subject: `work.${type}`, seq: 10 * run },
      workerId: "w-1",
      traceId: `trace-${run}`,
      ...extra,
    },
  };
}

function logEntry(
  action: "replayed" | "discarded",
  run: number,
  seq: number,
  at: string,
): DeadLetterFact {
  const entry: DeadLetterLogEntry = {
    action,
    jobId,
    type,
    run,
    seq,
    at,
    requestedAt: at,
    ...(action === "replayed" ? { replayRun: run + 1 } : { reason: "obsolete" }),
  };
  return { kind: "log", entry };
}

function reduce(facts: readonly DeadLetterFact[]): DeadLetterDocument {
  const doc = facts.reduce<DeadLetterDocument | undefined>(applyDeadLetterFact, undefined);
  if (doc === undefined) throw new Error("no facts");
  return doc;
}

describe("applyDeadLetterFact", () => {
  it("projects a letter with where it is in the DLQ and where the work message was", () => {
    expect(reduce([letter(1, 7)])).toStrictEqual({
      _id: jobId,
      jobId,
      type,
      run: 1,
      state: "dead",
      source: { stream: "DLQ", subject: "dlq.email.send", seq: 7 },
      attempts: 2,
      reason: "attempts_exhausted",
      error: { name: "Error", message: "run 1 failed" },
      deadAt: "2026-01-01T10:01:00.000Z",
      workerId: "w-1",
      traceId: "trace-1",
      workItem: {
        id: jobId,
        type,
        payload: { to: "ada@example.com" },
        priority: 5,
        maxAttempts: 2,
        timeoutMs: 1000,
        submittedAt: "2026-01-01T10:00:00.000Z",
        run: 1,
      },
      workSource: { stream: "WORK", subject: "work.email.send", seq: 10 },
      log: [],
    });
  });

  it("settles a replayed letter to what its log entry says, whichever arrives first", () => {
    const replayed = logEntry("replayed", 1, 7, "2026-01-01T10:05:00Z");
    const doc = reduce([letter(1, 7), replayed]);
    expect(doc).toStrictEqual({
      _id: jobId,
      jobId,
      type,
      run: 1,
      state: "replayed",
      source: { stream: "DLQ", subject: "dlq.email.send", seq: 7 },
      settledAt: "2026-01-01T10:05:00.000Z",
      log: [
        {
          action: "replayed",
          type,
          run: 1,
          seq: 7,
          at: "2026-01-01T10:05:00.000Z",
          requestedAt: "2026-01-01T10:05:00.000Z",
          replayRun: 2,
        },
      ],
    });
    expect(reduce([replayed, letter(1, 7)])).toStrictEqual(doc);
    // The dispatcher deletes a settled letter: a rebuild sees only the log entry.
    expect(reduce([replayed])).toStrictEqual(doc);
  });

  it("opens the job again when a replayed run dies, keeping the log", () => {
    const facts = [letter(1, 7), logEntry("replayed", 1, 7, "2026-01-01T10:05:00Z"), letter(2, 12)];
    const doc = reduce(facts);
    expect(doc).toMatchObject({ state: "dead", run: 2, source: { seq: 12 }, traceId: "trace-2" });
    expect(doc.log.map((r) => [r.run, r.action])).toEqual([[1, "replayed"]]);
    expect(reduce([...facts].reverse())).toStrictEqual(doc);
    expect(reduce(facts.slice(1))).toStrictEqual(doc);
  });

  it("keeps a run settled when a second letter of the same death comes after its replay", () => {
    // The worker stored a letter but did not remove the work message; over an hour later (past
    // the DLQ's duplicate window) the dispatcher stored the same death again, after the replay.
    const facts = [letter(1, 7), logEntry("replayed", 1, 7, "2026-01-01T10:05:00Z"), letter(1, 40)];
    const doc = reduce(facts);
    expect(doc).toMatchObject({ state: "replayed", run: 1 });
    expect(reduce([...facts].reverse())).toStrictEqual(doc);
  });

  it("records a discard with its reason", () => {
    const doc = reduce([letter(1, 7), logEntry("discarded", 1, 7, "2026-01-01T10:06:00Z")]);
    expect(doc).toMatchObject({ state: "discarded", settledAt: "2026-01-01T10:06:00.000Z" });
    expect(doc.log[0]).toMatchObject({ action: "discarded", reason: "obsolete" });
  });

  it("keeps the letter of the highest run, then the highest DLQ sequence", () => {
    expect(reduce([letter(2, 5), letter(1, 9)])).toMatchObject({ run: 2, source: { seq: 5 } });
    const twice = [letter(1, 3, { workerId: "w-2" }), letter(1, 4)];
    expect(reduce(twice)).toMatchObject({ source: { seq: 4 }, workerId: "w-1" });
    expect(reduce([...twice].reverse())).toStrictEqual(reduce(twice));
  });

  it("keys a letter that named no job by its work message's place", () => {
    const anonymous = letter(1, 8, { jobId: undefined, run: undefined, workItem: undefined });
    const doc = reduce([anonymous]);
    expect(doc).toMatchObject({ _id: "WORK:10", type, run: 1, state: "dead" });
    expect(doc.jobId).toBeUndefined();
  });

  it("is idempotent", () => {
    const once = reduce([letter(1, 7), logEntry("discarded", 1, 7, "2026-01-01T10:06:00Z")]);
    expect(applyDeadLetterFact(once, letter(1, 7))).toStrictEqual(once);
    expect(
      applyDeadLetterFact(once, logEntry("discarded", 1, 7, "2026-01-01T10:06:00Z")),
    ).toStrictEqual(once);
  });

  it("refuses a message of another job", () => {
    const doc = reduce([letter(1, 7)]);
    const other = logEntry("replayed", 1, 7, "2026-01-01T10:05:00Z");
    if (other.kind === "log") other.entry.jobId = "job-2";
    expect(() => applyDeadLetterFact(doc, other)).toThrow(JobMismatchError);
  });
});
