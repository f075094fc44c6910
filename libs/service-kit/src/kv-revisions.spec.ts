import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";

import { isWrongRevision } from "./kv-revisions.ts";

const apiError = (code: number) =>
  new JetStreamApiError({ code: 400, err_code: code, description: "wrong last sequence" });

describe("isWrongRevision", () => {
  it("reads a lost write race as such, from a single server or a cluster", () => {
    expect(isWrongRevision(apiError(JetStreamApiCodes.StreamWrongLastSequence))).toBe(true);
    // A clustered stream's leader answers some lost races with 10164.
    expect(isWrongRevision(apiError(JetStreamApiCodes.StreamWrongLastSequenceUnknown))).toBe(true);
  });

  it("leaves every other failure to be thrown", () => {
    expect(isWrongRevision(apiError(JetStreamApiCodes.StreamNotFound))).toBe(false);
    expect(isWrongRevision(new Error("timeout"))).toBe(false);
  });
});
