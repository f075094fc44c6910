import {
  BSON,
  MongoInvalidArgumentError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
} from "mongodb";
import { describe, expect, it } from "vitest";

import { StoreTimeoutError } from "./errors.ts";
import { isTransientStoreError } from "./store-errors.ts";

const serverError = (code: number, labels: string[] = []) =>
  new MongoServerError({ message: `code ${code}`, code, errorLabels: labels });

describe("isTransientStoreError", () => {
  it("counts unreachable servers, timeouts and retryable labels as transient", () => {
    expect(isTransientStoreError(new MongoNetworkError("closed"))).toBe(true);
    expect(isTransientStoreError(new MongoNetworkTimeoutError("timed out"))).toBe(true);
    expect(isTransientStoreError(new MongoServerSelectionError("no server", {} as never))).toBe(
      true,
    );
    expect(isTransientStoreError(new StoreTimeoutError(1000))).toBe(true);
    expect(isTransientStoreError(serverError(2, ["RetryableWriteError"]))).toBe(true);
  });

  it("counts a server error transient unless its code is a known refusal of the document", () => {
    expect(isTransientStoreError(serverError(50))).toBe(true);
    expect(isTransientStoreError(serverError(1))).toBe(true);
    expect(isTransientStoreError(serverError(10334))).toBe(false);
    expect(isTransientStoreError(serverError(2))).toBe(false);
  });

  it("counts errors encoding a document as permanent", () => {
    expect(isTransientStoreError(new BSON.BSONError("null bytes"))).toBe(false);
    expect(isTransientStoreError(new MongoInvalidArgumentError("too large"))).toBe(false);
    expect(isTransientStoreError(new RangeError("offset out of range"))).toBe(false);
  });
});
