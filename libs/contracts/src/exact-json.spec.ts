import { describe, expect, it } from "vitest";

import { InexactInteger, parseJsonExactly } from "./exact-json.ts";

describe("parseJsonExactly", () => {
  it("marks each integer JSON.parse would round, and keeps what it holds exactly", () => {
    const parsed = parseJsonExactly(
      '{"id":1234567890123456789,"refs":[-9007199254740993,9007199254740992],"f":1e20,"d":12345678901234567.5,"s":"12345678901234567890","n":42}',
    ) as Record<string, unknown>;
    expect(parsed.id).toEqual(new InexactInteger("1234567890123456789", 1234567890123456800));
    expect(parsed.refs).toEqual([
      new InexactInteger("-9007199254740993", -9007199254740992),
      9007199254740992,
    ]);
    expect(parsed).toMatchObject({
      f: 1e20,
      d: Number("12345678901234567.5"),
      s: "12345678901234567890",
    });
    expect(parsed.n).toBe(42);
  });

  it("parses as JSON.parse does otherwise, and throws what it throws", () => {
    const text = '{"a":[1,2.5,"x",null,true,{"b":-0}]}';
    expect(parseJsonExactly(text)).toEqual(JSON.parse(text));
    expect(() => parseJsonExactly("{nope")).toThrow(SyntaxError);
    expect(() => parseJsonExactly('{"x":12345678901234567890')).toThrow(SyntaxError);
  });
});
