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

  it("keeps a large number that reads back as written, as JSON.stringify writes one", () => {
    // A JavaScript producer's timestamp in nanoseconds, or a double it had: no information lost.
    const fromJs = [Date.now() * 1e6, 1234567890123456800, 2 ** 60, -(2 ** 64)];
    const text = JSON.stringify({ fromJs, exact: 1e22 }).replace("1e+22", "1" + "0".repeat(22));
    expect(parseJsonExactly(text)).toEqual({ fromJs, exact: 1e22 });
  });

  it("looks for numbers outside strings only", () => {
    const text = '{"card":"4111111111111111111","trace":"12345678901234567890123","n":1}';
    expect(parseJsonExactly(text)).toEqual(JSON.parse(text));
    // An escaped quote does not end a string early.
    const escaped = '{"s":"a\\"12345678901234567891","t":"\\\\","n":12345678901234567891}';
    expect((parseJsonExactly(escaped) as { n: unknown }).n).toBeInstanceOf(InexactInteger);
  });

  it("parses as JSON.parse does otherwise, and throws what it throws", () => {
    const text = '{"a":[1,2.5,"x",null,true,{"b":-0}]}';
    expect(parseJsonExactly(text)).toEqual(JSON.parse(text));
    expect(() => parseJsonExactly("{nope")).toThrow(SyntaxError);
    expect(() => parseJsonExactly('{"x":12345678901234567890')).toThrow(SyntaxError);
  });
});
