import type { JsonValue } from "./documents.ts";

/**
 * MongoDB-compatible servers refuse some object keys in stored documents (FerretDB refuses any key
 * containing `.` or starting with `$`), but a job's payload and result are arbitrary JSON. Their
 * keys are stored percent-escaped: `%` as `%25`, `.` as `%2E`, `$` as `%24`. Keys without these
 * characters, the usual case, are stored as they are and stay queryable.
 */
export function escapeKeys(value: JsonValue): JsonValue {
  return mapKeys(value, (key) => key.replace(/[%.$]/g, escapeChar));
}

/** Reverses {@link escapeKeys}. */
export function unescapeKeys(value: JsonValue): JsonValue {
  return mapKeys(value, (key) => key.replace(/%(25|2E|24)/g, (_, hex: string) => unescapeHex(hex)));
}

function escapeChar(char: string): string {
  return `%${char.charCodeAt(0).toString(16).toUpperCase()}`;
}

function unescapeHex(hex: string): string {
  return String.fromCharCode(Number.parseInt(hex, 16));
}

function mapKeys(value: JsonValue, rename: (key: string) => string): JsonValue {
  if (Array.isArray(value)) return value.map((item) => mapKeys(item, rename));
  if (value === null || typeof value !== "object") return value;
  // fromEntries defines own properties, so even a `__proto__` key of JSON stays data.
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [rename(key), mapKeys(item, rename)]),
  );
}
