import { createHash, timingSafeEqual } from "node:crypto";

import type { Context, Middleware } from "koa";

import { ApiError, ErrorCode } from "../errors.ts";

/** Paths served without a token: probes and the API's description. */
export const openPaths: ReadonlySet<string> = new Set(["/healthz", "/readyz", "/openapi.json"]);

/** Shortest token accepted: a shorter one could be guessed. */
export const minTokenLength = 16;

/**
 * Requires `Authorization: Bearer <token>` with one of `tokens` on every request but the probes
 * and `/openapi.json`; answers 401 otherwise (RFC 6750). Tokens are compared by their SHA-256
 * digests in constant time, so that neither a token's length nor its first differing byte shows in
 * how long a refusal takes.
 */
export function bearerAuth(tokens: readonly string[]): Middleware {
  const digests = tokens.map(digest);
  const refuse = (ctx: Context, challenge: string, message: string): never => {
    ctx.set("WWW-Authenticate", challenge);
    // Answered without reading the body: Node would otherwise read it all to keep the connection.
    if (hasBody(ctx)) ctx.set("Connection", "close");
    throw new ApiError(401, ErrorCode.Unauthorized, message);
  };
  return async (ctx, next) => {
    if (openPaths.has(ctx.path)) {
      await next();
      return;
    }
    const header = ctx.get("Authorization");
    const match = /^Bearer +([^\s]+)$/i.exec(header);
    if (match?.[1] === undefined) {
      refuse(ctx, 'Bearer realm="conveyor"', "this gateway needs Authorization: Bearer <token>");
      return;
    }
    const given = digest(match[1]);
    // Every token is compared, so that which one matched does not show either.
    let known = false;
    for (const expected of digests) known = timingSafeEqual(given, expected) || known;
    if (!known) {
      refuse(
        ctx,
        'Bearer realm="conveyor", error="invalid_token"',
        "the bearer token is not one this gateway accepts",
      );
    }
    await next();
  };
}

/** Whether the request says it has a body (which a refusal leaves unread). */
function hasBody(ctx: Context): boolean {
  const length = Number(ctx.get("Content-Length"));
  return ctx.get("Transfer-Encoding") !== "" || (Number.isFinite(length) && length > 0);
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}
