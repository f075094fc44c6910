import { KvBucket } from "@conveyor/contracts";
import { JobTypeRegistry } from "@conveyor/job-registry";
import { createLogger } from "@conveyor/service-kit";
import { startNatsServer, waitFor } from "@conveyor/testing";
import type { NatsServerHandle } from "@conveyor/testing";
import { ensureTopology } from "@conveyor/topology";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("JobTypeRegistry watch recovery", () => {
  let server: NatsServerHandle;
  let worker: NatsConnection;
  let gateway: NatsConnection;
  let watcher: JobTypeRegistry;
  const logger = createLogger("test", "silent");

  beforeAll(async () => {
    server = await startNatsServer();
    worker = await connect({ servers: server.url, maxReconnectAttempts: -1 });
    gateway = await connect({ servers: server.url, maxReconnectAttempts: -1 });
    await ensureTopology(await jetstreamManager(worker));
    watcher = await JobTypeRegistry.open(gateway, { logger });
  });

  afterAll(async () => {
    await watcher.close();
    await worker.close();
    await gateway.close();
    await server[Symbol.asyncDispose]();
  });

  /** Registers a type on a registry of its own, as a worker does at start. */
  const register = async (type: string) => {
    const registrar = await JobTypeRegistry.open(worker, { logger });
    try {
      await registrar.register({ type, description: type });
    } finally {
      await registrar.close();
    }
  };

  it("resyncs after the bucket is deleted and recreated, forgetting types that went with it", async () => {
    await register("before.delete");
    await waitFor(() => Promise.resolve(watcher.get("before.delete")), {
      message: "watcher never saw the first type",
    });

    const jsm = await jetstreamManager(worker);
    await jsm.streams.delete(`KV_${KvBucket.JobTypes}`);
    await ensureTopology(jsm);
    await register("after.recreate");

    await waitFor(() => Promise.resolve(watcher.get("after.recreate")), {
      timeoutMs: 20_000,
      message: "watcher never saw a type registered in the recreated bucket",
    });
    expect(watcher.get("before.delete")).toBeUndefined();
  });

  it("has a running worker's types registered again when the bucket is provisioned anew", async () => {
    // JetStream's state lost and the topology provisioned again: the workers still run their types.
    const running = await JobTypeRegistry.open(worker, { logger });
    const stored = async () => {
      const kv = await new Kvm(gateway).open(KvBucket.JobTypes);
      const entry = await kv.get("still.running").catch(() => null);
      return entry?.operation === "PUT" ? entry.json<{ version?: number }>() : undefined;
    };
    try {
      await running.register({ type: "still.running", description: "still running", version: 3 });
      const jsm = await jetstreamManager(worker);
      await jsm.streams.delete(`KV_${KvBucket.JobTypes}`);
      await ensureTopology(jsm);
      // A replica of an older release restarts first and registers its own declaration.
      const older = await JobTypeRegistry.open(worker, { logger });
      await older.register({ type: "still.running", description: "older", version: 2 });
      await older.close();
      await waitFor(async () => (await stored())?.version === 3, {
        timeoutMs: 20_000,
        message: "the running worker's type never came back to the bucket",
      });
      await waitFor(() => Promise.resolve(watcher.get("still.running")?.version === 3), {
        timeoutMs: 20_000,
        message: "the watcher never saw it back",
      });

      // And so when its key alone is deleted.
      await (await new Kvm(gateway).open(KvBucket.JobTypes)).delete("still.running");
      await waitFor(async () => (await stored())?.version === 3, {
        timeoutMs: 20_000,
        message: "the deleted type never came back to the bucket",
      });
    } finally {
      await running.close();
    }
  });

  it("follows registrations made after nats-server restarts", async () => {
    await server.restart();
    await waitFor(async () => {
      await register("after.restart");
      return true;
    });
    await waitFor(() => Promise.resolve(watcher.get("after.restart")), {
      timeoutMs: 20_000,
      message: "watcher never saw a type registered after the restart",
    });
  });
});
