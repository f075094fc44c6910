import { rejectionRawPreviewChars } from "@conveyor/contracts";
import { describe, expect, it } from "vitest";

import { parseSubmissionBytes } from "./submission-bytes.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("parseSubmissionBytes", () => {
  it("parses JSON within the limit", () => {
    expect(parseSubmissionBytes(bytes('{"payload":{"a":1}}'), 100)).toEqual({
      ok: true,
      value: { payload: { a: 1 } },
      text: '{"payload":{"a":1}}',
    });
  });

  it("refuses a body over the limit and keeps only a preview", () => {
    const big = bytes(`{"payload":"${"x".repeat(10_000)}"}`);
    const result = parseSubmissionBytes(big, 1024);
    expect(result).toMatchObject({ ok: false, reason: "too_large" });
    if (result.ok) return;
    expect(result.message).toContain("1024");
    expect(result.rawPreview).toHaveLength(rejectionRawPreviewChars);
  });

  it("refuses text that is not JSON, and an empty body", () => {
    for (const text of ["not json", '{"a":', ""]) {
      const result = parseSubmissionBytes(bytes(text), 1024);
      expect(result).toMatchObject({ ok: false, reason: "invalid_json", rawPreview: text });
    }
  });
});
