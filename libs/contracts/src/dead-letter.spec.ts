import { describe, expect, it } from "vitest";

import { deadLetterMsgId } from "./dead-letter.ts";

describe("deadLetterMsgId", () => {
  const source = { stream: "WORK", subject: "work.echo", seq: 12 };

  it("is one id per job run, whoever dead-letters and whichever message carried it", () => {
    expect(deadLetterMsgId({ jobId: "job-1", run: 2, source })).toBe("job-1:2:dead");
    expect(deadLetterMsgId({ jobId: "job-1", run: 2, source: { ...source, seq: 99 } })).toBe(
      "job-1:2:dead",
    );
    expect(deadLetterMsgId({ jobId: "job-1", source })).toBe("job-1:1:dead");
  });

  it("falls back to the work message's position when the job is unknown", () => {
    expect(deadLetterMsgId({ source })).toBe("WORK:12");
  });
});
