import type { JsonValue } from "./documents.ts";

const nul = String.fromCharCode(0);

/**
 * The key of the object an array held by an array is stored in. No key of the user's data is
 * stored as `%A`: every `%` of theirs is stored as `%25`.
 */
const arrayInArrayKey = "%A";

/**
 * A job's payload and result are arbitrary JSON, but MongoDB-compatible servers refuse some of it
 * in stored documents, so it is stored encoded:
 * - keys percent-escaped: FerretDB refuses any key containing `.` or starting with `$`, and BSON
 *   cannot encode a key containing NUL at all, so `%` is stored as `%25`, `.` as `%2E`, `$` as
 *   `%24` and NUL as `%00`;
 * - an array held by an array wrapped in an object `{"%A": [...]}`: FerretDB 1.24 refuses nested
 *   arrays ("nested arrays are not supported").
 * Keys without these characters and arrays of anything but arrays, the usual case, are stored as
 * they are and stay queryable. Both servers store the same encoding, and it is a pure function of
 * the value, so a rebuild stores the same bytes.
 */
export function toStoredJson(value: JsonValue): JsonValue {
  return encode(value, false);
}

/** Reverses {@link toStoredJson}; an array in an array stored as it is (MongoDB) reads as such. */
export function fromStoredJson(value: JsonValue): JsonValue {
  return decode(value, false);
}

function encode(value: JsonValue, inArray: boolean): JsonValue {
  if (Array.isArray(value)) {
    const items = value.map((item) => encode(item, true));
    return inArray ? { [arrayInArrayKey]: items } : items;
  }
  // `%` first, so that the `%` of an escape is never escaped again.
  return mapObject(value, encode, (key) =>
    key.replace(/[%.$]/g, escapeChar).replaceAll(nul, "%00"),
  );
}

function decode(value: JsonValue, inArray: boolean): JsonValue {
  if (Array.isArray(value)) return value.map((item) => decode(item, true));
  if (inArray && isArrayWrapper(value)) return decode(value[arrayInArrayKey], false);
  return mapObject(value, decode, (key) =>
    key.replace(/%(25|2E|24|00)/g, (_, hex: string) => unescapeHex(hex)),
  );
}

function isArrayWrapper(value: JsonValue): value is { [arrayInArrayKey]: JsonValue[] } {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === arrayInArrayKey && Array.isArray(value[arrayInArrayKey]);
}

/** An object with its keys renamed and its values mapped; any other value unchanged. */
function mapObject(
  value: JsonValue,
  map: (item: JsonValue, inArray: boolean) => JsonValue,
  rename: (key: string) => string,
): JsonValue {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  // fromEntries defines own properties, so even a `__proto__` key of JSON stays data.
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [rename(key), map(item, false)]),
  );
}

function escapeChar(char: string): string {
  return `%${char.charCodeAt(0).toString(16).toUpperCase()}`;
}

function unescapeHex(hex: string): string {
  return String.fromCharCode(Number.parseInt(hex, 16));
}
