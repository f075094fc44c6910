import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";

import { linearPatternEngine, re2Source } from "./linear-pattern.ts";

/** Patterns of every construct the translation writes, and of zod's string formats. */
const patterns = [
  String.raw`^a.c$`,
  String.raw`\s+`,
  String.raw`^\S*$`,
  String.raw`^[\s\d]+$`,
  String.raw`^[^\s]+$`,
  String.raw`^[\S\d]$`,
  String.raw`^\d{2,4}-\D?$`,
  String.raw`^\w+\b.\B`,
  String.raw`^[^\W_]+$`,
  String.raw`[]`,
  String.raw`^[^]{2}$`,
  String.raw`^\p{L}+$`,
  String.raw`^\p{Letter}\P{Lu}$`,
  String.raw`\p{Script=Greek}`,
  String.raw`^[\p{Nd}a-f]+$`,
  String.raw`^(?:ab|a)*?c+?$`,
  String.raw`^(?<year>\d{4})-(\d\d)$`,
  String.raw`^\u00e9\u{1F600}[\u{1F600}-\u{1F64F}]?$`,
  String.raw`^[.\-\/\\\]^$*+?(){}|]+$`,
  String.raw`^a|b$|`,
  String.raw`^(\w+\s?)*$`,
  "\\x41\\cJ\\0\\t\\n\\v\\f\\r",
  ...Object.values(
    z.toJSONSchema(
      z.object({
        email: z.email(),
        uuid: z.uuid(),
        datetime: z.iso.datetime(),
        time: z.iso.time(),
        ipv6: z.ipv6(),
        base64: z.base64(),
        e164: z.e164(),
        lowercase: z.string().lowercase(),
      }),
    ).properties as Record<string, { pattern: string }>,
  ).map((property) => property.pattern),
];

/** Strings rich in what tells the two syntaxes apart: line ends, Unicode spaces, astral planes. */
const text = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        ...["a", "A", "b", "c", "é", "_", "-", "0", "1", "5", "9", " ", ".", ":", "/", "@", "+"],
        ...["=", "Z", "α", "T", "\n", "\r", "\t", "\v", "\u00a0", "\u2028", "\u3000", "\ufeff"],
        ...["😀", "\ud800"],
      ),
      fc.string({ unit: "grapheme", maxLength: 3 }),
    ),
    { maxLength: 24 },
  )
  .map((parts) => parts.join(""));

describe("patterns written for RE2", () => {
  it.each(patterns)("match what ECMAScript's /%s/u matches", (pattern) => {
    const source = re2Source(pattern);
    expect(source).toBeDefined();
    const onBacktracking: string[] = [];
    const matcher = linearPatternEngine((p) => onBacktracking.push(p))(pattern, "u");
    // Compiled by RE2, not left to V8: otherwise V8 would be compared with itself.
    expect(onBacktracking).toEqual([]);
    const native = new RegExp(pattern, "u");
    fc.assert(
      fc.property(text, (input) => matcher.test(input) === native.test(input)),
      { numRuns: 400 },
    );
  });

  it("answer a pattern that backtracks for ages on V8 at once, on a long text", () => {
    const onBacktracking: string[] = [];
    const matcher = linearPatternEngine((p) => onBacktracking.push(p))(
      String.raw`^(\w+\s?)*$`,
      "u",
    );
    expect(matcher.test(`${"a".repeat(50_000)}!`)).toBe(false);
    expect(matcher.test("a b c")).toBe(true);
    expect(onBacktracking).toEqual([]);
  });

  it("give each pattern its own cache key, as ajv keys compiled patterns by it", () => {
    const engine = linearPatternEngine();
    expect(String(engine("^a$", "u"))).not.toBe(String(engine("^b$", "u")));
  });
});

describe("patterns RE2 cannot run", () => {
  it.each([
    String.raw`^(?=.{1,5}$)[a-z]+$`,
    String.raw`^(?!x)\w`,
    String.raw`(?<=a)b`,
    String.raw`^(a)\1$`,
    String.raw`^a{2000}$`,
    String.raw`^(?i:a)$`,
  ])("run /%s/u on V8, named as backtracking", (pattern) => {
    const onBacktracking: string[] = [];
    const matcher = linearPatternEngine((p) => onBacktracking.push(p))(pattern, "u");
    const native = new RegExp(pattern, "u");
    for (const input of ["abc", "aa", "ab", "xyz", "A", "a".repeat(2000)]) {
      expect(matcher.test(input)).toBe(native.test(input));
    }
    expect(onBacktracking).toEqual([pattern]);
  });

  it("throw ECMAScript's syntax error for a pattern that is not one", () => {
    expect(() => linearPatternEngine()("(", "u")).toThrow(SyntaxError);
  });
});

describe("Unicode property escapes", () => {
  // Every 251st code point, and each plane's first few: a sample of every block.
  const codePoints = Array.from({ length: 0x110000 / 251 }, (_, i) => i * 251).concat([
    0x41, 0x61, 0xe9, 0x3b1, 0x5d0, 0x627, 0x4e00, 0x1f600, 0xd800, 0xe000, 0x10ffff,
  ]);
  const names = [
    ...["L", "Letter", "gc=L", "General_Category=Letter", "Lu", "gc=Uppercase_Letter"],
    ...["Math_Symbol", "Sm", "Close_Punctuation", "punct", "digit", "cntrl", "LC", "Zs"],
    ...["sc=Greek", "Script=Latn", "sc=Latin", "sc=Cyrl", "Script=Han"],
    ...["Alpha", "Alphabetic", "ASCII", "Any", "Assigned", "White_Space", "Emoji"],
  ];

  it.each(names)("\\p{%s} runs on RE2 and matches what V8 matches", (name) => {
    for (const pattern of [`^\\p{${name}}$`, `^\\P{${name}}$`, `^[\\P{${name}}x]$`]) {
      const onBacktracking: string[] = [];
      const matcher = linearPatternEngine((p) => onBacktracking.push(p))(pattern, "u");
      expect(onBacktracking).toEqual([]);
      const native = new RegExp(pattern, "u");
      const differing = codePoints.filter((cp) => {
        const text = String.fromCodePoint(cp);
        return matcher.test(text) !== native.test(text);
      });
      expect(differing).toEqual([]);
    }
  });
});
