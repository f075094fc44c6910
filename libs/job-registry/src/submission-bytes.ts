import { parseJsonExactly, rejectionRawPreviewChars } from "@conveyor/contracts";
import type { ValidationIssue } from "@conveyor/contracts";

/** Why raw submission bytes could not be read as JSON. */
export const BytesRejection = {
  TooLarge: "too_large",
  InvalidJson: "invalid_json",
} as const;
export type BytesRejection = (typeof BytesRejection)[keyof typeof BytesRejection];

export type ParsedSubmissionBytes =
  | { ok: true; value: unknown; text: string }
  | {
      ok: false;
      reason: BytesRejection;
      message: string;
      issues: ValidationIssue[];
      /** The start of the message text, for the rejection record. */
      rawPreview: string;
    };

/** Reads previews: a cut body may end inside a character. */
const decoder = new TextDecoder("utf-8");
/** Reads bodies: a byte that is not UTF-8 refuses the body, as the gateway does. */
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads a submission message body (NATS path): refuses it when larger than `maxBytes`, raw or as
 * stored (its records write it again, with numbers in full, as the gateway does before publishing),
 * or when it is not JSON. An oversized body is never decoded whole, only its preview.
 */
export function parseSubmissionBytes(data: Uint8Array, maxBytes: number): ParsedSubmissionBytes {
  if (data.byteLength > maxBytes) {
    return refused(
      BytesRejection.TooLarge,
      `submission is ${data.byteLength} bytes, more than the limit of ${maxBytes}`,
      previewText(data),
    );
  }
  let text: string;
  try {
    text = strictDecoder.decode(data);
  } catch {
    return refused(
      BytesRejection.InvalidJson,
      "submission is not valid JSON: it is not UTF-8",
      previewText(data),
    );
  }
  let value: unknown;
  try {
    value = parseJsonExactly(text);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return refused(BytesRejection.InvalidJson, `submission is not valid JSON: ${why}`, text);
  }
  const storedBytes = data.byteLength * maxStoredGrowth > maxBytes ? bytesAsStored(value) : 0;
  if (storedBytes > maxBytes) {
    return refused(
      BytesRejection.TooLarge,
      `submission is ${storedBytes} bytes as stored (numbers written out in full), more than the limit of ${maxBytes}`,
      text,
    );
  }
  return { ok: true, value, text };
}

/**
 * The text of a body's first bytes, enough for its preview: four bytes per character at most, so
 * this many always cover it. The body itself is never decoded whole for a refusal.
 */
function previewText(data: Uint8Array): string {
  return decoder.decode(data.subarray(0, rejectionRawPreviewChars * 4));
}

/** A refusal of the whole message, its issue at `(root)`, with the start of `text` kept. */
function refused(
  reason: BytesRejection,
  message: string,
  text: string,
): Extract<ParsedSubmissionBytes, { ok: false }> {
  return {
    ok: false,
    reason,
    message,
    issues: [{ path: "(root)", message }],
    rawPreview: preview(text),
  };
}

/**
 * How many times its size a JSON text can grow when written again: a number is written out in
 * full up to 21 digits (`1e20` as `100000000000000000000`, 4 bytes to 21), and nothing else grows.
 */
const maxStoredGrowth = 21 / 4;

/**
 * The size of a value written as JSON, as the job's work item, events and dead letter carry it;
 * 0 when it cannot be written (nested too deep), which the payload's depth check refuses later.
 */
function bytesAsStored(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value));
  } catch {
    return 0;
  }
}

/** The first characters of a raw message, as kept in rejection records. */
export function preview(text: string): string {
  return text.slice(0, rejectionRawPreviewChars);
}
