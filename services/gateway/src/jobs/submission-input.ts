import { ApiError, ErrorCode } from "../errors.ts";

/**
 * The `Idempotency-Key` request header's one value (Node's `headersDistinct`), `undefined` without
 * it. Refuses it empty (read as no key, each retry would be a new job) and sent twice (Node would
 * join the two into one key, `a, b`).
 */
export function idempotencyHeaderOf(values: readonly string[] | undefined): string | undefined {
  if (values === undefined) return undefined;
  const [value, ...more] = values;
  if (more.length > 0) throw idempotencyHeaderRefused("sent more than once; a job has one key");
  if (value === undefined || value === "") {
    throw idempotencyHeaderRefused("is empty; send a key of 1-256 characters, or no header");
  }
  return value;
}

function idempotencyHeaderRefused(message: string): ApiError {
  return new ApiError(400, ErrorCode.InvalidEnvelope, `Idempotency-Key: ${message}`, {
    issues: [{ path: "Idempotency-Key", message }],
  });
}

/**
 * Folds the `Idempotency-Key` request header (UTF-8) into the submission body, as its `idempotencyKey`.
 * A body that already names a different key is refused rather than silently overridden.
 */
export function withIdempotencyHeader(body: unknown, header: string | undefined): unknown {
  if (header === undefined || !isPlainObject(body)) return body;
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

/** The `type` a submission body names, whatever else it holds (checked later). */
export function typeNamedBy(body: unknown): unknown {
  return typeof body === "object" && body !== null ? (body as { type?: unknown }).type : undefined;
}

/** The `type`s the jobs of a bulk body name, whatever else it holds (checked later). */
export function typesNamedBy(body: unknown): unknown[] {
  const jobs =
    typeof body === "object" && body !== null ? (body as { jobs?: unknown }).jobs : undefined;
  return Array.isArray(jobs) ? jobs.map(typeNamedBy) : [];
}
