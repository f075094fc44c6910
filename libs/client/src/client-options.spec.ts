import type { NatsConnection } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

import { JobClient } from "./job-client.ts";

/** Options are checked before the connection is touched: an empty object stands for it. */
const noConnection = {} as NatsConnection;

describe("JobClient options", () => {
  it.each([
    ["timeoutMs", { timeoutMs: Number.NaN }],
    ["timeoutMs", { timeoutMs: 0 }],
    ["timeoutMs", { timeoutMs: -5 }],
    ["timeoutMs", { timeoutMs: Number.POSITIVE_INFINITY }],
    // Node fires a timer of 2^31 ms or more at once.
    ["timeoutMs", { timeoutMs: 2 ** 31 }],
    ["maxSubmissionBytes", { maxSubmissionBytes: Number.NaN }],
    ["maxSubmissionBytes", { maxSubmissionBytes: 0 }],
    ["maxSubmissionBytes", { maxSubmissionBytes: 1.5 }],
  ])("refuses a %s it cannot work with: %o", (name, options) => {
    expect(() => new JobClient(noConnection, options)).toThrow(
      expect.objectContaining({
        name: "RangeError",
        message: expect.stringContaining(name) as string,
      }),
    );
  });
});
