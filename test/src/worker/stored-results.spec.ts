import { findJob } from "@conveyor/read-model";
import { waitFor } from "@conveyor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { System, uniqueType } from "../cancellation/system.ts";

describe("a handler's result as stored", () => {
  let system: System;

  beforeAll(async () => {
    system = await System.start();
  });

  afterAll(async () => {
    await system[Symbol.asyncDispose]();
  });

  it("holds lone surrogates as U+FFFD, in keys as in strings, and the job reads as succeeded", async () => {
    // A string cut between the two halves of an emoji, say. Stored as is, the two keys would
    // become one in BSON, and a document with a key twice is refused: the job would read running.
    const type = uniqueType("surrogates");
    const result = { "a\ud800": "cut \ud83d", "a\udbff": 2, whole: "\ud83d\ude00" };
    await system.worker({ handlers: { [type]: () => result } });
    const id = await system.submit(type, null);
    const done = await system.waitForJob(id, (j) => j.status === "succeeded", "succeeded");
    const stored = { "a\ufffd": 2, whole: "\ud83d\ude00" };
    expect(done.result).toEqual(stored);
    // In the read model itself, not only as folded from the job's events.
    const doc = await waitFor(
      async () => {
        const found = await findJob(system.gateway.db, id);
        return found?.status === "succeeded" ? found : undefined;
      },
      { message: "job document stored" },
    );
    expect(doc.result).toEqual(stored);
  });
});
