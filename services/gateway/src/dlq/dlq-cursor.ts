import { invalidParameters } from "../errors.ts";

/** The opaque cursor of a `GET /v1/dlq` page: the `DLQ` sequence the next page starts after. */
export function encodeDlqCursor(lastSeq: number): string {
  return Buffer.from(JSON.stringify({ after: lastSeq }), "utf8").toString("base64url");
}

/** @throws a 400 naming `cursor` when the string is not a cursor of this list. */
export function decodeDlqCursor(cursor: string): number {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (typeof decoded === "object" && decoded !== null && "after" in decoded) {
      const { after } = decoded;
      if (typeof after === "number" && Number.isSafeInteger(after) && after >= 0) return after;
    }
  } catch {
    // not base64url JSON: refused below
  }
  throw invalidParameters([
    { path: "cursor", message: "cursor is not a cursor returned by this list" },
  ]);
}
