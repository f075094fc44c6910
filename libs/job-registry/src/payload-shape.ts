import { maxPayloadDepth } from "@conveyor/contracts";
import type { ValidationIssue } from "@conveyor/contracts";

/**
 * Finds what makes a payload impossible to validate or store, whatever its type's schema says:
 * nesting deeper than {@link maxPayloadDepth} (recursive validators overflow the stack) and object
 * keys holding a NUL character (BSON keys are NUL-terminated). The walk is iterative and never
 * descends past the limit, so any parsed JSON is checked in bounded time and stack. Returns at most
 * one issue, the first found; paths start at `payload`.
 */
export function payloadShapeIssues(payload: unknown): ValidationIssue[] {
  const stack: { value: unknown; path: string[]; depth: number }[] = [
    { value: payload, path: ["payload"], depth: 0 },
  ];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const { value, path, depth } = next;
    if (typeof value !== "object" || value === null) continue;
    if (depth + 1 > maxPayloadDepth) {
      const message = `nested deeper than ${maxPayloadDepth} levels of arrays and objects`;
      return [{ path: "payload", message }];
    }
    const entries = Array.isArray(value)
      ? value.map((item, index) => [String(index), item] as const)
      : Object.entries(value);
    for (const [key, item] of entries) {
      if (key.includes("\u0000")) {
        const shown = key.replaceAll("\u0000", "\\u0000");
        return [
          { path: [...path, shown].join("."), message: "a key must not contain a NUL character" },
        ];
      }
      stack.push({ value: item, path: [...path, key], depth: depth + 1 });
    }
  }
  return [];
}
