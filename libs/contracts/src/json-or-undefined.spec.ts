import { describe, expect, it } from "vitest";

import { jsonOrUndefined } from "./json-or-undefined.ts";

describe("jsonOrUndefined", () => {
  it("reads JSON from bytes and from text", () => {
    expect(jsonOrUndefined(new TextEncoder().encode('{"a":[1,"x"]}'))).toEqual({ a: [1, "x"] });
    expect(jsonOrUndefined("null")).toBeNull();
  });

  it("gives undefined for a body that is not JSON", () => {
    expect(jsonOrUndefined("not json")).toBeUndefined();
    expect(jsonOrUndefined(new Uint8Array([0xff, 0x7b]))).toBeUndefined();
    expect(jsonOrUndefined("")).toBeUndefined();
  });
});
