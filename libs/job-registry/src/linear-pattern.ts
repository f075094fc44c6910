import { RegExpParser } from "@eslint-community/regexpp";
import type { AST } from "@eslint-community/regexpp";
import { RE2JS } from "re2js";
// @ts-expect-error -- no types: one Map of a property's alias (`gc`, `Alpha`) to its name.
import propertyAliasMap from "unicode-property-aliases-ecmascript";
// @ts-expect-error -- no types: per property, a Map of a value's alias (`L`, `Latn`) to its name.
import valueAliasMaps from "unicode-property-value-aliases-ecmascript";

/** What ajv needs of a compiled pattern; `toString` is its cache key, so it names the pattern. */
export interface PatternMatcher {
  test(text: string): boolean;
  toString(): string;
}

/** ajv's `code.regExp`: compiles a schema's `pattern`s (and `patternProperties`' keys). */
export interface PatternEngine {
  (pattern: string, flags: string): PatternMatcher;
  /** The engine's name in code ajv generates for standalone use, which Conveyor does not use. */
  code: string;
}

/**
 * Compiles JSON Schema patterns (ECMAScript syntax, `u` flag, unanchored search). A payload's
 * strings come from clients, and V8's backtracking engine can take exponential time on a
 * pattern such as `^(\w+\s?)*$`: one submission would stall the gateway and the dispatcher. So
 * a pattern runs on RE2 (re2js, time linear in the text) whenever it can be written in RE2's
 * syntax with the same meaning. Lookarounds and backreferences cannot (RE2 has neither), nor can
 * repeats over 1,000 or Unicode properties RE2 does not know: those patterns run on V8 as
 * before, and are passed to `onBacktracking` so that their registration can be warned about.
 */
export function linearPatternEngine(onBacktracking?: (pattern: string) => void): PatternEngine {
  const engine = (pattern: string, flags: string): PatternMatcher => {
    // The translation is of Unicode-mode syntax without other flags, which is what ajv asks for.
    const re2 = flags === "u" ? re2Matcher(pattern) : undefined;
    if (re2 !== undefined) return re2;
    // An invalid pattern throws V8's SyntaxError here, which ajv reports as the schema's problem.
    const native = new RegExp(pattern, flags);
    onBacktracking?.(pattern);
    return native;
  };
  return Object.assign(engine, { code: "linearPatternEngine" });
}

function re2Matcher(pattern: string): PatternMatcher | undefined {
  const source = re2Source(pattern);
  if (source === undefined) return undefined;
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(source);
  } catch {
    return undefined; // e.g. a repeat count over RE2's 1,000, or a property it does not know
  }
  return { test: (text) => compiled.test(text), toString: () => `re2:/${pattern}/u` };
}

class NotInRe2 extends Error {}

/** The pattern in RE2's syntax with ECMAScript's meaning, or undefined when RE2 cannot say it. */
export function re2Source(pattern: string): string | undefined {
  let ast: AST.Pattern;
  try {
    ast = new RegExpParser({ ecmaVersion: 2025 }).parsePattern(pattern, 0, pattern.length, {
      unicode: true,
    });
  } catch {
    return undefined;
  }
  try {
    return alternatives(ast.alternatives);
  } catch (err) {
    if (err instanceof NotInRe2) return undefined;
    throw err;
  }
}

function alternatives(list: AST.Alternative[]): string {
  return list.map((alternative) => alternative.elements.map(element).join("")).join("|");
}

function element(node: AST.Element): string {
  switch (node.type) {
    case "Assertion":
      if (node.kind === "start") return "^"; // without the m flag, RE2's ^ and $ are the text's
      if (node.kind === "end") return "$"; //   ends, as ECMAScript's are
      if (node.kind === "word") return node.negate ? "\\B" : "\\b"; // ASCII words in both
      throw new NotInRe2(); // lookahead, lookbehind
    case "Quantifier":
      return `(?:${element(node.element)})${quantifier(node)}`;
    case "Group":
      if (node.modifiers) throw new NotInRe2();
      return `(?:${alternatives(node.alternatives)})`;
    case "CapturingGroup":
      // A test needs no captures; an uncapturing group also keeps RE2 from refusing group names.
      return `(?:${alternatives(node.alternatives)})`;
    case "CharacterClass":
      return characterClass(node);
    case "CharacterSet":
      return characterSet(node, false);
    case "Character":
      return codePoint(node.value);
    default:
      throw new NotInRe2(); // backreferences, and the `v` flag's class expressions
  }
}

function quantifier({ min, max, greedy }: AST.Quantifier): string {
  const count =
    max === Infinity
      ? min === 0
        ? "*"
        : min === 1
          ? "+"
          : `{${min},}`
      : min === 0 && max === 1
        ? "?"
        : min === max
          ? `{${min}}`
          : `{${min},${max}}`;
  return greedy ? count : `${count}?`;
}

