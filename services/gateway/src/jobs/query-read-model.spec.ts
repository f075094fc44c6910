import { InvalidQueryError } from "@conveyor/read-model";
import { MongoNetworkError, MongoServerError, MongoTopologyClosedError } from "mongodb";
import { describe, expect, it } from "vitest";

import { ApiError } from "../errors.ts";
import { queryReadModel } from "./query-read-model.ts";

/** What a query that fails with `err` answers: the HTTP status, or the error it lets through. */
async function answerTo(err: Error): Promise<number | Error> {
  try {
    await queryReadModel(() => Promise.reject(err), 1000);
  } catch (thrown) {
    if (thrown instanceof ApiError) return thrown.status;
    return thrown as Error;
  }
  throw new Error("the query did not fail");
}

/** A driver error of a class the driver does not export (its pool's). */
function poolError(name: string): Error {
  const err = new Error("pool");
  err.name = name;
  return err;
}

describe("queryReadModel", () => {
  it("gives the query its deadline to send to the server, so the server stops when the gateway does", async () => {
    const given: unknown[] = [];
    await queryReadModel((deadline) => {
      given.push(deadline);
      return Promise.resolve(null);
    }, 1234);
    expect(given).toEqual([{ maxTimeMS: 1234 }]);
  });

  it("says which kind of failure it was, never the driver's text with the server's address", async () => {
    const thrown = await queryReadModel(
      () => Promise.reject(new MongoNetworkError("connection 7 to 10.1.2.3:27017 closed")),
      1000,
    ).catch((err: unknown) => err);
    expect(thrown).toBeInstanceOf(ApiError);
    expect((thrown as ApiError).message).toBe(
      "the read model is unavailable (MongoNetworkError); retry later",
    );
    // The driver's own error stays the cause, for the gateway's log.
    expect((thrown as ApiError).cause).toBeInstanceOf(MongoNetworkError);
    // A server's refusal says which, by the name of its code.
    const shutdown = new MongoServerError({
      message: "interrupted at shutdown",
      code: 11600,
      codeName: "InterruptedAtShutdown",
    });
    const refused = await queryReadModel(() => Promise.reject(shutdown), 1000).catch(
      (err: unknown) => err,
    );
    expect((refused as ApiError).message).toBe(
      "the read model is unavailable (MongoServerError InterruptedAtShutdown); retry later",
    );
  });

  it("answers 503 when MongoDB is unreachable, shutting down, stepping down or overloaded", async () => {
    const transient = [
      new MongoNetworkError("connection reset"),
      new MongoTopologyClosedError(),
      new MongoServerError({ message: "interrupted at shutdown", code: 11600 }),
      new MongoServerError({ message: "shutdown in progress", code: 91 }),
      new MongoServerError({ message: "not primary", code: 10107 }),
      new MongoServerError({ message: "primary stepped down", code: 189 }),
      new MongoServerError({ message: "labelled", errorLabels: ["RetryableError"] }),
      poolError("MongoWaitQueueTimeoutError"),
      poolError("MongoPoolClosedError"),
      poolError("MongoPoolClearedError"),
    ];
    for (const err of transient) expect(await answerTo(err), err.message).toBe(503);
  });

  it("answers 400 for a query refused for its options", async () => {
    expect(await answerTo(new InvalidQueryError("cursor", "not a cursor"))).toBe(400);
  });

  it("lets other errors through, as bugs (500)", async () => {
    const bad = new MongoServerError({ message: "bad value", code: 2 });
    expect(await answerTo(bad)).toBe(bad);
    const bug = new TypeError("x is undefined");
    expect(await answerTo(bug)).toBe(bug);
  });
});
