import { ApiError, ErrorCode } from "../errors.ts";

/**
 * Folds the `Idempotency-Key` request header into the submission body, as its `idempotencyKey`.
 * A body that already names a different key is refused rather than silently overridden.
 */
export function withIdempotencyHeader(body: unknown, header: string): unknown {
  if (header === "" || !isPlainObject(body)) return body;
  const inBody = body["idempotencyKey"];
  if (inBody !== undefined && inBody !== header) {
    throw new ApiError(
      400,
      ErrorCode.InvalidEnvelope,
      "idempotencyKey differs from the Idempotency-Key header",
      {
        issues: [{ path: "idempotencyKey", message: "differs from the Idempotency-Key header" }],
      },
    );
  }
  return { ...body, idempotencyKey: header };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
