import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { StreamName } from "@conveyor/contracts";
import { startNatsServer, workspaceRoot } from "@conveyor/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

describe("the topology Job's entry point (tools/stack/src/provision-topology.ts)", () => {
  it("waits for a nats-server that does not accept connections yet, then provisions", async () => {
    // On a first `kubectl apply` the Job starts beside nats-server, which may not listen yet.
    await using nats = await startNatsServer();
    await nats.stop();
    const script = join(workspaceRoot(), "tools", "stack", "src", "provision-topology.ts");
    const child = spawn(process.execPath, ["--conditions=conveyor-source", script], {
      env: { PATH: process.env["PATH"], NATS_URL: nats.url, LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(child, "exit") as Promise<[number | null]>;

    await sleep(2000);
    await nats.restart();
    const [code] = await exited;
    expect(code, output).toBe(0);
    expect(output).toContain("waiting for NATS to accept connections");
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      expect((await jsm.streams.info(StreamName.Work)).config.name).toBe(StreamName.Work);
    } finally {
      await nc.close();
    }
  });
});
