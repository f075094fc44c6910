import { existsSync } from "node:fs";

import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

import { startNatsServer } from "./nats-server.ts";
import { uniqueName } from "./unique-name.ts";

describe("startNatsServer", () => {
  it("starts a JetStream server that keeps stream data across restart on the same port", async () => {
    await using server = await startNatsServer({ env: { ...process.env, NATS_URL: "" } });
    expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
    const stream = uniqueName("KEEP");

    const nc = await connect({ servers: server.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
    const js = jetstream(nc);
    for (let i = 0; i < 3; i++) await js.publish(`${stream}.x`, `m${i}`);
    await nc.close();

    await server.restart();

    const nc2 = await connect({ servers: server.url });
    try {
      const jsm2 = await jetstreamManager(nc2);
      const info = await jsm2.streams.info(stream);
      expect(info.state.messages).toBe(3);
      const last = await jsm2.streams.getMessage(stream, { last_by_subj: `${stream}.x` });
      expect(last?.string()).toBe("m2");
    } finally {
      await nc2.close();
    }
  });

  it("stop() makes the server unreachable and dispose removes the store dir", async () => {
    const server = await startNatsServer({ env: { ...process.env, NATS_URL: "" } });
    expect(existsSync(server.storeDir)).toBe(true);
    await server.stop();
    await expect(
      connect({ servers: server.url, timeout: 500, reconnect: false }),
    ).rejects.toThrow();
    await server[Symbol.asyncDispose]();
    expect(existsSync(server.storeDir)).toBe(false);
  });

  it("reuses the server named by NATS_URL and does not stop it", async () => {
    await using real = await startNatsServer({ env: { ...process.env, NATS_URL: "" } });
    const reused = await startNatsServer({ env: { ...process.env, NATS_URL: real.url } });
    expect(reused.url).toBe(real.url);
    expect(reused.port).toBe(real.port);
    await reused[Symbol.asyncDispose]();
    const nc = await connect({ servers: real.url, timeout: 1000 });
    await nc.close();
    await expect(reused.restart()).rejects.toThrow(/NATS_URL/);
  });
});
