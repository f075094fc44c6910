import type { JsonValue } from "./documents.ts";

const nul = String.fromCharCode(0);

/**
 * MongoDB-compatible servers refuse some object keys in stored documents (FerretDB refuses any key
 * containing `.` or starting with `$`; BSON cannot encode a key containing NUL at all), but a job's
 * payload and result are arbitrary JSON. Their keys are stored percent-escaped: `%` as `%25`, `.` as
 * `%2E`, `$` as `%24`, NUL as `%00`. Keys without these characters, the usual case, are stored as
 * they are and stay queryable. The escape is a pure function of the key, so a rebuild stores the
 * same bytes.
 */
export function escapeKeys(value: JsonValue): JsonValue {
  // `%` first, so that the `%` of an escape is never escaped again.
  return mapKeys(value, (key) => key.replace(/[%.$]/g, escapeChar).replaceAll(nul, "%00"));
}

/** Reverses {@link escapeKeys}. */
export function unescapeKeys(value: JsonValue): JsonValue {
  return mapKeys(value, (key) =>
    key.replace(/%(25|2E|24|00)/g, (_, hex: string) => unescapeHex(hex)),
  );
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
