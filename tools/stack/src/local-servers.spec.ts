import { createServer } from "node:net";

import { freePort } from "@conveyor/testing";
import { describe, expect, it } from "vitest";

import { StackError } from "./errors.ts";
import { assertPortFree } from "./local-servers.ts";

describe("assertPortFree", () => {
  it("passes for a free port and names the variable when the port is taken", async () => {
    const port = await freePort();
    await assertPortFree(port, "NATS_PORT");

    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve));
    try {
      const err = await assertPortFree(port, "NATS_PORT").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StackError);
      expect((err as Error).message).toMatch(
        new RegExp(`port ${port} is already in use.*NATS_PORT`),
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
