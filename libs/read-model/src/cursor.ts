import { InvalidCursorError } from "./errors.ts";

/** Encodes the sort key of the last item of a page as an opaque, URL-safe string. */
export function encodeCursor(key: readonly string[]): string {
  return Buffer.from(JSON.stringify(key), "utf8").toString("base64url");
}

/**
 * Decodes a cursor made by {@link encodeCursor} with `arity` key parts.
 *
 * @throws {InvalidCursorError} when the string is not such a cursor.
 */
export function decodeCursor(cursor: string, arity: number): string[] {
  if (!/^[A-Za-z0-9_-]{1,1024}$/.test(cursor)) throw new InvalidCursorError();
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch (err) {
    throw new InvalidCursorError(undefined, { cause: err });
  }
  const valid =
    Array.isArray(key) &&
    key.length === arity &&
    key.every((part) => typeof part === "string" && part !== "");
  if (!valid) throw new InvalidCursorError();
  return key as string[];
}
