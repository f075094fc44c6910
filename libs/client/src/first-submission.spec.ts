import { describe, expect, it } from "vitest";

import { duplicateJobId } from "./first-submission.ts";

describe("duplicateJobId", () => {
  it("answers with the first submission's id whenever it could be read", () => {
    expect(duplicateJobId({ id: "first" }, { id: "repeat" })).toBe("first");
    expect(duplicateJobId({ id: "first" }, { id: "repeat", idempotencyKey: "k" })).toBe("first");
    expect(duplicateJobId({ id: undefined }, { id: "repeat" })).toBeUndefined();
  });

  it("falls back to the repeat's own id only when it sent no key", () => {
    expect(duplicateJobId(undefined, { id: "repeat" })).toBe("repeat");
    expect(duplicateJobId(undefined, { id: "repeat", idempotencyKey: "k" })).toBeUndefined();
  });
});
