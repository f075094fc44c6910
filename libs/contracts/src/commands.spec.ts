import { describe, expect, it } from "vitest";

import {
  cancelsRun,
  supersedesCancellation,
  CancelCommand,
  CommandVerb,
  DiscardCommand,
  ReplayCommand,
  commandMsgId,
} from "./commands.ts";
import { Subject, parseCommandSubject } from "./subjects.ts";
import { toValidationIssues } from "./validation-issues.ts";

describe("command subjects", () => {
  it("round-trips a verb and a job id", () => {
    const subject = Subject.command(CommandVerb.Cancel, "job-1");
    expect(subject).toBe("jobs.cmd.cancel.job-1");
    expect(parseCommandSubject(subject)).toEqual({ verb: "cancel", jobId: "job-1" });
  });

  it("refuses subjects of another shape", () => {
    expect(parseCommandSubject("jobs.submit.echo")).toBeUndefined();
    expect(parseCommandSubject("jobs.cmd.cancel")).toBeUndefined();
    expect(parseCommandSubject("jobs.cmd.cancel.a.b")).toBeUndefined();
  });
});

describe("CancelCommand", () => {
  it("records a cancel at attempt 0 unless told otherwise", () => {
    const command = CancelCommand.parse({
      jobId: "job-1",
      type: "echo",
      run: 1,
      reason: "no longer needed",
      requestedAt: "2026-01-01T00:00:00.000Z",
    });
    expect(command.attempt).toBe(0);
  });

  it("names missing and unknown fields", () => {
    const result = CancelCommand.safeParse({ jobId: "job-1", extra: true });
    expect(result.success).toBe(false);
    const paths = toValidationIssues(result.error!).map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining(["type", "run", "reason", "requestedAt", "extra"]),
    );
  });

  it("needs the letter's place for a replay or a discard", () => {
    const ref = { jobId: "job-1", run: 1, seq: 7, requestedAt: "2026-01-01T00:00:00.000Z" };
    expect(ReplayCommand.parse(ref)).toEqual(ref);
    expect(DiscardCommand.parse({ ...ref, reason: "obsolete" }).reason).toBe("obsolete");
    expect(ReplayCommand.safeParse({ ...ref, seq: 0 }).success).toBe(false);
  });

  it("deduplicates a command per verb, job, run and request", () => {
    expect(commandMsgId(CommandVerb.Replay, "job-1", 2, "r7")).toBe("cmd:replay:job-1:2:r7");
    expect(commandMsgId(CommandVerb.Replay, "job-1", 2, "r8")).not.toBe(
      commandMsgId(CommandVerb.Replay, "job-1", 2, "r7"),
    );
  });
});

describe("cancelsRun", () => {
  const record = {
    run: 2,
    reason: "not needed",
    requestedAt: "2026-12-07T10:00:00.000Z",
    storedAt: "2026-12-07T10:00:00.050Z",
  };
  const job = (run: number, submittedAt: string) => ({ id: "job-1", run, submittedAt });

  it("cancels the runs up to the record's of a job submitted before the cancel was stored", () => {
    expect(cancelsRun(record, job(1, "2026-12-07T09:00:00.000Z"))).toBe(true);
    expect(cancelsRun(record, job(2, "2026-12-07T10:00:00.050Z"))).toBe(true);
  });

  it("leaves a later run (a replay) alone", () => {
    expect(cancelsRun(record, job(3, "2026-12-07T09:00:00.000Z"))).toBe(false);
  });

  it("leaves a job of the same id submitted after the cancel was stored alone", () => {
    expect(cancelsRun(record, job(1, "2026-12-07T10:00:00.051Z"))).toBe(false);
    expect(cancelsRun(record, job(1, "2026-12-07T11:30:00.000Z"))).toBe(false);
  });

  it("cancels every run up to its own when the record has no stored time (an older dispatcher's)", () => {
    const older = { run: record.run, reason: record.reason, requestedAt: record.requestedAt };
    expect(cancelsRun(older, job(1, "2026-12-08T00:00:00.000Z"))).toBe(true);
  });
});

describe("supersedesCancellation", () => {
  const at = (run: number, storedAt?: string) => ({
    run,
    reason: "r",
    requestedAt: "2026-12-07T10:00:00.000Z",
    ...(storedAt === undefined ? {} : { storedAt }),
  });

  it("keeps the record of the later run", () => {
    expect(
      supersedesCancellation(at(2, "2026-12-07T10:00:00.000Z"), at(1, "2026-12-07T11:00:00.000Z")),
    ).toBe(true);
    expect(
      supersedesCancellation(at(1, "2026-12-07T11:00:00.000Z"), at(2, "2026-12-07T10:00:00.000Z")),
    ).toBe(false);
  });

  it("keeps, for the same run, the record of the command stored later", () => {
    expect(
      supersedesCancellation(at(1, "2026-12-07T11:00:00.000Z"), at(1, "2026-12-07T10:00:00.000Z")),
    ).toBe(true);
    expect(
      supersedesCancellation(at(1, "2026-12-07T10:00:00.000Z"), at(1, "2026-12-07T11:00:00.000Z")),
    ).toBe(false);
  });

  it("lets a record with a stored time replace an older dispatcher's of the same run", () => {
    expect(supersedesCancellation(at(1), at(1, "2026-12-07T10:00:00.000Z"))).toBe(false);
  });
});
