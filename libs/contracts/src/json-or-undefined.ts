const decoder = new TextDecoder();

/**
 * The JSON value of a message body (bytes or text), or undefined when it is not JSON: for reading
 * a body whose schema check, or whose absence, decides what happens next.
 */
export function jsonOrUndefined(body: Uint8Array | string): unknown {
  try {
    return JSON.parse(typeof body === "string" ? body : decoder.decode(body)) as unknown;
  } catch {
    return undefined;
  }
}
