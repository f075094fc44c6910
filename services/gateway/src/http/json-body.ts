import type { IncomingMessage } from "node:http";
import { pipeline } from "node:stream";
import type { Readable, Transform } from "node:stream";
import { createBrotliDecompress, createUnzip } from "node:zlib";

import { parseJsonExactly } from "@conveyor/contracts";
import type { Middleware } from "koa";
import getRawBody from "raw-body";

import { ApiError, ErrorCode } from "../errors.ts";

declare module "koa" {
  interface Request {
    /** The request body as parsed JSON, set by {@link jsonBody}. */
    body?: unknown;
  }
}

/** Methods whose body is read; DELETE too: `DELETE /v1/dlq/:id` takes an optional reason. */
const parsedMethods = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * What the gateway decodes; `x-gzip` is gzip's older name (RFC 9110, 8.4.1.3). A map: the header
 * is the client's, and `constructor` must not find an object's own.
 */
const decoders: ReadonlyMap<string, () => Transform> = new Map([
  ["gzip", createUnzip],
  ["x-gzip", createUnzip],
  ["deflate", createUnzip],
  ["br", createBrotliDecompress],
]);

/** Fatal: a byte that is not UTF-8 refuses the body instead of being read as U+FFFD. */
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** JSON text that opens an object or an array (RFC 8259's whitespace before it). */
const objectOrArray = /^[ \t\n\r]*[[{]/;

/**
 * Parses the request body as JSON whatever its content type (so `curl -d` works without a header),
 * refusing bodies over `maxBytes` (decoded) with a 413, a `Content-Encoding` it cannot decode or a
 * charset other than UTF-8 with a 415, and bodies it cannot read, that are not UTF-8 or not a JSON
 * object or array with a 400. An empty body reads as `{}`. Keys are data: a `__proto__` key is an
 * own property, as the NATS intake reads it.
 */
export function jsonBody(maxBytes: number): Middleware {
  return async (ctx, next) => {
    if (!parsedMethods.has(ctx.method) || ctx.request.body !== undefined) {
      await next();
      return;
    }
    // JSON is UTF-8 (RFC 8259): a body in another charset would be stored with its text changed.
    const { charset } = ctx.request;
    if (charset !== "" && !/^utf-?8$/i.test(charset)) {
      throw new ApiError(
        415,
        ErrorCode.UnsupportedMediaType,
        `request body must be UTF-8 JSON, not charset=${charset}`,
      );
    }
    let bytes: Buffer;
    try {
      bytes = await readBody(ctx.req, ctx.get("content-encoding"), maxBytes);
    } catch (err) {
      // A read stopped part way leaves the rest of the body on the socket, where Node does not
      // discard it: the next request of a keep-alive client would never be read. Close instead.
      ctx.set("Connection", "close");
      throw err;
    }
    ctx.request.body = parseJson(bytes);
    await next();
  };
}

async function readBody(
  req: IncomingMessage,
  contentEncoding: string,
  maxBytes: number,
): Promise<Buffer> {
  // Content codings are case-insensitive (RFC 9110, 8.4.1).
  const encoding = contentEncoding.trim().toLowerCase() || "identity";
  const identity = encoding === "identity";
  const decoder = identity ? undefined : decoders.get(encoding);
  if (!identity && decoder === undefined) {
    throw new ApiError(
      415,
      ErrorCode.UnsupportedMediaType,
      `Content-Encoding ${encoding} is not supported; the gateway decodes gzip, deflate, br and identity`,
    );
  }
  // A pipeline, unlike pipe(), ends the decoder when the client aborts, so the read fails.
  const stream: Readable = decoder === undefined ? req : pipeline(req, decoder(), () => undefined);
  const declared = req.headers["content-length"];
  // The limit counts decoded bytes, so a small compressed body cannot expand past it; an
  // undecoded body must be as long as it said.
  const options: getRawBody.Options = { limit: maxBytes };
  if (identity && declared !== undefined) options.length = Number(declared);
  try {
    return await getRawBody(stream, options);
  } catch (err) {
    if ((err as { status?: unknown }).status === 413) {
      throw new ApiError(
        413,
        ErrorCode.PayloadTooLarge,
        `request body is larger than the limit of ${maxBytes} bytes`,
        { cause: err },
      );
    }
    // Whatever else fails while reading the body is the body's doing (gzip that is not gzip).
    const message = err instanceof Error ? err.message : String(err);
    throw new ApiError(400, ErrorCode.BadRequest, `request body could not be read: ${message}`, {
      cause: err,
    });
  }
}

function parseJson(bytes: Buffer): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (err) {
    throw new ApiError(400, ErrorCode.InvalidJson, "request body is not JSON: it is not UTF-8", {
      cause: err,
    });
  }
  // Empty, or only a byte order mark (which the decoder drops): no body.
  if (text === "") return {};
  if (!objectOrArray.test(text)) {
    throw new ApiError(
      400,
      ErrorCode.InvalidJson,
      "request body is not JSON: it must be an object or an array",
    );
  }
  try {
    // An integer JSON.parse would round is kept marked, for the payload check to refuse by name.
    return parseJsonExactly(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new ApiError(400, ErrorCode.InvalidJson, `request body is not JSON: ${message}`, {
      cause: err,
    });
  }
}
