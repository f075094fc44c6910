import type { NatsConnection } from "@nats-io/transport-node";
import { PermissionViolationError } from "@nats-io/transport-node";
import { describe, expect, it, vi } from "vitest";

import { createLogger } from "./logger.ts";
import { exitWhenNatsCloses, logNatsStatus } from "./nats-connection.ts";

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

describe("logNatsStatus", () => {
  it("logs an error as a warning with its message, and reconnect attempts at debug", () => {
    const recorder = createLogger("test", "debug");
    const warn = vi.spyOn(recorder, "warn").mockImplementation(() => undefined);
    const debug = vi.spyOn(recorder, "debug").mockImplementation(() => undefined);
    const error = PermissionViolationError.parse(
      `Permissions Violation for Publish to "jobs.submit.x"`,
    );
    expect(error).toBeInstanceOf(Error);
    logNatsStatus(recorder, { type: "error", error: error! });
    logNatsStatus(recorder, { type: "reconnecting" });
    expect(warn).toHaveBeenCalledWith({ err: error, nats: { type: "error" } }, "nats error");
    expect(debug).toHaveBeenCalledWith({ nats: { type: "reconnecting" } }, "nats reconnecting");
  });
});
