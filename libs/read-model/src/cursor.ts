import { InvalidCursorError } from "./errors.ts";

/**
 * The lists a cursor pages through; a cursor of one is refused by the others (`schedules`: the
 * gateway's list of recurring schedules, from JetStream, paged alike).
 */
export type CursorList = "jobs" | "dead_letters" | "rejections" | "schedules";

/**
 * Encodes the sort key of the last item of a page of `list` as an opaque, URL-safe string. The
 * list is part of it: the jobs list and the dead letters are both ordered by a job id, and a
 * cursor of one would silently start the other after that id.
 */
export function encodeCursor(list: CursorList, key: readonly string[]): string {
  return Buffer.from(JSON.stringify([list, ...key]), "utf8").toString("base64url");
}

/**
 * Decodes a cursor that {@link encodeCursor} made for `list` with `arity` key parts.
 *
 * @throws {InvalidCursorError} when the string is not such a cursor.
 */
export function decodeCursor(cursor: string, list: CursorList, arity: number): string[] {
  if (!/^[A-Za-z0-9_-]{1,1024}$/.test(cursor)) throw new InvalidCursorError();
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch (err) {
    throw new InvalidCursorError(undefined, { cause: err });
  }
  const valid =
    Array.isArray(key) &&
    key.length === arity + 1 &&
    key[0] === list &&
    key.every((part) => typeof part === "string" && part !== "");
  if (!valid) throw new InvalidCursorError();
  return (key as string[]).slice(1);
}
