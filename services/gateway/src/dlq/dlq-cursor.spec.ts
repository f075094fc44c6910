import { describe, expect, it } from "vitest";

import { ApiError } from "../errors.ts";
import { decodeDlqCursor, encodeDlqCursor } from "./dlq-cursor.ts";

describe("DLQ cursors", () => {
  it("round-trips the last sequence of a page", () => {
    expect(decodeDlqCursor(encodeDlqCursor(41))).toBe(41);
  });

  it("refuses a cursor this list did not make, naming the parameter", () => {
    for (const bad of ["garbage!", Buffer.from('{"after":-1}').toString("base64url"), "e30"]) {
      let caught: unknown;
      try {
        decodeDlqCursor(bad);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ApiError);
      expect((caught as ApiError).issues?.[0]?.path).toBe("cursor");
    }
  });
});
