import { describe, expect, it } from "vitest";

import { decodeCursor, encodeCursor } from "./cursor.ts";
import { InvalidCursorError } from "./errors.ts";

describe("cursor", () => {
  it("round-trips a sort key", () => {
    const key = ["2025-01-01T00:00:00.000Z", "0194b3c2-7a1e-7000-8000-000000000000"];
    expect(decodeCursor(encodeCursor("rejections", key), "rejections", 2)).toEqual(key);
  });

  it.each([
    ["not base64url", "a+b/c="],
    ["not JSON", Buffer.from("{oops").toString("base64url")],
    ["not an array", Buffer.from('{"id":"x"}').toString("base64url")],
    ["the wrong arity", encodeCursor("jobs", ["a", "b"])],
    ["an empty part", encodeCursor("jobs", [""])],
    ["an empty string", ""],
    [
      "a cursor of another list, which would start that list after a job id",
      encodeCursor("dead_letters", ["a"]),
    ],
    ["a cursor without its list", Buffer.from('["a"]').toString("base64url")],
  ])("rejects %s as an invalid cursor naming the field", (_case, cursor) => {
    const attempt = () => decodeCursor(cursor, "jobs", 1);
    expect(attempt).toThrow(InvalidCursorError);
    expect(attempt).toThrow(expect.objectContaining({ field: "cursor" }));
  });
});
