import { InexactInteger, maxPayloadDepth, storedLevels } from "@conveyor/contracts";
import type { ValidationIssue } from "@conveyor/contracts";

/** A node of the walk; the path to it is built from the parents only when it is reported. */
interface Node {
  value: unknown;
  key: string;
  parent: Node | undefined;
  /** Levels above it, as stored (see `exceedsDepth`). */
  depth: number;
}

/**
 * Finds what makes a payload impossible to validate or store, whatever its type's schema says:
 * a value that is not JSON (`undefined`, a function, a non-finite number, a `Date` or other
 * non-plain object), nesting deeper than {@link maxPayloadDepth} (recursive validators overflow
 * the stack), object keys holding a NUL character (BSON keys are NUL-terminated), and strings or
 * keys that are not well-formed Unicode (a lone surrogate is stored as U+FFFD: the stored job would
 * differ from the submitted one, and two keys could become one), and integers the JSON text held
 * beyond 2^53 (an `InexactInteger` of `parseJsonExactly`: they would be stored rounded). The walk is
 * iterative and never descends past the limit, so any value is checked in bounded time and stack.
 * Returns at most one issue, the first found; paths start at `payload`.
 */
export function payloadShapeIssues(payload: unknown): ValidationIssue[] {
  const stack: Node[] = [{ value: payload, key: "payload", parent: undefined, depth: 0 }];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    const { value, depth } = node;
    if (typeof value !== "object" || value === null) {
      if (!isJsonScalar(value)) return [{ path: pathOf(node), message: "not a JSON value" }];
      if (typeof value === "string" && !value.isWellFormed()) {
        return [{ path: pathOf(node), message: malformedMessage }];
      }
      continue;
    }
    if (value instanceof InexactInteger) {
      const message = `the integer ${value.source} is beyond what JSON numbers hold exactly (2^53) and would be stored as ${value.rounded}; send it as a string`;
      return [{ path: pathOf(node), message }];
    }
    const isArray = Array.isArray(value);
    const own = depth + storedLevels(isArray, Array.isArray(node.parent?.value));
    if (own > maxPayloadDepth) {
      const message = `nested deeper than ${maxPayloadDepth} levels of arrays and objects (an array directly in an array counts two)`;
      return [{ path: "payload", message }];
    }
    if (isArray) {
      for (let i = 0; i < value.length; i++) {
        // A hole reads as undefined, which JSON cannot carry: reported before the rest is pushed,
        // so a sparse array of a billion places (`a[1e9] = 1`) costs nothing to refuse.
        if (!(i in value)) {
          return [{ path: `${pathOf(node)}.${i}`, message: "not a JSON value" }];
        }
        stack.push({ value: value[i] as unknown, key: String(i), parent: node, depth: own });
      }
      continue;
    }
    if (!isPlainObject(value)) return [{ path: pathOf(node), message: "not a JSON value" }];
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      if (key.includes("\u0000")) {
        const shown = key.replaceAll("\u0000", "\\u0000");
        const message = "a key must not contain a NUL character";
        return [{ path: `${pathOf(node)}.${shown}`, message }];
      }
      if (!key.isWellFormed()) {
        return [{ path: `${pathOf(node)}.${showSurrogates(key)}`, message: malformedMessage }];
      }
      const item = (value as Record<string, unknown>)[key];
      stack.push({ value: item, key, parent: node, depth: own });
    }
  }
  return [];
}

const malformedMessage = "must be well-formed Unicode (no lone surrogate)";

/** A key with its lone surrogates written as `\uXXXX`, so that the path can be shown. */
function showSurrogates(key: string): string {
  return key.replace(
    /[\ud800-\udfff]/g,
    (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function isJsonScalar(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value);
    default:
      return value === null;
  }
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function pathOf(node: Node): string {
  const keys: string[] = [];
  for (let at: Node | undefined = node; at !== undefined; at = at.parent) keys.push(at.key);
  return keys.reverse().join(".");
}
