import { describe, expect, it } from "vitest";

import { ApiError } from "../errors.ts";
import { idempotencyHeaderOf, withIdempotencyHeader } from "./submission-input.ts";

describe("withIdempotencyHeader", () => {
  it("adds the header's key to the body", () => {
    expect(withIdempotencyHeader({ type: "echo" }, "key-1")).toEqual({
      type: "echo",
      idempotencyKey: "key-1",
    });
  });

  it("leaves the body alone without a header, or when the body is not an object", () => {
    const body = { type: "echo", idempotencyKey: "key-1" };
    expect(withIdempotencyHeader(body, undefined)).toBe(body);
    expect(withIdempotencyHeader([1, 2], "key-1")).toEqual([1, 2]);
    expect(withIdempotencyHeader(null, "key-1")).toBeNull();
  });

  it("accepts the same key in both places and refuses different ones, naming the field", () => {
    expect(withIdempotencyHeader({ type: "echo", idempotencyKey: "k" }, "k")).toEqual({
      type: "echo",
      idempotencyKey: "k",
    });
    let caught: unknown;
    try {
      withIdempotencyHeader({ type: "echo", idempotencyKey: "a" }, "b");
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ApiError);
    expect((caught as ApiError).status).toBe(400);
    expect((caught as ApiError).issues).toEqual([
      { path: "idempotencyKey", message: "differs from the Idempotency-Key header" },
    ]);
  });

  it("reads the header's bytes as UTF-8, as a body's key is read", () => {
    // Node hands header bytes over as latin1 characters.
    const asNodeReadsIt = (key: string) => Buffer.from(key, "utf8").toString("latin1");
    expect(withIdempotencyHeader({ type: "echo" }, asNodeReadsIt("voilà-ключ"))).toEqual({
      type: "echo",
      idempotencyKey: "voilà-ключ",
    });
    expect(
      withIdempotencyHeader({ type: "echo", idempotencyKey: "ключ" }, asNodeReadsIt("ключ")),
    ).toEqual({ type: "echo", idempotencyKey: "ключ" });
  });

  it("reads a header whose bytes are not UTF-8 as latin1, as browsers and Python send café", () => {
    expect(withIdempotencyHeader({ type: "echo" }, "caf\u00e9")).toEqual({
      type: "echo",
      idempotencyKey: "café",
    });
  });
});

describe("idempotencyHeaderOf", () => {
  const refusal = (values: string[]) => {
    try {
      idempotencyHeaderOf(values);
    } catch (err) {
      return err as ApiError;
    }
    throw new Error("not refused");
  };

  it("reads one header, and no key without one", () => {
    expect(idempotencyHeaderOf(["order-1"])).toBe("order-1");
    expect(idempotencyHeaderOf(undefined)).toBeUndefined();
  });

  it("refuses an empty header, which read as no key would make each retry a new job", () => {
    const error = refusal([""]);
    expect(error.status).toBe(400);
    expect(error.issues).toEqual([
      { path: "Idempotency-Key", message: expect.stringContaining("empty") as string },
    ]);
  });

  it("refuses the header sent twice, which Node would join into one key", () => {
    const error = refusal(["a", "b"]);
    expect(error.status).toBe(400);
    expect(error.issues).toEqual([
      { path: "Idempotency-Key", message: expect.stringContaining("more than once") as string },
    ]);
  });
});
