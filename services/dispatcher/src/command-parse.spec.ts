import { describe, expect, it } from "vitest";

import { parseCommand } from "./command-parse.ts";

const encode = (value: unknown) =>
  new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));

const cancel = {
  jobId: "job-1",
  type: "echo",
  run: 1,
  reason: "not needed",
  requestedAt: "2026-01-01T00:00:00.000Z",
};

describe("parseCommand", () => {
  it("reads a cancel with its defaults", () => {
    const parsed = parseCommand("jobs.cmd.cancel.job-1", encode(cancel));
    expect(parsed).toEqual({
      ok: true,
      command: { verb: "cancel", body: { ...cancel, attempt: 0 } },
    });
  });

  it("refuses a body about another job than the subject's", () => {
    const parsed = parseCommand("jobs.cmd.cancel.job-2", encode(cancel));
    expect(parsed).toMatchObject({ ok: false, issues: [{ path: "jobId" }] });
  });

  it("refuses an unknown verb, naming the known ones", () => {
    const parsed = parseCommand("jobs.cmd.pause.job-1", encode(cancel));
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.message).toContain("cancel, replay, discard");
  });

  it("names the bad fields of a malformed body and refuses broken JSON", () => {
    const parsed = parseCommand("jobs.cmd.cancel.job-1", encode({ ...cancel, run: 0 }));
    expect(parsed).toMatchObject({ ok: false, issues: [{ path: "run" }] });
    expect(parseCommand("jobs.cmd.cancel.job-1", encode("{oops"))).toMatchObject({
      ok: false,
      issues: [{ path: "(root)" }],
    });
  });

  it("refuses a subject that is not a command", () => {
    expect(parseCommand("jobs.cmd.cancel", encode(cancel))).toMatchObject({
      ok: false,
      issues: [{ path: "(subject)" }],
    });
  });
});
