import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { connectNats, createLogger } from "@conveyor/service-kit";
import { findBinary, freePort, jetStreamServerArgs, spawnServer } from "@conveyor/testing";
import { describe, expect, it } from "vitest";

import { recordingLogger } from "../support/recording-logger.ts";

describe("connectNats at a service's start", () => {
  it("keeps trying a server that does not accept connections yet, within firstConnectWaitMs", async () => {
    // A pod started before nats-server listens (a node restart, a first apply) waits for it
    // instead of exiting into a restart back-off.
    const port = await freePort();
    const storeDir = await mkdtemp(join(tmpdir(), "conveyor-first-connect-"));
    const { logger, warnings } = recordingLogger();
    const connecting = connectNats({
      url: `nats://127.0.0.1:${port}`,
      name: "first-connect",
      logger,
      firstConnectWaitMs: 20_000,
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const server = spawnServer("nats-server", findBinary("nats-server"), [
      ...jetStreamServerArgs(port, storeDir),
    ]);
    try {
      const nc = await connecting;
      await nc.flush();
      await nc.close();
      expect(warnings("waiting for NATS to accept connections")).toHaveLength(1);
    } finally {
      await server.stop();
      await rm(storeDir, { recursive: true, force: true });
    }
  });

  it("gives up on an unreachable server at once without it, and after it with it", async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    const logger = createLogger("first-connect", "silent");
    let started = Date.now();
    await expect(connectNats({ url, name: "first-connect", logger })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1000);
    started = Date.now();
    await expect(
      connectNats({ url, name: "first-connect", logger, firstConnectWaitMs: 2000 }),
    ).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
  });
});
