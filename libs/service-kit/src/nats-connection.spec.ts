import type { NatsConnection } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

import { createLogger } from "./logger.ts";
import { exitWhenNatsCloses } from "./nats-connection.ts";

const logger = createLogger("test", "silent");

/** A connection whose `closed()` settles as given, and the exit codes asked for. */
function closing(result: Error | undefined) {
  const exits: number[] = [];
  const closed = Promise.resolve(result);
  const nc = { closed: () => closed } as unknown as NatsConnection;
  const exit = (code: number) => {
    exits.push(code);
  };
  return { nc, exits, closed, exit };
}

describe("exitWhenNatsCloses", () => {
  it("exits non-zero when the connection closes with an error for good", async () => {
    const c = closing(new Error("'Authorization Violation'"));
    exitWhenNatsCloses(c.nc, logger, c.exit);
    await c.closed;
    await Promise.resolve();
    expect(c.exits).toEqual([1]);
  });

  it("leaves a close the service asked for (drain, close) to its shutdown", async () => {
    const c = closing(undefined);
    exitWhenNatsCloses(c.nc, logger, c.exit);
    await c.closed;
    await Promise.resolve();
    expect(c.exits).toEqual([]);
  });
});
