import { rejectionRawPreviewChars } from "@conveyor/contracts";
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

const decoder = new TextDecoder("utf-8");

/**
 * Reads a submission message body (NATS path): refuses it when larger than `maxBytes` or when it is
 * not JSON. An oversized body is never decoded whole, only its preview.
 */
export function parseSubmissionBytes(data: Uint8Array, maxBytes: number): ParsedSubmissionBytes {
  if (data.byteLength > maxBytes) {
    const message = `submission is ${data.byteLength} bytes, more than the limit of ${maxBytes}`;
    return {
      ok: false,
      reason: BytesRejection.TooLarge,
      message,
      issues: [{ path: "(root)", message }],
      // Four bytes per character at most, so this many bytes always cover the preview.
      rawPreview: preview(decoder.decode(data.subarray(0, rejectionRawPreviewChars * 4))),
    };
  }
  const text = decoder.decode(data);
  try {
    return { ok: true, value: JSON.parse(text) as unknown, text };
  } catch (err) {
    const message = `submission is not valid JSON: ${err instanceof Error ? err.message : String(err)}`;
    return {
      ok: false,
      reason: BytesRejection.InvalidJson,
      message,
      issues: [{ path: "(root)", message }],
      rawPreview: preview(text),
    };
  }
}

/** The first characters of a raw message, as kept in rejection records. */
export function preview(text: string): string {
  return text.slice(0, rejectionRawPreviewChars);
}
