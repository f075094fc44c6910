import { headers } from "@nats-io/transport-node";
import type { MsgHdrs } from "@nats-io/transport-node";

/** A received message's headers, or why they cannot be read. */
export type ReadHeaders =
  { headers: MsgHdrs | undefined; problem?: undefined } | { headers: undefined; problem: string };

/**
 * Reads a received message's headers without throwing. nats.js decodes them when first asked and
 * throws on a header name it would not send itself (a space or a control character in it), which
 * other clients send as given (nats.go's headers are a plain map): such a message must be refused
 * or read without its headers, never fail every delivery.
 */
export function readHeaders(msg: { readonly headers?: MsgHdrs | undefined }): ReadHeaders {
  try {
    return { headers: msg.headers };
  } catch (err) {
    return { headers: undefined, problem: err instanceof Error ? err.message : String(err) };
  }
}

/** A received message's headers; undefined when it has none or they cannot be read. */
export function headersOrNone(msg: {
  readonly headers?: MsgHdrs | undefined;
}): MsgHdrs | undefined {
  return readHeaders(msg).headers;
}

/**
 * A stored message's headers (what a stream or direct get answers, whose `header` nats.js decodes
 * when first asked), empty when they cannot be read: such a message is handled from its body
 * alone, without the trace and hints its headers carried, where reading them would fail it on
 * every try.
 */
export function storedHeadersOrEmpty(stored: { readonly header: MsgHdrs }): MsgHdrs {
  try {
    return stored.header;
  } catch {
    return headers();
  }
}
