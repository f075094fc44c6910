import { describe, expect, it } from "vitest";

import { claimedId } from "./claimed-id.ts";

describe("claimedId", () => {
  it("reads a string id from a refused body and nothing else", () => {
    expect(claimedId({ id: "mine" })).toBe("mine");
    expect(claimedId({ id: 7 })).toBeUndefined();
    expect(claimedId("text")).toBeUndefined();
    expect(claimedId(null)).toBeUndefined();
  });
});
