import { ApiError, ErrorCode } from "../errors.ts";

/**
 * Folds the `Idempotency-Key` request header (UTF-8) into the submission body, as its `idempotencyKey`.
 * A body that already names a different key is refused rather than silently overridden.
 */
export function withIdempotencyHeader(body: unknown, header: string): unknown {
  if (header === "" || !isPlainObject(body)) return body;
  const key = utf8HeaderValue(header);
  const inBody = body["idempotencyKey"];
  if (inBody !== undefined && inBody !== key) {
    throw new ApiError(
      400,
      ErrorCode.InvalidEnvelope,
      "idempotencyKey differs from the Idempotency-Key header",
      {
        issues: [{ path: "idempotencyKey", message: "differs from the Idempotency-Key header" }],
      },
    );
  }
  return { ...body, idempotencyKey: key };
}

/**
 * A header's value read as UTF-8, as a JSON body is: Node hands header bytes over as latin1
 * characters, so `ключ` would arrive as `ÐºÐ»ÑŽÑ‡` and differ from the same key in a body. Bytes
 * that are not UTF-8 are what latin1 senders (browsers, Python) send for `café`: read as latin1.
 */
function utf8HeaderValue(latin1: string): string {
  const bytes = Buffer.from(latin1, "latin1");
  const text = bytes.toString("utf8");
  return Buffer.from(text, "utf8").equals(bytes) ? text : latin1;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