function characterClass(node: AST.CharacterClass): string {
  if (node.unicodeSets) throw new NotInRe2();
  const inner = node.elements
    .map((item) =>
      item.type === "CharacterClassRange"
        ? `${codePoint(item.min.value)}-${codePoint(item.max.value)}`
        : item.type === "Character"
          ? codePoint(item.value)
          : characterSet(item, true),
    )
    .join("");
  // ECMAScript's `[]` matches nothing and `[^]` anything; RE2 has no empty class.
  if (inner === "") return node.negate ? anyCodePoint : nothing;
  return `[${node.negate ? "^" : ""}${inner}]`;
}

const anyCodePoint = "[\\x{0}-\\x{10FFFF}]";
const nothing = "[^\\x{0}-\\x{10FFFF}]";

/** ECMAScript's `\s`: WhiteSpace and LineTerminator. RE2's `\s` is ASCII only. */
const whiteSpace: ReadonlyArray<readonly [number, number]> = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];
/** ECMAScript's LineTerminator: what `.` does not match without the s flag. RE2's `.` skips \n only. */
const lineTerminators: ReadonlyArray<readonly [number, number]> = [
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
];

/**
 * A character set's ranges, written to stand inside a class (`inClass`) or alone. Negated sets
 * are written as their complement's ranges, because RE2 cannot negate a list within a class.
 */
function characterSet(node: AST.CharacterSet, inClass: boolean): string {
  let ranges: string;
  switch (node.kind) {
    case "any":
      return `[${rangesText(complement(lineTerminators))}]`;
    case "digit":
      ranges = node.negate ? rangesText(complement([[0x30, 0x39]])) : "0-9";
      break;
    case "word":
      // With `u` and without `i`, ECMAScript's \w is ASCII, as RE2's is.
      ranges = node.negate ? "\\W" : "\\w";
      break;
    case "space":
      ranges = rangesText(node.negate ? complement(whiteSpace) : whiteSpace);
      break;
    case "property":
      ranges = property(node);
      if (ranges === "" && !inClass) return nothing;
      break;
    default:
      throw new NotInRe2();
  }
  return inClass ? ranges : `[${ranges}]`;
}

const propertyAliases = propertyAliasMap as ReadonlyMap<string, string>;
const valueAliases = valueAliasMaps as ReadonlyMap<string, ReadonlyMap<string, string>>;
const categoryAliases = valueAliases.get("General_Category") ?? new Map<string, string>();
const scriptAliases = valueAliases.get("Script") ?? new Map<string, string>();

/**
 * RE2 knows general categories by their short names (`L`, `Lu`): each canonical name (`Letter`)
 * to its short alias, from the Unicode aliases ECMAScript accepts.
 */
const categoryShortNames = new Map(
  [...categoryAliases]
    .filter(([alias]) => /^[A-Z][A-Za-z]?$/.test(alias))
    .map(([alias, canonical]) => [canonical, alias]),
);

/**
 * A property escape in RE2's terms: general categories by short name, scripts by their long
 * name (`Script=Latn` is `Latin`), binary properties by canonical name (`Alpha` is `Alphabetic`),
 * and the three ECMAScript adds (`ASCII`, `Any`, `Assigned`) as ranges or categories. Written
 * to stand inside a class; an empty string is a set of nothing there.
 */
function property(node: AST.CharacterSet & { kind: "property" }): string {
  if (node.strings) throw new NotInRe2();
  const key = propertyAliases.get(node.key) ?? node.key;
  const escape = (name: string | undefined, negate = node.negate) => {
    if (name === undefined || !/^\w+$/.test(name)) throw new NotInRe2();
    return `${negate ? "\\P" : "\\p"}{${name}}`;
  };
  if (key === "General_Category") {
    const value = node.value ?? "";
    const canonical = categoryAliases.get(value) ?? value;
    return escape(categoryShortNames.get(canonical));
  }
  if (key === "Script") {
    const value = node.value ?? "";
    return escape(scriptAliases.get(value) ?? value);
  }
  if (node.value !== null) throw new NotInRe2(); // Script_Extensions: RE2 has none
  switch (key) {
    case "ASCII":
      return rangesText(node.negate ? complement([[0, 0x7f]]) : [[0, 0x7f]]);
    case "Any":
      return node.negate ? "" : rangesText([[0, 0x10ffff]]);
    case "Assigned":
      return escape("Cn", !node.negate);
    default:
      // A binary property RE2 does not know fails to compile: the pattern stays on V8.
      return escape(key);
  }
}

function complement(
  ranges: ReadonlyArray<readonly [number, number]>,
): Array<readonly [number, number]> {
  const result: Array<readonly [number, number]> = [];
  let next = 0;
  for (const [from, to] of ranges) {
    if (from > next) result.push([next, from - 1]);
    next = to + 1;
  }
  if (next <= 0x10ffff) result.push([next, 0x10ffff]);
  return result;
}

function rangesText(ranges: ReadonlyArray<readonly [number, number]>): string {
  return ranges
    .map(([from, to]) => (from === to ? codePoint(from) : `${codePoint(from)}-${codePoint(to)}`))
    .join("");
}

/** Any code point, lone surrogates included, written so that no character is special. */
function codePoint(value: number): string {
  return `\\x{${value.toString(16)}}`;
}
